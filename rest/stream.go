package rest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/duetrpc/duet/internal/call"
	"io"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/duetrpc/duet/internal/budget"
	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// chunkSize is the size of the HttpBody chunks a client-streaming upload
// is read in.
const chunkSize = 64 << 10

// Stream framing for responses.
const (
	framingNDJSON = iota
	framingSSE
	framingRaw // HttpBody: the bytes themselves
)

// httpStream is the call.Transport of a streaming call over HTTP.
// Server-streamed messages go out as Server-Sent Events or NDJSON, each
// flushed as it is sent; client-streamed messages are read one NDJSON line
// (or one HttpBody chunk) at a time, as the handler asks.
type httpStream struct {
	cs      call.Stream
	h       *Handler
	w       http.ResponseWriter
	r       *http.Request
	rt      *route
	path    reqPath
	header  metadata.MD // the handler's header metadata, once sent
	framing int
	rc      *http.ResponseController

	mu       sync.Mutex // guards writes: handler and heartbeat
	started  bool       // response headers written
	headSent metadata.MD
	sent     int
	// resp is a client-streaming method's response, written when the
	// handler returns, with its trailers.
	resp proto.Message

	in       *bufio.Reader
	received int
	unaryIn  []byte // request body of a server-streaming call
	done     bool
}

// SendHeader takes the handler's headers: a server stream writes them at
// once (unless it is an HttpBody stream, whose first chunk's content type
// goes in them); a client stream's go with its one response.
func (s *httpStream) SendHeader(md metadata.MD) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.header = md
	if s.rt.m.streaming.ServerStreams && s.framing != framingRaw {
		s.writeHead()
		_ = s.rc.Flush()
	}
	return nil
}

// writeHead writes the response headers once. Alone (not through start) it
// lets the response begin, so that a client waiting for it sees it, while
// the handler may still send headers: those come after the body as
// trailers (see writeTrailers).
func (s *httpStream) writeHead() {
	if s.started {
		return
	}
	s.started = true
	header := s.header
	if header == nil {
		// Begun before the handler sent its headers (a heartbeat): those
		// it has set so far.
		header = s.cs.Header()
	}
	s.headSent = header // SetHeader joins into a new map: this one stays as sent
	hdr := s.w.Header()
	s.h.writeMetadata(hdr, header, nil)
	switch s.framing {
	case framingSSE:
		hdr.Set("Content-Type", "text/event-stream")
		hdr.Set("Cache-Control", "no-cache")
	case framingNDJSON:
		hdr.Set("Content-Type", "application/x-ndjson")
	}
	hdr.Set("X-Content-Type-Options", "nosniff")
	s.w.WriteHeader(http.StatusOK)
}

// writeTrailers puts, once the response has begun, the header metadata
// sent after it began and the trailer metadata in HTTP trailers
// (Grpc-Metadata-* and Grpc-Trailer-*), which net/http writes after the
// body.
func (s *httpStream) writeTrailers(trailer metadata.MD) {
	hdr := s.w.Header()
	for k, vs := range s.header {
		if _, sent := s.headSent[k]; !sent {
			hdr[http.TrailerPrefix+http.CanonicalHeaderKey("Grpc-Metadata-"+k)] = vs
		}
	}
	for k, vs := range trailer {
		hdr[http.TrailerPrefix+http.CanonicalHeaderKey("Grpc-Trailer-"+k)] = vs
	}
}

