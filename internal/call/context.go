package call

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/peer"
)

// callContext is a Stream seen as the call's context: it answers
// peer.FromContext and grpc.ServerTransportStreamFromContext from the
// Stream itself and delegates everything else (deadline, cancellation,
// other values) to the context below it. That saves the two
// context.WithValue allocations every call would make, the peer's and the
// transport stream's, which show in REST's benchmarks.
type callContext Stream

// The keys under which grpc-go looks up the peer and the transport stream.
// They are unexported, so they are learnt by asking: a probe context
// records the key a lookup passes to Value.
var (
	peerKey   = probeKey(func(ctx context.Context) { peer.FromContext(ctx) })
	streamKey = probeKey(func(ctx context.Context) { grpc.ServerTransportStreamFromContext(ctx) })
)

type probe struct {
	context.Context
	key any
}

func (p *probe) Value(key any) any {
	p.key = key
	return nil
}

func probeKey(lookup func(context.Context)) any {
	p := &probe{Context: context.Background()}
	lookup(p)
	return p.key
}

func (c *callContext) Deadline() (time.Time, bool) { return c.parent.Deadline() }
func (c *callContext) Done() <-chan struct{}       { return c.parent.Done() }
func (c *callContext) Err() error                  { return c.parent.Err() }

func (c *callContext) Value(key any) any {
	switch key {
	case peerKey:
		return &c.peer
	case streamKey:
		return (*transportStream)(c)
	}
	return c.parent.Value(key)
}
