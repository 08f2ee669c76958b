// Package openapi builds an OpenAPI 3.1 document from protobuf method
// descriptors and the HTTP bindings the rest transcoder serves them on.
//
// It lives in internal because its input is the transcoder's own view of
// its routes: rest.Handler.OpenAPI is the public entry point, and the
// document can therefore never disagree with what is served.
package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Operation is one HTTP binding of one method.
type Operation struct {
	Method protoreflect.MethodDescriptor
	// Verb is the HTTP method: GET, POST, …
	Verb string
	// Path is the OpenAPI path, variables written as {field.path}.
	Path string
	// PathParams are the field paths bound by the path, in order; Patterns
	// holds, for each, the template segment pattern when it is not "*".
	PathParams []string
	Patterns   []string
	// PathFields, when set, are the field paths the parameters bind, for
	// paths that another binding already named differently: OpenAPI lets
	// one path template have one set of parameter names only.
	PathFields []string
	// Body is the rule's body: "", "*" or a field name.
	Body string
	// ResponseBody is the rule's response_body field, or "".
	ResponseBody string
	// Status is the success status code: 200, 201 or 204.
	Status int
	// ETag says the success response carries a strong ETag and that the
	// operation answers If-None-Match with 304 Not Modified (unary GETs).
	ETag bool
	// CacheControl is the Cache-Control value of successful responses, or "".
	CacheControl string
	// LinkHeader says the success response may carry an RFC 8288 Link
	// header with next and first page links (List methods).
	LinkHeader bool
	// Conditional says the operation takes If-Match and If-None-Match,
	// evaluated against the ETag of the resource (a write; RFC 9110,
	// section 13.1), and answers 412 when they fail.
	Conditional bool
}

// SecurityScheme is an OpenAPI security scheme object, such as
// {"type": "http", "scheme": "bearer"}.
type SecurityScheme map[string]any

// Options are the parts of the document that descriptors do not carry.
type Options struct {
	Title, Version, Description string
	// ProtoNames uses proto field names instead of lowerCamel JSON names,
	// matching protojson.MarshalOptions.UseProtoNames.
	ProtoNames bool
	// Comments returns documentation for a descriptor, or "". Nil means the
	// source info in the descriptors, where protoc kept it.
	Comments func(protoreflect.Descriptor) string
	// Security schemes by name; every operation requires any one of them.
	Security map[string]SecurityScheme
	// Servers are base URLs.
	Servers []string
	// Links reports whether the JSON of a message gets a links member
	// (rest.WithLinks, rest.WithSelfLinks); nil means none does.
	Links func(protoreflect.MessageDescriptor) bool
	// HAL says links are rendered as HAL's "_links" object rather than
	// a "links" array.
	HAL bool
}

const problemSchema = "Problem"

// Build returns the OpenAPI 3.1 document, as JSON, for ops.
func Build(ops []Operation, opt Options) ([]byte, error) {
	s := &schemas{protoNames: opt.ProtoNames, comments: opt.Comments, defs: map[string]any{}, links: opt.Links, hal: opt.HAL}
	if s.comments == nil {
		s.comments = sourceComment
	}
	paths := map[string]map[string]any{}
	opIDs := map[string]int{}
	for _, op := range ops {
		item := paths[op.Path]
		if item == nil {
			item = map[string]any{}
			paths[op.Path] = item
		}
		verb := strings.ToLower(op.Verb)
		if _, dup := item[verb]; dup {
			return nil, fmt.Errorf("openapi: %s %s is bound twice", op.Verb, op.Path)
		}
		o, err := s.operation(op)
		if err != nil {
			return nil, err
		}
		id := string(op.Method.Parent().Name()) + "_" + string(op.Method.Name())
		if n := opIDs[id]; n > 0 {
			o["operationId"] = id + strconv.Itoa(n+1)
		} else {
			o["operationId"] = id
		}
		opIDs[id]++
		item[verb] = o
	}
	s.defs[problemSchema] = problem()
	if s.usedLinks {
		if opt.HAL {
			s.defs[halLinksSchema], s.defs[halLinkSchema] = halLinks(), halLink()
		} else {
			s.defs[linkSchema] = link()
		}
	}

	info := map[string]any{"title": opt.Title, "version": opt.Version}
	if opt.Title == "" {
		info["title"] = "API"
	}
	if opt.Version == "" {
		info["version"] = "1.0.0"
	}
	if opt.Description != "" {
		info["description"] = opt.Description
	}
	doc := orderedDoc{
		OpenAPI:    "3.1.0",
		Info:       info,
		Paths:      paths,
		Components: map[string]any{"schemas": s.defs},
	}
	for _, u := range opt.Servers {
		doc.Servers = append(doc.Servers, map[string]any{"url": u})
	}
	if len(opt.Security) > 0 {
		sec := map[string]any{}
		for _, name := range sortedKeys(opt.Security) {
			sec[name] = map[string]any(opt.Security[name])
			doc.Security = append(doc.Security, map[string]any{name: []any{}})
		}
		doc.Components["securitySchemes"] = sec
	}
	return json.MarshalIndent(doc, "", "  ")
}

