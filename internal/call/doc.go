// Package call is the one path by which every protocol duet frames itself
// (REST, gRPC-Web, Connect) invokes a grpc-go method. Native gRPC does not
// come through here: grpc-go's own server does the same work for it, and
// this package reproduces what grpc-go does so that a handler, an
// interceptor and a stats.Handler cannot tell the protocols apart.
//
// An [Invoker] owns everything that is the same on every protocol:
//
//   - the interceptor chain (unary and stream), run exactly as grpc.Server
//     runs it;
//   - the grpc.ServerStream and grpc.ServerTransportStream the handler
//     sees, so grpc.SetHeader, grpc.SendHeader and grpc.SetTrailer work;
//   - the peer (remote and local address, TLS state) for peer.FromContext;
//   - the deadline, read by one parser from Grpc-Timeout or
//     Connect-Timeout-Ms;
//   - incoming metadata, from the request headers that the [Headers]
//     allow-list admits;
//   - stats.Handler events, in the order grpc-go emits them for a native
//     call (TagRPC, InHeader, Begin, InPayload, OutHeader, OutPayload,
//     OutTrailer, End), so OpenTelemetry's otelgrpc sees every protocol;
//   - a last line of panic recovery, reported through log/slog, for chains
//     that have none.
//
// # Writing a protocol adapter
//
// An adapter parses its wire format and writes results back; nothing else.
// At registration it turns each grpc.ServiceDesc into [Method] values with
// [Methods] and keeps them, typically in a map by [Method.Name]. It builds
// one [Invoker] with [New] from the server's configuration.
//
// For each request it checks what only it can check (HTTP method, content
// type, that the method exists and the protocol can carry its stream
// type) and answers those failures itself. Then it implements [Transport]
// for the call and hands the request over:
//
//	var s call.Stream // or a field of the adapter's per-call struct, to save an allocation
//	inv.Serve(&s, r, m, t)
//
// Serve returns when the call is over, after [Transport.Finish]. During it
// the Invoker calls the Transport:
//
//   - RecvMsg to read each request message. For a unary or
//     server-streaming method the handler asks once; for client and
//     bidirectional streams until RecvMsg returns io.EOF.
//   - SendHeader once, with the header metadata the handler set (nil when
//     none): before the first response message, when the handler calls
//     grpc.SendHeader, or when the adapter itself calls [Stream.SendHeader]
//     (REST does when a bidirectional handler waits for input, so that a
//     client waiting for response headers does not deadlock). An adapter
//     may write the headers at once or hold them until its first message.
//   - SendMsg for each response message.
//   - Finish exactly once, last, with the call's error (nil for OK) and the
//     trailer metadata. If SendHeader was not called before Finish, the call
//     ended without a message and without headers the handler set: a
//     "trailers-only" response in gRPC's terms.
//
// RecvMsg may run on one goroutine while SendHeader and SendMsg run on
// another (full duplex, as grpc-go allows); the Invoker never calls
// SendHeader, SendMsg or Finish concurrently with each other. Finish may
// run while a RecvMsg started by a goroutine the handler left behind is
// still blocked: the adapter must make that RecvMsg return (closing the
// request body does).
//
// The error given to Finish is what the handler and the interceptors
// returned, unchanged, so that an adapter keeps anything richer than a
// status (REST renders a *problem.Problem with its field violations); use
// status.Convert for the gRPC status. Messages are proto.Message values of
// the method's input and output types.
//
// The request's context (cancelled when the client goes away) is the
// parent of the call's; an adapter that must stop the call for its own
// reasons cancels the request's context.
package call
