package call

import (
	"context"
	"net/http"
	"time"

	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// statsCall is a call's stats.Handler bookkeeping, made only when there
// are handlers. Events go out in grpc-go's order for a native call: per
// handler TagRPC then InHeader, then Begin, an InPayload per request
// message, OutHeader, an OutPayload per response message, OutTrailer,
// End. Payload lengths are the messages' protobuf sizes, what grpc-go
// reports as Length, so that numbers compare across protocols whatever
// each puts on the wire.
type statsCall struct {
	begin time.Time
}

func (s *Stream) begin(ctx context.Context, r *http.Request, md metadata.MD) context.Context {
	for _, h := range s.inv.stats {
		ctx = h.TagRPC(ctx, &stats.RPCTagInfo{FullMethodName: s.m.Name})
		h.HandleRPC(ctx, &stats.InHeader{
			FullMethod:  s.m.Name,
			RemoteAddr:  s.peer.Addr,
			LocalAddr:   s.peer.LocalAddr,
			Compression: r.Header.Get("Grpc-Encoding"),
			Header:      md.Copy(),
		})
	}
	s.st = &statsCall{begin: time.Now()}
	b := &stats.Begin{BeginTime: s.st.begin, IsClientStream: s.m.ClientStreams(), IsServerStream: s.m.ServerStreams()}
	for _, h := range s.inv.stats {
		h.HandleRPC(ctx, b)
	}
	return ctx
}

func (c *statsCall) inPayload(s *Stream, m proto.Message) {
	n := proto.Size(m)
	ev := &stats.InPayload{Payload: m, Length: n, CompressedLength: n, WireLength: n + 5, RecvTime: time.Now()}
	for _, h := range s.inv.stats {
		h.HandleRPC(s.ctx, ev)
	}
}

func (c *statsCall) outHeader(s *Stream, md metadata.MD) {
	ev := &stats.OutHeader{Header: md.Copy(), FullMethod: s.m.Name, RemoteAddr: s.peer.Addr, LocalAddr: s.peer.LocalAddr}
	for _, h := range s.inv.stats {
		h.HandleRPC(s.ctx, ev)
	}
}

func (c *statsCall) outPayload(s *Stream, m proto.Message) {
	n := proto.Size(m)
	ev := &stats.OutPayload{Payload: m, Length: n, CompressedLength: n, WireLength: n + 5, SentTime: time.Now()}
	for _, h := range s.inv.stats {
		h.HandleRPC(s.ctx, ev)
	}
}

// end records OutTrailer and End. End's error is a status error, as
// grpc-go's is: a handler's plain error becomes UNKNOWN, a context error
// CANCELLED or DEADLINE_EXCEEDED.
func (c *statsCall) end(s *Stream, err error, trailer metadata.MD) {
	tr := &stats.OutTrailer{Trailer: trailer.Copy()}
	for _, h := range s.inv.stats {
		h.HandleRPC(s.ctx, tr)
	}
	if err != nil {
		if _, ok := status.FromError(err); !ok {
			err = status.FromContextError(err).Err()
		}
	}
	ev := &stats.End{BeginTime: c.begin, EndTime: time.Now(), Trailer: trailer, Error: err}
	for _, h := range s.inv.stats {
		h.HandleRPC(s.ctx, ev)
	}
}