// pathsObject writes paths in sorted order, except that a path with a
// custom verb (/v1/users/{id}:deactivate) comes before the path it extends
// (/v1/users/{id}): validators that try templates in document order would
// otherwise take "42:deactivate" for an {id}.
type pathsObject map[string]map[string]any

func (p pathsObject) MarshalJSON() ([]byte, error) {
	keys := sortedKeys(p)
	sort.SliceStable(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if strings.HasPrefix(b, a+":") {
			return false
		}
		if strings.HasPrefix(a, b+":") {
			return true
		}
		return a < b
	})
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		buf.Write(kb)
		buf.WriteByte(':')
		vb, err := json.Marshal(p[k])
		if err != nil {
			return nil, err
		}
		buf.Write(vb)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// orderedDoc fixes the order of the top-level members for readers;
// encoding/json sorts the keys of every map below it.
type orderedDoc struct {
	OpenAPI    string         `json:"openapi"`
	Info       map[string]any `json:"info"`
	Servers    []any          `json:"servers,omitempty"`
	Security   []any          `json:"security,omitempty"`
	Paths      pathsObject    `json:"paths"`
	Components map[string]any `json:"components"`
}

func (s *schemas) operation(op Operation) (map[string]any, error) {
	md := op.Method
	o := map[string]any{"tags": []any{string(md.Parent().Name())}}
	if c := s.comment(md); c != "" {
		summary, rest, _ := strings.Cut(c, "\n")
		o["summary"] = strings.TrimSpace(summary)
		if rest = strings.TrimSpace(rest); rest != "" {
			o["description"] = c
		}
	}
	if isDeprecated(md) {
		o["deprecated"] = true
	}
	in := md.Input()
	bound := map[string]bool{}
	var params []any
	for i, p := range op.PathParams {
		field := p
		if i < len(op.PathFields) && op.PathFields[i] != "" {
			field = op.PathFields[i]
		}
		var schema map[string]any
		if strings.HasPrefix(p, "_") { // an anonymous wildcard: matched, not bound
			schema = map[string]any{"type": "string"}
		} else {
			fds := fieldByPath(in, field)
			if fds == nil {
				return nil, fmt.Errorf("openapi: %s: path variable %q is not a field of %s", md.FullName(), field, in.FullName())
			}
			bound[field] = true
			schema = s.singular(fds[len(fds)-1])
		}
		param := map[string]any{"name": p, "in": "path", "required": true, "schema": schema}
		var desc []string
		if field != p {
			desc = append(desc, "Sets the request field `"+field+"`.")
		}
		if i < len(op.Patterns) && op.Patterns[i] != "" {
			desc = append(desc, "Matches the path pattern `"+op.Patterns[i]+"`; may contain `/`.")
		}
		if len(desc) > 0 {
			param["description"] = strings.Join(desc, " ")
		}
		params = append(params, param)
	}
	switch op.Body {
	case "*":
		// Every field not in the path is in the body: no query parameters.
	default:
		if op.Body != "" {
			bound[op.Body] = true
		}
		params = append(params, s.queryParams(in, "", bound, 0)...)
	}
	if op.ETag {
		params = append(params, map[string]any{
			"name": "If-None-Match", "in": "header",
			"description": "Entity tags of representations the client has (RFC 9110, section 13.1.2); when one matches, the answer is 304 Not Modified without a body.",
			"schema":      map[string]any{"type": "string"},
		})
	}
	if op.Conditional {
		params = append(params, map[string]any{
			"name": "If-Match", "in": "header",
			"description": "Entity tags (from a GET of the same path) the resource must still have (RFC 9110, section 13.1.1); otherwise the write is not made and the answer is 412 with code FAILED_PRECONDITION.",
			"schema":      map[string]any{"type": "string"},
		}, map[string]any{
			"name": "If-None-Match", "in": "header",
			"description": "Entity tags, or *, the resource must not have (RFC 9110, section 13.1.2): with *, the write is made only if the resource does not exist; otherwise the answer is 412 with code FAILED_PRECONDITION.",
			"schema":      map[string]any{"type": "string"},
		})
	}
	if len(params) > 0 {
		o["parameters"] = params
	}

	if op.Body != "" {
		var bodySchema map[string]any
		if op.Body == "*" {
			bodySchema = s.message(in)
		} else {
			fds := fieldByPath(in, op.Body)
			if fds == nil {
				return nil, fmt.Errorf("openapi: %s: body %q is not a field of %s", md.FullName(), op.Body, in.FullName())
			}
			bodySchema = s.field(fds[len(fds)-1])
		}
		content := map[string]any{}
		switch {
		case isHTTPBody(in) && op.Body == "*":
			content["*/*"] = map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}
		case md.IsStreamingClient():
			content["application/x-ndjson"] = map[string]any{"schema": bodySchema}
		default:
			content["application/json"] = map[string]any{"schema": bodySchema}
		}
		o["requestBody"] = map[string]any{"required": true, "content": content}
	}

	out := md.Output()
	resp := map[string]any{}
	var respSchema map[string]any
	if op.ResponseBody != "" {
		fds := fieldByPath(out, op.ResponseBody)
		if fds == nil {
			return nil, fmt.Errorf("openapi: %s: response_body %q is not a field of %s", md.FullName(), op.ResponseBody, out.FullName())
		}
		respSchema = s.field(fds[len(fds)-1])
	} else {
		respSchema = s.message(out)
	}
	status := op.Status
	if status == 0 {
		status = 200
	}
	desc := "OK"
	switch status {
	case 201:
		desc = "Created"
		resp["headers"] = map[string]any{"Location": map[string]any{
			"description": "The URL of the created resource.", "schema": map[string]any{"type": "string"}}}
	case 204:
		desc = "No Content"
	}
	resp["description"] = desc
	if h := successHeaders(op); len(h) > 0 {
		if loc, ok := resp["headers"].(map[string]any); ok {
			for k, v := range loc {
				h[k] = v
			}
		}
		resp["headers"] = h
	}
	switch {
	case status == 204:
	case isHTTPBody(out) && op.ResponseBody == "":
		resp["content"] = map[string]any{"*/*": map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}
	case md.IsStreamingServer():
		resp["content"] = map[string]any{
			"text/event-stream":    map[string]any{"schema": map[string]any{"type": "string", "description": "Server-Sent Events: one `data:` event per message (" + string(out.FullName()) + "), an `error` event carrying a Problem."}},
			"application/x-ndjson": map[string]any{"schema": withDoc(respSchema, "One JSON message per line; a final line with an `error` member carries a Problem.", false)},
		}
	default:
		resp["content"] = map[string]any{"application/json": map[string]any{"schema": respSchema}}
	}
	problemResp := map[string]any{
		"description": "An RFC 9457 problem; its `code` member names the gRPC status code.",
		"headers": map[string]any{"Retry-After": map[string]any{
			"description": "Seconds to wait before trying again (RFC 9110, section 10.2.3): sent when the error carries a google.rpc.RetryInfo detail, whose delay is also the problem's `retry_delay`, and when the server sheds load (503).",
			"schema":      map[string]any{"type": "integer", "minimum": 0},
		}},
		"content": map[string]any{"application/problem+json": map[string]any{
			"schema": ref(problemSchema)}},
	}
	responses := map[string]any{strconv.Itoa(status): resp, "default": problemResp}
	if op.ETag {
		responses["304"] = map[string]any{
			"description": "Not Modified: the representation's entity tag matches If-None-Match; there is no body.",
			"headers":     successHeaders(op),
		}
	}
	o["responses"] = responses
	if md.IsStreamingClient() || md.IsStreamingServer() {
		kind := "server-streaming"
		switch {
		case md.IsStreamingClient() && md.IsStreamingServer():
			kind = "bidirectional-streaming"
		case md.IsStreamingClient():
			kind = "client-streaming"
		}
		o["x-duet-streaming"] = kind
	}
	return o, nil
}

