package pbjson

import (
	"encoding/base64"
	"reflect"
	"strconv"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The decoder is a fast path, not a second parser to keep in step with
// protojson's: it reads the documents requests actually send (known
// fields, plain strings, plain numbers, enum names, nested messages,
// lists and maps) and gives up on anything else: an escape in a string, a
// well-known type, a quoted number, an unknown enum name, any error. When
// it gives up, protojson reads the document from the start. So every
// document the fast path accepts it reads exactly as protojson would
// (the differential fuzz target holds it to that), and every document it
// does not is protojson's to accept or reject, with protojson's error
// naming the field at fault.

// maxDecodeDepth bounds nesting on the fast path; deeper documents go to
// protojson and its own limit.
const maxDecodeDepth = 64

// decoder reads one document. giveUp is set on the first thing the fast
// path does not handle; from then on every method returns at once.
type decoder struct {
	b       []byte
	i       int
	discard bool // UnmarshalOptions.DiscardUnknown
	giveUp  bool
}

// fast reads b into m and reports whether it could; when it could not, m
// holds whatever it had read and the caller resets it.
func (c *Codec) fast(b []byte, m protoreflect.Message, p *msgPlan) bool {
	d := decoder{b: b, discard: c.unmarshal.DiscardUnknown}
	d.ws()
	d.message(m, p, 0)
	d.ws()
	return !d.giveUp && d.i == len(d.b)
}

func (d *decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek returns the next byte after whitespace, or 0 at the end.
func (d *decoder) peek() byte {
	d.ws()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

// expect consumes c after whitespace, or gives up.
func (d *decoder) expect(c byte) {
	if d.peek() != c {
		d.giveUp = true
		return
	}
	d.i++
}

// str reads a string without escapes or control characters, valid UTF-8.
func (d *decoder) str() []byte {
	if d.giveUp || d.peek() != '"' {
		d.giveUp = true
		return nil
	}
	d.i++
	start := d.i
	ascii := true
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			s := d.b[start:d.i]
			d.i++
			if !ascii && !utf8.Valid(s) {
				d.giveUp = true
			}
			return s
		case c == '\\' || c < ' ':
			d.giveUp = true
			return nil
		case c >= utf8.RuneSelf:
			ascii = false
		}
		d.i++
	}
	d.giveUp = true
	return nil
}

// number reads a JSON number literal, strictly by the JSON grammar.
func (d *decoder) number() []byte {
	d.ws()
	start := d.i
	if d.i < len(d.b) && d.b[d.i] == '-' {
		d.i++
	}
	switch {
	case d.i < len(d.b) && d.b[d.i] == '0':
		d.i++
	case d.i < len(d.b) && '1' <= d.b[d.i] && d.b[d.i] <= '9':
		d.digits()
	default:
		d.giveUp = true
		return nil
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if !d.digits() {
			d.giveUp = true
			return nil
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if !d.digits() {
			d.giveUp = true
			return nil
		}
	}
	if !d.delimited() {
		d.giveUp = true
		return nil
	}
	return d.b[start:d.i]
}

func (d *decoder) digits() bool {
	start := d.i
	for d.i < len(d.b) && '0' <= d.b[d.i] && d.b[d.i] <= '9' {
		d.i++
	}
	return d.i > start
}

// delimited reports whether a literal or number ends here: at the end,
// whitespace, a comma or a closing bracket.
func (d *decoder) delimited() bool {
	if d.i == len(d.b) {
		return true
	}
	switch d.b[d.i] {
	case ' ', '\t', '\n', '\r', ',', ']', '}':
		return true
	}
	return false
}

// literal consumes true, false or null if it comes next.
func (d *decoder) literal(lit string) bool {
	d.ws()
	if len(d.b)-d.i < len(lit) || string(d.b[d.i:d.i+len(lit)]) != lit {
		return false
	}
	d.i += len(lit)
	if !d.delimited() {
		d.giveUp = true
	}
	return true
}

// more consumes the comma before another member or element and reports
// true, or consumes the closing bracket and reports false; anything else
// gives up.
func (d *decoder) more(closing byte) bool {
	switch d.peek() {
	case ',':
		d.i++
		return !d.giveUp
	case closing:
		d.i++
	default:
		d.giveUp = true
	}
	return false
}

// message reads an object into m by the plan p.
func (d *decoder) message(m protoreflect.Message, p *msgPlan, depth int) {
	if p.names == nil || depth > maxDecodeDepth {
		d.giveUp = true // well-known types, delegated types, too deep
		return
	}
	d.expect('{')
	if d.giveUp {
		return
	}
	var seen, oneofs uint64
	if d.peek() == '}' {
		d.i++
		return
	}
	// A generated message's plain scalar fields are set in its struct:
	// protoreflect's Set boxes each value on the way in.
	var sv reflect.Value
	if p.goType != nil {
		if mi := m.Interface(); reflect.TypeOf(mi) == p.goType {
			sv = reflect.ValueOf(mi).Elem()
		}
	}
	for !d.giveUp {
		name := d.str()
		d.expect(':')
		if d.giveUp {
			return
		}
		idx, ok := p.names[string(name)]
		if !ok {
			if !d.discard || (len(name) > 0 && name[0] == '[') {
				d.giveUp = true // protojson's error, or an extension
				return
			}
			d.skip(depth)
		} else {
			f := &p.fields[idx]
			if seen&(1<<idx) != 0 {
				d.giveUp = true // a duplicate: protojson's error
				return
			}
			seen |= 1 << idx
			if d.literal("null") {
				if f.val.kind == kindNull || (f.val.msg != nil && f.val.msg.wkt == wktValue) {
					d.giveUp = true
				}
				// null leaves any other field unset, as in protojson.
			} else {
				switch {
				case f.list:
					d.list(m.Mutable(f.fd).List(), &f.val, depth)
				case f.isMap:
					d.mapping(m.Mutable(f.fd).Map(), f, depth)
				default:
					if od := f.fd.ContainingOneof(); od != nil {
						if oneofs&(1<<od.Index()) != 0 {
							d.giveUp = true
							return
						}
						oneofs |= 1 << od.Index()
					}
					if f.val.kind == kindMessage {
						v := m.NewField(f.fd)
						d.message(v.Message(), f.val.msg, depth+1)
						m.Set(f.fd, v)
					} else if v := d.scalar(&f.val); d.giveUp {
					} else if f.goScalar && sv.IsValid() {
						setScalar(sv.Field(f.goField), f.val.kind, v)
					} else {
						m.Set(f.fd, v)
					}
				}
			}
		}
		if !d.more('}') {
			return
		}
	}
}

// setScalar sets a plain scalar field (see plainScalar) in its struct
// field fv to v, as protoreflect's Set would.
func setScalar(fv reflect.Value, k kind, v protoreflect.Value) {
	switch k {
	case kindBool:
		fv.SetBool(v.Bool())
	case kindString:
		fv.SetString(v.String())
	case kindInt32, kindInt64:
		fv.SetInt(v.Int())
	case kindUint32, kindUint64:
		fv.SetUint(v.Uint())
	case kindFloat, kindDouble:
		fv.SetFloat(v.Float())
	case kindBytes:
		if b := v.Bytes(); len(b) > 0 {
			fv.SetBytes(b)
		} else {
			fv.SetZero() // nil, as protoreflect leaves an empty field without presence
		}
	default: // kindEnum, kindNull
		fv.SetInt(int64(v.Enum()))
	}
}

func (d *decoder) list(l protoreflect.List, p *valuePlan, depth int) {
	d.expect('[')
	if d.peek() == ']' {
		d.i++
		return
	}
	for !d.giveUp {
		if p.kind == kindMessage {
			v := l.NewElement()
			d.message(v.Message(), p.msg, depth+1)
			l.Append(v)
		} else if v := d.scalar(p); !d.giveUp {
			l.Append(v)
		}
		if !d.more(']') {
			return
		}
	}
}

func (d *decoder) mapping(mp protoreflect.Map, f *fieldPlan, depth int) {
	d.expect('{')
	if d.peek() == '}' {
		d.i++
		return
	}
	for !d.giveUp {
		k := d.key(d.str(), f.key)
		d.expect(':')
		if d.giveUp {
			return
		}
		if mp.Has(k) {
			d.giveUp = true // a duplicate key: protojson's error
			return
		}
		if f.val.kind == kindMessage {
			v := mp.NewValue()
			d.message(v.Message(), f.val.msg, depth+1)
			mp.Set(k, v)
		} else if v := d.scalar(&f.val); !d.giveUp {
			mp.Set(k, v)
		}
		if !d.more('}') {
			return
		}
	}
}

// key parses a map key of kind k from its name.
func (d *decoder) key(s []byte, k kind) protoreflect.MapKey {
	if d.giveUp {
		return protoreflect.MapKey{}
	}
	switch k {
	case kindString:
		return protoreflect.ValueOfString(string(s)).MapKey()
	case kindBool:
		switch string(s) {
		case "true":
			return protoreflect.ValueOfBool(true).MapKey()
		case "false":
			return protoreflect.ValueOfBool(false).MapKey()
		}
	case kindInt32, kindInt64, kindUint32, kindUint64:
		if canonicalInt(s) {
			if v, ok := parseInt(s, k); ok {
				return v.MapKey()
			}
		}
	}
	d.giveUp = true
	return protoreflect.MapKey{}
}

// canonicalInt reports whether s is an integer written the one way
// strconv and protojson agree on: no sign but '-', no leading zeros, no
// "-0".
func canonicalInt(s []byte) bool {
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
		if len(s) == 1 && s[0] == '0' {
			return false
		}
	}
	if len(s) == 0 || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func parseInt(s []byte, k kind) (protoreflect.Value, bool) {
	switch k {
	case kindInt32:
		n, err := strconv.ParseInt(string(s), 10, 32)
		return protoreflect.ValueOfInt32(int32(n)), err == nil
	case kindInt64:
		n, err := strconv.ParseInt(string(s), 10, 64)
		return protoreflect.ValueOfInt64(n), err == nil
	case kindUint32:
		n, err := strconv.ParseUint(string(s), 10, 32)
		return protoreflect.ValueOfUint32(uint32(n)), err == nil
	default:
		n, err := strconv.ParseUint(string(s), 10, 64)
		return protoreflect.ValueOfUint64(n), err == nil
	}
}

// scalar reads one value of a scalar kind.
func (d *decoder) scalar(p *valuePlan) protoreflect.Value {
	if d.giveUp {
		return protoreflect.Value{}
	}
	switch p.kind {
	case kindBool:
		if d.literal("true") {
			return protoreflect.ValueOfBool(true)
		}
		if d.literal("false") {
			return protoreflect.ValueOfBool(false)
		}
	case kindString:
		if s := d.str(); !d.giveUp {
			return protoreflect.ValueOfString(string(s))
		}
	case kindInt32, kindInt64, kindUint32, kindUint64:
		var s []byte
		if d.peek() == '"' {
			s = d.str() // 64-bit integers are usually quoted
		} else {
			s = d.number()
		}
		if !d.giveUp && canonicalInt(s) {
			if v, ok := parseInt(s, p.kind); ok {
				return v
			}
		}
	case kindFloat, kindDouble:
		if d.peek() == '"' {
			break // "NaN", "Infinity", quoted numbers
		}
		s := d.number()
		if d.giveUp {
			break
		}
		if p.kind == kindFloat {
			if f, err := strconv.ParseFloat(string(s), 32); err == nil {
				return protoreflect.ValueOfFloat32(float32(f))
			}
		} else if f, err := strconv.ParseFloat(string(s), 64); err == nil {
			return protoreflect.ValueOfFloat64(f)
		}
	case kindBytes:
		s := d.str()
		if d.giveUp || len(s)%4 != 0 {
			break
		}
		for _, c := range s {
			if c == '-' || c == '_' || c == '\r' || c == '\n' {
				d.giveUp = true
				return protoreflect.Value{}
			}
		}
		b := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
		if n, err := base64.StdEncoding.Decode(b, s); err == nil {
			return protoreflect.ValueOfBytes(b[:n])
		}
	case kindEnum:
		if d.peek() != '"' {
			break
		}
		if s := d.str(); !d.giveUp {
			if v := p.enum.desc.Values().ByName(protoreflect.Name(s)); v != nil {
				return protoreflect.ValueOfEnum(v.Number())
			}
		}
	}
	d.giveUp = true
	return protoreflect.Value{}
}

// skip passes over the value of an unknown field under DiscardUnknown.
func (d *decoder) skip(depth int) {
	if depth > maxDecodeDepth {
		d.giveUp = true
		return
	}
	switch d.peek() {
	case '"':
		d.str()
	case '{':
		d.i++
		if d.peek() == '}' {
			d.i++
			return
		}
		for !d.giveUp {
			d.str()
			d.expect(':')
			d.skip(depth + 1)
			if !d.more('}') {
				return
			}
		}
	case '[':
		d.i++
		if d.peek() == ']' {
			d.i++
			return
		}
		for !d.giveUp {
			d.skip(depth + 1)
			if !d.more(']') {
				return
			}
		}
	case 't', 'f', 'n':
		if !d.literal("true") && !d.literal("false") && !d.literal("null") {
			d.giveUp = true
		}
	default:
		d.number()
	}
}

// unmarshal is Unmarshal's fast path with protojson behind it.
func (c *Codec) unmarshalFast(b []byte, m proto.Message) error {
	mr := m.ProtoReflect()
	p := c.plan(mr.Descriptor())
	proto.Reset(m)
	if c.fast(b, mr, p) {
		if c.unmarshal.AllowPartial || proto.CheckInitialized(m) == nil {
			return nil
		}
	}
	return c.unmarshal.Unmarshal(b, m)
}
