package rest

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/duetrpc/duet/internal/call"
	"hash/crc32"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"sort"
	"strings"
	"sync"

	"github.com/duetrpc/duet/hateoas"
	"github.com/duetrpc/duet/problem"
	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// ServeHTTP routes the request to its method, binds the request message,
// calls the method's grpc-go handler in process through the configured
// interceptors, and writes the response or an application/problem+json
// error. It panics, on every request, when an option names a method no
// registered service has (see [Handler.CheckMethods]).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mustCheckMethods()
	defer h.recoverPanic(w, r)
	// One allocation holds the request's per-call state, its path segments
	// included, instead of one for each.
	c := &unaryCall{h: h, r: r}
	c.path.escaped = r.URL.EscapedPath()
	rt, segs, allowed := h.match(c.segBuf[:0], c.path.escaped, r.Method)
	if rt == nil {
		if len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			h.writeError(w, r, httpProblem(http.StatusMethodNotAllowed, codes.Unimplemented,
				"method "+r.Method+" is not allowed on "+r.URL.Path+"; allowed: "+strings.Join(allowed, ", ")))
			return
		}
		h.writeError(w, r, httpProblem(http.StatusNotFound, codes.NotFound, "no route for "+r.Method+" "+r.URL.Path))
		return
	}
	if negotiate(headerValue(r.Header, "Accept"), offersFor(rt)) < 0 {
		h.writeError(w, r, httpProblem(http.StatusNotAcceptable, codes.InvalidArgument,
			"cannot produce any of "+r.Header.Get("Accept")+"; this method answers "+produces(rt)))
		return
	}
	c.path.segs = segs
	if rt.body == "" && r.Body != nil && r.Body != http.NoBody {
		// A body the rule does not read: read it all the same (up to
		// the limit), because net/http notices that a client went away,
		// and cancels the handler's context, only once the body is read.
		if err := h.discardBody(w, r); err != nil {
			h.writeError(w, r, err)
			return
		}
	}
	if rt.m.streaming != nil {
		h.serveStream(w, r, rt, c.path)
		return
	}
	c.rt, c.w = rt, w
	h.serveUnary(c)
}

// discardBody reads and drops a request body the route does not read, up
// to the body limit and within the body timeout.
func (h *Handler) discardBody(w http.ResponseWriter, r *http.Request) error {
	// The deadline is cleared once the body is read; a body that fails
	// keeps the one closeAfter sets.
	read := h.readDeadline(http.NewResponseController(w))
	n, err := io.Copy(io.Discard, io.LimitReader(r.Body, h.cfg.maxBody+1))
	if err != nil {
		return h.bodyError(w, r, err)
	}
	if n > h.cfg.maxBody {
		h.closeAfter(w, r)
		return tooLarge(h.cfg.maxBody)
	}
	read()
	return nil
}

// recoverPanic turns a panic anywhere below ServeHTTP (a handler, an
// interceptor, rendering) into a 500 problem, if the response has not
// begun, and reports it; http.ErrAbortHandler, the deliberate way to cut a
// response short, goes on to net/http.
func (h *Handler) recoverPanic(w http.ResponseWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	h.report(r.Context(), slog.LevelError, r.Method+" "+r.URL.Path, "panic", fmt.Errorf("%v\n%s", v, debug.Stack()))
	h.writeError(w, r, problem.Reported(status.Error(codes.Internal, "panic")))
}

// reqPath is a request's escaped path and the segments matched against
// the route's template (the last one without its ":verb").
type reqPath struct {
	escaped string
	segs    []string
}

// unaryCall is the state of one unary call and its call.Transport: the
// request message is bound from the request, the response rendered when
// the call finishes, with the headers and trailers the handler set.
type unaryCall struct {
	cs     call.Stream
	h      *Handler
	w      http.ResponseWriter
	r      *http.Request
	rt     *route
	path   reqPath
	body   []byte
	header metadata.MD
	resp   proto.Message
	segBuf [10]string
}

// RecvMsg binds the request into the method's message.
func (c *unaryCall) RecvMsg(m proto.Message) error {
	return c.h.bind(m.ProtoReflect(), c.rt, c.path, c.r, c.body)
}

// SendHeader keeps the handler's header metadata for the response.
func (c *unaryCall) SendHeader(md metadata.MD) error {
	c.header = md
	return nil
}

