package rest

import (
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"

	"github.com/duetrpc/duet/hateoas"
	"github.com/duetrpc/duet/internal/call"
	"github.com/duetrpc/duet/internal/gostruct"
	"github.com/duetrpc/duet/internal/httprule"
	"github.com/duetrpc/duet/internal/pbjson"
	"github.com/duetrpc/duet/pagination"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// Handler serves registered grpc-go services as REST/JSON. It is an
// http.Handler and a grpc.ServiceRegistrar: pass it to the generated
// RegisterXServer function exactly as a *grpc.Server.
//
// Register every service before serving; RegisterService is not safe to
// call concurrently with ServeHTTP.
type Handler struct {
	cfg     *config
	root    node
	methods []*method
	routes  []*route
	shapes  map[string]*route // method + shape → route, for conflicts
	// calls invokes the methods: interceptors, metadata, deadline, peer
	// and stats, the same for every protocol.
	calls *call.Invoker
	// Hypermedia, recomputed at each registration.
	selfRoutes map[protoreflect.FullName]*hateoas.Route
	plans      map[protoreflect.FullName]*linkPlan
	skipped    []error // bindings left out, for Skipped
	cond       conditions
	// json writes response messages: protojson's output from plans built
	// at registration (pbjson), or protojson itself under WithProtojson.
	json *pbjson.Codec
	// statusJSON writes google.rpc.Status bodies (WithStatusErrors) as
	// grpc-gateway does: protojson's defaults.
	statusJSON *pbjson.Codec
	// check judges the options that name methods, at the first request.
	check optionCheck
}

// NewHandler returns a Handler with no services.
func NewHandler(opts ...Option) *Handler {
	cfg := defaultConfig()
	for _, o := range opts {
		o.apply(cfg)
	}
	json := pbjson.New(cfg.marshal, cfg.unmarshal)
	statusJSON := pbjson.New(protojson.MarshalOptions{}, protojson.UnmarshalOptions{})
	if cfg.protojson {
		json = pbjson.Protojson(cfg.marshal, cfg.unmarshal)
		statusJSON = pbjson.Protojson(protojson.MarshalOptions{}, protojson.UnmarshalOptions{})
	}
	return &Handler{
		json:       json,
		statusJSON: statusJSON,
		cfg:        cfg,
		shapes:     map[string]*route{},
		calls: call.New(call.Config{
			Unary:   cfg.unary,
			Stream:  cfg.stream,
			Stats:   cfg.stats,
			Headers: call.NewHeaders(cfg.incoming...),
		}),
	}
}

// method is one RPC, with everything resolved at registration.
type method struct {
	fullName  string // "/pkg.Service/Method"
	desc      protoreflect.MethodDescriptor
	call      *call.Method
	unary     *grpc.MethodDesc
	streaming *grpc.StreamDesc
	// emptyOut and httpBodyOut shape the response.
	emptyOut    bool
	httpBodyOut bool
	httpBodyIn  bool
	create      bool
	// locRoute is the service's Get route, which a created resource's
	// Location points to; nil when there is none.
	locRoute *hateoas.Route
	// nextToken is the response's next_page_token when the method is an
	// AIP-158 List method, found once here rather than per request.
	nextToken protoreflect.FieldDescriptor
	// plan decorates the response with links; set by buildLinkPlans.
	plan *linkPlan
	// outPlan is the JSON plan of the output type, prepared at
	// registration.
	outPlan pbjson.Plan
}

// route is one HTTP binding of a method.
type route struct {
	m          *method
	verb       string // HTTP method
	tmpl       *httprule.Template
	pathFields [][]protoreflect.FieldDescriptor // per template variable
	// pathStrings is, per template variable, the index of its field in
	// the generated request struct when the field is a plain string
	// there (a top-level proto3 string, not in a oneof), else -1: such a
	// value is set with reflect, which protoreflect's Set would box.
	pathStrings []int
	inType      reflect.Type // the generated request type, *T; nil for dynamic messages
	body        string
	bodyPath    []protoreflect.FieldDescriptor // the body field, from the request; nil for "*" and no body
	bodyField   protoreflect.FieldDescriptor   // the last of bodyPath
	// bodyHTTPBody is set when bodyField is a google.api.HttpBody: the
	// request body is its raw bytes, of any content type.
	bodyHTTPBody bool
	// maskField is the request's FieldMask field that a PATCH without one
	// gets filled from the body's members, relative to the resource at
	// maskRoot; nil for other verbs.
	maskField    protoreflect.FieldDescriptor
	maskRoot     []protoreflect.FieldDescriptor
	responseBody protoreflect.FieldDescriptor
	bound        map[string]bool // field paths taken by path or body
}

// RegisterService registers a service and its implementation, reading the
// google.api.http rules of its methods (or those given with [WithRule]).
// A binding that cannot be served (a rule that is malformed, names a field
// the request message does not have or cannot take from a path, or
// conflicts with a route already registered) is left out and reported,
// and listed by [Handler.Skipped]; with [WithStrictRules] RegisterService
// panics instead, as http.ServeMux does, so such mistakes are found at
// start-up. It panics when the service's descriptor is not linked in.
func (h *Handler) RegisterService(desc *grpc.ServiceDesc, impl any) {
	if err := h.register(desc, impl); err != nil {
		panic("rest: " + err.Error())
	}
}

func (h *Handler) register(desc *grpc.ServiceDesc, impl any) error {
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(desc.ServiceName))
	if err != nil {
		return fmt.Errorf("service %s: descriptor not found (is its generated package linked in?): %v", desc.ServiceName, err)
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return fmt.Errorf("%s is not a service", desc.ServiceName)
	}
	var added []*method
	calls := call.Methods(desc, impl)
	for i := range desc.Methods {
		md := sd.Methods().ByName(protoreflect.Name(desc.Methods[i].MethodName))
		if md == nil {
			return fmt.Errorf("%s/%s: no such method in the descriptor", desc.ServiceName, desc.Methods[i].MethodName)
		}
		added = append(added, h.newMethod(calls[i], md, &desc.Methods[i], nil))
	}
	for i := range desc.Streams {
		md := sd.Methods().ByName(protoreflect.Name(desc.Streams[i].StreamName))
		if md == nil {
			return fmt.Errorf("%s/%s: no such method in the descriptor", desc.ServiceName, desc.Streams[i].StreamName)
		}
		added = append(added, h.newMethod(calls[len(desc.Methods)+i], md, nil, &desc.Streams[i]))
	}
	for _, m := range added {
		rules := h.cfg.rules[m.fullName]
		if len(rules) == 0 {
			if r, ok := proto.GetExtension(m.desc.Options(), annotations.E_Http).(*annotations.HttpRule); ok && r != nil {
				rules = []*annotations.HttpRule{r}
			}
		}
		if len(rules) == 0 && h.cfg.defaultRoutes && !strings.HasPrefix(desc.ServiceName, "grpc.") {
			rules = []*annotations.HttpRule{{Pattern: &annotations.HttpRule_Post{Post: m.fullName}, Body: "*"}}
		}
		for _, r := range rules {
			if err := h.addRule(m, r, true); err != nil {
				return err
			}
		}
	}
	h.methods = append(h.methods, added...)
	defer h.buildLinkPlans()
	// A create method's Location is its resource's Get route, if any.
	for _, m := range added {
		if !m.create {
			continue
		}
		get := "Get" + strings.TrimPrefix(string(m.desc.Name()), "Create")
		for _, r := range h.routes {
			if r.m.desc.Parent() != m.desc.Parent() || string(r.m.desc.Name()) != get || r.verb != http.MethodGet {
				continue
			}
			ok := true
			for _, v := range r.tmpl.Vars {
				fds, err := fieldPath(m.desc.Output(), v.Path)
				if err != nil || fds[len(fds)-1].Kind() == protoreflect.MessageKind {
					ok = false
					break
				}
			}
			if !ok {
				continue
			}
			// The same reverse routing as the self link: one
			// implementation, so Location and self always agree.
			if loc, err := hateoas.NewRoute(http.MethodGet, r.tmpl.String()); err == nil {
				m.locRoute = loc
				break
			}
		}
	}
	return nil
}

