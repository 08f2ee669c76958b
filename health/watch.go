package health

import (
	"context"
	"sync"

	grpchealth "google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// service is grpc.health.v1.Health: grpc-go's server, whose Watch is
// made to end at once when the server shuts down (NOT_SERVING, then
// UNAVAILABLE) instead of holding the graceful stop until its grace ends.
type service struct {
	*grpchealth.Server
	s *Server
}

// errShuttingDown ends Watch streams; clients reconnect elsewhere.
var errShuttingDown = status.Error(codes.Unavailable, "health: the server is shutting down")

func (h service) Watch(req *healthpb.HealthCheckRequest, stream healthpb.Health_WatchServer) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	ws := &watchStream{Health_WatchServer: stream, ctx: ctx, cancel: cancel}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-h.s.drained:
			ws.drain()
		case <-stop:
		}
	}()
	err := h.Server.Watch(req, ws)
	if ws.ended() && stream.Context().Err() == nil {
		return errShuttingDown
	}
	return err
}

// watchStream ends its Watch once the server drains and the client has
// been told NOT_SERVING.
type watchStream struct {
	healthpb.Health_WatchServer
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	last     healthpb.HealthCheckResponse_ServingStatus
	sent     bool
	draining bool
	done     bool
}

func (w *watchStream) Context() context.Context { return w.ctx }

func (w *watchStream) Send(r *healthpb.HealthCheckResponse) error {
	err := w.Health_WatchServer.Send(r)
	w.mu.Lock()
	w.last, w.sent = r.GetStatus(), true
	w.mu.Unlock()
	w.maybeEnd()
	return err
}

// drain is called when the server shuts down: the stream ends now if the
// client has seen NOT_SERVING, else right after it has.
func (w *watchStream) drain() {
	w.mu.Lock()
	w.draining = true
	w.mu.Unlock()
	w.maybeEnd()
}

func (w *watchStream) maybeEnd() {
	w.mu.Lock()
	end := w.draining && w.sent && w.last != healthpb.HealthCheckResponse_SERVING
	if end {
		w.done = true
	}
	w.mu.Unlock()
	if end {
		w.cancel()
	}
}

func (w *watchStream) ended() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.done
}
