package duet

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/duetrpc/duet/internal/budget"
	"github.com/duetrpc/duet/internal/call"
	"github.com/duetrpc/duet/internal/pbjson"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// grpcWeb serves the gRPC-Web protocol (grpc/grpc doc/PROTOCOL-WEB.md) for
// the registered services, in process: all four kinds of method, binary
// (application/grpc-web[+proto|+json]) and text (application/grpc-web-text,
// base64), compressed with grpc-go's registered compressors. Over HTTP/2 a
// stream is full duplex; over HTTP/1.1 it is half duplex (the request body
// is the whole sequence of request frames, the response follows).
type grpcWeb struct {
	methods     map[string]*call.Method // by name, "/pkg.Service/Method"
	calls       *call.Invoker
	maxMsg      int
	compressors webCompressors
	proto, json webCodec
	// Limits and timeouts (limits.go).
	budget       *budget.Bytes
	bodyTimeout  time.Duration
	writeTimeout time.Duration
}

func newGRPCWeb(calls *call.Invoker, maxMsg int, json *pbjson.Codec) *grpcWeb {
	return &grpcWeb{
		methods:     map[string]*call.Method{},
		calls:       calls,
		maxMsg:      maxMsg,
		compressors: newWebCompressors(),
		json:        webCodec{json: true, codec: json},
	}
}

func (g *grpcWeb) register(desc *grpc.ServiceDesc, impl any) {
	for _, m := range call.Methods(desc, impl) {
		g.methods[m.Name] = m
	}
	// JSON plans are built now rather than by the first +json call.
	if d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(desc.ServiceName)); err == nil {
		if sd, ok := d.(protoreflect.ServiceDescriptor); ok {
			for i := 0; i < sd.Methods().Len(); i++ {
				g.json.codec.Prepare(sd.Methods().Get(i).Input())
				g.json.codec.Prepare(sd.Methods().Get(i).Output())
			}
		}
	}
}

// webResponse is the response side of one gRPC-Web call: the HTTP headers
// (with the header metadata) before the first frame, data frames as
// messages are sent, and the trailer frame with the status at the end.
type webResponse struct {
	w       http.ResponseWriter
	mu      sync.Mutex
	fw      webFrameWriter
	enc     []byte       // the message being sent, reused
	duplex  *http1Duplex // an HTTP/1.1 request read in full duplex; nil otherwise
	started bool
	done    bool
	header  metadata.MD
	trailer metadata.MD
}

func (wr *webResponse) startLocked() {
	if wr.started {
		return
	}
	wr.started = true
	h := wr.w.Header()
	if wr.fw.comp != nil {
		h.Set("Grpc-Encoding", wr.fw.comp.Name())
	}
	for k, vs := range wr.header {
		if strings.HasPrefix(k, ":") || k == "content-type" || strings.HasPrefix(k, "grpc-") {
			continue
		}
		for _, v := range vs {
			h.Add(k, encodeMetadataValue(k, v))
		}
	}
	wr.w.WriteHeader(http.StatusOK)
}

// send writes one response message.
func (wr *webResponse) send(codec *webCodec, m any) error {
	wr.mu.Lock()
	defer wr.mu.Unlock()
	if wr.done {
		return status.Error(codes.Internal, "grpc-web: SendMsg after the call ended")
	}
	var err error
	if wr.enc, err = codec.appendMessage(wr.enc[:0], m); err != nil {
		return err
	}
	wr.startLocked()
	if err := wr.fw.message(wr.enc); err != nil {
		if _, ok := status.FromError(err); ok {
			return err
		}
		return status.Error(codes.Unavailable, "grpc-web: the client went away")
	}
	return nil
}

func encodeMetadataValue(k, v string) string {
	if strings.HasSuffix(k, "-bin") {
		return base64.RawStdEncoding.EncodeToString([]byte(v))
	}
	return v
}