func (s *httpStream) SendMsg(msg proto.Message) error {
	if err := s.cs.Context().Err(); err != nil {
		return status.FromContextError(err).Err()
	}
	if !s.rt.m.streaming.ServerStreams {
		// Client streaming: the one response, written as a unary one
		// when the handler returns, so that trailers set after
		// SendAndClose go with it, as on gRPC.
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.resp != nil {
			return status.Error(codes.Internal, "a client-streaming method sends one response")
		}
		s.resp = msg
		return nil
	}
	var frame []byte
	if s.framing == framingRaw {
		hb, _ := msg.(*httpbody.HttpBody)
		if !s.started && hb.GetContentType() != "" {
			s.w.Header().Set("Content-Type", hb.GetContentType())
		}
		frame = hb.GetData()
	} else {
		var b []byte
		var err error
		if s.rt.responseBody != nil {
			b, err = s.h.marshalField(msg.ProtoReflect(), s.rt.responseBody)
		} else {
			b, err = s.h.json.Marshal(msg)
		}
		if err != nil {
			return status.Errorf(codes.Internal, "marshalling: %v", err)
		}
		frame = s.frame(b, "")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writeHead()
	if err := s.h.writeMessage(s.w, s.rc, frame); err != nil {
		return status.Error(codes.Unavailable, "client went away or stopped reading")
	}
	s.sent++
	return nil
}

// frame wraps a JSON message (or, with event "error", a problem).
func (s *httpStream) frame(b []byte, event string) []byte {
	var buf bytes.Buffer
	if s.framing == framingSSE {
		if event != "" {
			buf.WriteString("event: " + event + "\n")
		}
		// protojson output has no raw newlines; be safe all the same.
		for _, line := range bytes.Split(b, []byte("\n")) {
			buf.WriteString("data: ")
			buf.Write(line)
			buf.WriteByte('\n')
		}
		buf.WriteByte('\n')
		return buf.Bytes()
	}
	if event == "error" {
		buf.WriteString(`{"error":`)
		buf.Write(b)
		buf.WriteString("}\n")
		return buf.Bytes()
	}
	buf.Write(b)
	buf.WriteByte('\n')
	return buf.Bytes()
}

func (s *httpStream) RecvMsg(msg proto.Message) error {
	if !s.rt.m.streaming.ClientStreams {
		// Server streaming: one request, bound like a unary one.
		if s.done {
			return io.EOF
		}
		s.done = true
		return s.h.bind(msg.ProtoReflect(), s.rt, s.path, s.r, s.unaryIn)
	}
	if s.done {
		return io.EOF
	}
	if s.rt.m.streaming.ServerStreams {
		// A bidirectional handler waiting for input: send the response
		// headers now, so a client that waits for them before it writes
		// does not wait forever.
		s.mu.Lock()
		if !s.started {
			s.writeHead()
			_ = s.rc.Flush()
		}
		s.mu.Unlock()
	}
	if !s.rt.m.streaming.ServerStreams {
		// A client stream: each message must arrive in time. (A
		// bidirectional client may rightly be silent for long.)
		defer s.h.readDeadline(s.rc)()
	}
	if s.rt.m.httpBodyIn {
		buf := make([]byte, chunkSize)
		n, err := io.ReadFull(s.in, buf)
		if n == 0 {
			s.done = true
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return io.EOF
			}
			return s.h.bodyError(s.w, s.r, err)
		}
		hb := msg.(*httpbody.HttpBody)
		hb.ContentType = s.r.Header.Get("Content-Type")
		hb.Data = buf[:n]
		s.received++
		return nil
	}
	for {
		line, held, err := s.readLine()
		if err != nil {
			s.h.budgetFor(s.r.Context()).Give(held)
			s.done = true
			return err
		}
		blank := len(bytes.TrimSpace(line)) == 0
		if !blank {
			err = s.h.json.Unmarshal(line, msg)
		}
		// The line is garbage once unmarshalled: its bytes go back to
		// the budget.
		s.h.budgetFor(s.r.Context()).Give(held)
		if blank {
			continue
		}
		if err != nil {
			fe := s.h.decodeError(line, msg.ProtoReflect().Descriptor(), "").(*fieldError)
			fe.desc = "message " + itoa(int64(s.received+1)) + ": " + fe.desc
			return fe.problem()
		}
		s.received++
		if err := s.rt.bindPath(msg.ProtoReflect(), s.path); err != nil {
			return err
		}
		return s.rt.bindQuery(msg.ProtoReflect(), s.r.URL.RawQuery, s.h.cfg.unmarshal.DiscardUnknown)
	}
}

