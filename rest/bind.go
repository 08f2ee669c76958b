package rest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/duetrpc/duet/internal/httprule"
	"github.com/duetrpc/duet/problem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"
)

// fieldError is a request value that does not fit its field; it becomes a
// 400 with a BadRequest violation naming the field.
type fieldError struct {
	field  string
	reason string
	desc   string
}

func (e *fieldError) Error() string { return e.field + ": " + e.desc }

// GRPCStatus lets interceptors (grpcx.Errors among them) keep the error's
// INVALID_ARGUMENT code when it surfaces inside a stream handler.
func (e *fieldError) GRPCStatus() *status.Status { return e.problem().GRPCStatus() }

func (e *fieldError) problem() *problem.Problem {
	return problem.InvalidArgument("invalid request: "+e.field+": "+e.desc,
		problem.Violation{Field: e.field, Reason: e.reason, Description: e.desc})
}

// scalarMessage reports whether a message type has a string form usable in
// paths and queries.
func scalarMessage(md protoreflect.MessageDescriptor) bool {
	switch md.FullName() {
	case "google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask",
		"google.protobuf.StringValue", "google.protobuf.BytesValue", "google.protobuf.BoolValue",
		"google.protobuf.Int32Value", "google.protobuf.Int64Value", "google.protobuf.UInt32Value",
		"google.protobuf.UInt64Value", "google.protobuf.FloatValue", "google.protobuf.DoubleValue",
		"google.protobuf.Value", "google.protobuf.Struct", "google.protobuf.ListValue":
		return true
	}
	return false
}

// parseValue converts a path or query string to a value of fd's type.
func parseValue(fd protoreflect.FieldDescriptor, s string, msg protoreflect.Message) (protoreflect.Value, error) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		if !utf8.ValidString(s) {
			return protoreflect.Value{}, errors.New("not valid UTF-8")
		}
		return protoreflect.ValueOfString(s), nil
	case protoreflect.BoolKind:
		switch s {
		case "true", "1":
			return protoreflect.ValueOfBool(true), nil
		case "false", "0":
			return protoreflect.ValueOfBool(false), nil
		}
		return protoreflect.Value{}, errors.New("not a boolean (true or false)")
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return protoreflect.Value{}, errors.New("not a 32-bit integer")
		}
		return protoreflect.ValueOfInt32(int32(n)), nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return protoreflect.Value{}, errors.New("not a 64-bit integer")
		}
		return protoreflect.ValueOfInt64(n), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return protoreflect.Value{}, errors.New("not an unsigned 32-bit integer")
		}
		return protoreflect.ValueOfUint32(uint32(n)), nil
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return protoreflect.Value{}, errors.New("not an unsigned 64-bit integer")
		}
		return protoreflect.ValueOfUint64(n), nil
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		bits := 64
		if fd.Kind() == protoreflect.FloatKind {
			bits = 32
		}
		f, err := strconv.ParseFloat(s, bits)
		if err != nil || (math.IsInf(f, 0) && !strings.Contains(strings.ToLower(s), "inf")) {
			return protoreflect.Value{}, errors.New("not a number")
		}
		if bits == 32 {
			return protoreflect.ValueOfFloat32(float32(f)), nil
		}
		return protoreflect.ValueOfFloat64(f), nil
	case protoreflect.BytesKind:
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			if b, err := enc.DecodeString(s); err == nil {
				return protoreflect.ValueOfBytes(b), nil
			}
		}
		return protoreflect.Value{}, errors.New("not base64")
	case protoreflect.EnumKind:
		ed := fd.Enum()
		if v := ed.Values().ByName(protoreflect.Name(s)); v != nil {
			return protoreflect.ValueOfEnum(v.Number()), nil
		}
		if n, err := strconv.ParseInt(s, 10, 32); err == nil {
			return protoreflect.ValueOfEnum(protoreflect.EnumNumber(n)), nil
		}
		return protoreflect.Value{}, fmt.Errorf("not a value of %s", ed.FullName())
	case protoreflect.MessageKind:
		return parseMessageValue(fd, s, msg)
	}
	return protoreflect.Value{}, fmt.Errorf("%v fields cannot be set from a string", fd.Kind())
}

// parseMessageValue parses the string forms of well-known types: the JSON
// string form for Timestamp, Duration and FieldMask; the wrapped scalar for
// wrappers; JSON (or a bare string) for Struct, Value and ListValue.
func parseMessageValue(fd protoreflect.FieldDescriptor, s string, parent protoreflect.Message) (protoreflect.Value, error) {
	md := fd.Message()
	var m protoreflect.Message
	if fd.IsList() {
		m = parent.NewField(fd).List().NewElement().Message()
	} else {
		m = parent.NewField(fd).Message()
	}
	return parseMessageValueInto(md, s, m)
}

