package gostruct_test

import (
	"reflect"
	"testing"

	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/duetrpc/duet/internal/gostruct"
	"github.com/duetrpc/duet/internal/testpb"
)

func TestType(t *testing.T) {
	md := (&testpb.Nested{}).ProtoReflect().Descriptor()
	if got, want := gostruct.Type(md), reflect.TypeOf(&testpb.Nested{}); got != want {
		t.Errorf("Type(Nested) = %v, want %v", got, want)
	}
	// The same name from another descriptor (a dynamic copy of the file)
	// is not what the generated type was built from.
	fd, err := protodesc.NewFile(protodesc.ToFileDescriptorProto(md.ParentFile()), protoregistry.GlobalFiles)
	if err != nil {
		t.Fatal(err)
	}
	if got := gostruct.Type(fd.Messages().ByName("Nested")); got != nil {
		t.Errorf("Type(a copy of Nested's descriptor) = %v, want nil", got)
	}
}

func TestFields(t *testing.T) {
	st := reflect.TypeOf(testpb.Kitchen{})
	got := gostruct.Fields(st)
	for num, name := range map[protoreflect.FieldNumber]string{1: "Id", 33: "Opt", 36: "CamelCaseName"} {
		if i, ok := got[num]; !ok || st.Field(i).Name != name {
			t.Errorf("field %d: index %d (found %v), want the struct field %s", num, i, ok, name)
		}
	}
	// Oneof members live in wrapper types, not in the struct.
	for _, num := range []protoreflect.FieldNumber{34, 35} {
		if i, ok := got[num]; ok {
			t.Errorf("oneof member %d mapped to struct field %s", num, st.Field(i).Name)
		}
	}
}
