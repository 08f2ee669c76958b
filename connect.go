package duet

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/duetrpc/duet/internal/budget"
	"github.com/duetrpc/duet/internal/call"
	"github.com/duetrpc/duet/internal/deadline"
	"github.com/duetrpc/duet/internal/pbjson"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// connectHandler serves the Connect protocol (connectrpc.com/docs/protocol)
// for the registered services, in process, through the shared call layer:
// unary methods as POST (application/proto, application/json) and, for
// methods marked idempotency_level = NO_SIDE_EFFECTS, as cacheable GET;
// every kind of method as a stream (application/connect+proto|json), full
// duplex over HTTP/2 and half duplex over HTTP/1.1.
type connectHandler struct {
	methods     map[string]*connectMethod // by name, "/pkg.Service/Method"
	calls       *call.Invoker
	maxMsg      int
	compressors webCompressors
	// acceptEncoding is the unary responses' Accept-Encoding value.
	acceptEncoding []string
	// json writes and reads JSON messages as protojson does with the REST
	// transcoder's options (pbjson, plans built at registration).
	json *pbjson.Codec
	// Limits and timeouts (limits.go).
	budget       *budget.Bytes
	bodyTimeout  time.Duration
	writeTimeout time.Duration
}

var (
	contentTypeJSON  = []string{connectUnaryJSON}
	contentTypeProto = []string{connectUnaryProto}
)

// connectMethod is a method and whether it may be called with GET.
type connectMethod struct {
	*call.Method
	get bool
}

// connectMinCompress is the smallest unary response body that is
// compressed when the client accepts it: below it, gzip's header and CPU
// cost more than they save. Go's HTTP client asks for gzip on every
// request without being told to.
const connectMinCompress = 1 << 10

func newConnect(calls *call.Invoker, maxMsg int, json *pbjson.Codec) *connectHandler {
	c := &connectHandler{
		methods:     map[string]*connectMethod{},
		calls:       calls,
		maxMsg:      maxMsg,
		compressors: newWebCompressors(),
		json:        json,
	}
	c.acceptEncoding = []string{c.compressors.accept}
	return c
}

func (c *connectHandler) register(desc *grpc.ServiceDesc, impl any) {
	var sd protoreflect.ServiceDescriptor
	if d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(desc.ServiceName)); err == nil {
		sd, _ = d.(protoreflect.ServiceDescriptor)
	}
	for _, m := range call.Methods(desc, impl) {
		cm := &connectMethod{Method: m}
		if sd != nil && !m.ClientStreams() && !m.ServerStreams() {
			name := m.Name[strings.LastIndexByte(m.Name, '/')+1:]
			if md := sd.Methods().ByName(protoreflect.Name(name)); md != nil {
				opts, _ := md.Options().(*descriptorpb.MethodOptions)
				cm.get = opts.GetIdempotencyLevel() == descriptorpb.MethodOptions_NO_SIDE_EFFECTS
			}
		}
		c.methods[m.Name] = cm
	}
	if sd != nil {
		for i := 0; i < sd.Methods().Len(); i++ {
			c.json.Prepare(sd.Methods().Get(i).Input())
			c.json.Prepare(sd.Methods().Get(i).Output())
		}
	}
}

// claims reports whether r is a Connect request, the routing rule that
// lets Connect and REST share the port (see doc.go, "One port, four
// protocols"): a request with a Connect-Protocol-Version header or a
// streaming Connect content type, whatever its path; a POST of
// application/proto to a registered method's path; a GET of a registered
// method's path with the connect=v1 or message query parameter. A POST of
// application/json without Connect-Protocol-Version is REST's: that is
// what a REST client sends too.
func (c *connectHandler) claims(r *http.Request) bool {
	if r.Header.Get(connectVersionHeader) != "" {
		return true
	}
	ct := r.Header.Get("Content-Type")
	if len(ct) >= len(connectStreamPrefx) && strings.EqualFold(ct[:len(connectStreamPrefx)], connectStreamPrefx) {
		return true
	}
	if c.methods[r.URL.Path] == nil {
		return false
	}
	switch r.Method {
	case http.MethodPost:
		mt, _, _ := strings.Cut(ct, ";")
		return strings.EqualFold(strings.TrimSpace(mt), connectUnaryProto)
	case http.MethodGet:
		return strings.Contains(r.URL.RawQuery, "connect=v1") || strings.Contains(r.URL.RawQuery, "message=")
	}
	return false
}

