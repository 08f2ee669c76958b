package duet

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/duetrpc/duet/grpcx"
	"github.com/duetrpc/duet/internal/budget"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// grpcWeb serves the gRPC-Web protocol (grpc/grpc doc/PROTOCOL-WEB.md) for
// the registered services, in process: binary (application/grpc-web,
// application/grpc-web+proto) and text (application/grpc-web-text, base64),
// unary and server-streaming. Browsers cannot send client or bidirectional
// streams over it.
type grpcWeb struct {
	methods map[string]*webMethod // "/pkg.Service/Method"
	unary   grpc.UnaryServerInterceptor
	stream  grpc.StreamServerInterceptor
	maxMsg  int
	// Limits and timeouts (limits.go).
	budget       *budget.Bytes
	bodyTimeout  time.Duration
	writeTimeout time.Duration
}

type webMethod struct {
	impl   any
	unary  *grpc.MethodDesc
	stream *grpc.StreamDesc
	name   string
}

func (g *grpcWeb) register(desc *grpc.ServiceDesc, impl any) {
	for i := range desc.Methods {
		m := &desc.Methods[i]
		name := "/" + desc.ServiceName + "/" + m.MethodName
		g.methods[name] = &webMethod{impl: impl, unary: m, name: name}
	}
	for i := range desc.Streams {
		s := &desc.Streams[i]
		name := "/" + desc.ServiceName + "/" + s.StreamName
		g.methods[name] = &webMethod{impl: impl, stream: s, name: name}
	}
}

func isGRPCWeb(contentType string) bool {
	return strings.HasPrefix(contentType, "application/grpc-web")
}

const (
	frameData    = 0x00
	frameTrailer = 0x80
)

// webWriter writes gRPC-Web frames, base64-encoding each in text mode.
type webWriter struct {
	w            http.ResponseWriter
	writeTimeout time.Duration
	rc           *http.ResponseController
	text         bool
	mu           sync.Mutex
	started      bool
	header       metadata.MD
	trailer      metadata.MD
}

func (ww *webWriter) startLocked() {
	if ww.started {
		return
	}
	ww.started = true
	h := ww.w.Header()
	for k, vs := range ww.header {
		if strings.HasPrefix(k, ":") || k == "content-type" {
			continue
		}
		for _, v := range vs {
			h.Add(k, encodeMetadataValue(k, v))
		}
	}
	ww.w.WriteHeader(http.StatusOK)
}

func (ww *webWriter) frame(flag byte, payload []byte) error {
	ww.mu.Lock()
	defer ww.mu.Unlock()
	ww.startLocked()
	buf := make([]byte, 5+len(payload))
	buf[0] = flag
	binary.BigEndian.PutUint32(buf[1:5], uint32(len(payload)))
	copy(buf[5:], payload)
	if ww.text {
		enc := make([]byte, base64.StdEncoding.EncodedLen(len(buf)))
		base64.StdEncoding.Encode(enc, buf)
		buf = enc
	}
	return writeFrame(ww.w, ww.rc, ww.writeTimeout, buf)
}

func encodeMetadataValue(k, v string) string {
	if strings.HasSuffix(k, "-bin") {
		return base64.RawStdEncoding.EncodeToString([]byte(v))
	}
	return v
}

// finish writes the trailer frame with the call's status.
func (ww *webWriter) finish(err error) {
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
	ww.mu.Lock()
	trailer := ww.trailer
	ww.mu.Unlock()
	for k, vs := range trailer {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, encodeMetadataValue(k, v))
		}
	}
	_ = ww.frame(frameTrailer, b.Bytes())
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

// webStream is the grpc.ServerStream and grpc.ServerTransportStream of a
// gRPC-Web call.
type webStream struct {
	ctx    context.Context
	method string
	ww     *webWriter
	req    []byte
	read   bool
}

func (s *webStream) Method() string           { return s.method }
func (s *webStream) Context() context.Context { return s.ctx }

