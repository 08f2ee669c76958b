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

// FuzzMarshal is the differential target for Marshal: a message of the
// type the first byte picks, filled from the rest, must marshal to
// protojson's tokens under every option set, or fail where protojson fails.
func FuzzMarshal(f *testing.F) {
	for i := range messages {
		f.Add([]byte{byte(i), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
		f.Add([]byte{byte(i), 0xff, 0xfe, 0x80, 0x41, 0x7f, 0x01, 0x00, 0x22, 0x5c, 0xc3, 0xa9, 0x99, 0x33, 0x55, 0x77, 0xaa, 0xbb, 0xcc, 0xdd, 0xee})
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		mt := messages[int(data[0])%len(messages)]
		m := mt.New()
		pbjsontest.Fill(m, pbjsontest.NewSource(data[1:]))
		for i, c := range codecs {
			if err := pbjsontest.CheckMarshal(c, pbjsontest.MarshalOptions[i], m.Interface()); err != nil {
				t.Fatal(err)
			}
		}
	})
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
