package pbjson

import (
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// encoder writes messages by their plans. It is a value: the only state
// of a Marshal call is the buffer it appends to.
type encoder struct {
	opts *protojson.MarshalOptions
}

func invalidUTF8(fd protoreflect.FieldDescriptor) error {
	return fmt.Errorf("field %v contains invalid UTF-8", fd.FullName())
}

// message appends m, written by its plan p.
func (e encoder) message(b []byte, m protoreflect.Message, p *msgPlan) ([]byte, error) {
	// A generated message's plain fields are read from its struct.
	var sv reflect.Value
	if p.goType != nil && !p.delegate {
		if mi := m.Interface(); reflect.TypeOf(mi) == p.goType {
			sv = reflect.ValueOf(mi).Elem()
		}
	}
	return e.messageIn(b, m, sv, p)
}

// messageIn appends m, whose generated struct is sv when sv is valid.
func (e encoder) messageIn(b []byte, m protoreflect.Message, sv reflect.Value, p *msgPlan) ([]byte, error) {
	switch {
	case p.delegate:
		return e.delegate(b, m)
	case p.wkt != wktNone:
		return e.wellKnown(b, m, sv, p)
	}
	b = append(b, '{')
	start := len(b)
	var err error
	for i := range p.fields {
		f := &p.fields[i]
		var v protoreflect.Value
		var has bool
		var fv reflect.Value // a message field's struct, when read from sv
		fast := f.goScalar && sv.IsValid()
		switch {
		case fast:
			v, has = scalar(sv.Field(f.goField), f.val.kind)
		case f.goMsg && sv.IsValid():
			if ptr := sv.Field(f.goField); !ptr.IsNil() {
				has, fv = true, ptr.Elem()
			}
		default:
			has = m.Has(f.fd)
		}
		if !has {
			switch {
			case f.unset == unsetSkip:
				continue
			case f.unset == unsetNull || f.list || f.isMap:
				// null, [] or {}, without the list or map view Get
				// would allocate.
				if b, err = e.name(b, start, f); err != nil {
					return b, err
				}
				switch {
				case f.unset == unsetNull:
					b = append(b, "null"...)
				case f.list:
					b = append(b, '[', ']')
				default:
					b = append(b, '{', '}')
				}
				continue
			}
		}
		if b, err = e.name(b, start, f); err != nil {
			return b, err
		}
		switch {
		case fast:
			b, err = e.value(b, v, &f.val)
		case fv.IsValid():
			mr := fv.Addr().Interface().(protoreflect.ProtoMessage).ProtoReflect()
			b, err = e.messageIn(b, mr, fv, f.val.msg)
		case f.list && f.goField >= 0 && sv.IsValid():
			b, err = e.goList(b, sv.Field(f.goField), &f.val)
		case f.list:
			b, err = e.list(b, m.Get(f.fd).List(), &f.val)
		case f.isMap:
			b, err = e.mapping(b, m.Get(f.fd).Map(), f)
		default:
			b, err = e.value(b, m.Get(f.fd), &f.val)
		}
		if err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// scalar reads a plain scalar field (see plainScalar) from its struct
// field fv: its value as protoreflect would give it, and whether it is
// populated as protoreflect's Has would say (a float is populated when
// non-zero or negative zero).
func scalar(fv reflect.Value, k kind) (protoreflect.Value, bool) {
	switch k {
	case kindBool:
		x := fv.Bool()
		return protoreflect.ValueOfBool(x), x
	case kindString:
		x := fv.String()
		return protoreflect.ValueOfString(x), len(x) > 0
	case kindInt32, kindInt64:
		x := fv.Int()
		return protoreflect.ValueOfInt64(x), x != 0
	case kindUint32, kindUint64:
		x := fv.Uint()
		return protoreflect.ValueOfUint64(x), x != 0
	case kindFloat, kindDouble:
		x := fv.Float()
		return protoreflect.ValueOfFloat64(x), x != 0 || math.Signbit(x)
	case kindBytes:
		x := fv.Bytes()
		return protoreflect.ValueOfBytes(x), len(x) > 0
	default: // kindEnum, kindNull
		x := fv.Int()
		return protoreflect.ValueOfEnum(protoreflect.EnumNumber(x)), x != 0
	}
}

// name appends the separator when the field is not the object's first,
// then the field's `"name":`.
func (e encoder) name(b []byte, start int, f *fieldPlan) ([]byte, error) {
	if f.name == nil {
		return b, invalidUTF8(f.fd)
	}
	if len(b) > start {
		b = append(b, ',')
	}
	return append(b, f.name...), nil
}

// delegate appends what protojson writes for m, for the types plans leave
// to it. Required fields are checked once, for the whole message, by the
// caller, as protojson does.
func (e encoder) delegate(b []byte, m protoreflect.Message) ([]byte, error) {
	o := *e.opts
	o.AllowPartial = true
	start := len(b)
	b, err := o.MarshalAppend(b, m.Interface())
	if err != nil {
		return b, err
	}
	return compact(b, start), nil
}

// compact removes, in place, the spaces protojson puts after commas in
// b[start:] (on purpose, at random), so that pbjson's output is the same
// from run to run. Compact protojson output has no other whitespace
// outside strings.
func compact(b []byte, start int) []byte {
	w := start
	inString, escaped := false, false
	for r := start; r < len(b); r++ {
		c := b[r]
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
		case c == ' ':
			continue
		}
		b[w] = c
		w++
	}
	return b[:w]
}

// value appends one singular value.
func (e encoder) value(b []byte, v protoreflect.Value, p *valuePlan) ([]byte, error) {
	switch p.kind {
	case kindBool:
		if v.Bool() {
			return append(b, "true"...), nil
		}
		return append(b, "false"...), nil
	case kindString:
		b, ok := appendString(b, v.String())
		if !ok {
			return b, invalidUTF8(p.fd)
		}
		return b, nil
	case kindInt32:
		return strconv.AppendInt(b, v.Int(), 10), nil
	case kindUint32:
		return strconv.AppendUint(b, v.Uint(), 10), nil
	case kindInt64:
		b = append(b, '"')
		b = strconv.AppendInt(b, v.Int(), 10)
		return append(b, '"'), nil
	case kindUint64:
		b = append(b, '"')
		b = strconv.AppendUint(b, v.Uint(), 10)
		return append(b, '"'), nil
	case kindFloat:
		return appendFloat(b, v.Float(), 32), nil
	case kindDouble:
		return appendFloat(b, v.Float(), 64), nil
	case kindBytes:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, v.Bytes())
		return append(b, '"'), nil
	case kindEnum:
		n := v.Enum()
		if !e.opts.UseEnumNumbers {
			if name := p.enum.name(n); name != nil {
				return append(b, name...), nil
			}
		}
		return strconv.AppendInt(b, int64(n), 10), nil
	case kindNull:
		return append(b, "null"...), nil
	default:
		return e.message(b, v.Message(), p.msg)
	}
}

func (e encoder) list(b []byte, l protoreflect.List, p *valuePlan) ([]byte, error) {
	b = append(b, '[')
	var err error
	for i, n := 0, l.Len(); i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = e.value(b, l.Get(i), p); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

// goList appends a repeated field read from its generated struct field
// (a slice of the element's Go type), with what protoreflect would hand
// out for each element.
func (e encoder) goList(b []byte, sv reflect.Value, p *valuePlan) ([]byte, error) {
	b = append(b, '[')
	var err error
	for i, n := 0, sv.Len(); i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		ev := sv.Index(i)
		var v protoreflect.Value
		switch p.kind {
		case kindBool:
			v = protoreflect.ValueOfBool(ev.Bool())
		case kindString:
			v = protoreflect.ValueOfString(ev.String())
		case kindInt32, kindInt64:
			v = protoreflect.ValueOfInt64(ev.Int())
		case kindUint32, kindUint64:
			v = protoreflect.ValueOfUint64(ev.Uint())
		case kindFloat, kindDouble:
			v = protoreflect.ValueOfFloat64(ev.Float())
		case kindBytes:
			v = protoreflect.ValueOfBytes(ev.Bytes())
		case kindEnum, kindNull:
			v = protoreflect.ValueOfEnum(protoreflect.EnumNumber(ev.Int()))
		default:
			v = protoreflect.ValueOfMessage(ev.Interface().(protoreflect.ProtoMessage).ProtoReflect())
		}
		if b, err = e.value(b, v, p); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

// mapping appends a map as an object with its keys in protojson's order:
// false before true, numbers ascending, strings by byte.
func (e encoder) mapping(b []byte, mp protoreflect.Map, f *fieldPlan) ([]byte, error) {
	b = append(b, '{')
	n := mp.Len()
	if n == 0 {
		return append(b, '}'), nil
	}
	kb := keyBufs.Get().(*keyBuf)
	defer keyBufs.Put(kb)
	kb.keys = kb.keys[:0]
	mp.Range(kb.add)
	keys := kb.keys
	switch f.key {
	case kindBool:
		slices.SortFunc(keys, func(x, y protoreflect.MapKey) int { return cmp.Compare(b2i(x.Bool()), b2i(y.Bool())) })
	case kindInt32, kindInt64:
		slices.SortFunc(keys, func(x, y protoreflect.MapKey) int { return cmp.Compare(x.Int(), y.Int()) })
	case kindUint32, kindUint64:
		slices.SortFunc(keys, func(x, y protoreflect.MapKey) int { return cmp.Compare(x.Uint(), y.Uint()) })
	default:
		slices.SortFunc(keys, func(x, y protoreflect.MapKey) int { return strings.Compare(x.String(), y.String()) })
	}
	var err error
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		switch f.key {
		case kindString:
			var ok bool
			if b, ok = appendString(b, k.String()); !ok {
				return b, invalidUTF8(f.fd)
			}
		case kindBool:
			if k.Bool() {
				b = append(b, `"true"`...)
			} else {
				b = append(b, `"false"`...)
			}
		case kindInt32, kindInt64:
			b = append(b, '"')
			b = strconv.AppendInt(b, k.Int(), 10)
			b = append(b, '"')
		default:
			b = append(b, '"')
			b = strconv.AppendUint(b, k.Uint(), 10)
			b = append(b, '"')
		}
		b = append(b, ':')
		if b, err = e.value(b, mp.Get(k), &f.val); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// keyBuf collects a map's keys for sorting. Its add method value is made
// once, with the buffer, so that Range costs no allocation per map.
type keyBuf struct {
	keys []protoreflect.MapKey
	add  func(protoreflect.MapKey, protoreflect.Value) bool
}

var keyBufs = sync.Pool{New: func() any {
	kb := &keyBuf{}
	kb.add = func(k protoreflect.MapKey, _ protoreflect.Value) bool {
		kb.keys = append(kb.keys, k)
		return true
	}
	return kb
}}

// appendFloat writes a float as protojson does (which follows
// encoding/json): the shortest representation that reads back to the
// same float of that size, in exponent form below 1e-6 and from 1e21,
// with a one-digit negative exponent unpadded; NaN and the infinities
// as the quoted names proto3 JSON gives them.
func appendFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// e-09 becomes e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// escapes[c] is the escape of ASCII byte c, or 0 if c is written as is.
var escapes = func() (t [utf8.RuneSelf]byte) {
	for c := 0; c < ' '; c++ {
		t[c] = 'u'
	}
	t['\b'], t['\f'], t['\n'], t['\r'], t['\t'] = 'b', 'f', 'n', 'r', 't'
	t['"'], t['\\'] = '"', '\\'
	return t
}()

const hex = "0123456789abcdef"

// appendString appends s as a JSON string the way protojson escapes it:
// only control characters, the quote and the backslash, nothing else. It
// reports false, having written part of s, if s is not valid UTF-8.
func appendString(b []byte, s string) ([]byte, bool) {
	b = append(b, '"')
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if esc := escapes[c]; esc != 0 {
				b = append(b, s[last:i]...)
				if esc == 'u' {
					b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
				} else {
					b = append(b, '\\', esc)
				}
				i++
				last = i
				continue
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return append(b, s[last:i]...), false
		}
		i += n
	}
	b = append(b, s[last:]...)
	return append(b, '"'), true
}

// Limits of Timestamp and Duration in proto3 JSON.
const (
	maxNanos           = 999999999
	maxDurationSeconds = 315576000000
	minTimestamp       = -62135596800 // 0001-01-01T00:00:00Z
	maxTimestamp       = 253402300799 // 9999-12-31T23:59:59Z
)

var errNoKind = errors.New("google.protobuf.Value: none of the oneof fields is set")

// wellKnown appends a well-known type in its own JSON form.
func (e encoder) wellKnown(b []byte, m protoreflect.Message, sv reflect.Value, p *msgPlan) ([]byte, error) {
	switch p.wkt {
	case wktTimestamp:
		secs, nanos := e.secondsNanos(m, sv, p)
		if secs < minTimestamp || secs > maxTimestamp {
			return b, fmt.Errorf("google.protobuf.Timestamp: seconds out of range %v", secs)
		}
		if nanos < 0 || nanos > maxNanos {
			return b, fmt.Errorf("google.protobuf.Timestamp: nanos out of range %v", nanos)
		}
		b = append(b, '"')
		b = appendDateTime(b, secs)
		b = appendNanos(b, nanos)
		return append(b, 'Z', '"'), nil
	case wktDuration:
		secs, nanos := e.secondsNanos(m, sv, p)
		if secs < -maxDurationSeconds || secs > maxDurationSeconds {
			return b, fmt.Errorf("google.protobuf.Duration: seconds out of range %v", secs)
		}
		if nanos < -maxNanos || nanos > maxNanos {
			return b, fmt.Errorf("google.protobuf.Duration: nanos out of range %v", nanos)
		}
		if (secs > 0 && nanos < 0) || (secs < 0 && nanos > 0) {
			return b, errors.New("google.protobuf.Duration: signs of seconds and nanos do not match")
		}
		b = append(b, '"')
		if secs < 0 || nanos < 0 {
			b = append(b, '-')
			secs, nanos = -secs, -nanos
		}
		b = strconv.AppendInt(b, secs, 10)
		b = appendNanos(b, nanos)
		return append(b, 's', '"'), nil
	case wktWrapper:
		f := &p.fields[0]
		return e.value(b, m.Get(f.fd), &f.val)
	case wktStruct:
		f := &p.fields[0]
		return e.mapping(b, m.Get(f.fd).Map(), f)
	case wktListValue:
		f := &p.fields[0]
		return e.list(b, m.Get(f.fd).List(), &f.val)
	case wktValue:
		fd := m.WhichOneof(p.md.Oneofs().Get(0))
		if fd == nil {
			return b, errNoKind
		}
		f := &p.fields[fd.Index()]
		v := m.Get(fd)
		if f.val.kind == kindDouble {
			if x := v.Float(); math.IsNaN(x) || math.IsInf(x, 0) {
				return b, fmt.Errorf("google.protobuf.Value.number_value: invalid %v value", x)
			}
		}
		return e.value(b, v, &f.val)
	default: // wktFieldMask
		l := m.Get(p.fields[0].fd).List()
		b = append(b, '"')
		for i, n := 0, l.Len(); i < n; i++ {
			s := l.Get(i).String()
			if !protoreflect.FullName(s).IsValid() {
				return b, fmt.Errorf("google.protobuf.FieldMask.paths contains invalid path: %q", s)
			}
			if i > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = appendCamel(b, s); !ok {
				return b, fmt.Errorf("google.protobuf.FieldMask.paths contains irreversible value %q", s)
			}
		}
		return append(b, '"'), nil
	}
}

// appendNanos appends a fraction of a second with 0, 3, 6 or 9 digits,
// as few as represent it exactly.
// secondsNanos reads a Timestamp's or Duration's two fields, from its
// generated struct sv when there is one.
func (e encoder) secondsNanos(m protoreflect.Message, sv reflect.Value, p *msgPlan) (int64, int64) {
	s, n := &p.fields[0], &p.fields[1]
	if sv.IsValid() && s.goScalar && n.goScalar {
		return sv.Field(s.goField).Int(), sv.Field(n.goField).Int()
	}
	return m.Get(s.fd).Int(), m.Get(n.fd).Int()
}

// appendDateTime appends secs since the Unix epoch as UTC
// "YYYY-MM-DDThh:mm:ss", for secs in the range of a Timestamp (years 1 to
// 9999). It is time.Time.AppendFormat's output for that layout, computed
// directly from the day count (the proleptic Gregorian calendar of
// RFC 3339) rather than through a general formatter.
func appendDateTime(b []byte, secs int64) []byte {
	days, sod := secs/86400, secs%86400
	if sod < 0 {
		days, sod = days-1, sod+86400
	}
	// Days since 0000-03-01, counted in 400-year eras of 146097 days,
	// so that leap days fall at the end of each year.
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097                                  // day of era, [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // year of era, [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // day of the March-based year, [0, 365]
	mp := (5*doy + 2) / 153                                // March-based month, [0, 11]
	day := doy - (153*mp+2)/5 + 1
	month := mp + 3
	if month > 12 {
		month -= 12
	}
	year := yoe + era*400
	if month <= 2 {
		year++
	}
	b = append2(append2(b, year/100), year%100)
	b = append2(append(b, '-'), month)
	b = append2(append(b, '-'), day)
	b = append2(append(b, 'T'), sod/3600)
	b = append2(append(b, ':'), sod/60%60)
	return append2(append(b, ':'), sod%60)
}

// append2 appends n, in [0, 99], as two digits.
func append2(b []byte, n int64) []byte {
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

func appendNanos(b []byte, nanos int64) []byte {
	if nanos == 0 {
		return b
	}
	digits := 9
	switch {
	case nanos%1e6 == 0:
		nanos /= 1e6
		digits = 3
	case nanos%1e3 == 0:
		nanos /= 1e3
		digits = 6
	}
	b = append(b, '.')
	var buf [9]byte
	for i := digits - 1; i >= 0; i-- {
		buf[i] = byte('0' + nanos%10)
		nanos /= 10
	}
	return append(b, buf[:digits]...)
}

// appendCamel appends the lowerCamelCase JSON form of a FieldMask path
// (already known to be a valid full name, so ASCII), reporting false if
// converting it back to snake_case would not give s: protojson refuses
// such paths rather than lose them.
func appendCamel(b []byte, s string) ([]byte, bool) {
	underscore := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z':
			return b, false // snake_case of the result would add '_'
		case c == '_':
			if underscore {
				return b, false // "a__b" → "aB" → "a_b"
			}
			underscore = true
			continue
		case underscore && 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case underscore:
			return b, false // "a_1" → "a1" → "a1": the '_' is lost
		}
		underscore = false
		b = append(b, c)
	}
	return b, !underscore
}
