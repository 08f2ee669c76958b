package server

// This file is duet's, not grpc-gateway's: it replaces the fastuuid
// generator the original a_bit_of_everything.go uses (a dependency the bench
// module does not otherwise need) with a deterministic counter, so that the
// differential can create the same resource with the same id on two
// implementations.

import (
	"encoding/binary"
	"sync"
)

type counter struct {
	mu sync.Mutex
	n  uint64
}

// Next returns the next id, in fastuuid's 24-byte shape.
func (c *counter) Next() [24]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	var b [24]byte
	binary.BigEndian.PutUint64(b[16:], c.n)
	return b
}

var uuidgen = &counter{}

// ResetIDs restarts the id sequence, so that two runs of the same requests
// against fresh servers create the same ids.
func ResetIDs() {
	uuidgen.mu.Lock()
	uuidgen.n = 0
	uuidgen.mu.Unlock()
}