// parseMessageValueInto parses s into m, a new message of type md.
func parseMessageValueInto(md protoreflect.MessageDescriptor, s string, m protoreflect.Message) (protoreflect.Value, error) {
	switch md.FullName() {
	case "google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask":
		q, _ := json.Marshal(s)
		if err := protojson.Unmarshal(q, m.Interface()); err != nil {
			return protoreflect.Value{}, fmt.Errorf("not a valid %s", md.Name())
		}
	case "google.protobuf.Value", "google.protobuf.Struct", "google.protobuf.ListValue":
		in := []byte(s)
		if !json.Valid(in) && md.FullName() == "google.protobuf.Value" {
			v := structpb.NewStringValue(s)
			proto.Merge(m.Interface(), v)
			break
		}
		if err := protojson.Unmarshal(in, m.Interface()); err != nil {
			return protoreflect.Value{}, fmt.Errorf("not a valid %s", md.Name())
		}
	default: // wrappers
		vf := md.Fields().ByName("value")
		if vf == nil {
			return protoreflect.Value{}, fmt.Errorf("%s cannot be set from a string", md.FullName())
		}
		v, err := parseValue(vf, s, m)
		if err != nil {
			return protoreflect.Value{}, err
		}
		m.Set(vf, v)
	}
	return protoreflect.ValueOfMessage(m), nil
}

// setPath sets the field at fds (a path from msg) to the parsed s,
// appending for repeated fields.
func setPath(msg protoreflect.Message, fds []protoreflect.FieldDescriptor, s, name string) error {
	for _, fd := range fds[:len(fds)-1] {
		msg = msg.Mutable(fd).Message()
	}
	fd := fds[len(fds)-1]
	v, err := parseValue(fd, s, msg)
	if err != nil {
		return &fieldError{field: name, reason: "INVALID_VALUE", desc: fmt.Sprintf("%q is %v", s, err)}
	}
	if fd.IsList() {
		msg.Mutable(fd).List().Append(v)
		return nil
	}
	msg.Set(fd, v)
	return nil
}

// setMapEntry sets one entry of the map field at fds (a path from msg),
// for a "name[key]=value" query parameter.
func setMapEntry(msg protoreflect.Message, fds []protoreflect.FieldDescriptor, key, s, name string) error {
	for _, fd := range fds[:len(fds)-1] {
		msg = msg.Mutable(fd).Message()
	}
	fd := fds[len(fds)-1]
	if fd.MapValue().Kind() == protoreflect.MessageKind && !scalarMessage(fd.MapValue().Message()) {
		return &fieldError{field: name, reason: "INVALID_VALUE", desc: "map values of message type cannot be set from the query"}
	}
	k, err := parseValue(fd.MapKey(), key, msg)
	if err != nil {
		return &fieldError{field: name, reason: "INVALID_VALUE", desc: fmt.Sprintf("key %q is %v", key, err)}
	}
	m := msg.Mutable(fd).Map()
	var v protoreflect.Value
	if fd.MapValue().Kind() == protoreflect.MessageKind {
		// parseValue builds message values for a field of the parent;
		// a map value needs one of its own type.
		v, err = parseMessageValueInto(fd.MapValue().Message(), s, m.NewValue().Message())
	} else {
		v, err = parseValue(fd.MapValue(), s, msg)
	}
	if err != nil {
		return &fieldError{field: name, reason: "INVALID_VALUE", desc: fmt.Sprintf("%q is %v", s, err)}
	}
	m.Set(k.MapKey(), v)
	return nil
}

// bindPath writes the path variables into msg.
func (r *route) bindPath(msg protoreflect.Message, path reqPath) error {
	i := 0
	_, err := r.tmpl.Match(path.escaped, path.segs, func(v httprule.Var, value string) error {
		fds, j := r.pathFields[i], r.pathStrings[i]
		i++
		if j >= 0 && r.inType != nil && utf8.ValidString(value) {
			if m := msg.Interface(); reflect.TypeOf(m) == r.inType {
				reflect.ValueOf(m).Elem().Field(j).SetString(value)
				return nil
			}
		}
		if !fds[len(fds)-1].IsList() {
			return setPath(msg, fds, value, v.Path)
		}
		// A repeated field's path value is a comma-separated list, as
		// grpc-gateway reads it.
		for {
			item, rest, more := strings.Cut(value, ",")
			if err := setPath(msg, fds, item, v.Path); err != nil {
				return err
			}
			if !more {
				return nil
			}
			value = rest
		}
	})
	// Match returns its own errors unwrapped; errors.As would move de to
	// the heap on every call.
	if de, ok := err.(*httprule.DecodeError); ok {
		return &fieldError{field: de.Var, reason: "INVALID_VALUE", desc: "malformed percent-encoding"}
	}
	return err
}

