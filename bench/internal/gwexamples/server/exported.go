package server

// This file is duet's, not grpc-gateway's: the original package builds its
// servers in main.go, which is not copied; these give the differential
// fresh instances.

import examples "github.com/duetrpc/duet/bench/internal/gwexamples/proto/examplepb"

// NewABitOfEverything returns a new, empty ABitOfEverythingService and
// StreamService implementation.
func NewABitOfEverything() ABitOfEverythingServer { return newABitOfEverythingServer() }

// NewEcho returns the EchoService implementation.
func NewEcho() examples.EchoServiceServer { return newEchoServer() }

// NewResponseBody returns the ResponseBodyService implementation.
func NewResponseBody() examples.ResponseBodyServiceServer { return newResponseBodyServer() }
