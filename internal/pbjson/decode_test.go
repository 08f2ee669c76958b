package pbjson_test

import (
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/duetrpc/duet/internal/pbjson"
	"github.com/duetrpc/duet/internal/pbjson/pbjsontest"
	"github.com/duetrpc/duet/internal/testpb"
)

var ucodecs = pbjsontest.UnmarshalCodecs()

// docs are documents the Unmarshal targets start from: plain requests,
// and the edges protojson rules on (duplicates, oneofs, nulls, numbers in
// every form, escapes, unknown fields and enum names, trailing bytes).
var docs = []string{
	`{}`, ` { } `, `{"id":"k1","name":"new","i32":5,"tags":["a","b"],"nested":{"s":"x","i":-3}}`,
	`{"i64":"-9223372036854775808","u64":"18446744073709551615","u32":4294967295,"s32":-2147483648}`,
	`{"i64":123,"u64":"1e3","i32":1.0,"i32":2}`, `{"i32":"5"}`, `{"i32":" 5"}`, `{"i32":-0}`, `{"i32":01}`,
	`{"fl":1e39,"db":-1.5e-300}`, `{"fl":"NaN","db":"-Infinity"}`, `{"fl":3.4028235e38}`,
	`{"flag":true,"data":"AAEC/w==","color":"GREEN","colors":["RED",2,"NOPE"]}`, `{"data":"AAEC_w"}`,
	`{"labels":{"a":"1","a":"2"}}`, `{"labels":{"a":"1","b":"2"},"byId":{"1":{"s":"x"},"-2":{}}}`, `{"byId":{"01":{}}}`,
	`{"a":"x","bNum":1}`, `{"a":null,"bNum":1}`, `{"opt":"","opt":null}`, `{"customJson":"c","camel_case_name":"d"}`,
	`{"camelCaseName":"x"}`, `{"nested":null,"items":null,"labels":null,"val":null,"st":null}`,
	`{"ts":"2026-11-29T21:00:00Z","dur":"1.5s","mask":"a,b.c","sv":"s","i64v":"3","bv":true}`,
	`{"unknown":{"deep":[1,2,{"x":null}]},"id":"x"}`, `{"id":"a\"b"}`, `{"id":"\u00e9"}`, `{"id":"é"}`,
	`{"id":"x"} x`, `{"id":"x",}`, `{"id" "x"}`, `[]`, `null`, ``, `{"id":"x"}{}`, `{"[ext]":1}`,
	`{"items":[{"s":"a"},{"child":{"child":{"i":1}}}],"nums":[1,-2,3]}`, `{"tags":[null]}`, `{"nums":[1,]}`,
}

// TestUnmarshalMatchesProtojson holds the documents above to protojson.
func TestUnmarshalMatchesProtojson(t *testing.T) {
	for _, mt := range []protoreflect.MessageType{(&testpb.Kitchen{}).ProtoReflect().Type(), (&testpb.CreateKitchenRequest{}).ProtoReflect().Type()} {
		for _, doc := range docs {
			for i, c := range ucodecs {
				if err := pbjsontest.CheckUnmarshal(c, pbjsontest.UnmarshalOptions[i], mt, []byte(doc)); err != nil {
					t.Error(err)
				}
			}
		}
	}
}

// TestUnmarshalFastPath: the documents requests send are read without
// protojson; the ones it must rule on are left to it.
func TestUnmarshalFastPath(t *testing.T) {
	c := pbjson.New(protojson.MarshalOptions{}, protojson.UnmarshalOptions{DiscardUnknown: true})
	for doc, fast := range map[string]bool{
		`{"id":"k1","name":"new","i32":5,"tags":["a","b"],"nested":{"s":"x","i":-3}}`:           true,
		`{"i64":"-1","u64":"2","labels":{"a":"b"},"byId":{"1":{}},"color":"RED","data":"AAE="}`: true,
		`{"unknown":[1,{"x":true}],"fl":1.5,"db":-2e-3,"flag":false,"bNum":3}`:                  true,
		`{"id":"a\"b"}`:                 false, // an escape
		`{"ts":"2026-11-29T21:00:00Z"}`: false, // a well-known type
		`{"id":"x","id":"y"}`:           false, // protojson's error to give
		`{"color":"NOPE"}`:              false,
	} {
		if got := pbjson.Fast(c, []byte(doc), &testpb.Kitchen{}); got != fast {
			t.Errorf("fast path on %s: %v, want %v", doc, got, fast)
		}
	}
}

// TestUnmarshalRandom runs the Unmarshal differential over documents
// protojson wrote for random messages, mutated at random, on every run.
func TestUnmarshalRandom(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < n; i++ {
		doc, mt := randomDoc(r)
		for k, c := range ucodecs {
			if err := pbjsontest.CheckUnmarshal(c, pbjsontest.UnmarshalOptions[k], mt, doc); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func randomDoc(r *rand.Rand) ([]byte, protoreflect.MessageType) {
	data := make([]byte, 1+r.IntN(300))
	for j := range data {
		data[j] = byte(r.Uint32())
	}
	mt := messages[int(data[0])%len(messages)]
	m := mt.New()
	pbjsontest.Fill(m, pbjsontest.NewSource(data[1:]))
	o := pbjsontest.MarshalOptions[r.IntN(len(pbjsontest.MarshalOptions))]
	o.AllowPartial = true
	doc, err := o.Marshal(m.Interface())
	if err != nil || len(doc) == 0 {
		return []byte(docs[r.IntN(len(docs))]), mt
	}
	for k := r.IntN(4); k > 0; k-- {
		switch j := r.IntN(len(doc)); r.IntN(3) {
		case 0:
			const alphabet = `{}[]",:0-1.eE"\ nultrfa`
			doc[j] = alphabet[r.IntN(len(alphabet))]
		case 1:
			doc = append(doc[:j], doc[j+1:]...)
		default:
			doc = append(doc[:j], append([]byte{doc[r.IntN(len(doc))]}, doc[j:]...)...)
		}
		if len(doc) == 0 {
			break
		}
	}
	return doc, mt
}

// FuzzUnmarshal is the differential target for Unmarshal: the document in
// the input, read into the message type its first byte picks, must be
// accepted exactly when protojson accepts it, as the same message, and
// rejected with protojson's error.
func FuzzUnmarshal(f *testing.F) {
	for i, doc := range docs {
		f.Add(append([]byte{byte(kitchenIndex())}, doc...))
		f.Add(append([]byte{byte(i)}, doc...))
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 100 {
		doc, mt := randomDoc(r)
		f.Add(append([]byte{byte(indexOf(mt))}, doc...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		mt := messages[int(data[0])%len(messages)]
		for k, c := range ucodecs {
			if err := pbjsontest.CheckUnmarshal(c, pbjsontest.UnmarshalOptions[k], mt, data[1:]); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func indexOf(mt protoreflect.MessageType) int {
	for i, m := range messages {
		if m.Descriptor() == mt.Descriptor() {
			return i
		}
	}
	return 0
}

func kitchenIndex() int { return indexOf((&testpb.Kitchen{}).ProtoReflect().Type()) }
