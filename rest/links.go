package rest

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/duetrpc/duet/hateoas"
	"github.com/duetrpc/duet/pagination"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// LinkFunc returns the links of a resource: its actions and relations,
// such as "orders" for a user. It runs for REST responses only; gRPC
// responses carry no links.
type LinkFunc func(ctx context.Context, msg proto.Message) []hateoas.Link

// WithLinks adds links to every REST response of msg's type, and to every
// element of that type inside a response (the users of a list, an
// embedded resource). Resources whose Get method is registered get a
// "self" link without it.
func WithLinks(msg proto.Message, f LinkFunc) Option {
	name := msg.ProtoReflect().Descriptor().FullName()
	return optionFunc(func(c *config) {
		if c.links == nil {
			c.links = map[protoreflect.FullName]LinkFunc{}
		}
		c.links[name] = f
	})
}

// WithLinkStyle chooses how links are rendered: hateoas.Array ("links",
// the default) or hateoas.HAL ("_links").
func WithLinkStyle(s hateoas.Style) Option {
	return optionFunc(func(c *config) { c.linkStyle = s })
}

// WithoutSelfLinks turns off the automatic "self" links.
func WithoutSelfLinks() Option {
	return optionFunc(func(c *config) { c.noSelf = true })
}

// linkPlan says, per message type, what links its JSON gets; computed
// once, when the first request needs it.
type linkPlan struct {
	self     *hateoas.Route
	provider LinkFunc
	nested   []nestedPlan
}

type nestedPlan struct {
	fd   protoreflect.FieldDescriptor
	name string // JSON member
	plan *linkPlan
}

func (p *linkPlan) empty() bool {
	return p == nil || (p.self == nil && p.provider == nil && len(p.nested) == 0)
}

// buildLinkPlans computes the plans after registration.
func (h *Handler) buildLinkPlans() {
	h.selfRoutes = map[protoreflect.FullName]*hateoas.Route{}
	if !h.cfg.noSelf {
		for _, r := range h.routes {
			name := string(r.m.desc.Name())
			if r.verb != http.MethodGet || len(name) < 4 || name[:3] != "Get" || r.m.httpBodyOut || r.tmpl.Verb != "" {
				continue
			}
			out := r.m.desc.Output()
			ok := len(r.tmpl.Vars) > 0
			for _, v := range r.tmpl.Vars {
				if _, err := fieldPath(out, v.Path); err != nil {
					ok = false
				}
			}
			if _, seen := h.selfRoutes[out.FullName()]; ok && !seen {
				if route, err := hateoas.NewRoute(http.MethodGet, r.tmpl.String()); err == nil {
					h.selfRoutes[out.FullName()] = route
				}
			}
		}
	}
	h.plans = map[protoreflect.FullName]*linkPlan{}
	for _, m := range h.methods {
		h.planFor(m.desc.Output(), 0)
	}
}

func (h *Handler) planFor(md protoreflect.MessageDescriptor, depth int) *linkPlan {
	if p, ok := h.plans[md.FullName()]; ok {
		return p
	}
	p := &linkPlan{self: h.selfRoutes[md.FullName()], provider: h.cfg.links[md.FullName()]}
	h.plans[md.FullName()] = p
	if depth < 3 {
		fields := md.Fields()
		for i := 0; i < fields.Len(); i++ {
			fd := fields.Get(i)
			if fd.Message() == nil || fd.IsMap() || scalarMessage(fd.Message()) {
				continue
			}
			if sub := h.planFor(fd.Message(), depth+1); !sub.empty() {
				name := fd.JSONName()
				if h.cfg.marshal.UseProtoNames {
					name = string(fd.Name())
				}
				p.nested = append(p.nested, nestedPlan{fd: fd, name: name, plan: sub})
			}
		}
	}
	return p
}

// links returns the top-level links of msg.
func (p *linkPlan) links(ctx context.Context, msg proto.Message) []hateoas.Link {
	var links []hateoas.Link
	if p.self != nil {
		if l := p.self.Link("self", msg); !l.Templated {
			links = append(links, l)
		}
	}
	if p.provider != nil {
		links = append(links, p.provider(ctx, msg)...)
	}
	return links
}

// decorate adds links to a rendered JSON message, recursively.
func (h *Handler) decorate(ctx context.Context, p *linkPlan, msg protoreflect.Message, body []byte, extra []hateoas.Link) []byte {
	if len(p.nested) > 0 {
		var obj map[string]json.RawMessage
		if json.Unmarshal(body, &obj) == nil {
			changed := false
			for _, n := range p.nested {
				raw, ok := obj[n.name]
				if !ok || !msg.Has(n.fd) {
					continue
				}
				if n.fd.IsList() {
					var items []json.RawMessage
					list := msg.Get(n.fd).List()
					if json.Unmarshal(raw, &items) != nil || len(items) != list.Len() {
						continue
					}
					for i := range items {
						items[i] = h.decorate(ctx, n.plan, list.Get(i).Message(), items[i], nil)
					}
					if b, err := json.Marshal(items); err == nil {
						obj[n.name] = b
						changed = true
					}
					continue
				}
				obj[n.name] = h.decorate(ctx, n.plan, msg.Get(n.fd).Message(), raw, nil)
				changed = true
			}
			if changed {
				if b, err := json.Marshal(obj); err == nil {
					body = b
				}
			}
		}
	}
	links := append(p.links(ctx, msg.Interface()), extra...)
	if out, err := hateoas.Render(body, links, h.cfg.linkStyle); err == nil {
		return out
	}
	return body
}

// pageLinks are a List response's next and first links: the request's
// URL with page_token replaced, every other parameter kept.
func pageLinks(r *http.Request, resp protoreflect.Message, rt *route) []hateoas.Link {
	if r.Method != http.MethodGet || !pagination.IsList(rt.m.desc.Input(), rt.m.desc.Output()) {
		return nil
	}
	next := resp.Get(pagination.FieldsOf(resp.Descriptor()).NextPageToken).String()
	q := r.URL.Query()
	_, paged := q["page_token"]
	var links []hateoas.Link
	if next != "" {
		q.Set("page_token", next)
		links = append(links, hateoas.Link{Rel: "next", Href: r.URL.Path + "?" + q.Encode()})
	}
	if paged || next != "" {
		q.Del("page_token")
		href := r.URL.Path
		if enc := q.Encode(); enc != "" {
			href += "?" + enc
		}
		links = append(links, hateoas.Link{Rel: "first", Href: href})
	}
	return links
}
