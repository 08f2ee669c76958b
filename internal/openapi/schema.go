package openapi

import (
	"sort"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// schemas collects the component schemas that operations refer to, one per
// message or enum, named by full proto name.
type schemas struct {
	protoNames bool
	comments   func(protoreflect.Descriptor) string
	defs       map[string]any
	// links and hal say which messages get a links member, and its form;
	// usedLinks records that one did, so the link schemas are defined.
	links     func(protoreflect.MessageDescriptor) bool
	hal       bool
	usedLinks bool
}

func ref(name string) map[string]any {
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

// nullable widens a schema to also accept JSON null, which protojson emits
// for unset fields with presence when unpopulated fields are emitted.
func nullable(s map[string]any) map[string]any {
	if t, ok := s["type"].(string); ok && len(s) <= 3 {
		out := map[string]any{}
		for k, v := range s {
			out[k] = v
		}
		out["type"] = []any{t, "null"}
		if e, ok := out["enum"].([]any); ok {
			out["enum"] = append(append([]any{}, e...), nil)
		}
		return out
	}
	return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
}

// message returns a schema referring to md, defining it on first use.
func (s *schemas) message(md protoreflect.MessageDescriptor) map[string]any {
	if wk := s.wellKnown(md); wk != nil {
		return wk
	}
	name := string(md.FullName())
	if _, ok := s.defs[name]; !ok {
		s.defs[name] = nil // reserve: recursive messages refer to themselves
		s.defs[name] = s.object(md)
	}
	return ref(name)
}

func (s *schemas) enum(ed protoreflect.EnumDescriptor) map[string]any {
	if ed.FullName() == "google.protobuf.NullValue" {
		return map[string]any{"type": "null"}
	}
	name := string(ed.FullName())
	if _, ok := s.defs[name]; !ok {
		vals := ed.Values()
		names := make([]any, 0, vals.Len())
		for i := 0; i < vals.Len(); i++ {
			names = append(names, string(vals.Get(i).Name()))
		}
		def := map[string]any{"type": "string", "enum": names}
		if c := s.comment(ed); c != "" {
			def["description"] = c
		}
		s.defs[name] = def
	}
	return ref(name)
}

func (s *schemas) comment(d protoreflect.Descriptor) string {
	if s.comments == nil {
		return ""
	}
	return s.comments(d)
}

func (s *schemas) jsonName(fd protoreflect.FieldDescriptor) string {
	if s.protoNames {
		return string(fd.Name())
	}
	return fd.JSONName()
}

func (s *schemas) object(md protoreflect.MessageDescriptor) map[string]any {
	props := map[string]any{}
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		fs := s.field(fd)
		if c := s.comment(fd); c != "" || isDeprecated(fd) {
			fs = withDoc(fs, c, isDeprecated(fd))
		}
		props[s.jsonName(fd)] = fs
	}
	if s.links != nil && s.links(md) {
		s.usedLinks = true
		if s.hal {
			props["_links"] = ref(halLinksSchema)
		} else {
			props["links"] = map[string]any{"type": "array", "items": ref(linkSchema),
				"description": "Hypermedia links, added by the REST transcoder; not a field of the message."}
		}
	}
	obj := map[string]any{"type": "object", "properties": props}
	if c := s.comment(md); c != "" {
		obj["description"] = c
	}
	if isDeprecated(md) {
		obj["deprecated"] = true
	}
	// A oneof admits at most one of its members: say so pairwise, which
	// validators check and readers understand.
	var exclusions []any
	oneofs := md.Oneofs()
	for i := 0; i < oneofs.Len(); i++ {
		od := oneofs.Get(i)
		if od.IsSynthetic() {
			continue
		}
		of := od.Fields()
		for a := 0; a < of.Len(); a++ {
			for b := a + 1; b < of.Len(); b++ {
				exclusions = append(exclusions, map[string]any{"not": map[string]any{
					"required": []any{s.jsonName(of.Get(a)), s.jsonName(of.Get(b))},
				}})
			}
		}
	}
	if len(exclusions) > 0 {
		obj["allOf"] = exclusions
	}
	return obj
}

// withDoc attaches a description and the deprecated flag to a field schema.
// A bare $ref is wrapped, since siblings of $ref are only honoured by
// OpenAPI 3.1 tools that follow JSON Schema 2020-12 to the letter.
func withDoc(fs map[string]any, comment string, deprecated bool) map[string]any {
	out := map[string]any{}
	if _, isRef := fs["$ref"]; isRef {
		out["allOf"] = []any{fs}
	} else {
		for k, v := range fs {
			out[k] = v
		}
	}
	if comment != "" {
		out["description"] = comment
	}
	if deprecated {
		out["deprecated"] = true
	}
	return out
}

func (s *schemas) field(fd protoreflect.FieldDescriptor) map[string]any {
	if fd.IsMap() {
		return map[string]any{
			"type":                 "object",
			"additionalProperties": s.singular(fd.MapValue()),
		}
	}
	if fd.IsList() {
		return map[string]any{"type": "array", "items": s.singular(fd)}
	}
	one := s.singular(fd)
	// protojson (with EmitUnpopulated, grpc-gateway's default) writes null
	// for unset fields that have presence.
	if fd.HasPresence() && fd.ContainingOneof() == nil || fd.HasPresence() && fd.ContainingOneof().IsSynthetic() {
		return nullable(one)
	}
	return one
}

// singular is the schema of one value of fd, following protojson.
func (s *schemas) singular(fd protoreflect.FieldDescriptor) map[string]any {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return map[string]any{"type": "boolean"}
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return map[string]any{"type": "integer", "format": "int32"}
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return map[string]any{"type": "integer", "format": "uint32", "minimum": 0}
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		// protojson writes 64-bit integers as strings and reads either form.
		return map[string]any{"type": []any{"string", "integer"}, "format": "int64", "pattern": `^-?[0-9]+$`}
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return map[string]any{"type": []any{"string", "integer"}, "format": "uint64", "pattern": `^[0-9]+$`}
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		format := "double"
		if fd.Kind() == protoreflect.FloatKind {
			format = "float"
		}
		return map[string]any{"anyOf": []any{
			map[string]any{"type": "number", "format": format},
			map[string]any{"type": "string", "enum": []any{"NaN", "Infinity", "-Infinity"}},
		}}
	case protoreflect.StringKind:
		return map[string]any{"type": "string"}
	case protoreflect.BytesKind:
		return map[string]any{"type": "string", "format": "byte", "contentEncoding": "base64"}
	case protoreflect.EnumKind:
		return s.enum(fd.Enum())
	default: // message, group
		return s.message(fd.Message())
	}
}