// finish writes the trailer frame with the call's status.
func (wr *webResponse) finish(err error) {
	st := status.Convert(err)
	var b bytes.Buffer
	fmt.Fprintf(&b, "grpc-status: %d\r\n", st.Code())
	if st.Message() != "" {
		fmt.Fprintf(&b, "grpc-message: %s\r\n", percentEncode(st.Message()))
	}
	if len(st.Proto().GetDetails()) > 0 {
		if raw, mErr := proto.Marshal(st.Proto()); mErr == nil {
			fmt.Fprintf(&b, "grpc-status-details-bin: %s\r\n", base64.RawStdEncoding.EncodeToString(raw))
		}
	}
	drained := wr.duplex == nil || wr.duplex.drain()
	wr.mu.Lock()
	defer wr.mu.Unlock()
	if wr.done {
		return
	}
	wr.done = true
	if !drained {
		if !wr.started {
			wr.w.Header().Set("Connection", "close")
		} else {
			defer wr.duplex.abort()
		}
	}
	for k, vs := range wr.trailer {
		if strings.HasPrefix(k, "grpc-") {
			continue
		}
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, encodeMetadataValue(k, v))
		}
	}
	wr.startLocked()
	_ = wr.fw.trailer(b.Bytes())
}

// percentEncode encodes grpc-message as the gRPC spec says: printable
// ASCII except '%' as is, everything else as %XX of its UTF-8 bytes.
func percentEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c <= 0x7e && c != '%' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// webStream is the call.Transport of a gRPC-Web call. Requests of unary
// and server-streaming calls are read before the call (to hold their
// cardinality); those of client and bidirectional streams are read frame
// by frame as RecvMsg asks.
type webStream struct {
	cs     call.Stream
	codec  *webCodec
	resp   *webResponse
	body   *webFrameReader
	single bool   // one request message, already read into req
	req    []byte // the single request's payload
	read   bool
}

func (s *webStream) RecvMsg(m proto.Message) error {
	if s.single {
		if s.read {
			return io.EOF
		}
		s.read = true
		return s.codec.readMessage(s.req, m)
	}
	payload, err := s.body.next()
	if err != nil {
		return err
	}
	return s.codec.readMessage(payload, m)
}

// GRPCMetadata says that gRPC-Web's metadata are its request headers, all
// of them, as gRPC's are (PROTOCOL-WEB.md: the same as gRPC's).
func (s *webStream) GRPCMetadata() bool { return true }

// SendHeader writes the HTTP response headers with the header metadata.
func (s *webStream) SendHeader(md metadata.MD) error {
	s.resp.mu.Lock()
	defer s.resp.mu.Unlock()
	s.resp.header = md
	s.resp.startLocked()
	if rc := s.resp.fw.rc; rc != nil {
		return rc.Flush()
	}
	return nil
}

func (s *webStream) SendMsg(m proto.Message) error { return s.resp.send(s.codec, m) }

// Finish writes the trailer frame.
func (s *webStream) Finish(err error, trailer metadata.MD) {
	s.resp.mu.Lock()
	s.resp.trailer = trailer
	s.resp.mu.Unlock()
	s.resp.finish(err)
}

// readSingle reads the one request message of a call that takes one.
func (s *webStream) readSingle() (err error) {
	s.req, err = s.body.single()
	s.single = err == nil
	return err
}