func (h *Handler) newMethod(cm *call.Method, md protoreflect.MethodDescriptor, u *grpc.MethodDesc, s *grpc.StreamDesc) *method {
	out := md.Output().FullName()
	h.json.Prepare(md.Input())
	outPlan := h.json.Prepare(md.Output())
	var next protoreflect.FieldDescriptor
	if pagination.IsList(md.Input(), md.Output()) {
		next = pagination.FieldsOf(md.Output()).NextPageToken
	}
	return &method{
		outPlan:     outPlan,
		nextToken:   next,
		fullName:    cm.Name,
		desc:        md,
		call:        cm,
		unary:       u,
		streaming:   s,
		emptyOut:    out == "google.protobuf.Empty",
		httpBodyOut: out == "google.api.HttpBody",
		httpBodyIn:  md.Input().FullName() == "google.api.HttpBody",
		create:      strings.HasPrefix(string(md.Name()), "Create"),
	}
}

// addRule compiles one binding of rule, then its additional bindings. A
// binding that cannot be served is skipped and reported (see [skip]); the
// others are registered all the same.
func (h *Handler) addRule(m *method, rule *annotations.HttpRule, top bool) error {
	if err := h.addBinding(m, rule, top); err != nil {
		if err := h.skip(m, err); err != nil {
			return err
		}
	}
	for _, ab := range rule.GetAdditionalBindings() {
		if err := h.addRule(m, ab, false); err != nil {
			return err
		}
	}
	return nil
}