// wellKnown returns the inline schema of a well-known type that protojson
// renders specially, or nil.
func (s *schemas) wellKnown(md protoreflect.MessageDescriptor) map[string]any {
	name := md.FullName()
	if name.Parent() != "google.protobuf" {
		return nil
	}
	switch name.Name() {
	case "Timestamp":
		return map[string]any{"type": "string", "format": "date-time"}
	case "Duration":
		return map[string]any{"type": "string", "pattern": `^-?[0-9]+(\.[0-9]{1,9})?s$`, "examples": []any{"1.5s"}}
	case "FieldMask":
		return map[string]any{"type": "string", "description": "Comma-separated field paths in lowerCamelCase."}
	case "Struct":
		return map[string]any{"type": "object", "additionalProperties": true}
	case "ListValue":
		return map[string]any{"type": "array"}
	case "Value":
		return map[string]any{}
	case "Empty":
		return map[string]any{"type": "object", "maxProperties": 0}
	case "Any":
		return map[string]any{"type": "object", "properties": map[string]any{"@type": map[string]any{"type": "string"}},
			"required": []any{"@type"}, "additionalProperties": true}
	case "BoolValue", "StringValue", "BytesValue", "Int32Value", "UInt32Value",
		"Int64Value", "UInt64Value", "FloatValue", "DoubleValue":
		return s.singular(md.Fields().ByName("value"))
	}
	return nil
}

func isDeprecated(d protoreflect.Descriptor) bool {
	type deprecator interface{ GetDeprecated() bool }
	if o, ok := d.Options().(deprecator); ok {
		return o.GetDeprecated()
	}
	return false
}

// sortedKeys returns m's keys in order, for deterministic output.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// fieldByPath resolves a dotted field path (as in http rules) on md.
func fieldByPath(md protoreflect.MessageDescriptor, path string) []protoreflect.FieldDescriptor {
	var out []protoreflect.FieldDescriptor
	for _, part := range strings.Split(path, ".") {
		if md == nil {
			return nil
		}
		fd := md.Fields().ByName(protoreflect.Name(part))
		if fd == nil {
			return nil
		}
		out = append(out, fd)
		md = fd.Message()
	}
	return out
}
