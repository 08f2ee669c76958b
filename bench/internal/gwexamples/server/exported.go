package server

// This file is duet's, not grpc-gateway's: the original package builds its
// servers in main.go, which is not copied; these give the differential
// fresh instances.

import (
	"context"

	examples "github.com/duetrpc/duet/bench/internal/gwexamples/proto/examplepb"
)

// NewABitOfEverything returns a new, empty ABitOfEverythingService and
// StreamService implementation.
func NewABitOfEverything() ABitOfEverythingServer { return newABitOfEverythingServer() }

// NewEcho returns the EchoService implementation.
func NewEcho() examples.EchoServiceServer { return newEchoServer() }

// NewResponseBody returns the ResponseBodyService implementation.
func NewResponseBody() examples.ResponseBodyServiceServer { return newResponseBodyServer() }

// NewExcessBody returns the ExcessBodyService implementation: its methods
// hand their context to ExcessBodyServer_RetrieveContextRPC (or …Stream)
// and wait for it to be done.
func NewExcessBody() examples.ExcessBodyServiceServer { return newExcessBodyServer() }

// ExcessBodyContexts is where the ExcessBodyService's unary (stream false)
// or server-streaming methods hand over their contexts.
func ExcessBodyContexts(stream bool) <-chan context.Context {
	if stream {
		return excessBody_contextChStream
	}
	return excessBody_contextChRPC
}
