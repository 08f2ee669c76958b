package grpcx

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Deadlines is the server side of deadline propagation. Its zero value
// changes nothing. The effective deadline is what handlers see through
// ctx.Deadline(), on gRPC and, through the rest transcoder, on REST alike.
type Deadlines struct {
	// Default is the deadline given to calls that arrive without one. Zero
	// leaves such calls without a deadline (unless Max is set).
	Default time.Duration
	// Max caps the deadline a client asks for; calls without a deadline and
	// without a Default get Max. Zero means no cap.
	Max time.Duration
	// Min is the least remaining budget worth starting a handler for: a call
	// with less is refused at once with DEADLINE_EXCEEDED and the handler
	// never runs. Zero refuses only calls whose deadline has passed.
	Min time.Duration
}

// apply returns ctx with the effective deadline, or a DEADLINE_EXCEEDED
// error when the remaining budget is under Min. cancel is nil when ctx was
// returned unchanged, which keeps the common path allocation-free.
func (d Deadlines) apply(ctx context.Context) (context.Context, context.CancelFunc, error) {
	dl, has := ctx.Deadline()
	if !has && d.Default == 0 && d.Max == 0 {
		return ctx, nil, nil
	}
	now := time.Now()
	var cancel context.CancelFunc
	switch {
	case !has && d.Default > 0:
		limit := d.Default
		if d.Max > 0 && d.Max < limit {
			limit = d.Max
		}
		dl = now.Add(limit)
		ctx, cancel = context.WithDeadline(ctx, dl)
	case !has:
		dl = now.Add(d.Max)
		ctx, cancel = context.WithDeadline(ctx, dl)
	case d.Max > 0 && dl.Sub(now) > d.Max:
		dl = now.Add(d.Max)
		ctx, cancel = context.WithDeadline(ctx, dl)
	}
	if remaining := dl.Sub(now); remaining <= 0 || remaining < d.Min {
		if cancel != nil {
			cancel()
		}
		return nil, nil, status.Error(codes.DeadlineExceeded,
			fmt.Sprintf("remaining deadline %v is under the %v this server needs to start the call", remaining.Round(time.Millisecond), d.Min))
	}
	return ctx, cancel, nil
}

// UnaryServerInterceptor returns the deadline interceptor for unary calls.
func (d Deadlines) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, cancel, err := d.apply(ctx)
		if err != nil {
			return nil, err
		}
		if cancel != nil {
			defer cancel()
		}
		return handler(ctx, req)
	}
}

// StreamServerInterceptor returns the deadline interceptor for streams: the
// stream's context carries the effective deadline, and a stream whose
// deadline passes mid-way sees its context done.
func (d Deadlines) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, cancel, err := d.apply(ss.Context())
		if err != nil {
			return err
		}
		if cancel == nil {
			return handler(srv, ss)
		}
		defer cancel()
		return handler(srv, &serverStream{ServerStream: ss, ctx: ctx})
	}
}

// serverStream overrides the context of a grpc.ServerStream.
type serverStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *serverStream) Context() context.Context { return s.ctx }

// ClientDeadlines is the client side of deadline propagation: an outgoing
// call inherits the caller's remaining budget less Margin, so that a
// downstream call ends before the upstream one does. Its zero value passes
// deadlines through unchanged.
type ClientDeadlines struct {
	// Default is the deadline of calls made from a context without one.
	Default time.Duration
	// Margin is kept back from the caller's remaining budget, for the
	// caller's own work after the downstream call returns.
	Margin time.Duration
}

// apply returns the context for an outgoing call, or a DEADLINE_EXCEEDED
// error, without a network round trip, when the budget is already spent.
func (d ClientDeadlines) apply(ctx context.Context, method string) (context.Context, context.CancelFunc, error) {
	dl, has := ctx.Deadline()
	switch {
	case has:
		if d.Margin == 0 && time.Until(dl) > 0 {
			return ctx, nil, nil
		}
		dl = dl.Add(-d.Margin)
		if time.Until(dl) <= 0 {
			return nil, nil, status.Error(codes.DeadlineExceeded,
				fmt.Sprintf("deadline budget spent before calling %s", method))
		}
		ctx, cancel := context.WithDeadline(ctx, dl)
		return ctx, cancel, nil
	case d.Default > 0:
		ctx, cancel := context.WithTimeout(ctx, d.Default)
		return ctx, cancel, nil
	}
	return ctx, nil, nil
}

// UnaryClientInterceptor returns the client deadline interceptor for unary
// calls.
func (d ClientDeadlines) UnaryClientInterceptor() grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		ctx, cancel, err := d.apply(ctx, method)
		if err != nil {
			return err
		}
		if cancel != nil {
			defer cancel()
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}

// StreamClientInterceptor returns the client deadline interceptor for
// streams. The derived context is released when the stream ends (RecvMsg
// returns an error, io.EOF included) or, at the latest, at its deadline.
func (d ClientDeadlines) StreamClientInterceptor() grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		ctx, cancel, err := d.apply(ctx, method)
		if err != nil {
			return nil, err
		}
		cs, err := streamer(ctx, desc, cc, method, opts...)
		if cancel == nil {
			return cs, err
		}
		if err != nil {
			cancel()
			return nil, err
		}
		return &clientStream{ClientStream: cs, cancel: cancel}, nil
	}
}

type clientStream struct {
	grpc.ClientStream
	cancel context.CancelFunc
}

func (s *clientStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err != nil {
		s.cancel()
	}
	return err
}
