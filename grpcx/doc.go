// Package grpcx holds the server and client interceptors that every duet
// service runs: deadline propagation, error mapping and panic recovery.
//
// They read and write only the context, metadata and status, never a
// network transport, so the rest transcoder and gRPC-Web run the very same
// chain in process and a handler behaves the same whichever protocol the
// call came in on.
//
// One value builds each recommended chain:
//
//	srv := grpc.NewServer(grpcx.Server{
//		Deadlines: grpcx.Deadlines{Default: 5 * time.Second, Max: 30 * time.Second, Min: 10 * time.Millisecond},
//		Report:    func(ctx context.Context, method string, err error) { log.Printf("%s: %v", method, err) },
//	}.Options()...)
//
//	cc, err := grpc.NewClient(target, append(grpcx.Client{
//		Deadlines: grpcx.ClientDeadlines{Default: 5 * time.Second, Margin: 20 * time.Millisecond},
//	}.Options(), grpc.WithTransportCredentials(creds))...)
//
// [Server], [Client] and their pieces are plain option structs, in the
// style of protobuf-go's MarshalOptions, rather than functional options:
// each has several independent settings, its zero value is the
// recommended chain, a literal names what it changes, and the value can be
// handed on whole (duet.WithChain takes a [Server]).
//
// Each piece ([Deadlines], [ClientDeadlines], [Errors], [Recover]) is also
// usable alone. [HeaderTimeout] reads a deadline from HTTP headers
// (Grpc-Timeout, Connect-Timeout-Ms) for transports that are not gRPC.
//
// grpc-go already has helpers for metadata (metadata.FromIncomingContext,
// grpc.SetHeader, grpc.SetTrailer), so this package adds none.
//
// # Overhead
//
// BenchmarkUnary makes a unary call over an in-process bufconn connection
// with no interceptors (bare), with none but a caller that takes a 10 ms
// margin off its deadline by hand (bare-margin), and through the full
// server and client chains (2-core x86-64, quiet machine, benchstat of 8
// runs; bare-margin, added since, allocates 10.01 KiB in 161 allocations):
//
//	Unary/bare             24.44µs ± 5%   9.39 KiB   154 allocs
//	Unary/chain-nomargin   24.43µs ± 3%   9.47 KiB   156 allocs
//	Unary/chain            25.86µs ± 4%  10.08 KiB   163 allocs
//	Unary/chain-capped     27.22µs ± 3%  10.59 KiB   169 allocs
//
// Rows run seconds apart on a shared machine drift by more than the
// differences between them, so BenchmarkUnaryInterleaved makes one call of
// each kind per iteration, in rotating order, each on its own server and
// connection, and reports their ratios to the bare call; a second bare
// server (bare2) is the control. Two runs of benchstat over 10 (±1–4%):
//
//	bare2/bare            0.991   0.991
//	chain-nomargin/bare   1.019   1.030
//	bare-margin/bare      1.040   1.040
//	chain/bare            1.049   1.056
//
// The interceptors' own code is 0.4% of the CPU profile of a chain-nomargin
// call: the server chain is one fused frame that passes the context through
// when it has nothing to change and allocates nothing. The two allocations
// a chained call adds are grpc-go's (the generated handler's
// UnaryServerInfo and closure, made for any interceptor). Nearly all of the
// rest is the client's safety margin: the derived context and its timer
// (context.WithDeadline, about 0.7 µs here) that enforce the shorter
// deadline locally, so that a call still waiting for a connection ends in
// time. A caller keeping a margin by hand pays the same (bare-margin); the
// chain costs 1–1.5% more than that. When the server must also cap a
// client's deadline (chain-capped) it makes a second one. A call over a real
// network costs far more than this in-process one, so the share there is
// much smaller.
package grpcx
