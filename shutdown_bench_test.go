package duet

import (
	"context"
	"testing"

	"google.golang.org/grpc"
)

// BenchmarkCalls is what the shutdown interceptor adds to every call, on
// every protocol, against calling the handler directly.
func BenchmarkCalls(b *testing.B) {
	c := newCalls()
	ctx := context.Background()
	handler := func(ctx context.Context, req any) (any, error) { return req, nil }
	info := &grpc.UnaryServerInfo{FullMethod: "/x.Y/Z"}
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = handler(ctx, nil)
		}
	})
	b.Run("through calls.unary", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = c.unary(ctx, nil, info, handler)
		}
	})
}
