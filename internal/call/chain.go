package call

import (
	"context"

	"google.golang.org/grpc"
)

// ChainUnary makes one interceptor of several, the first outermost, as
// grpc.ChainUnaryInterceptor does. It returns nil for none.
func ChainUnary(ints []grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	switch len(ints) {
	case 0:
		return nil
	case 1:
		return ints[0]
	}
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		return ints[0](ctx, req, info, unaryLink(ints, 1, info, handler))
	}
}

func unaryLink(ints []grpc.UnaryServerInterceptor, i int, info *grpc.UnaryServerInfo, final grpc.UnaryHandler) grpc.UnaryHandler {
	if i == len(ints) {
		return final
	}
	return func(ctx context.Context, req any) (any, error) {
		return ints[i](ctx, req, info, unaryLink(ints, i+1, info, final))
	}
}

// ChainStream makes one stream interceptor of several, the first
// outermost, as grpc.ChainStreamInterceptor does. It returns nil for none.
func ChainStream(ints []grpc.StreamServerInterceptor) grpc.StreamServerInterceptor {
	switch len(ints) {
	case 0:
		return nil
	case 1:
		return ints[0]
	}
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return ints[0](srv, ss, info, streamLink(ints, 1, info, handler))
	}
}

func streamLink(ints []grpc.StreamServerInterceptor, i int, info *grpc.StreamServerInfo, final grpc.StreamHandler) grpc.StreamHandler {
	if i == len(ints) {
		return final
	}
	return func(srv any, ss grpc.ServerStream) error {
		return ints[i](srv, ss, info, streamLink(ints, i+1, info, final))
	}
}
