package duet

import (
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/duetrpc/duet/internal/call"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// connectStream is the call.Transport of a streaming Connect call
// (application/connect+proto|json). Its messages are enveloped as gRPC's
// (the frame reader and writer are gRPC-Web's: the same five-byte prefix,
// bit 0 for compression); the response always has status 200 and ends with
// the end-of-stream envelope (flag 0x02) that carries the error and the
// trailers as JSON.
type connectStream struct {
	cs     call.Stream
	c      *connectHandler
	json   bool
	w      http.ResponseWriter
	body   *webFrameReader
	single bool   // one request message, already read into req
	req    []byte // the single request's payload
	read   bool

	mu      sync.Mutex
	fw      webFrameWriter
	enc     []byte
	duplex  *http1Duplex // an HTTP/1.1 request read in full duplex; nil otherwise
	started bool
	done    bool
}

func (c *connectHandler) serveStream(w http.ResponseWriter, r *http.Request, m *connectMethod, json bool) {
	h := w.Header()
	if json {
		h.Set("Content-Type", connectStreamPrefx+"json")
	} else {
		h.Set("Content-Type", connectStreamPrefx+"proto")
	}
	if c.compressors.accept != "" {
		h.Set("Connect-Accept-Encoding", c.compressors.accept)
	}
	rc := http.NewResponseController(w)
	s := &connectStream{c: c, json: json, w: w, fw: webFrameWriter{w: w, rc: rc, timeout: c.writeTimeout}}
	if err := checkConnectVersion(r.Header.Get(connectVersionHeader)); err != nil {
		s.Finish(err, nil)
		return
	}
	enc := r.Header.Get("Connect-Content-Encoding")
	decomp, ok := c.compressors.request(enc)
	if !ok {
		s.Finish(status.Errorf(codes.Unimplemented, "connect: connect-content-encoding %q is not supported; supported: %s", enc, c.compressors.accept), nil)
		return
	}
	s.fw.comp = c.compressors.response(decomp, r.Header.Get("Connect-Accept-Encoding"))
	s.body = newWebFrameReader(r.Body, false, c.maxMsg, decomp)
	s.body.budget, s.body.timeout, s.body.protocol = c.budget, c.bodyTimeout, "connect"
	defer s.body.close()
	if m.ClientStreams() {
		// Each message must arrive within the body timeout once it has
		// begun; between messages the client takes its time.
		s.body.deadline = rc.SetReadDeadline
		if r.ProtoMajor == 1 && rc.EnableFullDuplex() == nil {
			s.duplex = &http1Duplex{rc: rc, body: r.Body, timeout: c.bodyTimeout}
		}
	} else {
		armed := c.bodyTimeout > 0 && rc.SetReadDeadline(time.Now().Add(c.bodyTimeout)) == nil
		err := s.readSingle()
		if armed {
			_ = rc.SetReadDeadline(time.Time{})
		}
		if err != nil {
			if r.ProtoMajor == 1 {
				h.Set("Connection", "close")
			}
			s.Finish(err, nil)
			return
		}
	}
	c.calls.Serve(&s.cs, r, m.Method, s)
}

// readSingle reads the one request message of a call that takes one.
func (s *connectStream) readSingle() (err error) {
	s.req, err = s.body.single()
	s.single = err == nil
	return err
}

func (s *connectStream) RecvMsg(m proto.Message) error {
	if s.single {
		if s.read {
			return io.EOF
		}
		s.read = true
		return s.c.decode(s.json, s.req, m)
	}
	payload, err := s.body.next()
	if err != nil {
		return err
	}
	return s.c.decode(s.json, payload, m)
}

// GRPCMetadata says that Connect's metadata are its request headers.
func (s *connectStream) GRPCMetadata() bool { return true }

// startLocked writes the response headers with the header metadata.
func (s *connectStream) startLocked(md metadata.MD) {
	if s.started {
		return
	}
	s.started = true
	h := s.w.Header()
	if s.fw.comp != nil {
		h.Set("Connect-Content-Encoding", s.fw.comp.Name())
	}
	addConnectMetadata(h, "", md)
	s.w.WriteHeader(http.StatusOK)
}

func (s *connectStream) SendHeader(md metadata.MD) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.startLocked(md)
	if rc := s.fw.rc; rc != nil {
		return rc.Flush()
	}
	return nil
}

func (s *connectStream) SendMsg(m proto.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return status.Error(codes.Internal, "connect: SendMsg after the call ended")
	}
	var err error
	if s.enc, err = s.c.encode(s.json, s.enc[:0], m); err != nil {
		return err
	}
	s.startLocked(nil)
	if err := s.fw.message(s.enc); err != nil {
		if _, ok := status.FromError(err); ok {
			return err
		}
		return status.Error(codes.Unavailable, "connect: the client went away")
	}
	return nil
}

// Finish writes the end-of-stream message.
func (s *connectStream) Finish(err error, trailer metadata.MD) {
	drained := s.duplex == nil || s.duplex.drain()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return
	}
	s.done = true
	if !drained {
		if !s.started {
			s.w.Header().Set("Connection", "close")
		} else {
			defer s.duplex.abort()
		}
	}
	s.startLocked(nil)
	_ = s.fw.write(connectEndStream, appendConnectEnd(nil, err, trailer))
}
