package duet

import (
	"time"

	"github.com/duetrpc/duet/internal/budget"
	"github.com/duetrpc/duet/rest"
)

// Defaults of a [Server]'s limits and timeouts. The README's "Operating
// duet" lists them with the ones of net/http and grpc-go that apply.
const (
	// DefaultBodyBudget is the bytes that all the REST, gRPC-Web and Connect
	// request bodies being read may hold in memory at once.
	DefaultBodyBudget = rest.DefaultBodyBudget
	// DefaultBodyTimeout is how long a request body (or one message of a
	// REST client stream) may take to arrive.
	DefaultBodyTimeout = rest.DefaultBodyTimeout
	// DefaultWriteTimeout is how long writing a unary response, or one
	// message of a stream, may take before the client is dropped.
	DefaultWriteTimeout = rest.DefaultWriteTimeout
)

// WithBodyBudget bounds the bytes that the REST, gRPC-Web and Connect request
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

// WithBodyTimeout sets how long a REST, gRPC-Web or Connect request body may take
// to arrive in full, and each message of a REST client stream (default
// [DefaultBodyTimeout]). Zero means no bound.
func WithBodyTimeout(d time.Duration) Option {
	return optionFunc(func(s *Server) { s.bodyTimeout = d })
}

// WithWriteTimeout sets how long writing a unary REST, gRPC-Web or Connect
// response, or one message of a stream (Server-Sent Event, NDJSON line,
// gRPC-Web frame, HttpBody chunk), may take (default
// [DefaultWriteTimeout]); a client that stops reading is dropped when it
// passes. Zero means no bound.
func WithWriteTimeout(d time.Duration) Option {
	return optionFunc(func(s *Server) { s.writeTimeout = d })
}
