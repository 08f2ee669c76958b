package call

import (
	"context"
	"net/http"
	"runtime/debug"

	"github.com/duetrpc/duet/grpcx"
	"github.com/duetrpc/duet/problem"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
)

// Config is what an [Invoker] runs around every call.
type Config struct {
	// Unary and Stream are the interceptor chains, outermost first: the
	// same the grpc.Server runs.
	Unary  []grpc.UnaryServerInterceptor
	Stream []grpc.StreamServerInterceptor
	// Stats receive every call's events, as a grpc.Server's stats
	// handlers do.
	Stats []stats.Handler
	// Headers is the incoming-metadata allow-list; nil is NewHeaders().
	Headers *Headers
	// Report receives, as a *grpcx.PanicError, a panic that no interceptor
	// recovered; nil is grpcx.Log. The call then ends INTERNAL and the
	// server keeps serving, where a grpc.Server without a recovering
	// interceptor would crash.
	Report grpcx.Reporter
}

// Invoker invokes methods for a protocol adapter; see the package
// documentation. It is safe for concurrent use.
type Invoker struct {
	unary   grpc.UnaryServerInterceptor
	stream  grpc.StreamServerInterceptor
	stats   []stats.Handler
	headers *Headers
	report  grpcx.Reporter
}

// New returns an Invoker for c.
func New(c Config) *Invoker {
	inv := &Invoker{
		unary:   ChainUnary(c.Unary),
		stream:  ChainStream(c.Stream),
		stats:   c.Stats,
		headers: c.Headers,
		report:  c.Report,
	}
	if inv.headers == nil {
		inv.headers = NewHeaders()
	}
	if inv.report == nil {
		inv.report = grpcx.Log
	}
	return inv
}

// Headers returns the incoming-metadata allow-list.
func (inv *Invoker) Headers() *Headers { return inv.headers }

// Serve runs one call of m for the request r, reading and writing through
// t, and returns when it is over (after t.Finish). s holds the call's
// state; pass a zero Stream, which must not be reused.
func (inv *Invoker) Serve(s *Stream, r *http.Request, m *Method, t Transport) {
	s.inv, s.m, s.t = inv, m, t
	ctx := r.Context()
	d, ok, err := grpcx.HeaderTimeout(r.Header)
	if err != nil {
		s.finish(err)
		return
	}
	if ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	var md metadata.MD
	if g, ok := t.(grpcMetadata); ok && g.GRPCMetadata() {
		md = inv.headers.IncomingGRPC(r.Header)
	} else {
		md = inv.headers.Incoming(r.Header)
	}
	if md != nil {
		ctx = metadata.NewIncomingContext(ctx, md)
	}
	setPeer(&s.peer, &s.addr, r)
	s.parent = ctx
	ctx = (*callContext)(s) // with the peer and the transport stream
	if len(inv.stats) > 0 {
		ctx = s.begin(ctx, r, md)
	}
	s.ctx = ctx
	s.finish(s.invoke())
}

// invoke runs the method through the interceptors; a panic none of them
// recovered ends the call INTERNAL.
func (s *Stream) invoke() (err error) {
	m := s.m
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v) // the adapter aborting the response, not a handler bug
			}
			s.inv.report(s.ctx, m.Name, &grpcx.PanicError{Value: v, Stack: debug.Stack()})
			err = problem.Reported(status.Error(codes.Internal, "internal error"))
		}
	}()
	if m.unary != nil {
		resp, err := m.unary.Handler(m.impl, s.ctx, s.RecvMsg, s.inv.unary)
		if err != nil {
			return err
		}
		return s.SendMsg(resp)
	}
	if s.inv.stream != nil {
		return s.inv.stream(m.impl, s, &m.info, m.stream.Handler)
	}
	return m.stream.Handler(m.impl, s)
}