// SendMsg keeps the response until Finish renders it.
func (c *unaryCall) SendMsg(m proto.Message) error {
	c.resp = m
	return nil
}

// Finish renders the response, or the error as a problem.
func (c *unaryCall) Finish(err error, trailer metadata.MD) {
	if err == nil && c.resp == nil {
		err = status.Error(codes.Internal, "the method returned without a response")
	}
	if err != nil {
		c.h.writeMetadata(c.w.Header(), c.header, trailer)
		c.h.writeError(c.w, c.r, err)
		return
	}
	c.h.render(c.w, c.r, c.rt, c.resp, c.header, trailer)
}

// httpProblem is a problem with an HTTP status of its own, for failures
// that happen before a gRPC code is involved.
func httpProblem(httpStatus int, c codes.Code, detail string) *problem.Problem {
	return &problem.Problem{
		Title: http.StatusText(httpStatus), Status: httpStatus, Detail: detail,
		Extensions: map[string]any{"code": problem.CodeName(c)},
	}
}

// writeMetadata copies header metadata to the response: "location" to
// Location, "www-authenticate" to WWW-Authenticate, the keys named with
// [WithOutgoingHeaders] as plain headers, everything else under
// Grpc-Metadata-, as grpc-gateway does; trailers under Grpc-Trailer-.
func (h *Handler) writeMetadata(hdr http.Header, header, trailer metadata.MD) {
	for k, vs := range header {
		switch {
		case k == "location":
			hdr["Location"] = vs
			continue
		case k == "www-authenticate":
			hdr["Www-Authenticate"] = vs
			continue
		case h.cfg.outgoing[k]:
			hdr[http.CanonicalHeaderKey(k)] = vs
			continue
		}
		hdr[http.CanonicalHeaderKey("Grpc-Metadata-"+k)] = vs
	}
	for k, vs := range trailer {
		hdr[http.CanonicalHeaderKey("Grpc-Trailer-"+k)] = vs
	}
}

func (h *Handler) serveUnary(c *unaryCall) {
	w, r, rt := c.w, c.r, c.rt
	if rt.body != "" {
		body, held, err := h.readBody(w, r, rt)
		defer h.budgetFor(r.Context()).Give(held)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		c.body = body
	}
	if err := h.precondition(r, rt, c.path); err != nil {
		h.writeError(w, r, err)
		return
	}
	h.calls.Serve(&c.cs, r, rt.m.call, c)
}

// bind fills the request message: body first, then path and query, which
// win over the body.
func (h *Handler) bind(msg protoreflect.Message, rt *route, path reqPath, r *http.Request, body []byte) error {
	if err := h.bindBody(msg, rt, r, body); err != nil {
		return err
	}
	if err := rt.bindPath(msg, path); err != nil {
		return err
	}
	return rt.bindQuery(msg, r.URL.RawQuery, h.cfg.unmarshal.DiscardUnknown)
}

func (h *Handler) bindBody(msg protoreflect.Message, rt *route, r *http.Request, body []byte) error {
	switch {
	case rt.body == "":
		return nil
	case rt.body == "*" && rt.m.httpBodyIn:
		hb := msg.Interface().(*httpbody.HttpBody)
		hb.ContentType = r.Header.Get("Content-Type")
		hb.Data = body
		return nil
	case rt.body == "*":
		if len(bytes.TrimSpace(body)) == 0 {
			return nil
		}
		if err := h.json.Unmarshal(body, msg.Interface()); err != nil {
			return h.decodeError(body, msg.Descriptor(), "")
		}
		return h.fillMask(msg, body, rt)
	}
	root := msg
	// A body field inside sub-messages: create them on the way.
	parent := msg
	for _, fd := range rt.bodyPath[:len(rt.bodyPath)-1] {
		parent = parent.Mutable(fd).Message()
	}
	fd := rt.bodyField
	if rt.bodyHTTPBody {
		hb := &httpbody.HttpBody{ContentType: r.Header.Get("Content-Type"), Data: body}
		parent.Set(fd, protoreflect.ValueOfMessage(hb.ProtoReflect()))
		return nil
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if fd.HasPresence() && fd.Message() == nil {
			// The body's field is present, if empty, as grpc-gateway
			// has it: a proto2 required field or a oneof member stays
			// the one the binding names.
			parent.Set(fd, fd.Default())
		}
		return nil
	}
	if fd.Kind() == protoreflect.MessageKind && !fd.IsList() && !fd.IsMap() {
		target := parent.Mutable(fd).Message()
		if err := h.json.Unmarshal(body, target.Interface()); err != nil {
			return h.decodeError(body, target.Descriptor(), rt.body)
		}
		return h.fillMask(root, body, rt)
	}
	// A repeated, map or scalar body field: read it as the value of that
	// member of its (new, so far empty) parent object.
	wrapped := make([]byte, 0, len(body)+len(fd.JSONName())+4)
	wrapped = append(wrapped, '{', '"')
	wrapped = append(wrapped, fd.JSONName()...)
	wrapped = append(wrapped, '"', ':')
	wrapped = append(wrapped, body...)
	wrapped = append(wrapped, '}')
	if err := h.json.Unmarshal(wrapped, parent.Interface()); err != nil {
		return h.decodeError(wrapped, parent.Descriptor(), strings.TrimSuffix(strings.TrimSuffix(rt.body, string(fd.Name())), "."))
	}
	return nil
}

