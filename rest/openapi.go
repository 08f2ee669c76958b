package rest

import (
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/duetrpc/duet/hateoas"
	"github.com/duetrpc/duet/internal/httprule"
	"github.com/duetrpc/duet/internal/openapi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// OpenAPIOptions are the parts of the OpenAPI document that the service
// descriptors do not carry.
type OpenAPIOptions struct {
	// Title and Version fill the info object.
	Title, Version string
	// Description is the API's description, in CommonMark.
	Description string
	// Servers are the base URLs clients should call.
	Servers []string
	// Bearer adds an HTTP bearer-token security scheme that every
	// operation requires.
	Bearer bool
	// APIKeyHeader, if set, adds an API-key scheme in that request header.
	APIKeyHeader string
	// Comments documents services, methods, messages and fields by full
	// proto name ("pkg.Service.Method", "pkg.Message.field"). Leading
	// comments that protoc kept in the descriptors are used otherwise.
	Comments map[string]string
}

// OpenAPI returns an OpenAPI 3.1 document describing every route the
// handler serves, built from the registered services' descriptors and
// rules, so it cannot drift from what is served. Schemas follow
// protojson's mapping with the handler's marshal options; errors are
// application/problem+json, with Retry-After when they carry a RetryInfo.
// It also says what the handler adds around the messages: the links
// member of [WithLinks] and [WithSelfLinks] (a "links" array, or HAL's
// "_links"), ETag and If-None-Match with 304 on unary GETs, the
// Cache-Control of [WithCacheControl], the RFC 8288 Link header of List
// methods, Location on 201 Created, and If-Match and If-None-Match on
// writes.
func (h *Handler) OpenAPI(o OpenAPIOptions) ([]byte, error) {
	ops := make([]openapi.Operation, 0, len(h.routes))
	// pagedBodies are the List responses whose bodies get next and first
	// links (with hypermedia on).
	pagedBodies := map[protoreflect.FullName]bool{}
	// OpenAPI allows one set of parameter names per path template, so
	// bindings like GET /v1/users/{id} and PATCH /v1/users/{user.id} share
	// the first one's names.
	canonical := map[string]openapi.Operation{}
	for _, rt := range h.routes {
		op := openapi.Operation{
			Method: rt.m.desc, Verb: rt.verb, Body: rt.body, Status: http.StatusOK,
		}
		if rt.responseBody != nil {
			op.ResponseBody = string(rt.responseBody.Name())
		}
		switch {
		case rt.m.create && rt.verb == http.MethodPost:
			op.Status = http.StatusCreated
		case rt.m.emptyOut && rt.responseBody == nil:
			op.Status = http.StatusNoContent
		}
		if rt.verb == http.MethodGet && rt.m.streaming == nil && op.Status != http.StatusNoContent {
			// render: a strong ETag, If-None-Match, the method's
			// Cache-Control, and next/first Link headers on List methods.
			op.ETag = true
			op.CacheControl = h.cfg.cacheControl[rt.m.fullName]
			op.LinkHeader = rt.m.nextToken != nil && rt.responseBody == nil && !rt.m.httpBodyOut
			if op.LinkHeader && h.cfg.hypermedia {
				pagedBodies[rt.m.desc.Output().FullName()] = true
			}
		}
		switch rt.verb {
		case http.MethodPut, http.MethodPatch, http.MethodDelete:
			op.Conditional = true // see conditional.go
		}
		op.Path, op.PathParams, op.Patterns = openAPIPath(rt)
		key := anyParam.ReplaceAllString(op.Path, "{}")
		if first, seen := canonical[key]; seen && first.Path != op.Path {
			op.PathFields = op.PathParams
			op.Path, op.PathParams = first.Path, first.PathParams
		} else if !seen {
			canonical[key] = op
		}
		ops = append(ops, op)
	}
	opt := openapi.Options{
		Title: o.Title, Version: o.Version, Description: o.Description, Servers: o.Servers,
		ProtoNames: h.cfg.marshal.UseProtoNames,
		HAL:        h.cfg.linkStyle == hateoas.HAL,
	}
	if h.cfg.hypermedia {
		member := "links"
		if opt.HAL {
			member = "_links"
		}
		// A message's JSON gets links when its plan has a self route or a
		// LinkFunc (see decorate), or when it is a List response.
		opt.Links = func(md protoreflect.MessageDescriptor) bool {
			if md.Fields().ByJSONName(member) != nil || md.Fields().ByName(protoreflect.Name(member)) != nil {
				return false // the message's own field of that name wins
			}
			p := h.plans[md.FullName()]
			return p != nil && (p.self != nil || p.provider != nil) || pagedBodies[md.FullName()]
		}
	}
	if o.Comments != nil {
		opt.Comments = func(d protoreflect.Descriptor) string {
			if c, ok := o.Comments[string(d.FullName())]; ok {
				return c
			}
			loc := d.ParentFile().SourceLocations().ByDescriptor(d)
			return strings.TrimSpace(loc.LeadingComments)
		}
	}
	if o.Bearer || o.APIKeyHeader != "" {
		opt.Security = map[string]openapi.SecurityScheme{}
		if o.Bearer {
			opt.Security["bearer"] = openapi.SecurityScheme{"type": "http", "scheme": "bearer"}
		}
		if o.APIKeyHeader != "" {
			opt.Security["apiKey"] = openapi.SecurityScheme{"type": "apiKey", "in": "header", "name": o.APIKeyHeader}
		}
	}
	return openapi.Build(ops, opt)
}

var anyParam = regexp.MustCompile(`\{[^}]*\}`)

// openAPIPath writes a template as an OpenAPI path: each variable one
// {field.path} parameter (a multi-segment variable too, documented as
// containing "/"), anonymous wildcards as {_n} parameters, the verb kept.
func openAPIPath(rt *route) (string, []string, []string) {
	var b strings.Builder
	var params, patterns []string
	t := rt.tmpl
	vi, anon := 0, 0
	for i := 0; i < len(t.Segments); {
		b.WriteByte('/')
		if vi < len(t.Vars) && t.Vars[vi].Start == i {
			v := t.Vars[vi]
			b.WriteString("{" + v.Path + "}")
			params = append(params, v.Path)
			if v.Pattern != "*" {
				patterns = append(patterns, v.Pattern)
			} else {
				patterns = append(patterns, "")
			}
			i = v.End
			vi++
			continue
		}
		s := t.Segments[i]
		if s.Kind == httprule.Literal {
			b.WriteString(s.Literal)
		} else {
			anon++
			b.WriteString("{_" + itoa(int64(anon)) + "}")
		}
		i++
	}
	if t.Verb != "" {
		b.WriteString(":" + t.Verb)
	}
	return b.String(), params, patterns
}

// OpenAPIHandler serves the document of [Handler.OpenAPI] as
// application/json, built once on first request (register every service
// before serving). Mount it where clients look, such as /openapi.json.
func (h *Handler) OpenAPIHandler(o OpenAPIOptions) http.Handler {
	var (
		once sync.Once
		doc  []byte
		err  error
	)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { doc, err = h.OpenAPI(o) })
		if err != nil {
			h.writeError(w, r, status.Errorf(codes.Internal, "building the OpenAPI document: %v", err))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	})
}