// addBinding compiles one binding of rule, without its additional
// bindings, and routes it.
func (h *Handler) addBinding(m *method, rule *annotations.HttpRule, top bool) error {
	var verb, path string
	switch p := rule.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		verb, path = http.MethodGet, p.Get
	case *annotations.HttpRule_Put:
		verb, path = http.MethodPut, p.Put
	case *annotations.HttpRule_Post:
		verb, path = http.MethodPost, p.Post
	case *annotations.HttpRule_Delete:
		verb, path = http.MethodDelete, p.Delete
	case *annotations.HttpRule_Patch:
		verb, path = http.MethodPatch, p.Patch
	case *annotations.HttpRule_Custom:
		verb, path = p.Custom.GetKind(), p.Custom.GetPath()
	default:
		return fmt.Errorf("%s: rule has no pattern", m.fullName)
	}
	if !top && len(rule.GetAdditionalBindings()) > 0 {
		return fmt.Errorf("%s: additional_bindings may not nest", m.fullName)
	}
	tmpl, err := httprule.Parse(path)
	if err != nil {
		return fmt.Errorf("%s: %v", m.fullName, err)
	}
	in := m.desc.Input()
	r := &route{m: m, verb: verb, tmpl: tmpl, body: rule.GetBody(), bound: map[string]bool{}}
	for _, v := range tmpl.Vars {
		fds, err := fieldPath(in, v.Path)
		if err != nil {
			return fmt.Errorf("%s %s %s: %v", m.fullName, verb, path, err)
		}
		// A repeated scalar takes a comma-separated list, as in
		// grpc-gateway; messages other than the well-known scalar ones
		// and maps have no path form.
		last := fds[len(fds)-1]
		if last.IsMap() || (last.Kind() == protoreflect.MessageKind && (last.IsList() || !scalarMessage(last.Message()))) {
			return fmt.Errorf("%s %s %s: path variable %s must be a scalar field", m.fullName, verb, path, v.Path)
		}
		r.pathFields = append(r.pathFields, fds)
		r.pathStrings = append(r.pathStrings, plainStringField(in, fds))
		r.bound[v.Path] = true
	}
	r.inType = gostruct.Type(in)
	switch r.body {
	case "", "*":
	default:
		fds, err := fieldPath(in, r.body)
		if err != nil {
			return fmt.Errorf("%s: body: %v", m.fullName, err)
		}
		// A body field may sit inside sub-messages ("payload.input_value"):
		// the body fills the last one, the others are created on the way.
		r.bodyPath = fds
		r.bodyField = fds[len(fds)-1]
		r.bodyHTTPBody = !r.bodyField.IsList() && r.bodyField.Message() != nil && r.bodyField.Message().FullName() == "google.api.HttpBody"
		r.bound[r.body] = true
	}
	if verb == http.MethodPatch {
		r.maskField, r.maskRoot = patchMask(in, r)
	}
	if rb := rule.GetResponseBody(); rb != "" {
		fd := m.desc.Output().Fields().ByName(protoreflect.Name(rb))
		if fd == nil {
			return fmt.Errorf("%s: response_body %q is not a field of %s", m.fullName, rb, m.desc.Output().FullName())
		}
		r.responseBody = fd
	}
	key := verb + " " + tmpl.Shape()
	if prev, dup := h.shapes[key]; dup {
		return fmt.Errorf("%s %s of %s conflicts with %s %s of %s", verb, path, m.fullName, prev.verb, prev.tmpl, prev.m.fullName)
	}
	h.shapes[key] = r
	h.routes = append(h.routes, r)
	h.root.insert(r, tmpl.Segments)
	return nil
}

