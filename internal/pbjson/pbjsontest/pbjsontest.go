// Package pbjsontest holds what the differential fuzz targets of pbjson
// share across modules (the root module's and the bench module's): a
// message generator driven by fuzz input, the option sets duet uses, and
// the comparison against protojson.
package pbjsontest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/duetrpc/duet/internal/pbjson"
)

// MarshalOptions are the option sets the targets compare under: the REST
// default (grpc-gateway's EmitUnpopulated), problem details'
// UseProtoNames, protojson's defaults, and the other switches a user can
// turn on with rest.WithMarshalOptions.
var MarshalOptions = []protojson.MarshalOptions{
	{EmitUnpopulated: true},
	{UseProtoNames: true},
	{},
	{EmitDefaultValues: true},
	{EmitUnpopulated: true, UseProtoNames: true, UseEnumNumbers: true},
	{AllowPartial: true, UseEnumNumbers: true},
}

// Codecs returns one Codec per MarshalOptions entry.
func Codecs() []*pbjson.Codec {
	cs := make([]*pbjson.Codec, len(MarshalOptions))
	for i, o := range MarshalOptions {
		cs[i] = pbjson.New(o, protojson.UnmarshalOptions{DiscardUnknown: true})
	}
	return cs
}

// Messages lists the message types of the given files and of every file
// they import, well-known types included, each once, in a stable order.
func Messages(files ...protoreflect.FileDescriptor) []protoreflect.MessageType {
	var out []protoreflect.MessageType
	seenFile := map[protoreflect.FullName]bool{}
	seenFile[""] = true
	var visitFile func(fd protoreflect.FileDescriptor)
	var visitMsgs func(ms protoreflect.MessageDescriptors)
	visitMsgs = func(ms protoreflect.MessageDescriptors) {
		for i := 0; i < ms.Len(); i++ {
			md := ms.Get(i)
			if md.IsMapEntry() {
				continue
			}
			if mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName()); err == nil {
				out = append(out, mt)
			}
			visitMsgs(md.Messages())
		}
	}
	visitFile = func(fd protoreflect.FileDescriptor) {
		if seenFile[protoreflect.FullName(fd.Path())] {
			return
		}
		seenFile[protoreflect.FullName(fd.Path())] = true
		visitMsgs(fd.Messages())
		for i := 0; i < fd.Imports().Len(); i++ {
			visitFile(fd.Imports().Get(i).FileDescriptor)
		}
	}
	for _, fd := range files {
		visitFile(fd)
	}
	return out
}

// CheckMarshal marshals m with c and with protojson under opts and
// reports how they differ: one failing and not the other, or outputs whose
// token sequences differ. protojson's random spaces are removed before
// comparing, and bytes are compared, so string escapes must agree too.
func CheckMarshal(c *pbjson.Codec, opts protojson.MarshalOptions, m proto.Message) error {
	want, wantErr := opts.Marshal(m)
	got, gotErr := c.Marshal(m)
	switch {
	case (wantErr == nil) != (gotErr == nil):
		return fmt.Errorf("%v with %+v: protojson error %v, pbjson error %v\nprotojson: %s\npbjson:    %s", m.ProtoReflect().Descriptor().FullName(), opts, wantErr, gotErr, want, got)
	case wantErr != nil:
		return nil
	}
	if !bytes.Equal(Compact(got), got) {
		return fmt.Errorf("%v with %+v: pbjson wrote whitespace between tokens: %s", m.ProtoReflect().Descriptor().FullName(), opts, got)
	}
	if w := Compact(want); !bytes.Equal(w, got) {
		return fmt.Errorf("%v with %+v:\nprotojson: %s\npbjson:    %s", m.ProtoReflect().Descriptor().FullName(), opts, w, got)
	}
	app, err := c.MarshalAppend([]byte("x"), m)
	if err != nil || !bytes.Equal(app[1:], got) || app[0] != 'x' {
		return fmt.Errorf("MarshalAppend differs from Marshal: %q, %v", app, err)
	}
	return nil
}

// Compact removes the whitespace between the tokens of a JSON document.
func Compact(b []byte) []byte {
	out := make([]byte, 0, len(b))
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			continue
		}
		out = append(out, c)
	}
	return out
}

// Source turns fuzz input into choices; once the input runs out every
// choice is zero, so every input makes a finite message.
type Source struct{ b []byte }

// NewSource returns a Source reading data.
func NewSource(data []byte) *Source { return &Source{b: data} }