func (s *webStream) SetHeader(md metadata.MD) error {
	s.ww.mu.Lock()
	defer s.ww.mu.Unlock()
	if s.ww.started {
		return errors.New("grpc-web: headers already sent")
	}
	s.ww.header = metadata.Join(s.ww.header, md)
	return nil
}

func (s *webStream) SendHeader(md metadata.MD) error {
	if err := s.SetHeader(md); err != nil {
		return err
	}
	s.ww.mu.Lock()
	defer s.ww.mu.Unlock()
	s.ww.startLocked()
	return s.ww.rc.Flush()
}

func (s *webStream) SetTrailer(md metadata.MD) {
	s.ww.mu.Lock()
	defer s.ww.mu.Unlock()
	s.ww.trailer = metadata.Join(s.ww.trailer, md)
}

// webTransport is the grpc.ServerTransportStream view of a webStream, for
// grpc.SetHeader and grpc.SetTrailer in handlers.
type webTransport struct{ *webStream }

func (t webTransport) SetTrailer(md metadata.MD) error {
	t.webStream.SetTrailer(md)
	return nil
}

func (s *webStream) SendMsg(m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return status.Errorf(codes.Internal, "grpc-web: %T is not a proto message", m)
	}
	b, err := proto.Marshal(msg)
	if err != nil {
		return status.Errorf(codes.Internal, "grpc-web: marshal: %v", err)
	}
	if err := s.ww.frame(frameData, b); err != nil {
		return status.Error(codes.Unavailable, "client went away")
	}
	return nil
}

func (s *webStream) RecvMsg(m any) error {
	if s.read {
		return io.EOF
	}
	s.read = true
	msg, ok := m.(proto.Message)
	if !ok {
		return status.Errorf(codes.Internal, "grpc-web: %T is not a proto message", m)
	}
	if err := proto.Unmarshal(s.req, msg); err != nil {
		return status.Errorf(codes.InvalidArgument, "grpc-web: malformed request message: %v", err)
	}
	return nil
}

// reserved request headers that are not metadata.
var webReserved = map[string]bool{
	"content-type": true, "content-length": true, "connection": true, "host": true, "te": true,
	"grpc-timeout": true, "grpc-encoding": true, "grpc-accept-encoding": true, "x-grpc-web": true,
	"x-user-agent": true, "transfer-encoding": true, "keep-alive": true, "upgrade": true,
	"origin": true, "referer": true, "accept": true, "accept-encoding": true, "accept-language": true,
	"sec-fetch-mode": true, "sec-fetch-site": true, "sec-fetch-dest": true, "pragma": true, "cache-control": true,
}

