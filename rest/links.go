package rest

import (
	"context"
	"net/http"

	"github.com/duetrpc/duet/hateoas"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// LinkFunc returns the links of a resource: its actions and relations,
// such as "orders" for a user. It runs for REST responses only; gRPC
// responses carry no links.
type LinkFunc func(ctx context.Context, msg proto.Message) []hateoas.Link

// WithLinks adds links to every REST response of msg's type, and to every
// element of that type inside a response (the users of a list, an
// embedded resource). A message type with a field of the links member's
// own name ("links", or "_links" for HAL) keeps that field and gets no
// injected links. It turns hypermedia on: resources whose Get method
// is registered then also get a "self" link, and List responses carry
// next and first links in the body.
func WithLinks(msg proto.Message, f LinkFunc) Option {
	name := msg.ProtoReflect().Descriptor().FullName()
	return optionFunc(func(c *config) {
		c.hypermedia = true
		if c.links == nil {
			c.links = map[protoreflect.FullName]LinkFunc{}
		}
		c.links[name] = f
	})
}

// WithLinkStyle chooses how links are rendered: hateoas.Array ("links",
// the default) or hateoas.HAL ("_links"). It turns hypermedia on, like
// [WithLinks].
func WithLinkStyle(s hateoas.Style) Option {
	return optionFunc(func(c *config) { c.linkStyle, c.hypermedia = s, true })
}

// WithSelfLinks turns hypermedia on with only the automatic links: "self"
// on every resource whose Get method is registered, next and first on
// List responses.
//
// Hypermedia is off by default so that a handler's bodies carry exactly
// the members grpc-gateway's would, and a service can move over without
// its clients noticing; List responses still get an RFC 8288 Link header
// with next and first, which changes no body.
func WithSelfLinks() Option {
	return optionFunc(func(c *config) { c.hypermedia = true })
}

// WithoutSelfLinks keeps the links of [WithLinks] but drops the automatic
// "self" links.
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
	if h.cfg.hypermedia && !h.cfg.noSelf {
		for _, r := range h.routes {
			name := string(r.m.desc.Name())
			if r.verb != http.MethodGet || len(name) < 4 || name[:3] != "Get" || r.m.httpBodyOut || r.responseBody != nil || r.tmpl.Verb != "" {
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
		m.plan = h.planFor(m.desc.Output(), 0)
	}
}

func (h *Handler) planFor(md protoreflect.MessageDescriptor, depth int) *linkPlan {
	if p, ok := h.plans[md.FullName()]; ok {
		return p
	}
	p := &linkPlan{self: h.selfRoutes[md.FullName()], provider: h.cfg.links[md.FullName()]}
	member := "links"
	if h.cfg.linkStyle == hateoas.HAL {
		member = "_links"
	}
	if md.Fields().ByJSONName(member) != nil || md.Fields().ByName(protoreflect.Name(member)) != nil {
		// The message has a field of that name: its own value wins, rather
		// than a JSON object with the member twice.
		p.self, p.provider = nil, nil
	}
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

// decorate adds links to a rendered JSON message, recursively. It splices
// the links into protojson's output in one pass over the bytes, without
// decoding it: members keep their order and values their exact text, and a
// response without nested resources costs no more than the append.
func (h *Handler) decorate(ctx context.Context, p *linkPlan, msg protoreflect.Message, body []byte, extra []hateoas.Link) []byte {
	if len(p.nested) > 0 && h.hasNested(p, msg) {
		body = h.decorateMembers(ctx, p, msg, body)
	}
	links := append(p.links(ctx, msg.Interface()), extra...)
	if out, err := hateoas.Render(body, links, h.cfg.linkStyle); err == nil {
		return out
	}
	return body
}

// hasNested reports whether msg sets a field whose values may get links.
func (h *Handler) hasNested(p *linkPlan, msg protoreflect.Message) bool {
	for _, n := range p.nested {
		if msg.Has(n.fd) {
			return true
		}
	}
	return false
}

// decorateMembers rewrites the members of the JSON object body that hold
// nested resources. On anything unexpected it returns body unchanged.
func (h *Handler) decorateMembers(ctx context.Context, p *linkPlan, msg protoreflect.Message, body []byte) []byte {
	out := make([]byte, 0, len(body)+len(body)/2)
	last := 0
	ok := jsonMembers(body, func(name []byte, start, end int) bool {
		for _, n := range p.nested {
			if n.name != string(name) || !msg.Has(n.fd) {
				continue
			}
			raw := body[start:end]
			var val []byte
			if n.fd.IsList() {
				list := msg.Get(n.fd).List()
				val = make([]byte, 0, len(raw)*2)
				val = append(val, '[')
				i := 0
				if !jsonElements(raw, func(s, e int) bool {
					if i >= list.Len() {
						return false
					}
					if i > 0 {
						val = append(val, ',')
					}
					val = append(val, h.decorate(ctx, n.plan, list.Get(i).Message(), raw[s:e], nil)...)
					i++
					return true
				}) || i != list.Len() {
					return false
				}
				val = append(val, ']')
			} else {
				val = h.decorate(ctx, n.plan, msg.Get(n.fd).Message(), raw, nil)
			}
			out = append(out, body[last:start]...)
			out = append(out, val...)
			last = end
			break
		}
		return true
	})
	if !ok {
		return body
	}
	return append(out, body[last:]...)
}

// jsonMembers calls f with the (unescaped-as-written) name and the value
// span of each top-level member of the JSON object b, in order. It
// reports false if b is not an object or f returns false. Member names
// that need escaping never match a field's JSON name, which is plain.
func jsonMembers(b []byte, f func(name []byte, start, end int) bool) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return true
	}
	for i < len(b) {
		if b[i] != '"' {
			return false
		}
		ne := skipString(b, i)
		if ne < 0 {
			return false
		}
		name := b[i+1 : ne-1]
		i = skipSpace(b, ne)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		start := skipSpace(b, i+1)
		end := skipValue(b, start)
		if end < 0 || !f(name, start, end) {
			return false
		}
		i = skipSpace(b, end)
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return true
		default:
			return false
		}
	}
	return false
}

