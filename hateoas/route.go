package hateoas

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/duetrpc/duet/internal/httprule"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Route builds links to one HTTP binding of a method: reverse routing, the
// inverse of the rest package's binding, so a link can never point where
// the server does not route.
type Route struct {
	// Method is the HTTP method of the binding.
	Method string
	tmpl   *httprule.Template
}

// RouteOf returns the route of a method's google.api.http rule (its main
// binding).
func RouteOf(md protoreflect.MethodDescriptor) (*Route, error) {
	rule, ok := proto.GetExtension(md.Options(), annotations.E_Http).(*annotations.HttpRule)
	if !ok || rule == nil {
		return nil, fmt.Errorf("hateoas: %s has no google.api.http rule", md.FullName())
	}
	return RouteOfRule(rule)
}

// RouteOfRule returns the route of an http rule.
func RouteOfRule(rule *annotations.HttpRule) (*Route, error) {
	var verb, path string
	switch p := rule.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		verb, path = "GET", p.Get
	case *annotations.HttpRule_Put:
		verb, path = "PUT", p.Put
	case *annotations.HttpRule_Post:
		verb, path = "POST", p.Post
	case *annotations.HttpRule_Delete:
		verb, path = "DELETE", p.Delete
	case *annotations.HttpRule_Patch:
		verb, path = "PATCH", p.Patch
	case *annotations.HttpRule_Custom:
		verb, path = p.Custom.GetKind(), p.Custom.GetPath()
	default:
		return nil, errors.New("hateoas: rule has no pattern")
	}
	return NewRoute(verb, path)
}

// NewRoute returns the route of an HTTP method and a google.api.http path
// template, such as ("GET", "/v1/users/{id}").
func NewRoute(method, template string) (*Route, error) {
	t, err := httprule.Parse(template)
	if err != nil {
		return nil, err
	}
	return &Route{Method: method, tmpl: t}, nil
}

// Link returns the link with rel to this route for msg: each path variable
// filled from the field of msg it binds, percent-encoded as the router
// decodes it. Where a field is unset, the link is an RFC 6570 level-1
// template with {field} in its place and Templated set.
func (r *Route) Link(rel string, msg proto.Message) Link {
	m := msg.ProtoReflect()
	method := r.Method
	if method == "GET" {
		method = ""
	}
	href, err := r.tmpl.Expand(func(path string) (string, bool) { return fieldString(m, path) })
	if err == nil {
		return Link{Rel: rel, Href: href, Method: method}
	}
	return Link{Rel: rel, Href: r.partial(m), Method: method, Templated: true}
}

// partial writes the template with the variables it can fill filled and
// the others as RFC 6570 {field} expressions.
func (r *Route) partial(m protoreflect.Message) string {
	t := r.tmpl
	var b strings.Builder
	vi := 0
	for i := 0; i < len(t.Segments); {
		b.WriteByte('/')
		if vi < len(t.Vars) && t.Vars[vi].Start == i {
			v := t.Vars[vi]
			if val, ok := fieldString(m, v.Path); ok {
				if t.Multi(v) {
					parts := strings.Split(val, "/")
					for k, p := range parts {
						parts[k] = escape(p)
					}
					b.WriteString(strings.Join(parts, "/"))
				} else {
					b.WriteString(escape(val))
				}
			} else {
				b.WriteString("{" + v.Path + "}")
			}
			i = v.End
			vi++
			continue
		}
		switch s := t.Segments[i]; s.Kind {
		case httprule.Literal:
			b.WriteString(escape(s.Literal))
		default:
			b.WriteString("{_}")
		}
		i++
	}
	if t.Verb != "" {
		b.WriteString(":" + escape(t.Verb))
	}
	return b.String()
}

func escape(s string) string { return strings.ReplaceAll(url.PathEscape(s), ":", "%3A") }

// fieldString is the path form of the scalar at a dotted path of msg, the
// inverse of the rest package's parsing; false when unset.
func fieldString(m protoreflect.Message, path string) (string, bool) {
	// strings.Cut rather than Split: no allocation per call.
	for rest := path; ; {
		name, more, nested := strings.Cut(rest, ".")
		rest = more
		fd := m.Descriptor().Fields().ByName(protoreflect.Name(name))
		if fd == nil || fd.IsList() || fd.IsMap() {
			return "", false
		}
		if nested {
			if fd.Message() == nil || !m.Has(fd) {
				return "", false
			}
			m = m.Get(fd).Message()
			continue
		}
		if !m.Has(fd) && fd.Kind() != protoreflect.StringKind {
			return "", false
		}
		v := m.Get(fd)
		switch fd.Kind() {
		case protoreflect.StringKind:
			return v.String(), v.String() != ""
		case protoreflect.EnumKind:
			if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
				return string(ev.Name()), true
			}
			return strconv.Itoa(int(v.Enum())), true
		case protoreflect.BytesKind:
			return base64.URLEncoding.EncodeToString(v.Bytes()), true
		case protoreflect.MessageKind:
			return "", false
		}
		return v.String(), true
	}
}
