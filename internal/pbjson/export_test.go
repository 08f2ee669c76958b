package pbjson

import "google.golang.org/protobuf/proto"

// Fast reports whether Unmarshal's fast path reads b into m by itself.
func Fast(c *Codec, b []byte, m proto.Message) bool {
	mr := m.ProtoReflect()
	proto.Reset(m)
	return c.fast(b, mr, c.plan(mr.Descriptor()))
}
