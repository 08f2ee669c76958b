package pbjson_test

import (
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/duetrpc/duet/internal/pbjson/pbjsontest"
	"github.com/duetrpc/duet/internal/testpb"
)

// messages are the message types this differential target covers: every
// message of the test protos and of every file they import (the
// well-known types, google.api's, descriptor.proto's proto2 messages).
// The examples module and the bench module have targets of their own over
// their protos.
var messages = pbjsontest.Messages(
	testpb.File_internal_testpb_test_proto,
	structpb.File_google_protobuf_struct_proto,
)

var codecs = pbjsontest.Codecs()

// FuzzMarshal is the differential target for Marshal over the root
// module's protos.
func FuzzMarshal(f *testing.F) {
	pbjsontest.FuzzMarshal(f, messages)
}

func TestMessagesCovered(t *testing.T) {
	names := map[protoreflect.FullName]bool{}
	for _, mt := range messages {
		names[mt.Descriptor().FullName()] = true
	}
	for _, want := range []protoreflect.FullName{
		"duet.test.v1.Kitchen", "google.protobuf.Value",
		"google.protobuf.Timestamp", "google.protobuf.Any", "google.protobuf.FieldMask",
		"google.protobuf.FieldDescriptorProto", "google.api.HttpBody",
	} {
		if !names[want] {
			t.Errorf("differential targets do not cover %v", want)
		}
	}
}