// patchMask finds, for a PATCH binding, the request's FieldMask field and
// the resource its paths are relative to (field_mask.proto, AIP-134): the
// body field, or with body "*" the request's one resource-typed field
// (the one a path variable names, when there are several). A nil root
// means there is no resource to root an automatic mask at.
func patchMask(in protoreflect.MessageDescriptor, r *route) (mask protoreflect.FieldDescriptor, root []protoreflect.FieldDescriptor) {
	fields := in.Fields()
	var resources []protoreflect.FieldDescriptor
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if fd.Message() == nil || fd.IsList() || fd.IsMap() {
			continue
		}
		if fd.Message().FullName() == "google.protobuf.FieldMask" {
			if mask == nil {
				mask = fd
			}
			continue
		}
		if !scalarMessage(fd.Message()) {
			resources = append(resources, fd)
		}
	}
	switch {
	case mask == nil:
		return nil, nil
	case r.body == "*":
		for _, res := range resources {
			if len(resources) == 1 {
				return mask, []protoreflect.FieldDescriptor{res}
			}
			for _, pf := range r.pathFields {
				if pf[0] == res {
					return mask, []protoreflect.FieldDescriptor{res}
				}
			}
		}
		return mask, nil
	case r.bodyField != nil && r.bodyField.Message() != nil && !r.bodyField.IsList() && !r.bodyField.IsMap():
		return mask, r.bodyPath
	}
	return mask, nil
}

// fieldPath resolves a dotted path of proto field names.
func fieldPath(md protoreflect.MessageDescriptor, path string) ([]protoreflect.FieldDescriptor, error) {
	var out []protoreflect.FieldDescriptor
	parts := strings.Split(path, ".")
	for i, p := range parts {
		if md == nil {
			return nil, fmt.Errorf("field %q: %s is not a message", path, strings.Join(parts[:i], "."))
		}
		fd := md.Fields().ByName(protoreflect.Name(p))
		if fd == nil {
			return nil, fmt.Errorf("field %q: %s has no field %q", path, md.FullName(), p)
		}
		if i < len(parts)-1 && (fd.IsList() || fd.IsMap()) {
			return nil, fmt.Errorf("field %q: %s is repeated", path, p)
		}
		out = append(out, fd)
		md = fd.Message()
	}
	return out, nil
}

// node is a trie over path segments: literal children first, then "*",
// then "**" routes.
type node struct {
	lit    map[string]*node
	star   *node
	dstar  []*route
	routes []*route
}

func (n *node) insert(r *route, segs []httprule.Segment) {
	if len(segs) == 0 {
		n.routes = append(n.routes, r)
		return
	}
	s := segs[0]
	switch s.Kind {
	case httprule.Literal:
		if n.lit == nil {
			n.lit = map[string]*node{}
		}
		c := n.lit[s.Literal]
		if c == nil {
			c = &node{}
			n.lit[s.Literal] = c
		}
		c.insert(r, segs[1:])
	case httprule.Star:
		if n.star == nil {
			n.star = &node{}
		}
		n.star.insert(r, segs[1:])
	case httprule.DoubleStar:
		n.dstar = append(n.dstar, r)
	}
}

