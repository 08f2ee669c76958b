package rest

import (
	"encoding/json"
	"errors"
	"strconv"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// decodeError explains why body does not decode into a message of type md,
// naming the offending member, in words of our own: protojson's error text
// is not an API (protobuf-go varies its prefix on purpose, so that no one
// parses it), so it is never shown or parsed. It runs only once a decode
// has failed. prefix is the proto path of the body within the request
// ("" for "*").
func (h *Handler) decodeError(body []byte, md protoreflect.MessageDescriptor, prefix string) error {
	field := prefix
	if field == "" {
		field = "body"
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		desc := "malformed JSON"
		var se *json.SyntaxError
		if errors.As(err, &se) {
			desc += " at byte " + strconv.FormatInt(se.Offset, 10)
		}
		return &fieldError{field: field, reason: "MALFORMED_JSON", desc: desc}
	}
	if fe := h.diagnose(md, body, prefix); fe != nil {
		return fe
	}
	return &fieldError{field: field, reason: "INVALID_VALUE", desc: "not a valid " + string(md.FullName())}
}

// diagnose finds the first member of the JSON object raw that does not fit
// md: unknown (when unknown members are refused) or of the wrong type. It
// returns nil when it finds none.
func (h *Handler) diagnose(md protoreflect.MessageDescriptor, raw json.RawMessage, prefix string) *fieldError {
	name := func(fd protoreflect.FieldDescriptor) string {
		if prefix == "" {
			return string(fd.Name())
		}
		return prefix + "." + string(fd.Name())
	}
	if scalarMessage(md) || md.FullName() == "google.protobuf.Any" {
		return nil // a JSON form of its own; the caller names the type
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		f := prefix
		if f == "" {
			f = "body"
		}
		return &fieldError{field: f, reason: "INVALID_VALUE", desc: "not a JSON object for " + string(md.FullName())}
	}
	fields := md.Fields()
	for k, v := range obj {
		fd := fields.ByJSONName(k)
		if fd == nil {
			fd = fields.ByName(protoreflect.Name(k))
		}
		if fd == nil {
			if h.cfg.unmarshal.DiscardUnknown {
				continue
			}
			f := k
			if prefix != "" {
				f = prefix + "." + k
			}
			return &fieldError{field: f, reason: "UNKNOWN_FIELD", desc: "no such field in " + string(md.FullName())}
		}
		one := make([]byte, 0, len(k)+len(v)+5)
		one = append(one, '{')
		one = strconv.AppendQuote(one, k)
		one = append(one, ':')
		one = append(one, v...)
		one = append(one, '}')
		probe := dynamicpb.NewMessage(md)
		if h.cfg.unmarshal.Unmarshal(one, probe.Interface()) == nil {
			continue
		}
		if fd.Message() != nil && !fd.IsList() && !fd.IsMap() {
			if fe := h.diagnose(fd.Message(), v, name(fd)); fe != nil {
				return fe
			}
		}
		return &fieldError{field: name(fd), reason: "INVALID_VALUE", desc: "not a valid " + kindName(fd)}
	}
	return nil
}

// kindName describes the JSON a field takes, for error messages.
func kindName(fd protoreflect.FieldDescriptor) string {
	var s string
	switch fd.Kind() {
	case protoreflect.BoolKind:
		s = "boolean"
	case protoreflect.StringKind:
		s = "string"
	case protoreflect.BytesKind:
		s = "base64 string"
	case protoreflect.EnumKind:
		s = "value of " + string(fd.Enum().FullName())
	case protoreflect.MessageKind, protoreflect.GroupKind:
		s = string(fd.Message().FullName())
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		s = "number"
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		s = "32-bit integer"
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		s = "unsigned 32-bit integer"
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		s = "64-bit integer"
	default:
		s = "unsigned 64-bit integer"
	}
	switch {
	case fd.IsMap():
		return "map of " + kindName(fd.MapValue())
	case fd.IsList():
		return "list of " + s
	}
	return s
}