// bindQuery writes query parameters into msg: every field not bound by the
// path or the body, by proto or JSON name, nested with dots, repeated by
// repeating the key.
func (r *route) bindQuery(msg protoreflect.Message, rawQuery string, discardUnknown bool) error {
	if rawQuery == "" || r.body == "*" {
		return nil
	}
	var buf [4]protoreflect.FieldDescriptor // keeps short keys off the heap
	var seenBuf [8]string                   // keys of singular fields set so far
	seen := seenBuf[:0]
	for rawQuery != "" {
		var kv string
		kv, rawQuery, _ = strings.Cut(rawQuery, "&")
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return &fieldError{field: k, reason: "INVALID_VALUE", desc: "malformed query parameter name"}
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return &fieldError{field: key, reason: "INVALID_VALUE", desc: "malformed percent-encoding"}
		}
		var mapKey string
		hasKey := false
		if n := len(key); n > 0 && key[n-1] == ']' {
			// "m[k]=v" sets one entry of a map, as grpc-gateway reads it.
			if i := strings.IndexByte(key, '['); i > 0 {
				key, mapKey, hasKey = key[:i], key[i+1:n-1], true
			}
		}
		fds, name := queryField(buf[:0], msg.Descriptor(), key)
		if fds == nil {
			if discardUnknown {
				continue
			}
			return &fieldError{field: key, reason: "UNKNOWN_FIELD", desc: "no such field"}
		}
		if r.boundPrefix(name) {
			return &fieldError{field: name, reason: "BOUND_ELSEWHERE", desc: "set by the path or the body, not the query"}
		}
		last := fds[len(fds)-1]
		if hasKey != last.IsMap() {
			if hasKey {
				return &fieldError{field: name, reason: "INVALID_VALUE", desc: "not a map; [key] applies to maps only"}
			}
			return &fieldError{field: name, reason: "INVALID_VALUE", desc: "a map: set its entries (" + name + "[key]=value)"}
		}
		if hasKey {
			if err := setMapEntry(msg, fds, mapKey, val, name); err != nil {
				return err
			}
			continue
		}
		if last.Kind() == protoreflect.MessageKind && !last.IsList() && last.Message().Fields().Len() == 0 && val == "" {
			// A message with no fields (google.protobuf.Empty, often a
			// oneof member) has no field to name: "?x=" sets it.
			m := msg
			for _, fd := range fds[:len(fds)-1] {
				m = m.Mutable(fd).Message()
			}
			m.Mutable(last)
			continue
		}
		if last.Kind() == protoreflect.MessageKind && !scalarMessage(last.Message()) {
			return &fieldError{field: name, reason: "INVALID_VALUE", desc: "message fields cannot be set from the query; set their fields (" + name + ".x=...)"}
		}
		if !last.IsList() {
			// "?status=a&status=b" on a singular field is ambiguous: say
			// so rather than keep the last (grpc-gateway answers 400 too).
			for _, n := range seen {
				if n == key {
					return &fieldError{field: name, reason: "INVALID_VALUE", desc: "given more than once; the field is singular"}
				}
			}
			seen = append(seen, key)
		}
		if err := setPath(msg, fds, val, name); err != nil {
			return err
		}
	}
	return nil
}

// boundPrefix reports whether name, or a field containing it, is bound by
// the path or body.
func (r *route) boundPrefix(name string) bool {
	for b := range r.bound {
		if strings.HasPrefix(name, b) && (len(name) == len(b) || name[len(b)] == '.') {
			return true
		}
	}
	return false
}

// queryField resolves a query key ("a.b", proto or JSON names) to fields,
// returning the proto-name path for messages. The fields are appended to
// dst.
func queryField(dst []protoreflect.FieldDescriptor, md protoreflect.MessageDescriptor, key string) ([]protoreflect.FieldDescriptor, string) {
	if strings.IndexByte(key, '.') < 0 { // the common case: a top-level field
		fd := md.Fields().ByName(protoreflect.Name(key))
		if fd == nil {
			fd = md.Fields().ByJSONName(key)
		}
		if fd == nil {
			return nil, ""
		}
		return append(dst, fd), string(fd.Name())
	}
	fds := dst
	var names []string
	for _, part := range strings.Split(key, ".") {
		if md == nil {
			return nil, ""
		}
		fd := md.Fields().ByName(protoreflect.Name(part))
		if fd == nil {
			fd = md.Fields().ByJSONName(part)
		}
		if fd == nil || (len(fds) > 0 && fds[len(fds)-1].IsList()) {
			return nil, ""
		}
		fds = append(fds, fd)
		names = append(names, string(fd.Name()))
		md = fd.Message()
	}
	return fds, strings.Join(names, ".")
}