// jsonElements calls f with the span of each element of the JSON array b.
func jsonElements(b []byte, f func(start, end int) bool) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return true
	}
	for i < len(b) {
		end := skipValue(b, i)
		if end < 0 || !f(i, end) {
			return false
		}
		i = skipSpace(b, end)
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			return true
		default:
			return false
		}
	}
	return false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] ('"'),
// or -1.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// skipValue returns the index after the JSON value starting at b[i], or -1.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				j := skipString(b, i)
				if j < 0 {
					return -1
				}
				i = j - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	default:
		for ; i < len(b); i++ {
			switch b[i] {
			case ',', '}', ']', ' ', '\n', '\t', '\r':
				return i
			}
		}
		return i
	}
}

// pageLinks are a List response's next and first links: the request's
// URL with page_token (or pageToken) replaced, every other parameter kept.
func pageLinks(r *http.Request, resp protoreflect.Message, rt *route) []hateoas.Link {
	if r.Method != http.MethodGet || rt.m.nextToken == nil {
		return nil
	}
	next := resp.Get(rt.m.nextToken).String()
	q := r.URL.Query()
	// The binder takes the token by its proto or its JSON name; the links
	// keep the name the client used and drop the other.
	key := "page_token"
	_, paged := q[key]
	if _, camel := q["pageToken"]; camel {
		key, paged = "pageToken", true
	}
	q.Del("page_token")
	q.Del("pageToken")
	var links []hateoas.Link
	if next != "" {
		q.Set(key, next)
		links = append(links, hateoas.Link{Rel: "next", Href: r.URL.Path + "?" + q.Encode()})
		q.Del(key)
	}
	if paged || next != "" {
		href := r.URL.Path
		if enc := q.Encode(); enc != "" {
			href += "?" + enc
		}
		links = append(links, hateoas.Link{Rel: "first", Href: href})
	}
	return links
}