// readLine reads one NDJSON line of at most the body limit. Its buffer
// grows as bytes arrive, drawing on the body budget; held is what it
// took, to give back once the line is used.
func (s *httpStream) readLine() (line []byte, held int64, err error) {
	b := s.h.budgetFor(s.r.Context())
	for {
		chunk, isPrefix, err := s.in.ReadLine()
		if err != nil {
			if err == io.EOF {
				if len(line) > 0 {
					return line, held, nil
				}
				return nil, held, io.EOF
			}
			if cerr := s.cs.Context().Err(); cerr != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
				return nil, held, status.FromContextError(cerr).Err()
			}
			return nil, held, s.h.bodyError(s.w, s.r, err)
		}
		if int64(len(line)+len(chunk)) > s.h.cfg.maxBody {
			return nil, held, tooLarge(s.h.cfg.maxBody)
		}
		line = append(line, chunk...)
		if grow := int64(cap(line)) - held; grow > 0 {
			if !b.Take(grow) {
				return nil, held, s.h.bodyError(s.w, s.r, budget.ErrExhausted)
			}
			held += grow
		}
		if !isPrefix {
			return line, held, nil
		}
	}
}

// serveStream runs a streaming method through the call layer.
func (h *Handler) serveStream(w http.ResponseWriter, r *http.Request, rt *route, path reqPath) {
	sd := rt.m.streaming
	s := &httpStream{h: h, w: w, r: r, rt: rt, path: path, rc: http.NewResponseController(w)}
	switch {
	case rt.m.httpBodyOut:
		s.framing = framingRaw
	case negotiate(r.Header.Get("Accept"), streamOffers) == 1: // text/event-stream
		s.framing = framingSSE
	default:
		s.framing = framingNDJSON
	}
	if sd.ClientStreams {
		if err := checkContentType(r, rt); err != nil {
			h.closeAfter(w, r)
			h.writeError(w, r, err)
			return
		}
		s.in = bufio.NewReaderSize(r.Body, 32<<10)
		if sd.ServerStreams {
			// Bidirectional over HTTP/1.1 needs the server to read and write
			// at once; HTTP/2 always can.
			_ = s.rc.EnableFullDuplex()
		}
	} else if rt.body != "" {
		b, held, err := h.readBody(w, r, rt)
		defer h.budgetFor(r.Context()).Give(held)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		s.unaryIn = b
	}
	if h.cfg.heartbeat > 0 && s.framing == framingSSE {
		stop, stopped := make(chan struct{}), make(chan struct{})
		defer func() { close(stop); <-stopped }()
		go func() { defer close(stopped); s.heartbeat(r.Context(), stop, h.cfg.heartbeat) }()
	}
	h.calls.Serve(&s.cs, r, rt.m.call, s)
}

// Finish ends the response: a client stream's one response, or its error,
// as a unary one; a server stream's headers the handler sent late and its
// trailers as HTTP trailers, after an error event (SSE "error", or an
// NDJSON line {"error": problem}) when it failed.
func (s *httpStream) Finish(err error, trailer metadata.MD) {
	w, r, h, rt := s.w, s.r, s.h, s.rt
	sd := rt.m.streaming
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil && !sd.ServerStreams {
		if s.resp == nil {
			err = status.Error(codes.Internal, "the method returned without a response")
		} else {
			h.render(w, r, rt, s.resp, s.header, trailer)
			return
		}
	}
	if err == nil {
		s.writeHead()
		s.writeTrailers(trailer)
		return
	}
	if !s.started {
		if sd.ClientStreams {
			h.closeAfter(w, r) // the rest of the body is not read
		}
		h.writeMetadata(w.Header(), s.header, trailer)
		h.writeError(w, r, err)
		return
	}
	defer s.writeTrailers(trailer)
	if s.framing == framingRaw {
		// Bytes already went out; all we can do is cut the response short.
		panic(http.ErrAbortHandler)
	}
	var fe *fieldError
	if errors.As(err, &fe) {
		err = fe.problem()
	}
	p := h.problem(r, err)
	b, mErr := json.Marshal(p)
	if mErr != nil {
		return
	}
	_ = h.writeMessage(w, s.rc, s.frame(b, "error"))
}

var heartbeatFrame = []byte(": heartbeat\n\n")

func (s *httpStream) heartbeat(ctx context.Context, stop <-chan struct{}, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
			s.mu.Lock()
			s.writeHead()
			_ = s.h.writeMessage(s.w, s.rc, heartbeatFrame)
			s.mu.Unlock()
		}
	}
}