// fillMask sets a PATCH request's FieldMask from the body's members when
// the client sent none (AIP-134): a partial update touches only what the
// client wrote. The paths are relative to the resource being updated
// (field_mask.proto), not to the request.
func (h *Handler) fillMask(msg protoreflect.Message, body []byte, rt *route) error {
	maskField := rt.maskField
	if maskField == nil || rt.maskRoot == nil || msg.Has(maskField) {
		return nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil {
		return nil
	}
	if rt.body == "*" {
		// The body is the request: descend to the resource's member.
		res := rt.maskRoot[0]
		raw, ok := obj[res.JSONName()]
		if !ok {
			raw, ok = obj[string(res.Name())]
		}
		obj = nil
		if !ok || json.Unmarshal(raw, &obj) != nil {
			return nil
		}
	}
	mask := &fieldmaskpb.FieldMask{}
	collectPaths(rt.maskRoot[len(rt.maskRoot)-1].Message(), obj, "", &mask.Paths)
	sort.Strings(mask.Paths)
	msg.Set(maskField, protoreflect.ValueOfMessage(mask.ProtoReflect()))
	return nil
}

func collectPaths(md protoreflect.MessageDescriptor, obj map[string]json.RawMessage, prefix string, out *[]string) {
	for k, raw := range obj {
		fd := md.Fields().ByJSONName(k)
		if fd == nil {
			fd = md.Fields().ByName(protoreflect.Name(k))
		}
		if fd == nil {
			continue
		}
		path := prefix + string(fd.Name())
		if fd.Message() != nil && !fd.IsList() && !fd.IsMap() && !scalarMessage(fd.Message()) {
			var sub map[string]json.RawMessage
			if json.Unmarshal(raw, &sub) == nil && len(sub) > 0 {
				collectPaths(fd.Message(), sub, path+".", out)
				continue
			}
		}
		*out = append(*out, path)
	}
}

// readBody reads a unary request body up to the limit and checks its
// content type. held is what the body took from the body budget, which
// the caller gives back when the call is done.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request, rt *route) (body []byte, held int64, err error) {
	if err := checkContentType(r, rt); err != nil {
		h.closeAfter(w, r)
		return nil, 0, err
	}
	if r.ContentLength > h.cfg.maxBody {
		h.closeAfter(w, r)
		return nil, 0, tooLarge(h.cfg.maxBody)
	}
	return h.readAll(w, r, h.budgetFor(r.Context()))
}

func tooLarge(limit int64) error {
	return httpProblem(http.StatusRequestEntityTooLarge, codes.ResourceExhausted,
		"request body exceeds the limit of "+itoa(limit)+" bytes")
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// checkContentType admits JSON (and a missing Content-Type) for JSON
// bodies, NDJSON for client streams, anything for HttpBody.
func checkContentType(r *http.Request, rt *route) error {
	if rt.m.httpBodyIn && rt.body == "*" || rt.bodyHTTPBody {
		return nil
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" || ct == "application/json" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil {
		if mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
			return nil
		}
		if rt.m.streaming != nil && rt.m.streaming.ClientStreams && (mt == "application/x-ndjson" || mt == "application/jsonl") {
			return nil
		}
	}
	return httpProblem(http.StatusUnsupportedMediaType, codes.InvalidArgument,
		"Content-Type "+ct+" is not supported; send application/json")
}