// successHeaders are the headers of op's success response besides
// Location: ETag, Cache-Control and Link, as the transcoder sends them.
func successHeaders(op Operation) map[string]any {
	h := map[string]any{}
	str := map[string]any{"type": "string"}
	if op.ETag {
		h["ETag"] = map[string]any{
			"description": "A strong entity tag of the response body (RFC 9110, section 8.8.3), for If-None-Match.",
			"schema":      str,
		}
	}
	if op.CacheControl != "" {
		h["Cache-Control"] = map[string]any{
			"description": "How long and by whom the response may be cached (RFC 9111, section 5.2).",
			"schema":      map[string]any{"type": "string", "enum": []any{op.CacheControl}},
		}
	}
	if op.LinkHeader {
		h["Link"] = map[string]any{
			"description": "RFC 8288 links to other pages of the list: rel=\"next\" (absent on the last page) and rel=\"first\".",
			"schema":      str,
		}
	}
	return h
}

// maxQueryDepth bounds how deep nested messages are flattened into
// dotted query parameters (a.b.c), so recursive messages terminate.
const maxQueryDepth = 4

// queryParams lists the query parameters of md: every field not bound
// elsewhere, nested messages flattened with dots, as rest binds them.
func (s *schemas) queryParams(md protoreflect.MessageDescriptor, prefix string, bound map[string]bool, depth int) []any {
	var out []any
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		name := prefix + string(fd.Name())
		if bound[name] {
			continue
		}
		if fd.IsMap() {
			continue // maps have no query form
		}
		var schema map[string]any
		if fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind {
			wk := s.wellKnown(fd.Message())
			if wk == nil || fd.Message().FullName() == "google.protobuf.Struct" || fd.Message().FullName() == "google.protobuf.Any" ||
				fd.Message().FullName() == "google.protobuf.Empty" || fd.Message().FullName() == "google.protobuf.ListValue" {
				if wk == nil && !fd.IsList() && depth < maxQueryDepth {
					out = append(out, s.queryParams(fd.Message(), name+".", bound, depth+1)...)
				}
				continue
			}
			schema = wk
		} else {
			schema = s.singular(fd)
		}
		if fd.IsList() {
			schema = map[string]any{"type": "array", "items": schema}
		}
		param := map[string]any{"name": name, "in": "query", "schema": schema}
		if fd.IsList() {
			param["style"] = "form"
			param["explode"] = true
		}
		if c := s.comment(fd); c != "" {
			param["description"] = c
		}
		if isDeprecated(fd) {
			param["deprecated"] = true
		}
		out = append(out, param)
	}
	return out
}