// Byte returns the next byte of input, or 0.
func (s *Source) Byte() byte {
	if len(s.b) == 0 {
		return 0
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c
}

// Uint64 returns the next eight bytes of input as a number.
func (s *Source) Uint64() uint64 {
	var buf [8]byte
	n := copy(buf[:], s.b)
	s.b = s.b[n:]
	return binary.LittleEndian.Uint64(buf[:])
}

// Empty reports whether the input is used up.
func (s *Source) Empty() bool { return len(s.b) == 0 }

// strs are strings chosen for what protojson does with them: escapes,
// control characters, multi-byte and maximal runes, U+2028, the
// replacement character, and invalid UTF-8 (which protojson refuses).
var strs = []string{
	"", "a", "hello world", `quote " and \ backslash`, "\x00\x01\x1f\x7f",
	"\b\f\n\r\t", "<html>&amp;</html>", "é日本語🎉", "\u2028\u2029", "\ufffd",
	"\xff", "ok\xc3", "\xed\xa0\x80", "\U0010ffff", "/slash/", "9007199254740993",
}

// paths are FieldMask paths, reversible and not.
var paths = []string{"a", "foo_bar", "foo.bar_baz", "_a", "a__b", "a_1", "a_", "A", "fooBar", "", "1a", "a..b", "x_y.z"}

var floats = []float64{
	0, math.Copysign(0, -1), 1, -1, 0.1, 1e-6, 9.999e-7, 1e-7, 1e20, 1e21, 1e21 - 65536, 123456789.125,
	math.MaxFloat64, math.SmallestNonzeroFloat64, math.MaxFloat32, math.SmallestNonzeroFloat32,
	math.NaN(), math.Inf(1), math.Inf(-1), 3.4028235e38, 1.17549435e-38, 5e-324, 0.000001, 16777217,
}

var ints = []uint64{0, 1, math.MaxUint64, 1 << 63, 1<<63 - 1, 1 << 31, 1<<31 - 1, 1<<32 - 1, 1 << 53, 1<<53 + 1}

// Fill sets fields of m from s: every kind, nested to a small depth,
// lists and maps of a few entries, oneofs, well-known types with values
// in and out of range, extreme numbers and awkward strings.
func Fill(m protoreflect.Message, s *Source) {
	fill(m, s, 0)
}

const maxDepth = 5

func fill(m protoreflect.Message, s *Source, depth int) {
	md := m.Descriptor()
	switch md.FullName() {
	case "google.protobuf.FieldMask":
		fd := md.Fields().ByName("paths")
		l := m.Mutable(fd).List()
		for n := int(s.Byte() % 4); n > 0; n-- {
			l.Append(protoreflect.ValueOfString(paths[int(s.Byte())%len(paths)]))
		}
		return
	case "google.protobuf.Any":
		typ := []string{"", "type.googleapis.com/google.protobuf.Duration", "type.googleapis.com/google.protobuf.Empty", "nope", "type.googleapis.com/google.protobuf.Value"}[int(s.Byte())%5]
		if typ != "" {
			m.Set(md.Fields().ByName("type_url"), protoreflect.ValueOfString(typ))
		}
		if c := s.Byte(); c%2 == 0 {
			var v []byte
			for n := int(c % 16); n > 0; n-- {
				v = append(v, s.Byte())
			}
			m.Set(md.Fields().ByName("value"), protoreflect.ValueOfBytes(v))
		}
		return
	case "google.protobuf.Timestamp", "google.protobuf.Duration":
		if s.Byte()%4 != 0 { // mostly in range
			secs := int64(s.Uint64() % 253402300799)
			nanos := int64(s.Uint64() % 1e9)
			if md.Name() == "Duration" {
				secs %= 315576000000
				if s.Byte()%2 == 0 {
					secs, nanos = -secs, -nanos
				}
			} else if s.Byte()%2 == 0 {
				secs = -secs % 62135596800
			}
			switch s.Byte() % 4 {
			case 0:
				nanos = nanos / 1e6 * 1e6
			case 1:
				nanos = nanos / 1e3 * 1e3
			case 2:
				nanos = 0
			}
			m.Set(md.Fields().ByName("seconds"), protoreflect.ValueOfInt64(secs))
			m.Set(md.Fields().ByName("nanos"), protoreflect.ValueOfInt32(int32(nanos)))
			return
		}
	}
	fds := md.Fields()
	for i := 0; i < fds.Len(); i++ {
		if s.Empty() {
			return
		}
		fd := fds.Get(i)
		if s.Byte()%3 == 0 {
			continue
		}
		switch {
		case fd.IsList():
			l := m.Mutable(fd).List()
			for n := int(s.Byte() % 4); n > 0; n-- {
				if fd.Message() != nil {
					if depth >= maxDepth {
						break
					}
					e := l.NewElement()
					fill(e.Message(), s, depth+1)
					l.Append(e)
					continue
				}
				l.Append(scalar(fd, s))
			}
		case fd.IsMap():
			mp := m.Mutable(fd).Map()
			for n := int(s.Byte() % 4); n > 0; n-- {
				k := scalar(fd.MapKey(), s).MapKey()
				if fd.MapValue().Message() != nil {
					if depth >= maxDepth {
						break
					}
					v := mp.NewValue()
					fill(v.Message(), s, depth+1)
					mp.Set(k, v)
					continue
				}
				mp.Set(k, scalar(fd.MapValue(), s))
			}
		case fd.Message() != nil:
			if depth >= maxDepth {
				continue
			}
			fill(m.Mutable(fd).Message(), s, depth+1)
		default:
			m.Set(fd, scalar(fd, s))
		}
	}
}

func scalar(fd protoreflect.FieldDescriptor, s *Source) protoreflect.Value {
	pick := s.Byte()
	u := s.Uint64()
	if pick%2 == 0 {
		u = ints[int(pick/2)%len(ints)]
		if pick&0x40 != 0 {
			u = -u
		}
	}
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(pick%2 == 1)
	case protoreflect.EnumKind:
		vals := fd.Enum().Values()
		if pick%4 != 0 && vals.Len() > 0 {
			return protoreflect.ValueOfEnum(vals.Get(int(u % uint64(vals.Len()))).Number())
		}
		return protoreflect.ValueOfEnum(protoreflect.EnumNumber(int32(u)))
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(u))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(int64(u))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(uint32(u))
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(u)
	case protoreflect.FloatKind:
		if pick%2 == 0 {
			return protoreflect.ValueOfFloat32(float32(floats[int(u%uint64(len(floats)))]))
		}
		return protoreflect.ValueOfFloat32(math.Float32frombits(uint32(u)))
	case protoreflect.DoubleKind:
		if pick%2 == 0 {
			return protoreflect.ValueOfFloat64(floats[int(u%uint64(len(floats)))])
		}
		return protoreflect.ValueOfFloat64(math.Float64frombits(u))
	case protoreflect.StringKind:
		if pick%4 == 1 { // raw input bytes, valid UTF-8 or not
			n := int(u % 12)
			b := make([]byte, 0, n)
			for ; n > 0; n-- {
				b = append(b, s.Byte())
			}
			return protoreflect.ValueOfString(string(b))
		}
		return protoreflect.ValueOfString(strs[int(u%uint64(len(strs)))])
	default: // BytesKind
		n := int(u % 10)
		b := make([]byte, 0, n)
		for ; n > 0; n-- {
			b = append(b, s.Byte())
		}
		return protoreflect.ValueOfBytes(b)
	}
}

