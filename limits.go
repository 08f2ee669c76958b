package duet

import (
	"errors"
	"net/http"
	"os"
	"time"

	"github.com/duetrpc/duet/internal/budget"
	"github.com/duetrpc/duet/rest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Defaults of a [Server]'s limits and timeouts. The README's "Operating
// duet" lists them with the ones of net/http and grpc-go that apply.
const (
	// DefaultBodyBudget is the bytes that all the REST and gRPC-Web
	// request bodies being read may hold in memory at once.
	DefaultBodyBudget = rest.DefaultBodyBudget
	// DefaultBodyTimeout is how long a request body (or one message of a
	// REST client stream) may take to arrive.
	DefaultBodyTimeout = rest.DefaultBodyTimeout
	// DefaultWriteTimeout is how long writing a unary response, or one
	// message of a stream, may take before the client is dropped.
	DefaultWriteTimeout = rest.DefaultWriteTimeout
)

// WithBodyBudget bounds the bytes that the REST and gRPC-Web request
// bodies being read hold in memory at once, together (default
// [DefaultBodyBudget]). Bodies grow only as their bytes arrive, never
// from a declared Content-Length; a body that would take the total past
// n is refused (REST: 503 with code RESOURCE_EXHAUSTED and Retry-After;
// gRPC-Web: RESOURCE_EXHAUSTED), so that many concurrent slow bodies
// cannot grow the heap. Zero or less means no bound. Native gRPC is
// bounded by grpc-go's own flow control and grpc.MaxRecvMsgSize.
func WithBodyBudget(n int64) Option {
	return optionFunc(func(s *Server) { s.budget = budget.New(n) })
}

// WithBodyTimeout sets how long a REST or gRPC-Web request body may take
// to arrive in full, and each message of a REST client stream (default
// [DefaultBodyTimeout]). Zero means no bound.
func WithBodyTimeout(d time.Duration) Option {
	return optionFunc(func(s *Server) { s.bodyTimeout = d })
}

// WithWriteTimeout sets how long writing a unary REST or gRPC-Web
// response, or one message of a stream (Server-Sent Event, NDJSON line,
// gRPC-Web frame, HttpBody chunk), may take (default
// [DefaultWriteTimeout]); a client that stops reading is dropped when it
// passes. Zero means no bound.
func WithWriteTimeout(d time.Duration) Option {
	return optionFunc(func(s *Server) { s.writeTimeout = d })
}

// readAll reads a gRPC-Web request body within limit, the body budget
// and the body timeout. held is what it took from the budget.
func (g *grpcWeb) readAll(rc *http.ResponseController, r *http.Request, limit int64) (body []byte, held int64, err error) {
	if d := g.bodyTimeout; d > 0 && rc.SetReadDeadline(time.Now().Add(d)) == nil {
		defer func() { _ = rc.SetReadDeadline(time.Time{}) }()
	}
	body, held, err = budget.Read(r.Body, limit, r.ContentLength, g.budget)
	switch {
	case err == nil:
		return body, held, nil
	case errors.Is(err, budget.ErrTooLarge):
		err = status.Errorf(codes.ResourceExhausted, "grpc-web: request exceeds the limit of %d bytes", g.maxMsg)
	case errors.Is(err, budget.ErrExhausted):
		err = status.Error(codes.ResourceExhausted, "grpc-web: the server is reading too many requests at once; retry shortly")
	case errors.Is(err, os.ErrDeadlineExceeded):
		err = status.Errorf(codes.DeadlineExceeded, "grpc-web: the request did not arrive within %v", g.bodyTimeout)
	case r.Context().Err() != nil:
		err = status.Error(codes.Canceled, "grpc-web: reading the request: "+err.Error())
	default:
		err = status.Error(codes.InvalidArgument, "grpc-web: malformed request body: "+err.Error())
	}
	return nil, held, err
}

// writeFrame writes one frame and flushes it within d; the deadline is
// cleared after each frame, since an idle stream is not a slow reader.
func writeFrame(w http.ResponseWriter, rc *http.ResponseController, d time.Duration, frame []byte) error {
	armed := d > 0 && rc.SetWriteDeadline(time.Now().Add(d)) == nil
	_, err := w.Write(frame)
	if err == nil {
		err = rc.Flush()
	}
	if armed {
		_ = rc.SetWriteDeadline(time.Time{})
	}
	return err
}