func isHTTPBody(md protoreflect.MessageDescriptor) bool {
	return md.FullName() == "google.api.HttpBody"
}

// sourceComment returns the leading comment protoc kept for d, if any.
func sourceComment(d protoreflect.Descriptor) string {
	loc := d.ParentFile().SourceLocations().ByDescriptor(d)
	return strings.TrimSpace(loc.LeadingComments)
}

// problem is the schema of an RFC 9457 problem as the problem package
// writes it.
func problem() map[string]any {
	str := map[string]any{"type": "string"}
	return map[string]any{
		"type":        "object",
		"description": "RFC 9457 problem details, with the gRPC status code and error details as extension members.",
		"properties": map[string]any{
			"type":     map[string]any{"type": "string", "format": "uri-reference", "default": "about:blank"},
			"title":    str,
			"status":   map[string]any{"type": "integer", "minimum": 100, "maximum": 599},
			"detail":   str,
			"instance": map[string]any{"type": "string", "format": "uri-reference"},
			"code":     map[string]any{"type": "string", "description": "The gRPC status code name, such as NOT_FOUND."},
			"reason":   map[string]any{"type": "string", "description": "google.rpc.ErrorInfo's reason; the type is then https://{domain}/errors/{reason}."},
			"domain":   map[string]any{"type": "string", "description": "google.rpc.ErrorInfo's domain."},
			"metadata": map[string]any{"type": "object", "additionalProperties": str, "description": "google.rpc.ErrorInfo's metadata."},
			"errors": map[string]any{"type": "array", "description": "google.rpc.BadRequest's field violations.", "items": map[string]any{
				"type": "object",
				"properties": map[string]any{
					"field": str, "code": str, "message": str,
					"localized_message": map[string]any{"type": "object", "properties": map[string]any{"locale": str, "message": str}},
				},
			}},
			"retry_delay":          map[string]any{"type": "string", "description": "google.rpc.RetryInfo's delay, such as \"1.500s\"; the Retry-After header has it in whole seconds."},
			"request_id":           map[string]any{"type": "string", "description": "google.rpc.RequestInfo's request_id."},
			"serving_data":         map[string]any{"type": "string", "description": "google.rpc.RequestInfo's serving_data."},
			"debug_info":           jsonDetail("google.rpc.DebugInfo, only when the server runs with debug errors."),
			"quota_failure":        jsonDetail("google.rpc.QuotaFailure, with proto field names."),
			"precondition_failure": jsonDetail("google.rpc.PreconditionFailure, with proto field names."),
			"resource_info":        jsonDetail("google.rpc.ResourceInfo, with proto field names."),
			"help":                 jsonDetail("google.rpc.Help, with proto field names."),
			"localized_message":    jsonDetail("google.rpc.LocalizedMessage, with proto field names."),
			"details": map[string]any{"type": "array", "description": "Any other error detail, as its type URL and base64 protobuf bytes.", "items": map[string]any{
				"type": "object", "properties": map[string]any{"@type": str, "value": map[string]any{"type": "string", "contentEncoding": "base64"}},
			}},
			"grpc_message": map[string]any{"type": "string", "description": "The status message, when detail holds a localized message instead."},
		},
		// RFC 9457 lets a problem carry extension members of the API's own
		// (section 3.2); the ones above are those duet writes.
		"additionalProperties": true,
	}
}

