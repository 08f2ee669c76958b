package pbjson_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/duetrpc/duet/internal/pbjson"
	"github.com/duetrpc/duet/internal/pbjson/pbjsontest"
	"github.com/duetrpc/duet/internal/testpb"
)

// TestMarshalMatchesProtojson holds hand-picked messages, the cases the
// rules of proto3 JSON single out, to protojson under every option set.
func TestMarshalMatchesProtojson(t *testing.T) {
	anyDur, _ := anypb.New(durationpb.New(1500))
	anyNested, _ := anypb.New(&testpb.Nested{S: "x", I: 2})
	tests := []struct {
		name string
		msg  proto.Message
	}{
		{"nil", nil},
		{"empty", &testpb.Kitchen{}},
		{"typed nil", (*testpb.Kitchen)(nil)},
		{"scalars", &testpb.Kitchen{
			Id: "a\"b\\c\n\x01\u2028é", I32: math.MinInt32, I64: math.MinInt64, U32: math.MaxUint32,
			U64: math.MaxUint64, S32: -1, S64: -2, F32: 3, F64: 4, Sf32: -5, Sf64: -6,
			Fl: float32(math.Inf(-1)), Db: math.NaN(), Flag: true, Data: []byte{0, 1, 2, 0xff},
			Color: testpb.Color_GREEN,
		}},
		{"negative zero and exponents", &testpb.Kitchen{Fl: float32(math.Copysign(0, -1)), Db: 1e-7}},
		{"float32 exponent", &testpb.Kitchen{Fl: 1e21, Db: 1e21}},
		{"unknown enum", &testpb.Kitchen{Color: 42, Colors: []testpb.Color{1, -3, 0}}},
		{"lists and maps", &testpb.Kitchen{
			Tags: []string{"b", "a"}, Nums: []int32{3, -1},
			Items:  []*testpb.Nested{{S: "x"}, {}},
			Labels: map[string]string{"z": "1", "a": "2", "é": "3", "": "4"},
			ById:   map[int32]*testpb.Nested{10: {I: 1}, -2: {}, 3: {Child: &testpb.Nested{}}},
		}},
		{"optional set to zero", &testpb.Kitchen{Opt: proto.String("")}},
		{"oneof string", &testpb.Kitchen{Choice: &testpb.Kitchen_A{A: ""}}},
		{"oneof int", &testpb.Kitchen{Choice: &testpb.Kitchen_BNum{BNum: 0}}},
		{"well-known", &testpb.Kitchen{
			Ts:   &timestamppb.Timestamp{Seconds: -62135596800, Nanos: 1000},
			Dur:  &durationpb.Duration{Seconds: -1, Nanos: -500000000},
			Mask: &fieldmaskpb.FieldMask{Paths: []string{"a_b", "c.d_e"}},
			Sv:   wrapperspb.String(""), I64V: wrapperspb.Int64(-1), Bv: wrapperspb.Bool(false),
			St: &structpb.Struct{Fields: map[string]*structpb.Value{
				"n": structpb.NewNullValue(), "l": structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{structpb.NewNumberValue(1.5), structpb.NewStringValue("s")}}),
				"b": structpb.NewBoolValue(true), "s": structpb.NewStructValue(&structpb.Struct{}),
			}},
			Val: structpb.NewNumberValue(1e100),
		}},
		{"timestamp out of range", &testpb.Kitchen{Ts: &timestamppb.Timestamp{Seconds: 253402300800}}},
		{"duration signs differ", &testpb.Kitchen{Dur: &durationpb.Duration{Seconds: 1, Nanos: -1}}},
		{"empty value", &testpb.Kitchen{Val: &structpb.Value{}}},
		{"infinite value", &testpb.Kitchen{Val: structpb.NewNumberValue(math.Inf(1))}},
		{"irreversible mask", &testpb.Kitchen{Mask: &fieldmaskpb.FieldMask{Paths: []string{"a_1"}}}},
		{"invalid mask", &testpb.Kitchen{Mask: &fieldmaskpb.FieldMask{Paths: []string{"a..b"}}}},
		{"invalid UTF-8", &testpb.Kitchen{Name: "\xff"}},
		{"invalid UTF-8 key", &testpb.Kitchen{Labels: map[string]string{"\xc3": ""}}},
		{"any", &anypb.Any{TypeUrl: anyDur.TypeUrl, Value: anyDur.Value}},
		{"any of a message", anyNested},
		{"any unresolvable", &anypb.Any{TypeUrl: "example.com/nope"}},
		{"proto2", &descriptorpb.FieldDescriptorProto{Name: proto.String("x"), Type: descriptorpb.FieldDescriptorProto_TYPE_BOOL.Enum()}},
		{"proto2 with extensions", &descriptorpb.FieldOptions{Deprecated: proto.Bool(true)}},
		{"bare value", structpb.NewStringValue("v")},
		{"bare struct", &structpb.Struct{}},
		{"bare wrapper", wrapperspb.UInt64(math.MaxUint64)},
		{"bare timestamp", &timestamppb.Timestamp{Seconds: 1, Nanos: 120000000}},
		{"bare duration", &durationpb.Duration{Nanos: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, c := range codecs {
				if err := pbjsontest.CheckMarshal(c, pbjsontest.MarshalOptions[i], tt.msg); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestMarshalRandom runs the differential over pseudo-random input on
// every test run, not only under -fuzz.
func TestMarshalRandom(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < n; i++ {
		data := make([]byte, 1+r.IntN(400))
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		mt := messages[int(data[0])%len(messages)]
		m := mt.New()
		pbjsontest.Fill(m, pbjsontest.NewSource(data[1:]))
		for k, c := range codecs {
			if err := pbjsontest.CheckMarshal(c, pbjsontest.MarshalOptions[k], m.Interface()); err != nil {
				t.Fatalf("input %x: %v", data, err)
			}
		}
	}
}

func TestMultilineIsProtojson(t *testing.T) {
	o := protojson.MarshalOptions{Multiline: true, Indent: "\t"}
	c := pbjson.New(o, protojson.UnmarshalOptions{})
	m := &testpb.Kitchen{Name: "n", Tags: []string{"a"}}
	got, err := c.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := o.Marshal(m)
	if string(got) != string(want) {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestAppendPlanned: a prepared plan writes what Marshal writes, and a
// plan of another type, or none, is looked up instead of misused.
func TestAppendPlanned(t *testing.T) {
	c := pbjson.New(protojson.MarshalOptions{EmitUnpopulated: true}, protojson.UnmarshalOptions{})
	book := &testpb.Book{Title: "Dune"}
	nested := &testpb.Nested{S: "x"}
	bookPlan := c.Prepare(book.ProtoReflect().Descriptor())
	for _, tc := range []struct {
		name string
		m    proto.Message
		pl   pbjson.Plan
	}{
		{"its own plan", book, bookPlan},
		{"another type's plan", nested, bookPlan},
		{"no plan", nested, pbjson.Plan{}},
	} {
		want, err := c.Marshal(tc.m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.AppendPlanned([]byte("prefix"), tc.m, tc.pl)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if string(got) != "prefix"+string(want) {
			t.Errorf("%s: AppendPlanned = %s, want prefix%s", tc.name, got, want)
		}
	}
}
