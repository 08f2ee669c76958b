package call

import (
	"context"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Stream is one call's state. The handler sees it as its
// grpc.ServerStream and, through grpc.SetHeader and friends, as its
// grpc.ServerTransportStream. An adapter gets a zero Stream to
// [Invoker.Serve] and may call [Stream.SendHeader] on it during the call.
type Stream struct {
	inv *Invoker
	m   *Method
	t   Transport
	ctx context.Context
	// parent is the context below the call's own (callContext).
	parent context.Context
	peer   peer.Peer
	addr   remoteAddr
	st     *statsCall // nil without stats handlers

	// sendMu serializes the Transport's send side: SendHeader, SendMsg,
	// Finish.
	sendMu sync.Mutex
	// mu guards the metadata, which a handler may set from any goroutine.
	mu         sync.Mutex
	header     metadata.MD
	trailer    metadata.MD
	headerSent bool
	done       bool
}

var (
	errHeaderSent = status.Error(codes.Internal, "the response headers were already sent")
	errDone       = status.Error(codes.Internal, "the call has ended")
)

// Context returns the call's context: the request's, with the deadline,
// incoming metadata, peer and transport stream.
func (s *Stream) Context() context.Context { return s.ctx }

// SetHeader adds md to the response headers, until they are sent.
func (s *Stream) SetHeader(md metadata.MD) error {
	if len(md) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.headerSent {
		return errHeaderSent
	}
	s.header = metadata.Join(s.header, md)
	return nil
}

// SendHeader adds md to the response headers and sends them. It fails
// once they have been sent.
func (s *Stream) SendHeader(md metadata.MD) error {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	s.mu.Lock()
	if s.headerSent {
		s.mu.Unlock()
		return errHeaderSent
	}
	if len(md) > 0 {
		s.header = metadata.Join(s.header, md)
	}
	s.headerSent = true
	hdr := s.header
	s.mu.Unlock()
	return s.writeHeader(hdr)
}

// Header returns the header metadata the handler has set so far, sent or
// not: for an adapter that must begin its response before the handler
// sends its headers (REST's SSE heartbeat). Do not modify it.
func (s *Stream) Header() metadata.MD {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.header
}

// SetTrailer adds md to the trailer metadata sent when the call ends.
func (s *Stream) SetTrailer(md metadata.MD) {
	if len(md) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trailer = metadata.Join(s.trailer, md)
}

// writeHeader sends the headers; sendMu is held.
func (s *Stream) writeHeader(md metadata.MD) error {
	err := s.t.SendHeader(md)
	if s.st != nil {
		s.st.outHeader(s, md)
	}
	return err
}

// SendMsg sends one response message, the headers first if they have not
// been sent.
func (s *Stream) SendMsg(m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return status.Errorf(codes.Internal, "response %T is not a proto message", m)
	}
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	s.mu.Lock()
	done, sent := s.done, s.headerSent
	s.headerSent = true
	hdr := s.header
	s.mu.Unlock()
	if done {
		return errDone
	}
	if !sent {
		if err := s.writeHeader(hdr); err != nil {
			return err
		}
	}
	if err := s.t.SendMsg(msg); err != nil {
		return err
	}
	if s.st != nil {
		s.st.outPayload(s, msg)
	}
	return nil
}

// RecvMsg reads one request message into m: io.EOF after the last.
func (s *Stream) RecvMsg(m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return status.Errorf(codes.Internal, "request %T is not a proto message", m)
	}
	if err := s.t.RecvMsg(msg); err != nil {
		return err
	}
	if s.st != nil {
		s.st.inPayload(s, msg)
	}
	return nil
}

// finish ends the call: headers the handler set and did not send, then the
// status and trailers.
func (s *Stream) finish(err error) {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	s.mu.Lock()
	sent := s.headerSent
	s.headerSent, s.done = true, true
	hdr, trailer := s.header, s.trailer
	s.mu.Unlock()
	if !sent && len(hdr) > 0 {
		_ = s.writeHeader(hdr)
	}
	if s.st != nil {
		// Recorded before Finish, which may abort the response by
		// panicking with http.ErrAbortHandler.
		s.st.end(s, err, trailer)
	}
	s.t.Finish(err, trailer)
}

// transportStream is the grpc.ServerTransportStream view of a Stream, for
// grpc.SetHeader, grpc.SendHeader and grpc.SetTrailer.
type transportStream Stream

func (t *transportStream) Method() string                  { return t.m.Name }
func (t *transportStream) SetHeader(md metadata.MD) error  { return (*Stream)(t).SetHeader(md) }
func (t *transportStream) SendHeader(md metadata.MD) error { return (*Stream)(t).SendHeader(md) }
func (t *transportStream) SetTrailer(md metadata.MD) error {
	(*Stream)(t).SetTrailer(md)
	return nil
}