func (g *grpcWeb) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ct := r.Header.Get("Content-Type")
	text := strings.HasPrefix(ct, "application/grpc-web-text")
	respCT := "application/grpc-web+proto"
	if text {
		respCT = "application/grpc-web-text+proto"
	}
	w.Header().Set("Content-Type", respCT)
	ww := &webWriter{w: w, rc: http.NewResponseController(w), text: text, writeTimeout: g.writeTimeout}
	if r.Method != http.MethodPost {
		ww.finish(status.Error(codes.Unimplemented, "grpc-web: use POST"))
		return
	}
	mediaType, _, _ := strings.Cut(ct, ";")
	mediaType = strings.TrimSpace(mediaType)
	if suffix := strings.TrimPrefix(strings.TrimPrefix(mediaType, "application/grpc-web-text"), "application/grpc-web"); suffix != "" && suffix != "+proto" {
		ww.finish(status.Errorf(codes.Unimplemented, "grpc-web: codec %q is not supported; use proto", strings.TrimPrefix(suffix, "+")))
		return
	}
	m := g.methods[r.URL.Path]
	if m == nil {
		ww.finish(status.Errorf(codes.Unimplemented, "unknown method %s", r.URL.Path))
		return
	}
	if m.stream != nil && m.stream.ClientStreams {
		ww.finish(status.Error(codes.Unimplemented, "grpc-web: client and bidirectional streaming are not supported by the protocol"))
		return
	}
	req, held, err := g.readRequest(ww.rc, r, text)
	defer g.budget.Give(held)
	if err != nil {
		if r.ProtoMajor == 1 {
			// Answered before the body was read: net/http would
			// otherwise read what is left first, at the client's pace.
			w.Header().Set("Connection", "close")
		}
		ww.finish(err)
		return
	}
	ctx := r.Context()
	if v := r.Header.Get("Grpc-Timeout"); v != "" {
		d, err := grpcx.ParseTimeout(v)
		if err != nil {
			ww.finish(status.Errorf(codes.InvalidArgument, "malformed grpc-timeout %q: %v", v, err))
			return
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	md := metadata.MD{}
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		if webReserved[lk] {
			continue
		}
		if strings.HasSuffix(lk, "-bin") {
			for _, v := range vs {
				if b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(v, "=")); err == nil {
					md.Append(lk, string(b))
				}
			}
			continue
		}
		md[lk] = append(md[lk], vs...)
	}
	ctx = metadata.NewIncomingContext(ctx, md)
	s := &webStream{method: m.name, ww: ww, req: req}
	ctx = grpc.NewContextWithServerTransportStream(ctx, webTransport{s})
	s.ctx = ctx

	if m.unary != nil {
		dec := func(v any) error { return s.RecvMsg(v) }
		resp, err := m.unary.Handler(m.impl, ctx, dec, g.unary)
		if err == nil {
			err = s.SendMsg(resp)
		}
		ww.finish(err)
		return
	}
	info := &grpc.StreamServerInfo{FullMethod: m.name, IsServerStream: true}
	if g.stream != nil {
		err = g.stream(m.impl, s, info, m.stream.Handler)
	} else {
		err = m.stream.Handler(m.impl, s)
	}
	ww.finish(err)
}

// readRequest reads the single request frame.
func (g *grpcWeb) readRequest(rc *http.ResponseController, r *http.Request, text bool) (req []byte, held int64, err error) {
	limit := int64(g.maxMsg) + 5
	if text {
		limit = limit*4/3 + 8
	}
	raw, held, err := g.readAll(rc, r, limit)
	if err != nil {
		return nil, held, err
	}
	if text {
		if raw, err = decodeChunks(raw); err != nil {
			return nil, held, status.Error(codes.InvalidArgument, "grpc-web: request is not valid base64")
		}
	}
	if len(raw) < 5 {
		return nil, held, status.Error(codes.InvalidArgument, "grpc-web: missing or truncated request frame")
	}
	if raw[0]&0x01 != 0 {
		return nil, held, status.Error(codes.Unimplemented, "grpc-web: compressed messages are not supported")
	}
	if raw[0] != frameData {
		return nil, held, status.Error(codes.InvalidArgument, "grpc-web: the request frame is not a data frame")
	}
	n := binary.BigEndian.Uint32(raw[1:5])
	if uint64(n) != uint64(len(raw)-5) {
		return nil, held, status.Errorf(codes.InvalidArgument, "grpc-web: frame says %d bytes, body has %d", n, len(raw)-5)
	}
	return raw[5:], held, nil
}

// decodeChunks decodes base64 that may be several separately padded
// chunks concatenated ("AAA=BBBB"), as gRPC-Web text clients may send.
func decodeChunks(b []byte) ([]byte, error) {
	b = bytes.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == ' ' {
			return -1
		}
		return r
	}, b)
	var out []byte
	for len(b) > 0 {
		end := bytes.IndexByte(b, '=')
		if end < 0 {
			end = len(b)
		} else {
			for end < len(b) && b[end] == '=' {
				end++
			}
		}
		chunk := make([]byte, base64.StdEncoding.DecodedLen(end))
		n, err := base64.StdEncoding.Decode(chunk, b[:end])
		if err != nil {
			return nil, err
		}
		out = append(out, chunk[:n]...)
		b = b[end:]
	}
	return out, nil
}
