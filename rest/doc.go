// Package rest serves any grpc-go service as REST/JSON, in process, from
// the google.api.http rules in its proto.
//
// A *[Handler] is an http.Handler and a grpc.ServiceRegistrar, so the
// generated registration function exposes an existing implementation:
//
//	h := rest.NewHandler(rest.WithUnaryInterceptor(grpcx.Server{}.UnaryInterceptors()...))
//	userspb.RegisterUserServiceServer(h, impl)
//	http.ListenAndServe(":8080", h)
//
// Nothing is generated beyond protoc-gen-go and protoc-gen-go-grpc. At
// registration the handler reads each method's rule (or one given with
// [WithRule], or with [WithDefaultRoutes] POST /package.Service/Method), parses its path
// template once and resolves every field it binds. A request is routed
// (literal segments win over variables; 404 and 405 with Allow otherwise),
// its path variables, query parameters and body are written straight into
// the request message, and the method's own grpc-go handler is called with
// the configured interceptors: no loopback connection, no second
// serialization. grpc.SetHeader and grpc.SetTrailer work in handlers as on
// gRPC.
//
// # Mapping
//
// Path templates follow google/api/http.proto in full: {field}, {a.b.c},
// {name=shelves/*/books/*}, *, **, :verb and additional_bindings, and
// every binding grpc-gateway v2 accepts registers: a repeated field in a
// path takes a comma-separated list, a body may name a field inside
// sub-messages ("payload.value"), and a verb may hold ':' (the longest
// verb that routes wins). A binding that still cannot be served is left
// out and reported, and listed by [Handler.Skipped]; [WithStrictRules]
// makes it a panic at registration. HEAD takes a binding of its own when
// there is one, else GET's. Single-segment variables decode %2F;
// multi-segment ones keep it. Bodies are "*", one field, or none; query
// parameters set every other field by proto or JSON name, nested with
// dots, repeated by repeating the key, map entries as name[key]=value,
// enums by name or number, well-known types in their JSON string forms.
// google.api.HttpBody requests and responses are raw bytes with their
// content type. A PATCH without a field mask gets one from the body's
// members, relative to the resource being updated (AIP-134): the body
// field, or with body "*" the request's resource field.
//
// Responses are protojson's JSON with grpc-gateway v2's defaults
// (unpopulated fields emitted, lowerCamel names), so clients moving from
// grpc-gateway see the same members and values. duet's own codec writes
// and reads it, from plans built at registration, token for token as
// protojson would and several times faster; [WithProtojson] hands the
// work to protojson itself. Create methods (AIP-133) answer 201
// with Location, Empty answers 204, GET responses carry a strong ETag and
// honour If-None-Match. Hypermedia links ([WithLinks]) are opt-in, so that
// default bodies stay exactly grpc-gateway's. Every error is application/problem+json from the
// problem package, with the field at fault named in a BadRequest violation
// (or, with [WithStatusErrors], grpc-gateway's google.rpc.Status JSON); a
// 401 carries WWW-Authenticate ("Bearer", or the "www-authenticate"
// header metadata the handler sends). A panic anywhere below ServeHTTP is
// a 500 problem (or, once a stream began, its error message), reported,
// never a cut connection. response_body renders the named field, on
// unary and server-streaming methods alike.
//
// Accept is negotiated once, for every kind of response (RFC 9110
// §12.5.1): media types compare case-insensitively, q-values count
// wherever they stand, wildcards match, and the most specific range that
// matches an offer decides its quality. JSON methods offer
// application/json; server streams application/x-ndjson,
// text/event-stream and application/json (NDJSON); an HttpBody response
// its own content type. Nothing acceptable is 406.
//
// # Streaming
//
// Server-streaming methods answer text/event-stream when the client
// accepts it (one data event per message; an "error" event carrying the
// problem if the stream fails) and application/x-ndjson otherwise (one
// message per line; a final {"error": problem} line). Client-streaming
// methods read an NDJSON body one line at a time as the handler asks, and
// google.api.HttpBody uploads arrive in 64 KiB chunks, so memory stays
// bounded; the response is written when the handler returns, with the
// headers and trailers it set, whenever it set them. Bidirectional methods
// are full-duplex NDJSON over HTTP/2 and over HTTP/1.1; their response
// headers go out as soon as the handler first reads, so clients that wait
// for headers before writing work too, and header metadata the handler
// sends after that arrives as HTTP trailers. An error before the first
// message is an ordinary problem response. The client going away cancels
// the handler's context, also when it sent a body the rule does not read.
//
// # Metadata and deadlines
//
// Authorization and Grpc-Metadata-* headers, and those named with
// [WithIncomingHeaders], become incoming metadata, so one auth interceptor
// guards both protocols. Grpc-Timeout and Connect-Timeout-Ms set the
// handler's deadline. Header metadata the handler sets comes back as
// Grpc-Metadata-* response headers (location as Location), trailers as
// Grpc-Trailer-* (on streams, as HTTP trailers).
//
// # Performance
//
// BenchmarkTranscoder, in process, against a hand-written
// net/http+protojson handler for the same routes (benchstat medians of 6
// runs, List20 of 10, 2 vCPU shared; allocations are exact, times move by
// about ±10% between runs):
//
//	           duet                 duet-selflinks       handwritten
//	GetOne     14.0 µs,  48 allocs   18.6 µs,  55 allocs   14.7 µs,  42 allocs
//	List20    223.7 µs, 551 allocs  294.6 µs, 699 allocs  215.3 µs, 529 allocs
//	Create     19.7 µs,  86 allocs   20.3 µs,  93 allocs   19.0 µs,  85 allocs
//	NotFound    8.0 µs,  71 allocs    9.7 µs,  71 allocs    9.9 µs,  65 allocs
//
// The default handler also computes a strong ETag on GETs and a Link
// header on lists, which the hand-written one does not. Hypermedia in
// bodies ([WithSelfLinks], [WithLinks]) costs about 8 allocations per
// linked resource. The peer comparison (grpc-gateway, vanguard-go) is in
// the bench module.
//
// # OpenAPI
//
// [Handler.OpenAPI] describes every route as an OpenAPI 3.1 document built
// from the same descriptors and rules the handler routes with.
package rest