// UnmarshalOptions are the option sets the Unmarshal targets compare
// under: the REST default (DiscardUnknown, as grpc-gateway) and strict.
var UnmarshalOptions = []protojson.UnmarshalOptions{
	{DiscardUnknown: true},
	{},
}

// UnmarshalCodecs returns one Codec per UnmarshalOptions entry.
func UnmarshalCodecs() []*pbjson.Codec {
	cs := make([]*pbjson.Codec, len(UnmarshalOptions))
	for i, o := range UnmarshalOptions {
		cs[i] = pbjson.New(protojson.MarshalOptions{}, o)
	}
	return cs
}

// CheckUnmarshal reads data into a new mt with c and with protojson under
// opts and reports how they differ: one accepting and not the other, a
// different error, or messages that are not proto.Equal.
func CheckUnmarshal(c *pbjson.Codec, opts protojson.UnmarshalOptions, mt protoreflect.MessageType, data []byte) error {
	want, got := mt.New().Interface(), mt.New().Interface()
	wantErr := opts.Unmarshal(data, want)
	gotErr := c.Unmarshal(data, got)
	name := mt.Descriptor().FullName()
	switch {
	case (wantErr == nil) != (gotErr == nil):
		return fmt.Errorf("%v with %+v, input %q: protojson error %v, pbjson error %v", name, opts, data, wantErr, gotErr)
	case wantErr != nil:
		if wantErr.Error() != gotErr.Error() {
			return fmt.Errorf("%v with %+v, input %q: protojson error %q, pbjson error %q", name, opts, data, wantErr, gotErr)
		}
		return nil
	}
	if !proto.Equal(want, got) {
		return fmt.Errorf("%v with %+v, input %q:\nprotojson read %v\npbjson read    %v", name, opts, data, want, got)
	}
	return nil
}

// FuzzMarshal is the body of every module's Marshal differential target:
// a message of the type the input's first byte picks among messages,
// filled from the rest, must marshal to protojson's tokens under every
// option set, or fail where protojson fails.
func FuzzMarshal(f *testing.F, messages []protoreflect.MessageType) {
	codecs := Codecs()
	for i := range messages {
		f.Add([]byte{byte(i), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
		f.Add([]byte{byte(i), 0xff, 0xfe, 0x80, 0x41, 0x7f, 0x01, 0x00, 0x22, 0x5c, 0xc3, 0xa9, 0x99, 0x33, 0x55, 0x77, 0xaa, 0xbb, 0xcc, 0xdd, 0xee})
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		m := messages[int(data[0])%len(messages)].New()
		Fill(m, NewSource(data[1:]))
		for i, c := range codecs {
			if err := CheckMarshal(c, MarshalOptions[i], m.Interface()); err != nil {
				t.Fatal(err)
			}
		}
	})
}