func (g *grpcWeb) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	wct, codecOK := parseWebContentType(r.Header.Get("Content-Type"))
	h := w.Header()
	h.Set("Content-Type", wct.response)
	if g.compressors.accept != "" {
		h.Set("Grpc-Accept-Encoding", g.compressors.accept)
	}
	rc := http.NewResponseController(w)
	resp := &webResponse{w: w, fw: webFrameWriter{w: w, rc: rc, timeout: g.writeTimeout, text: wct.text}}
	if r.Method != http.MethodPost {
		resp.finish(status.Error(codes.Unimplemented, "grpc-web: use POST"))
		return
	}
	if !codecOK {
		resp.finish(status.Errorf(codes.Unimplemented, "grpc-web: content type %q is not supported; use application/grpc-web[-text][+proto|+json]", r.Header.Get("Content-Type")))
		return
	}
	m := g.methods[r.URL.Path]
	if m == nil {
		resp.finish(status.Errorf(codes.Unimplemented, "unknown method %s", r.URL.Path))
		return
	}
	decomp, ok := g.compressors.request(r.Header.Get("Grpc-Encoding"))
	if !ok {
		resp.finish(status.Errorf(codes.Unimplemented, "grpc-web: grpc-encoding %q is not supported; supported: %s", r.Header.Get("Grpc-Encoding"), g.compressors.accept))
		return
	}
	resp.fw.comp = g.compressors.response(decomp, r.Header.Get("Grpc-Accept-Encoding"))
	codec := &g.proto
	if wct.json {
		codec = &g.json
	}
	body := newWebFrameReader(r.Body, wct.text, g.maxMsg, decomp)
	body.budget, body.timeout = g.budget, g.bodyTimeout
	defer body.close()
	s := &webStream{codec: codec, resp: resp, body: body}
	if m.ClientStreams() {
		// Each message must arrive within the body timeout once it has
		// begun; between messages the client takes its time.
		body.deadline = rc.SetReadDeadline
		// HTTP/1.1: read the request while responding (half duplex clients
		// have sent it all by then; full duplex ones need it).
		if r.ProtoMajor == 1 && rc.EnableFullDuplex() == nil {
			resp.duplex = &http1Duplex{rc: rc, body: r.Body, timeout: g.bodyTimeout}
		}
	} else {
		// The one message, and the end of the body, within the timeout.
		armed := g.bodyTimeout > 0 && rc.SetReadDeadline(time.Now().Add(g.bodyTimeout)) == nil
		err := s.readSingle()
		if armed {
			_ = rc.SetReadDeadline(time.Time{})
		}
		if err != nil {
			if r.ProtoMajor == 1 {
				// Answered before the body was read: net/http would
				// otherwise read what is left first, at the client's pace.
				w.Header().Set("Connection", "close")
			}
			resp.finish(err)
			return
		}
	}

	g.calls.Serve(&s.cs, r, m, s)
}

// maxDrain is how much of a request body left unread by a stream handler
// is read and discarded so that the HTTP/1.1 connection can serve the next
// request; net/http uses the same bound.
const maxDrain = 256 << 10

// http1Duplex is an HTTP/1.1 request read in full duplex, which must be
// read to its end before the response ends. net/http would otherwise read
// the rest when it closes the body after the handler: reaching the end
// there starts a background read that races the next request's read
// ("invalid concurrent Body.Read call"), and failing to reach it, it may
// reuse the connection from the middle of the body.
type http1Duplex struct {
	rc      *http.ResponseController
	body    io.Reader
	timeout time.Duration
}

// drain reads what the handler left of the body, within maxDrain and the
// body timeout, and reports whether it reached the end. When it did not,
// the connection must not serve another request: the response says so
// (Connection: close) if its headers are not out yet, else abort closes
// it.
func (d *http1Duplex) drain() bool {
	if d.timeout > 0 {
		_ = d.rc.SetReadDeadline(time.Now().Add(d.timeout))
	}
	if _, err := io.CopyN(io.Discard, d.body, maxDrain); err == io.EOF {
		_ = d.rc.SetReadDeadline(time.Time{})
		return true
	}
	// The read deadline stays: net/http reads up to maxDrain more when it
	// closes the body, within it, and then half-closes the connection and
	// lingers, so that the client reads the response before a reset.
	return false
}

// abort closes the connection once the trailer frame is out, without the
// last chunk, so that the client does not take it back into its pool;
// like net/http, it half-closes first and lingers briefly so that the
// client reads what was sent before the unread body provokes a reset.
func (d *http1Duplex) abort() {
	conn, _, err := d.rc.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	if cw, ok := conn.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		_ = conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		_, _ = io.Copy(io.Discard, conn)
	}
}
