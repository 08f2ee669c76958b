// Package duet serves one grpc-go service implementation as gRPC, gRPC-Web
// and REST/JSON at once, on one port or two.
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
// This root package composes them into a Server.
package duet

//go:generate go run ./internal/protogen