// jsonDetail is the schema of an error detail written as its JSON: one
// object, or an array when a status carries several of a kind.
func jsonDetail(desc string) map[string]any {
	return map[string]any{"description": desc, "anyOf": []any{
		map[string]any{"type": "object"},
		map[string]any{"type": "array", "items": map[string]any{"type": "object"}},
	}}
}

const (
	linkSchema     = "Link"
	halLinksSchema = "HALLinks"
	halLinkSchema  = "HALLink"
)

// link is the schema of one member of a "links" array (hateoas.Array).
func link() map[string]any {
	str := map[string]any{"type": "string"}
	return map[string]any{
		"type":        "object",
		"description": "A hypermedia link: its relation (RFC 8288's registered names such as self and next, or the API's own), its target and the HTTP method that follows it.",
		"required":    []any{"rel", "href"},
		"properties": map[string]any{
			"rel": str, "href": str, "method": str, "title": str, "type": str,
			"templated": map[string]any{"type": "boolean", "description": "href is an RFC 6570 URI template: a field it needs was unset."},
		},
		"additionalProperties": false,
	}
}

// halLinks is the schema of HAL's "_links" object (draft-kelly-json-hal):
// a link, or an array of links, per relation.
func halLinks() map[string]any {
	return map[string]any{
		"type":        "object",
		"description": "HAL links (draft-kelly-json-hal), by relation: one link, or an array when a relation repeats.",
		"additionalProperties": map[string]any{"anyOf": []any{
			ref(halLinkSchema),
			map[string]any{"type": "array", "items": ref(halLinkSchema)},
		}},
	}
}

func halLink() map[string]any {
	str := map[string]any{"type": "string"}
	return map[string]any{
		"type":     "object",
		"required": []any{"href"},
		"properties": map[string]any{
			"href": str, "title": str, "type": str,
			"templated": map[string]any{"type": "boolean"},
			"method":    map[string]any{"type": "string", "description": "Not in HAL: the HTTP method of an action; HAL clients ignore it."},
		},
		"additionalProperties": false,
	}
}
