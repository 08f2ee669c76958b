package pbjson_test

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/duetrpc/duet/internal/pbjson"
	"github.com/duetrpc/duet/internal/testpb"
)

func benchKitchen(i int) *testpb.Kitchen {
	return &testpb.Kitchen{
		Id: fmt.Sprint("k", i), Name: "kitchen with a \"quoted\" name", I32: 42, I64: -1 << 40, U64: 1 << 60,
		Fl: 1.5, Db: 3.14159, Flag: true, Data: []byte("some bytes"), Color: testpb.Color_GREEN,
		Tags: []string{"a", "b", "c"}, Nums: []int32{1, 2, 3}, Nested: &testpb.Nested{S: "n", I: 1},
		Labels: map[string]string{"env": "prod", "team": "core"},
		Ts:     timestamppb.New(timestamppb.Now().AsTime().Truncate(1000)), Dur: durationpb.New(1500000),
		Sv: wrapperspb.String("s"), St: &structpb.Struct{Fields: map[string]*structpb.Value{"k": structpb.NewBoolValue(true)}},
	}
}

// BenchmarkMarshal compares pbjson with protojson, both with duet's REST
// options, on one message and on a list of twenty.
func BenchmarkMarshal(b *testing.B) {
	opts := protojson.MarshalOptions{EmitUnpopulated: true}
	c := pbjson.New(opts, protojson.UnmarshalOptions{})
	list := &testpb.ListKitchensResponse{NextPageToken: "next"}
	for i := range 20 {
		list.Kitchens = append(list.Kitchens, benchKitchen(i))
	}
	msgs := []struct {
		name string
		m    proto.Message
	}{
		{"Kitchen", benchKitchen(0)},
		{"List20", list},
		{"Book", &testpb.Book{Name: "shelves/1/books/2", Title: "The Go Programming Language", Links: []string{"a", "b"}}},
	}
	for _, m := range msgs {
		b.Run(m.name+"/protojson", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := opts.Marshal(m.m); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(m.name+"/pbjson", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Marshal(m.m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPlan is what registration pays: building the plans of a
// message type and of every type it reaches, from nothing, per type.
func BenchmarkPlan(b *testing.B) {
	for _, mt := range messages {
		md := mt.Descriptor()
		if md.ParentFile().Package() == "google.protobuf" || md.ParentFile().Package() == "google.api" {
			continue
		}
		b.Run(string(md.FullName()), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				pbjson.New(protojson.MarshalOptions{EmitUnpopulated: true}, protojson.UnmarshalOptions{}).Prepare(md)
			}
		})
	}
}
