package duet

import (
	"crypto/tls"
	"net/http"
	"time"

	"github.com/duetrpc/duet/grpcx"
	"github.com/duetrpc/duet/health"
	"github.com/duetrpc/duet/rest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"
)

// Option configures a [Server].
type Option interface{ apply(*Server) }

type optionFunc func(*Server)

func (f optionFunc) apply(s *Server) { f(s) }

// WithInterceptors adds interceptors that gRPC, gRPC-Web and REST calls
// all run, after (inside) the default chain, in order, the first
// outermost. The default chain (see [WithChain]) stays: panic recovery,
// error mapping with redaction and reporting, deadlines.
func WithInterceptors(unary []grpc.UnaryServerInterceptor, stream []grpc.StreamServerInterceptor) Option {
	return optionFunc(func(s *Server) {
		s.addUnary = append(s.addUnary, unary...)
		s.addStream = append(s.addStream, stream...)
	})
}

// WithChain replaces the default chain, grpcx.Server{}, with c: your
// deadlines, report hook or debug setting. Interceptors given with
// [WithInterceptors] still run inside it.
func WithChain(c grpcx.Server) Option {
	return optionFunc(func(s *Server) { s.chain = c })
}

// WithDebugErrors puts internal error messages and DebugInfo details on
// the wire, on every protocol: the chain's and REST's one switch. Never in
// production.
func WithDebugErrors() Option {
	return optionFunc(func(s *Server) { s.debug = true })
}

// WithGRPCOptions passes options to the grpc.Server, such as
// grpc.MaxRecvMsgSize or keepalive settings. Interceptors belong in
// [WithInterceptors], so that REST and gRPC-Web run them too, and TLS in
// [WithTLS]: the one port hands grpc-go connections it has already
// handshaken, so grpc.Creds here would break native gRPC over TLS there.
func WithGRPCOptions(opts ...grpc.ServerOption) Option {
	return optionFunc(func(s *Server) { s.grpcOpts = append(s.grpcOpts, opts...) })
}

// WithRESTOptions passes options to the REST transcoder.
func WithRESTOptions(opts ...rest.Option) Option {
	return optionFunc(func(s *Server) { s.restOpts = append(s.restOpts, opts...) })
}

// WithHealth registers h's grpc.health.v1 service, serves its /livez,
// /readyz and /healthz, starts its checks with the server, and calls its
// Shutdown first when the server stops.
func WithHealth(h *health.Server) Option {
	return optionFunc(func(s *Server) { s.health = h })
}

// WithTLS serves TLS with HTTP/2 negotiated by ALPN on the one port
// ([Server.Serve]). Without it the one port speaks HTTP/1.1 and cleartext
// HTTP/2 (h2c, prior knowledge), which is what gRPC clients use with
// insecure credentials. gRPC handlers see the client's certificates as
// credentials.TLSInfo in their peer, HTTP handlers in Request.TLS.
// [Server.ServeGRPC] serves what its listener gives it: wrap the listener
// with tls.NewListener for TLS there.
func WithTLS(cfg *tls.Config) Option {
	return optionFunc(func(s *Server) { s.tls = cfg })
}

// WithCORS lets browsers on other origins call REST and gRPC-Web. The
// server panics when it is built with a policy that is a mistake: "*"
// together with Credentials, or a malformed origin pattern.
func WithCORS(c CORS) Option {
	return optionFunc(func(s *Server) { s.cors = c.compile() })
}

// WithDrain sets how long Shutdown waits, after health turns NOT_SERVING,
// before it stops accepting calls, so load balancers notice first. The
// default is none; in Kubernetes, a few seconds more than the readiness
// probe period.
func WithDrain(d time.Duration) Option {
	return optionFunc(func(s *Server) { s.drain = d })
}

// WithMaxMessageBytes limits gRPC-Web request messages and REST bodies
// (default 4 MiB, gRPC's own default).
func WithMaxMessageBytes(n int) Option {
	return optionFunc(func(s *Server) { s.maxMsg = n })
}

// WithStatsHandler adds a stats.Handler, such as OpenTelemetry's
// otelgrpc.NewServerHandler(), that receives the events of every call on
// every protocol: the grpc.Server's for native gRPC, and the same sequence
// for gRPC-Web and REST (TagRPC, InHeader, Begin, InPayload, OutHeader,
// OutPayload, OutTrailer, End), so one span or metric describes a call
// whichever way it came. Each connection net/http serves on the one port
// gets TagConn, ConnBegin and ConnEnd as grpc-go's do, and its calls'
// contexts derive from the one TagConn returned. A grpc.StatsHandler given through
// [WithGRPCOptions] sees native gRPC only: grpc-go gives no way to read it
// back.
func WithStatsHandler(h stats.Handler) Option {
	return optionFunc(func(s *Server) { s.stats = append(s.stats, h) })
}

// WithIncomingHeaders names request headers that become incoming
// metadata on REST, besides those always admitted: Authorization, the W3C
// trace context (Traceparent, Tracestate, Baggage) and Grpc-Metadata-NAME
// (as NAME). Cookie only if named here (on gRPC-Web too). A name ending in
// "*" admits every header it prefixes. Native gRPC clients send metadata
// as gRPC defines it, which grpc-go passes on whole, and so do gRPC-Web
// clients, whose metadata are their request headers: every one but the
// protocol's own and those a browser adds is metadata there.
func WithIncomingHeaders(names ...string) Option {
	return optionFunc(func(s *Server) { s.incoming = append(s.incoming, names...) })
}

// WithHTTPServer lets configure adjust the http.Server that serves the one
// port before it starts: IdleTimeout (default [DefaultIdleTimeout]),
// MaxHeaderBytes (default [DefaultMaxHeaderBytes]), WriteTimeout,
// ErrorLog, ConnState and the like. ReadHeaderTimeout may only be
// shortened. Handler, BaseContext, ConnContext and Protocols are the
// server's own: changes to them are undone.
func WithHTTPServer(configure func(*http.Server)) Option {
	return optionFunc(func(s *Server) { s.httpHook = configure })
}

// WithOutgoingHeaders names header metadata keys that REST responses carry
// as plain headers, such as "set-cookie" or "x-request-id", rather than
// under Grpc-Metadata- (see rest.WithOutgoingHeaders). gRPC and gRPC-Web
// send every header metadata key as a plain header already.
func WithOutgoingHeaders(keys ...string) Option {
	return WithRESTOptions(rest.WithOutgoingHeaders(keys...))
}

// WithErrorWriter shapes every REST problem response, for problem types
// of the service's own and extra members: see rest.ErrorWriter. It is
// rest.WithErrorWriter, given here beside [WithDebugErrors]; gRPC,
// gRPC-Web and Connect errors carry the status itself.
func WithErrorWriter(f rest.ErrorWriter) Option {
	return optionFunc(func(s *Server) { s.restOpts = append(s.restOpts, rest.WithErrorWriter(f)) })
}
