// Package duet serves one grpc-go service implementation as gRPC, gRPC-Web,
// Connect and REST/JSON at once, on one port or two.
//
// A team writes one protobuf service definition, annotates its methods with
// google.api.http rules, and implements the interface that protoc-gen-go-grpc
// generates. Registering that implementation on a duet Server exposes it to
// native gRPC clients (through grpc-go's own grpc.Server), to browsers
// (gRPC-Web, framed here, with no proxy) and to REST clients (the rest
// package's in-process transcoder, which calls the method's own grpc-go
// handler with the same interceptor chain). Nothing is generated beyond
// protoc-gen-go and protoc-gen-go-grpc.
//
// The SDK is a set of packages that each stand on their own:
//
//   - problem: RFC 9457 problem details that map losslessly to and from a gRPC
//     status with the standard google.rpc error details.
//   - grpcx: deadline, error-mapping and panic-recovery interceptors that behave
//     the same whether a call arrives over gRPC or REST.
//   - rest: the transcoder, an http.Handler that is also a
//     grpc.ServiceRegistrar.
//   - pagination: tamper-proof, query-bound page tokens (AIP-158) and page-size
//     rules.
//   - hateoas: links built by reverse routing, rendered as HAL, as a links
//     array, or as RFC 8288 Link headers.
//   - health: grpc.health.v1 and the /livez, /readyz and /healthz probes, driven
//     by one set of background checks.
//
// This root package composes them into a [Server]: a grpc.ServiceRegistrar
// that fans each registration out to a grpc.Server, the REST transcoder and
// a gRPC-Web handler, runs one interceptor chain for all three, and serves
// them on one port (HTTP/1.1, h2c and HTTP/2 over TLS) with health and
// graceful shutdown:
//
//	srv := duet.NewServer(duet.WithHealth(hs), duet.WithCORS(duet.CORS{Origins: []string{"https://app.example.com"}}))
//	userspb.RegisterUserServiceServer(srv, impl)
//	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
//	defer stop()
//	err := srv.Run(ctx, lis, 10*time.Second)
//
// gRPC-Web (grpc/grpc doc/PROTOCOL-WEB.md) is framed here, for all four
// kinds of method: over HTTP/2 a stream is full duplex, over HTTP/1.1 half
// duplex (the request body is the sequence of request frames). Binary and
// base64 text modes, the proto and JSON (+json, with the REST transcoder's
// protojson options) codecs, and compression with the compressors
// registered in grpc-go's encoding registry: gzip always, since this
// package imports google.golang.org/grpc/encoding/gzip (which native gRPC
// then accepts too). Protocol violations get the codes of gRPC's
// status-code and compression documents. The Connect conformance suite
// holds it in conformance/.
//
// The Connect protocol (connectrpc.com/docs/protocol) is served here too,
// through the same call layer (interceptors, stats handlers, metadata
// allow-list, deadlines): unary methods as POST of application/proto or
// application/json, methods with idempotency_level = NO_SIDE_EFFECTS also
// as GET (message, encoding, base64, compression and connect query
// parameters; cacheable), and every kind of method as a stream of
// application/connect+proto or +json envelopes ending with the
// end-of-stream message, full duplex over HTTP/2 and half duplex over
// HTTP/1.1. Connect-Timeout-Ms is the deadline; Content-Encoding and
// Accept-Encoding (Connect-Content-Encoding and Connect-Accept-Encoding on
// streams) use grpc-go's encoding registry, and unary responses of 1 KiB
// or more are compressed when the client accepts it. Unary errors are the
// spec's JSON body with its HTTP status (not_found is 404, ...), trailers
// travel as Trailer- headers. Connect-Protocol-Version is optional ("1"
// when present), as the spec allows.
//
// # One port, four protocols
//
// Each request goes to exactly one protocol, decided from its headers
// before its body is read:
//
//  1. Content-Type application/grpc-web*: gRPC-Web.
//  2. Connect: a Connect-Protocol-Version header or a Content-Type of
//     application/connect+*, whatever the path; a POST of
//     application/proto, or a GET with the connect=v1 or message query
//     parameter, to a registered method's path (/package.Service/Method).
//  3. HTTP/2 with Content-Type application/grpc*: native gRPC.
//  4. A registered method's path that no REST rule binds: Connect again,
//     which answers 415 Unsupported Media Type for a Content-Type no
//     protocol here speaks (as grpc-go does), never REST's 404.
//  5. Everything else: health probes, handlers added with Handle, REST.
//
// So a POST of application/json to /package.Service/Method is Connect
// when it carries Connect-Protocol-Version (every Connect client sends
// it) or when no REST rule binds that path, and REST otherwise: a
// google.api.http rule may bind that same path without ever taking a
// Connect call.
//
// On the one port, each connection is classified before net/http sees it:
// an HTTP/2 connection whose first request is native gRPC from a client
// (not through a proxy) is handed whole to grpc-go's own transport, at
// the speed of the native port; every other connection is served by
// net/http, where gRPC takes grpc-go's ServeHTTP (slower, but with
// deadlines and codecs enforced), as do proxies' shared connections, which
// mix protocols. [Server.ServeGRPC] serves native gRPC alone on a second
// port. See [Server.Serve] and the README's numbers.
//
// gRPC-Web (application/grpc-web, +proto, and the base64 -text variants)
// is framed here, per the protocol spec, for every kind of method (client
// and bidirectional streams full duplex over HTTP/2, half duplex over
// HTTP/1.1), so browsers need no proxy; [WithCORS] admits other origins.
package duet

//go:generate go run ./internal/protogen
