package pbjson

import (
	"reflect"
	"sync"
	"unicode/utf8"

	"github.com/duetrpc/duet/internal/gostruct"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// kind is how one value is written, decided once per field.
type kind uint8

const (
	kindBool    kind = iota
	kindString       // string: escaped, invalid UTF-8 is an error
	kindInt32        // int32, sint32, sfixed32: a JSON number
	kindUint32       // uint32, fixed32: a JSON number
	kindInt64        // int64, sint64, sfixed64: a quoted decimal
	kindUint64       // uint64, fixed64: a quoted decimal
	kindFloat        // float: shortest float32 form, specials quoted
	kindDouble       // double: shortest float64 form, specials quoted
	kindBytes        // bytes: standard base64, padded
	kindEnum         // enum: its value's name, or its number when unnamed
	kindNull         // google.protobuf.NullValue: always null
	kindMessage      // message or group: its own plan
)

// wkt names the well-known types protojson writes in a form of their own.
type wkt uint8

const (
	wktNone wkt = iota
	wktTimestamp
	wktDuration
	wktWrapper
	wktStruct
	wktListValue
	wktValue
	wktFieldMask
)

// unset says what a field that is not populated writes, given the options.
type unset uint8

const (
	unsetSkip unset = iota // nothing: the default, oneof members, presence fields without EmitUnpopulated
	unsetNull              // null: presence fields under EmitUnpopulated
	unsetZero              // its zero value: [] {} 0 "" false, under EmitUnpopulated or EmitDefaultValues
)

// msgPlan is everything Marshal needs to know about one message type.
type msgPlan struct {
	md     protoreflect.MessageDescriptor
	wkt    wkt
	fields []fieldPlan // in declaration order, protojson's order
	// delegate hands the message to protojson: Any, and messages that can
	// carry extensions (protojson sorts those by full name after the rest).
	delegate bool
	sizeHint sizeHint
	// goType is the generated Go type registered for md, whose repeated
	// fields are read straight from the struct: protoreflect's list view
	// allocates, and so does each string it hands out.
	goType reflect.Type
	// names maps the names Unmarshal accepts for a field (its JSON name,
	// else its proto name, as protojson looks them up) to its index; nil
	// when the decoder's fast path leaves the type to protojson.
	names map[string]int
}

// fieldPlan is one field of a msgPlan.
type fieldPlan struct {
	fd    protoreflect.FieldDescriptor
	name  []byte // `"name":`, escaped
	list  bool
	isMap bool
	unset unset
	key   kind // a map's key kind
	// goField is the index of the field in goType's struct when it is
	// read from there: a list (goScalar false), or a singular scalar
	// without presence (goScalar true); else -1.
	goField  int
	goScalar bool
	// goMsg is set when goField is a singular message field held as a
	// pointer to the generated struct of its own plan's goType.
	goMsg bool
	val   valuePlan // the value, a list's element or a map's value
}

// valuePlan is how one singular value is written.
type valuePlan struct {
	kind kind
	fd   protoreflect.FieldDescriptor // named in errors
	enum *enumPlan
	msg  *msgPlan
}

// enumPlan holds an enum's value names, quoted, for numbers that index
// the slice; others are looked up in the descriptor.
type enumPlan struct {
	desc  protoreflect.EnumDescriptor
	names [][]byte // names[n] is `"NAME"` for value n, nil if unnamed
}

// maxDenseEnum bounds the enum numbers kept in a slice.
const maxDenseEnum = 256

func (p *enumPlan) name(n protoreflect.EnumNumber) []byte {
	if n >= 0 && int(n) < len(p.names) {
		return p.names[n]
	}
	if n >= 0 && int(n) < maxDenseEnum {
		return nil
	}
	if v := p.desc.Values().ByNumber(n); v != nil {
		return appendQuoted(nil, string(v.Name()))
	}
	return nil
}

// builder builds the plans of the message types reachable from one
// descriptor. Plans refer to each other by pointer, so recursive types
// are built once.
type builder struct {
	opts  *protojson.MarshalOptions
	built map[protoreflect.MessageDescriptor]*msgPlan
	known *sync.Map
	enums map[protoreflect.EnumDescriptor]*enumPlan
}

func (b *builder) message(md protoreflect.MessageDescriptor) *msgPlan {
	if p, ok := b.known.Load(md); ok {
		return p.(*msgPlan)
	}
	if p := b.built[md]; p != nil {
		return p
	}
	p := &msgPlan{md: md}
	b.built[md] = p
	if md.FullName().Parent() == "google.protobuf" {
		switch md.Name() {
		case "Any":
			p.delegate = true
			return p
		case "Timestamp":
			p.wkt = wktTimestamp
		case "Duration":
			p.wkt = wktDuration
		case "BoolValue", "Int32Value", "Int64Value", "UInt32Value", "UInt64Value",
			"FloatValue", "DoubleValue", "StringValue", "BytesValue":
			p.wkt = wktWrapper
		case "Struct":
			p.wkt = wktStruct
		case "ListValue":
			p.wkt = wktListValue
		case "Value":
			p.wkt = wktValue
		case "FieldMask":
			p.wkt = wktFieldMask
		}
	}
	if md.ExtensionRanges().Len() > 0 {
		p.delegate = true
		return p
	}
	fds := md.Fields()
	p.fields = make([]fieldPlan, fds.Len())
	goFields := map[protoreflect.FieldNumber]int{}
	if t := gostruct.Type(md); t != nil {
		p.goType = t
		goFields = gostruct.Fields(t.Elem())
	}
	if p.wkt == wktNone && fds.Len() <= 64 && md.Oneofs().Len() <= 64 {
		p.names = make(map[string]int, 2*fds.Len())
		for i := 0; i < fds.Len(); i++ {
			if n := fds.Get(i).JSONName(); !hasKey(p.names, n) {
				p.names[n] = i
			}
		}
		for i := 0; i < fds.Len(); i++ {
			if n := fds.Get(i).TextName(); !hasKey(p.names, n) {
				p.names[n] = i
			}
		}
	}
	for i := range p.fields {
		fd := fds.Get(i)
		p.fields[i] = b.field(fd)
		f := &p.fields[i]
		f.goField = -1
		j, ok := goFields[fd.Number()]
		switch {
		case !ok:
		case fd.IsList():
			f.goField = j
		case plainScalar(fd, f.val.kind, p.goType.Elem().Field(j).Type):
			f.goField, f.goScalar = j, true
		case plainMessage(fd, f.val.msg, p.goType.Elem().Field(j).Type):
			f.goField, f.goMsg = j, true
		}
	}
	return p
}

func hasKey(m map[string]int, k string) bool {
	_, ok := m[k]
	return ok
}

// plainMessage reports whether fd, a singular field, is a message field
// stored in the generated struct as a pointer of type t to the generated
// type of its message's plan mp: read with reflect, a nil pointer is an
// unset field. Lazily decoded fields are left to protoreflect, which
// decodes them on access.
func plainMessage(fd protoreflect.FieldDescriptor, mp *msgPlan, t reflect.Type) bool {
	if mp == nil || mp.goType == nil || t != mp.goType || fd.IsMap() || fd.IsList() || fd.ContainingOneof() != nil {
		return false
	}
	if o, ok := fd.Options().(*descriptorpb.FieldOptions); ok && (o.GetLazy() || o.GetUnverifiedLazy()) {
		return false
	}
	return true
}

// plainScalar reports whether fd, a singular field, is stored in the
// generated struct as a plain Go value of type t whose zero value is
// "not populated": a scalar or enum without presence, outside any oneof.
// Such a field is read with reflect instead of protoreflect's Has and
// Get, which check the descriptor and go through the field's accessors
// on every call.
func plainScalar(fd protoreflect.FieldDescriptor, k kind, t reflect.Type) bool {
	if fd.IsMap() || fd.HasPresence() || fd.ContainingOneof() != nil {
		return false
	}
	switch k {
	case kindBool:
		return t.Kind() == reflect.Bool
	case kindString:
		return t.Kind() == reflect.String
	case kindInt32, kindEnum, kindNull:
		return t.Kind() == reflect.Int32
	case kindInt64:
		return t.Kind() == reflect.Int64
	case kindUint32:
		return t.Kind() == reflect.Uint32
	case kindUint64:
		return t.Kind() == reflect.Uint64
	case kindFloat:
		return t.Kind() == reflect.Float32
	case kindDouble:
		return t.Kind() == reflect.Float64
	case kindBytes:
		return t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8
	}
	return false
}

func (b *builder) field(fd protoreflect.FieldDescriptor) fieldPlan {
	name := fd.JSONName()
	if b.opts.UseProtoNames {
		name = fd.TextName()
	}
	f := fieldPlan{fd: fd, list: fd.IsList(), isMap: fd.IsMap()}
	if utf8.ValidString(name) {
		f.name = append(appendQuoted(nil, name), ':')
	}
	switch {
	case fd.ContainingOneof() != nil:
		f.unset = unsetSkip
	case fd.HasPresence():
		if b.opts.EmitUnpopulated {
			f.unset = unsetNull
		}
	case b.opts.EmitUnpopulated || b.opts.EmitDefaultValues:
		f.unset = unsetZero
	}
	if f.isMap {
		f.key = kindOf(fd.MapKey())
		f.val = b.value(fd.MapValue())
	} else {
		f.val = b.value(fd)
	}
	return f
}

func (b *builder) value(fd protoreflect.FieldDescriptor) valuePlan {
	v := valuePlan{kind: kindOf(fd), fd: fd}
	switch v.kind {
	case kindEnum:
		v.enum = b.enum(fd.Enum())
	case kindMessage:
		v.msg = b.message(fd.Message())
	}
	return v
}

func (b *builder) enum(ed protoreflect.EnumDescriptor) *enumPlan {
	if p := b.enums[ed]; p != nil {
		return p
	}
	p := &enumPlan{desc: ed}
	vals := ed.Values()
	for i := 0; i < vals.Len(); i++ {
		v := vals.Get(i)
		n := v.Number()
		if n < 0 || n >= maxDenseEnum {
			continue
		}
		for int(n) >= len(p.names) {
			p.names = append(p.names, nil)
		}
		if p.names[n] == nil { // the first of aliases, as ByNumber
			p.names[n] = appendQuoted(nil, string(v.Name()))
		}
	}
	if b.enums == nil {
		b.enums = map[protoreflect.EnumDescriptor]*enumPlan{}
	}
	b.enums[ed] = p
	return p
}

func kindOf(fd protoreflect.FieldDescriptor) kind {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return kindBool
	case protoreflect.StringKind:
		return kindString
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return kindInt32
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return kindUint32
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return kindInt64
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return kindUint64
	case protoreflect.FloatKind:
		return kindFloat
	case protoreflect.DoubleKind:
		return kindDouble
	case protoreflect.BytesKind:
		return kindBytes
	case protoreflect.EnumKind:
		if fd.Enum().FullName() == "google.protobuf.NullValue" {
			return kindNull
		}
		return kindEnum
	default: // MessageKind, GroupKind
		return kindMessage
	}
}

// appendQuoted appends s as a JSON string; s must be valid UTF-8.
func appendQuoted(b []byte, s string) []byte {
	b, _ = appendString(b, s)
	return b
}