// lookup finds the route for verb, preferring literal segments over
// variables; if only other methods match the path, it reports them in
// allowed for a 405.
func (n *node) lookup(segs []string, verb, customVerb string, allowed *[]string) *route {
	if len(segs) == 0 {
		if r := pick(n.routes, verb, customVerb, allowed); r != nil {
			return r
		}
		return pick(n.dstar, verb, customVerb, allowed)
	}
	seg := segs[0]
	if n.lit != nil {
		c := n.lit[seg]
		if c == nil && strings.IndexByte(seg, '%') >= 0 {
			c = n.lit[unescape(seg)]
		}
		if c != nil {
			if r := c.lookup(segs[1:], verb, customVerb, allowed); r != nil {
				return r
			}
		}
	}
	if n.star != nil && seg != "" {
		if r := n.star.lookup(segs[1:], verb, customVerb, allowed); r != nil {
			return r
		}
	}
	return pick(n.dstar, verb, customVerb, allowed)
}

func pick(routes []*route, verb, customVerb string, allowed *[]string) *route {
	for _, r := range routes {
		if r.tmpl.Verb != customVerb {
			continue
		}
		if r.verb == verb {
			return r
		}
		if allowed != nil {
			*allowed = append(*allowed, r.verb)
			if r.verb == http.MethodGet {
				*allowed = append(*allowed, http.MethodHead)
			}
		}
	}
	return nil
}

// match routes a request: the path with a ":verb" suffix tried first as a
// custom verb, then as part of the last segment. HEAD takes a route bound
// to HEAD itself before it falls back to GET's.
func (h *Handler) match(dst []string, escapedPath, verb string) (*route, []string, []string) {
	segs := httprule.AppendSegments(dst, escapedPath)
	if segs == nil {
		return nil, nil, nil
	}
	if r, segs := h.find(segs, verb, nil); r != nil {
		return r, segs, nil
	}
	if verb == http.MethodHead {
		if r, segs := h.find(segs, http.MethodGet, nil); r != nil {
			return r, segs, nil
		}
	}
	// No route: look again, collecting the methods the path does allow,
	// for a 405. Kept off the success path, where it would allocate.
	var allowed []string
	h.find(segs, verb, &allowed)
	return nil, nil, dedupe(allowed)
}

// find tries each ":" of the last segment as the start of a custom verb,
// the longest verb first (a verb may itself hold ':', as in
// "custom:custom", and is then more specific than its tail), then the
// whole segment without a verb.
func (h *Handler) find(segs []string, verb string, allowed *[]string) (*route, []string) {
	last := segs[len(segs)-1]
	for start := 0; ; {
		i := strings.IndexByte(last[start:], ':')
		if i < 0 {
			break
		}
		i += start
		custom := unescape(last[i+1:])
		segs[len(segs)-1] = last[:i]
		if r := h.root.lookup(segs, verb, custom, allowed); r != nil {
			return r, segs
		}
		start = i + 1
	}
	segs[len(segs)-1] = last
	return h.root.lookup(segs, verb, "", allowed), segs
}

func dedupe(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	sort.Strings(s)
	out := s[:1]
	for _, v := range s[1:] {
		if v != out[len(out)-1] {
			out = append(out, v)
		}
	}
	return out
}

// plainStringField returns the index in in's generated Go struct of the
// field at fds when it is a string stored as a plain Go string: one field
// deep, proto3 implicit presence, not repeated, not in a oneof. It
// returns -1 for every other field, and for messages without a generated
// type.
func plainStringField(in protoreflect.MessageDescriptor, fds []protoreflect.FieldDescriptor) int {
	if len(fds) != 1 {
		return -1
	}
	fd := fds[0]
	if fd.Kind() != protoreflect.StringKind || fd.IsList() || fd.HasPresence() || fd.ContainingOneof() != nil {
		return -1
	}
	t := gostruct.Type(in)
	if t == nil {
		return -1
	}
	j, ok := gostruct.Fields(t.Elem())[fd.Number()]
	if ok && t.Elem().Field(j).Type.Kind() == reflect.String {
		return j
	}
	return -1
}