// produces names what a route answers with, for 406 problems.
func produces(rt *route) string {
	switch {
	case rt.m.httpBodyOut:
		return "the content type the method chooses"
	case rt.m.streaming != nil && rt.m.streaming.ServerStreams:
		return "text/event-stream or application/x-ndjson"
	}
	return "application/json"
}

// render writes a unary response.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, rt *route, msg proto.Message, header, trailer metadata.MD) {
	hdr := w.Header()
	h.writeMetadata(hdr, header, trailer)
	httpStatus := http.StatusOK
	if rt.verb == http.MethodPost {
		hasLoc := len(hdr["Location"]) > 0 && hdr["Location"][0] != ""
		switch {
		case rt.m.create:
			httpStatus = http.StatusCreated
			if !hasLoc {
				if loc := rt.m.location(msg); loc != "" {
					hdr["Location"] = []string{loc}
				}
			}
		case hasLoc:
			httpStatus = http.StatusCreated
		}
	}
	if rt.m.emptyOut && rt.responseBody == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var body []byte
	var err error
	switch {
	case rt.m.httpBodyOut && rt.responseBody == nil:
		hb := msg.(*httpbody.HttpBody)
		if accept := r.Header.Get("Accept"); accept != "" && hb.GetContentType() != "" {
			if mt, _, err := mime.ParseMediaType(hb.GetContentType()); err == nil && negotiate(accept, []string{mt}) < 0 {
				h.writeError(w, r, httpProblem(http.StatusNotAcceptable, codes.InvalidArgument,
					"cannot produce any of "+accept+"; this method answers "+mt))
				return
			}
		}
		if hb.GetContentType() != "" {
			hdr.Set("Content-Type", hb.GetContentType())
		}
		body = hb.GetData()
	case rt.responseBody != nil:
		body, err = h.marshalField(msg.ProtoReflect(), rt.responseBody)
		hdr["Content-Type"] = jsonContentType
	default:
		// The body is written before render returns, and a Writer must
		// not retain what it is given: its buffer serves the next
		// response.
		buf := bodyBuffers.Get().(*[]byte)
		defer putBodyBuffer(buf)
		body, err = h.json.AppendPlanned((*buf)[:0], msg, rt.m.outPlan)
		*buf = body
		hdr["Content-Type"] = jsonContentType
		if err == nil {
			pl := pageLinks(r, msg.ProtoReflect(), rt)
			if len(pl) > 0 {
				hdr.Set("Link", hateoas.Header(pl))
			}
			if !h.cfg.hypermedia {
				pl = nil // the header has them; the body stays grpc-gateway's
			}
			if p := rt.m.plan; !p.empty() || len(pl) > 0 {
				if p == nil {
					p = &linkPlan{}
				}
				body = h.decorate(r.Context(), p, msg.ProtoReflect(), body, pl)
			}
		}
	}
	if err != nil {
		h.writeError(w, r, status.Errorf(codes.Internal, "marshalling the response: %v", err))
		return
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		etag := entityTag(body)
		hdr["Etag"] = []string{etag} // Header.Set, without canonicalising a constant
		if cc := h.cfg.cacheControl[rt.m.fullName]; cc != "" {
			hdr.Set("Cache-Control", cc)
		}
		if inm := headerValue(r.Header, "If-None-Match"); inm != "" && etagMatch(inm, etag) {
			hdr.Del("Content-Type")
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	h.writeResponse(w, r, httpStatus, body)
}

// bodyBuffers holds the buffers unary JSON responses are marshalled into.
var bodyBuffers = sync.Pool{New: func() any { return new([]byte) }}

// putBodyBuffer returns a response's buffer to the pool, unless one large
// response grew it past what is worth keeping for every later one.
func putBodyBuffer(b *[]byte) {
	if cap(*b) <= 64<<10 {
		bodyBuffers.Put(b)
	}
}

// headerValue is h.Get(name) for a name already in canonical form, as
// net/http stores request headers, without canonicalising it again on
// every request.
func headerValue(h http.Header, name string) string {
	if vs := h[name]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// jsonContentType is shared by every JSON response to save an allocation
// per request; nothing appends to a response's Content-Type values.
var jsonContentType = []string{"application/json"}

// etagMatch is If-None-Match's weak comparison (RFC 9110 §13.1.2).
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// marshalField renders one field of msg, for response_body: a message
// field as that message, any other as the JSON value of its member.
func (h *Handler) marshalField(msg protoreflect.Message, fd protoreflect.FieldDescriptor) ([]byte, error) {
	if fd.Message() != nil && !fd.IsList() && !fd.IsMap() {
		return h.json.Marshal(msg.Get(fd).Message().Interface())
	}
	v := msg.Get(fd)
	switch {
	case fd.IsList() && v.List().Len() == 0:
		return []byte("[]"), nil // an empty list is read-only: nothing to copy
	case fd.IsMap() && v.Map().Len() == 0:
		return []byte("{}"), nil
	}
	only := msg.New()
	only.Set(fd, v)
	b, err := h.json.Marshal(only.Interface())
	if err != nil {
		return nil, err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil, err
	}
	name := fd.JSONName()
	if h.cfg.marshal.UseProtoNames {
		name = string(fd.Name())
	}
	if v, ok := obj[name]; ok {
		return v, nil
	}
	return []byte("null"), nil
}

// location expands the resource's Get route with the created resource's
// fields, so a 201 points where the resource can be read.
func (m *method) location(resp proto.Message) string {
	if m.locRoute == nil {
		return ""
	}
	l := m.locRoute.Link("", resp)
	if l.Templated {
		return "" // a field the path needs is unset: no address to give
	}
	return l.Href
}

// writeError writes err as a problem (or, with WithStatusErrors, as
// google.rpc.Status JSON).
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var fe *fieldError
	if errors.As(err, &fe) {
		err = fe.problem()
	}
	if unauthenticated(err) && len(w.Header()["Www-Authenticate"]) == 0 {
		// A 401 MUST carry a challenge (RFC 9110 §11.6.1, §15.5.2). A
		// handler names its own by sending "www-authenticate" header
		// metadata; the default is the bearer token scheme (RFC 6750
		// §3), the one an Authorization header passed on implies.
		w.Header()["Www-Authenticate"] = bearerChallenge
	}
	p := h.problem(r, err)
	if !h.cfg.statusErrors {
		writtenAsIs.Write(w, nil, p) // r: localized already
		return
	}
	b, mErr := h.statusJSON.Marshal(p.GRPCStatus().Proto())
	if mErr != nil {
		writtenAsIs.Write(w, nil, p)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(p.Status)
	_, _ = w.Write(b)
}

var bearerChallenge = []string{"Bearer"}

// unauthenticated reports whether err is answered 401. It walks the
// chain by hand: errors.As would allocate on every error response.
func unauthenticated(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		switch e := err.(type) {
		case *problem.Problem:
			return e.Status == http.StatusUnauthorized
		case interface{ GRPCStatus() *status.Status }:
			return e.GRPCStatus().Code() == codes.Unauthenticated
		}
	}
	return false
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// entityTag is the strong ETag of a response body: two CRC-32s with
// different polynomials and the length, 96 bits that change whenever the
// bytes do, except by a chance of about 2^-64 for a change that keeps the
// length. It is a validator, not a signature: nothing is gained by forging
// one, and both CRCs run in hardware, about fifteen times faster than
// SHA-256 (which takes 3.6 µs for a 6 KB list page, a twentieth of the
// request).
func entityTag(body []byte) string {
	var sum [12]byte
	binary.BigEndian.PutUint32(sum[0:], crc32.Checksum(body, castagnoli))
	binary.BigEndian.PutUint32(sum[4:], crc32.ChecksumIEEE(body))
	binary.BigEndian.PutUint32(sum[8:], uint32(len(body)))
	var quoted [2 + 16]byte // quoted base64 of 12 bytes, no padding needed
	quoted[0], quoted[len(quoted)-1] = '"', '"'
	base64.RawURLEncoding.Encode(quoted[1:len(quoted)-1], sum[:])
	return string(quoted[:])
}
