package call

import (
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
)

// Transport is one call's wire, implemented by a protocol adapter: it
// reads request messages and writes the response in its protocol's
// format. The package documentation says when each method is called and
// from which goroutines.
type Transport interface {
	// RecvMsg reads the next request message into m, which is of the
	// method's input type. It returns io.EOF once the client has sent its
	// last message, and otherwise an error with a gRPC status (or a
	// *problem.Problem) telling why the message could not be read.
	RecvMsg(m proto.Message) error
	// SendHeader sends the response headers with the header metadata the
	// handler set (nil when it set none). It is called at most once.
	SendHeader(md metadata.MD) error
	// SendMsg writes one response message, of the method's output type.
	// An error means the message could not be written (typically the
	// client went away) and should carry a gRPC status.
	SendMsg(m proto.Message) error
	// Finish ends the response with the call's outcome: err is nil for OK,
	// otherwise the error as the handler and interceptors returned it;
	// trailer is the trailer metadata the handler set.
	Finish(err error, trailer metadata.MD)
}

// grpcMetadata is implemented by a Transport whose protocol carries
// metadata as plain request headers, as gRPC does (gRPC-Web): its calls get
// every header as metadata ([Headers.IncomingGRPC]), not the allow-list
// REST gets, so that they see what the same call over gRPC would.
type grpcMetadata interface{ GRPCMetadata() bool }
