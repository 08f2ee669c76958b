package grpcx

import (
	"context"

	"google.golang.org/grpc"
)

// Server is the recommended server chain: panic recovery outermost, then
// error mapping, then deadlines. Its zero value recovers, maps, redacts and
// logs errors (through log/slog), and leaves deadlines as clients send them.
//
// The same chain serves every transport: pass [Server.Options] to
// grpc.NewServer, and [Server.UnaryInterceptors] and
// [Server.StreamInterceptors] to the REST transcoder and gRPC-Web
// (duet.Server does both for you).
type Server struct {
	Deadlines Deadlines
	// Report receives panics and the errors kept from clients (INTERNAL,
	// UNKNOWN and DATA_LOSS). Nil is [Log], through log/slog.
	Report Reporter
	// Debug sends internal error messages to clients. Never in production.
	Debug bool
}

// UnaryInterceptors returns the chain for unary calls, outermost first.
// It is one interceptor that does what [Recover], [Errors] and [Deadlines]
// do in that order, fused so that a call pays for one frame instead of
// three closures.
func (s Server) UnaryInterceptors() []grpc.UnaryServerInterceptor {
	rc := Recover{Report: s.Report}
	e := Errors{Report: s.Report, Debug: s.Debug}
	d := s.Deadlines
	return []grpc.UnaryServerInterceptor{func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if v := recover(); v != nil {
				resp, err = nil, rc.recovered(ctx, info.FullMethod, v)
			}
		}()
		dctx, cancel, err := d.apply(ctx)
		if err != nil {
			return nil, err
		}
		if cancel != nil {
			defer cancel()
		}
		resp, err = handler(dctx, req)
		if err != nil {
			return nil, e.toStatus(dctx, info.FullMethod, err)
		}
		return resp, nil
	}}
}

// StreamInterceptors returns the chain for streams, outermost first, fused
// like [Server.UnaryInterceptors].
func (s Server) StreamInterceptors() []grpc.StreamServerInterceptor {
	rc := Recover{Report: s.Report}
	e := Errors{Report: s.Report, Debug: s.Debug}
	d := s.Deadlines
	return []grpc.StreamServerInterceptor{func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		defer func() {
			if v := recover(); v != nil {
				err = rc.recovered(ss.Context(), info.FullMethod, v)
			}
		}()
		ctx, cancel, err := d.apply(ss.Context())
		if err != nil {
			return err
		}
		if cancel != nil {
			defer cancel()
			ss = &serverStream{ServerStream: ss, ctx: ctx}
		}
		return e.toStatus(ctx, info.FullMethod, handler(srv, ss))
	}}
}

// Options returns the chain as options for grpc.NewServer.
func (s Server) Options() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(s.UnaryInterceptors()...),
		grpc.ChainStreamInterceptor(s.StreamInterceptors()...),
	}
}

// Client is the recommended client chain: deadline propagation with a
// safety margin and a default.
type Client struct {
	Deadlines ClientDeadlines
}

// Options returns the chain as options for grpc.NewClient.
func (c Client) Options() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(c.Deadlines.UnaryClientInterceptor()),
		grpc.WithChainStreamInterceptor(c.Deadlines.StreamClientInterceptor()),
	}
}
