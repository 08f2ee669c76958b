// Package pbjson is duet's JSON codec for protobuf messages: the output of
// protojson, token for token, at a fraction of its cost.
//
// protojson walks every message through generic reflection on each call:
// it wraps the message in field rangers, sorts the fields it finds, looks
// up names and enum values in descriptors, and formats through a general
// encoder. duet knows every message type when a service registers, so a
// Codec builds a plan per message descriptor once (field order, the
// pre-escaped `"name":` bytes, kinds, presence, well-known types, enum
// names) and then writes JSON straight into one buffer.
//
// The contract, held by differential fuzz targets against protojson:
//
//   - Marshal's output has the same token sequence as protojson's with the
//     same MarshalOptions (every name, string, number literal and bracket,
//     in order). protojson inserts random spaces on purpose; pbjson never
//     does, so outputs differ only in insignificant whitespace.
//   - Marshal fails exactly when protojson fails (invalid UTF-8, a
//     Timestamp or Duration out of range, an empty or non-finite Value, an
//     irreversible FieldMask path, a missing required field).
//   - Unmarshal accepts and rejects what protojson's UnmarshalOptions do,
//     and what it accepts is the message protojson reads: its fast path
//     reads the plain documents requests send and leaves every other one,
//     and every error, to protojson (see decode.go).
//
// What a plan cannot express is delegated to protojson for that message
// alone (google.protobuf.Any, messages with extensions, MessageSets), and
// options that only change layout (Multiline, Indent) make the whole Codec
// protojson's. Nothing here is exported to users: rest, gRPC-Web and the
// other protocol adapters hold a *Codec built from their options.
package pbjson

import (
	"reflect"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Codec marshals and unmarshals protobuf messages as JSON, exactly as
// protojson does with the options the Codec was made with. Its zero value
// is not usable; call New. A Codec is safe for concurrent use.
type Codec struct {
	marshal   protojson.MarshalOptions
	unmarshal protojson.UnmarshalOptions
	// protojsonOnly is set when the options are ones plans do not
	// implement (Multiline, Indent) or the caller asked for protojson.
	protojsonOnly bool

	plans sync.Map   // protoreflect.MessageDescriptor → *msgPlan, complete plans only
	mu    sync.Mutex // serialises plan building
}

// New returns a Codec that writes what marshal.Marshal writes and reads
// what unmarshal.Unmarshal reads.
func New(marshal protojson.MarshalOptions, unmarshal protojson.UnmarshalOptions) *Codec {
	return &Codec{
		marshal:       marshal,
		unmarshal:     unmarshal,
		protojsonOnly: marshal.Multiline || marshal.Indent != "",
	}
}

// Protojson returns a Codec that hands every call to protojson with the
// given options: the fallback for users who want protojson itself.
func Protojson(marshal protojson.MarshalOptions, unmarshal protojson.UnmarshalOptions) *Codec {
	return &Codec{marshal: marshal, unmarshal: unmarshal, protojsonOnly: true}
}

// Protojson reports whether c hands every call to protojson itself: made
// by [Protojson], or with options plans do not implement.
func (c *Codec) Protojson() bool { return c.protojsonOnly }

// MarshalOptions returns the protojson options the Codec reproduces.
func (c *Codec) MarshalOptions() protojson.MarshalOptions { return c.marshal }

// UnmarshalOptions returns the protojson options the Codec reproduces.
func (c *Codec) UnmarshalOptions() protojson.UnmarshalOptions { return c.unmarshal }

// Prepare builds the plans for md and every message type reachable from
// it, so that no request pays for them. Registration calls it for each
// method's input and output; calling it again is cheap. The returned Plan
// lets a caller that marshals md over and over skip the lookup of its
// plan (see [Codec.AppendPlanned]).
func (c *Codec) Prepare(md protoreflect.MessageDescriptor) Plan {
	if c.protojsonOnly {
		return Plan{}
	}
	return Plan{c.plan(md)}
}

// Plan is one message type's prepared plan, from [Codec.Prepare]. Its
// zero value is valid and means "look it up".
type Plan struct{ p *msgPlan }

// AppendPlanned is [Codec.MarshalAppend] with the plan of m's type
// already in hand. A plan of another type, or the zero Plan, is looked up
// as MarshalAppend does.
func (c *Codec) AppendPlanned(b []byte, m proto.Message, pl Plan) ([]byte, error) {
	if c.protojsonOnly || m == nil {
		return c.marshal.MarshalAppend(b, m)
	}
	mr := m.ProtoReflect()
	p := pl.p
	if p == nil || p.md != mr.Descriptor() {
		p = c.plan(mr.Descriptor())
	}
	return c.appendTop(b, m, mr, p)
}

// Marshal returns the JSON encoding of m.
func (c *Codec) Marshal(m proto.Message) ([]byte, error) {
	if c.protojsonOnly || m == nil {
		return c.marshal.Marshal(m)
	}
	mr := m.ProtoReflect()
	p := c.plan(mr.Descriptor())
	b := make([]byte, 0, p.sizeHint.Load()+64)
	return c.appendTop(b, m, mr, p)
}

// MarshalAppend appends the JSON encoding of m to b.
func (c *Codec) MarshalAppend(b []byte, m proto.Message) ([]byte, error) {
	if c.protojsonOnly || m == nil {
		return c.marshal.MarshalAppend(b, m)
	}
	mr := m.ProtoReflect()
	return c.appendTop(b, m, mr, c.plan(mr.Descriptor()))
}

func (c *Codec) appendTop(b []byte, m proto.Message, mr protoreflect.Message, p *msgPlan) ([]byte, error) {
	start := len(b)
	e := encoder{opts: &c.marshal}
	var sv reflect.Value // m's generated struct, known without asking mr
	if p.goType != nil && !p.delegate && reflect.TypeOf(m) == p.goType {
		sv = reflect.ValueOf(m).Elem()
	}
	b, err := e.messageIn(b, mr, sv, p)
	if err != nil {
		return nil, err
	}
	if n := int64(len(b) - start); n > p.sizeHint.Load() {
		p.sizeHint.Store(n)
	}
	if !c.marshal.AllowPartial {
		if err := proto.CheckInitialized(m); err != nil {
			return b, err
		}
	}
	return b, nil
}

// Unmarshal reads the JSON document b into m, which it resets first, as
// protojson.UnmarshalOptions.Unmarshal does.
func (c *Codec) Unmarshal(b []byte, m proto.Message) error {
	if c.protojsonOnly || c.unmarshal.RecursionLimit != 0 {
		return c.unmarshal.Unmarshal(b, m)
	}
	return c.unmarshalFast(b, m)
}

// plan returns the complete plan of md, building it (and every plan it
// reaches) on first use.
func (c *Codec) plan(md protoreflect.MessageDescriptor) *msgPlan {
	if p, ok := c.plans.Load(md); ok {
		return p.(*msgPlan)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.plans.Load(md); ok {
		return p.(*msgPlan)
	}
	b := builder{opts: &c.marshal, built: map[protoreflect.MessageDescriptor]*msgPlan{}, known: &c.plans}
	p := b.message(md)
	// Publish only complete plans: a reader never sees one half built.
	for d, q := range b.built {
		c.plans.Store(d, q)
	}
	return p
}

// sizeHint is the largest output a plan has produced, so that Marshal
// allocates its result once in the common case.
type sizeHint = atomic.Int64