func (c *connectHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if r.Method == http.MethodGet {
		c.serveGet(w, r)
		return
	}
	if r.Method != http.MethodPost {
		h.Set("Allow", "GET, POST")
		writeConnectStatus(w, r, http.StatusMethodNotAllowed)
		return
	}
	ct, ok := parseConnectContentType(r.Header.Get("Content-Type"))
	if !ok {
		h.Set("Accept-Post", "application/json, application/proto, application/connect+json, application/connect+proto")
		writeConnectStatus(w, r, http.StatusUnsupportedMediaType)
		return
	}
	m := c.methods[r.URL.Path]
	if m == nil {
		writeConnectNotFound(w, r)
		return
	}
	if ct.stream != (m.ClientStreams() || m.ServerStreams()) {
		// A unary method takes a unary body, a stream a stream: what
		// connect-go answers, with the media types it would take.
		if ct.stream {
			h.Set("Accept-Post", "application/json, application/proto")
		} else {
			h.Set("Accept-Post", "application/connect+json, application/connect+proto")
		}
		writeConnectStatus(w, r, http.StatusUnsupportedMediaType)
		return
	}
	if ct.stream {
		c.serveStream(w, r, m, ct.json)
		return
	}
	u := c.unaryResponse(w, r, ct.json)
	if err := checkConnectVersion(r.Header.Get(connectVersionHeader)); err != nil {
		u.fail(r, err)
		return
	}
	decomp, ok := c.compressors.request(r.Header.Get("Content-Encoding"))
	if !ok {
		u.fail(r, status.Errorf(codes.Unimplemented, "connect: content-encoding %q is not supported; supported: %s", r.Header.Get("Content-Encoding"), c.compressors.accept))
		return
	}
	held, err := u.readBody(r, decomp)
	defer c.budget.Give(held)
	if err != nil {
		u.fail(r, err)
		return
	}
	c.calls.Serve(&u.cs, r, m.Method, u)
}

// checkConnectVersion checks a Connect-Protocol-Version header. It is not
// required: the spec says clients should send it and servers may require
// it, and requiring it would turn away curl and hand-written clients for
// no gain, since the routing rule does not need it to tell a Connect
// request from a REST one except for JSON POSTs.
func checkConnectVersion(v string) error {
	if v != "" && v != "1" {
		return status.Errorf(codes.InvalidArgument, "connect: Connect-Protocol-Version %q is not supported; use 1", v)
	}
	return nil
}

// writeConnectStatus answers a request the protocol rejects before it
// names a method (wrong HTTP method or media type) with a bare status, as
// the spec says; Connect clients derive the code from it.
func writeConnectStatus(w http.ResponseWriter, r *http.Request, code int) {
	if r.ProtoMajor == 1 {
		w.Header().Set("Connection", "close") // the body is not read
	}
	w.WriteHeader(code)
}

// writeConnectNotFound answers a request for a method that is not
// registered: 404, as the spec says for an unknown path, with the error
// body a Connect client reads as UNIMPLEMENTED.
func writeConnectNotFound(w http.ResponseWriter, r *http.Request) {
	body, _ := json.Marshal(newConnectError(status.Newf(codes.Unimplemented, "unknown method %s", r.URL.Path)))
	h := w.Header()
	h.Set("Content-Type", connectUnaryJSON)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.ProtoMajor == 1 {
		h.Set("Connection", "close") // the body is not read
	}
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write(body)
}

// connectUnary is the call.Transport of a unary Connect call (POST or
// GET): the request message was read before the call; the response is
// held until Finish, since its trailers travel as Trailer- headers before
// the body.
type connectUnary struct {
	cs     call.Stream
	c      *connectHandler
	w      http.ResponseWriter
	rc     *http.ResponseController
	json   bool
	req    []byte // the request message, decompressed
	read   bool
	header metadata.MD
	resp   []byte // the encoded response message
	comp   encoding.Compressor
	done   bool
}

func (c *connectHandler) unaryResponse(w http.ResponseWriter, r *http.Request, json bool) *connectUnary {
	u := &connectUnary{c: c, w: w, rc: http.NewResponseController(w), json: json}
	if c.compressors.accept != "" {
		w.Header()["Accept-Encoding"] = c.acceptEncoding
	}
	u.comp = c.compressors.response(nil, acceptNames(r.Header.Get("Accept-Encoding")))
	return u
}

// acceptNames drops the quality values of an Accept-Encoding list.
// Encodings refused with q=0 are dropped entirely.
func acceptNames(v string) string {
	if !strings.Contains(v, ";") {
		return v
	}
	var names []string
	for _, part := range strings.Split(v, ",") {
		name, params, _ := strings.Cut(part, ";")
		if q, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
				continue
			}
		}
		names = append(names, strings.TrimSpace(name))
	}
	return strings.Join(names, ",")
}

// readBody reads the request body, within the message limit, the body
// budget and the body timeout, and decompresses it. held is what it took
// from the budget, to give back when the call is over.
func (u *connectUnary) readBody(r *http.Request, decomp encoding.Compressor) (held int64, err error) {
	c := u.c
	armed := c.bodyTimeout > 0 && u.rc.SetReadDeadline(time.Now().Add(c.bodyTimeout)) == nil
	body, held, err := budget.Read(r.Body, int64(c.maxMsg), r.ContentLength, c.budget)
	if armed {
		_ = u.rc.SetReadDeadline(time.Time{})
	}
	if err != nil {
		if r.ProtoMajor == 1 {
			u.w.Header().Set("Connection", "close")
		}
		return held, c.readError(err)
	}
	if decomp != nil {
		var h int64
		body, h, err = c.inflate(decomp, body)
		held += h
		if err != nil {
			return held, err
		}
	}
	u.req = body
	return held, nil
}

