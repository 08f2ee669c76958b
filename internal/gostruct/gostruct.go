// Package gostruct finds where protoc-gen-go puts a message's fields in
// its generated struct, for the hot paths (pbjson, rest's path binding)
// that read and write plain fields with reflect, which protoreflect's
// Get and Set would box on every call. It is consulted once per message
// type, when plans are built, never per request.
package gostruct

import (
	"reflect"
	"strconv"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// Type returns the generated Go type, a pointer to a struct, registered
// for md; nil when md has none (dynamic messages) or the registered type
// was built from another descriptor of the same name.
func Type(md protoreflect.MessageDescriptor) reflect.Type {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName())
	if err != nil || mt.Descriptor() != md {
		return nil
	}
	t := reflect.TypeOf(mt.Zero().Interface())
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil
	}
	return t
}

// Fields maps the field numbers in a generated struct's protobuf tags
// (`protobuf:"bytes,18,rep,name=tags,proto3"`) to the indexes of its
// exported fields. Oneof members, which live in a wrapper type behind an
// interface field, are not among them.
func Fields(t reflect.Type) map[protoreflect.FieldNumber]int {
	out := map[protoreflect.FieldNumber]int{}
	for i := 0; i < t.NumField(); i++ {
		if !t.Field(i).IsExported() {
			continue
		}
		parts := strings.Split(t.Field(i).Tag.Get("protobuf"), ",")
		if len(parts) < 3 {
			continue
		}
		if n, err := strconv.Atoi(parts[1]); err == nil {
			out[protoreflect.FieldNumber(n)] = i
		}
	}
	return out
}
