package duet

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// errShutdown is the status of every call still running when the grace
// of a shutdown ends: UNAVAILABLE, which clients retry elsewhere. REST
// clients get it as a 503 problem, streams as a final SSE "error" event
// or NDJSON error line.
var errShutdown = status.Error(codes.Unavailable, "the server is shutting down")

// finalWrite is how long, after the grace, calls get to write their
// final status before the connections close.
const finalWrite = time.Second

// calls tracks the calls running on every protocol, so that a shutdown
// can end them with a status clients act on rather than by cutting
// their connections, which gRPC clients report as INTERNAL.
type calls struct {
	stop context.Context // cancelled when the grace ends
	end  context.CancelCauseFunc
	// running counts the calls inside their interceptor and the
	// protocols' HTTP requests (see serveHTTP) until their handler
	// returns: endAll closes nothing while either is writing.
	running atomic.Int64
}

func newCalls() *calls {
	c := &calls{}
	c.stop, c.end = context.WithCancelCause(context.Background())
	return c
}

// begin derives a call's context, cancelled when the grace ends; done
// must be called when the call returns.
func (c *calls) begin(ctx context.Context) (context.Context, func()) {
	c.running.Add(1)
	ctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(c.stop, func() { cancel(errShutdown) })
	return ctx, func() {
		stop()
		cancel(nil)
		c.running.Add(-1)
	}
}

// serveHTTP serves one request of a protocol that net/http carries
// (gRPC-Web, Connect, gRPC, REST) with h, counted as running until h
// returns. The interceptor's count is not enough: a call's interceptor
// returns before the protocol writes how the call ended (the gRPC-Web
// trailer frame, the SSE "error" event or NDJSON error line, the gRPC
// status), so endAll, seeing no call left, would close the connections
// under that last write and the client would see a cut stream instead of
// UNAVAILABLE.
func (c *calls) serveHTTP(h http.Handler, w http.ResponseWriter, r *http.Request) {
	c.running.Add(1)
	defer c.running.Add(-1)
	h.ServeHTTP(w, r)
}

// callsHandler serves h's requests counted as calls.serveHTTP counts
// them: REST, which the HTTP routes reach last.
type callsHandler struct {
	calls *calls
	h     http.Handler
}

func (c callsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.calls.serveHTTP(c.h, w, r)
}

// result is a call's error: errShutdown when the shutdown ended it,
// whatever the handler made of its cancelled context.
func result(ctx context.Context, err error) error {
	if err != nil && errors.Is(context.Cause(ctx), errShutdown) {
		return errShutdown
	}
	return err
}

// endAll cancels every running call and waits, at most finalWrite, for
// them to write their final status.
func (c *calls) endAll() {
	c.end(errShutdown)
	deadline := time.Now().Add(finalWrite)
	for c.running.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
}

// unary is the outermost unary interceptor of every protocol.
func (c *calls) unary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, done := c.begin(ctx)
	defer done()
	resp, err := handler(ctx, req)
	return resp, result(ctx, err)
}

// streaming is the outermost stream interceptor of every protocol.
func (c *calls) streaming(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, done := c.begin(ss.Context())
	defer done()
	err := handler(srv, endingStream{ss, ctx})
	if err == nil && errors.Is(context.Cause(ctx), errShutdown) {
		// A handler that treats its cancelled context as the client
		// leaving returns nil; the client must still learn that the
		// server cut the stream, not that it ended.
		return errShutdown
	}
	return result(ctx, err)
}

// endingStream is a stream whose context ends with the shutdown.
type endingStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s endingStream) Context() context.Context { return s.ctx }