// inflate decompresses a request message, stopping one byte past the
// message limit so that a small body that inflates enormously costs at
// most the limit.
func (c *connectHandler) inflate(decomp encoding.Compressor, b []byte) ([]byte, int64, error) {
	r, err := decomp.Decompress(bytes.NewReader(b))
	if err != nil {
		return nil, 0, status.Errorf(codes.InvalidArgument, "connect: decompressing a %s request: %v", decomp.Name(), err)
	}
	out, held, err := budget.Read(r, int64(c.maxMsg), 0, c.budget)
	switch {
	case errors.Is(err, budget.ErrTooLarge):
		return nil, held, status.Errorf(codes.ResourceExhausted, "connect: the request decompresses to more than the limit of %d bytes", c.maxMsg)
	case errors.Is(err, budget.ErrExhausted):
		return nil, held, c.readError(err)
	case err != nil:
		return nil, held, status.Errorf(codes.InvalidArgument, "connect: decompressing a %s request: %v", decomp.Name(), err)
	}
	return out, held, nil
}

// readError is the status of a request body that could not be read.
func (c *connectHandler) readError(err error) error {
	return bodyReadError("connect", err, c.maxMsg, c.bodyTimeout)
}

// decode parses a request message. One that does not parse is the
// client's mistake, INVALID_ARGUMENT, as connect-go answers.
func (c *connectHandler) decode(json bool, b []byte, m proto.Message) error {
	var err error
	if json {
		err = c.json.Unmarshal(b, m)
	} else {
		err = proto.Unmarshal(b, m)
	}
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "connect: parsing the request message: %v", err)
	}
	return nil
}

// encode appends m's encoding to b.
func (c *connectHandler) encode(json bool, b []byte, m proto.Message) ([]byte, error) {
	var err error
	if json {
		b, err = c.json.MarshalAppend(b, m)
	} else {
		b, err = proto.MarshalOptions{}.MarshalAppend(b, m)
	}
	if err != nil {
		return b, status.Errorf(codes.Internal, "connect: encoding the response: %v", err)
	}
	return b, nil
}

func (u *connectUnary) RecvMsg(m proto.Message) error {
	if u.read {
		return io.EOF
	}
	u.read = true
	return u.c.decode(u.json, u.req, m)
}

// GRPCMetadata says that Connect's metadata are its request headers, all
// but the protocol's own, as connect-go hands them to its handlers.
func (u *connectUnary) GRPCMetadata() bool { return true }

func (u *connectUnary) SendHeader(md metadata.MD) error {
	u.header = md
	return nil
}

func (u *connectUnary) SendMsg(m proto.Message) error {
	var err error
	u.resp, err = u.c.encode(u.json, u.resp[:0], m)
	return err
}

// fail ends a call that failed before it began.
func (u *connectUnary) fail(r *http.Request, err error) {
	u.Finish(err, nil)
}

// Finish writes the response: the headers, the trailers as Trailer-
// headers, and the message or the JSON error.
func (u *connectUnary) Finish(err error, trailer metadata.MD) {
	if u.done {
		return
	}
	u.done = true
	h := u.w.Header()
	addConnectMetadata(h, "", u.header)
	addConnectMetadata(h, "trailer-", trailer)
	if err != nil {
		st := status.Convert(err)
		_, code := connectCode(st.Code())
		body, _ := json.Marshal(newConnectError(st))
		h.Set("Content-Type", connectUnaryJSON)
		h.Set("Content-Length", strconv.Itoa(len(body)))
		u.w.WriteHeader(code)
		_ = deadline.Write(u.w, u.rc, u.c.writeTimeout, body)
		return
	}
	body := u.resp
	if u.comp != nil && len(body) >= connectMinCompress {
		var zb bytes.Buffer
		zw, cerr := u.comp.Compress(&zb)
		if cerr == nil {
			_, cerr = zw.Write(body)
			if err := zw.Close(); cerr == nil {
				cerr = err
			}
		}
		if cerr == nil {
			h.Set("Content-Encoding", u.comp.Name())
			body = zb.Bytes()
		}
	}
	// Shared values, set without Header.Set's allocation: net/http only
	// reads them.
	if u.json {
		h["Content-Type"] = contentTypeJSON
	} else {
		h["Content-Type"] = contentTypeProto
	}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	u.w.WriteHeader(http.StatusOK)
	_ = deadline.Write(u.w, u.rc, u.c.writeTimeout, body)
}
