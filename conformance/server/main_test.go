package main

import (
	"bytes"
	"testing"

	v1 "github.com/duetrpc/duet/conformance/internal/conformancev1"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/testing/protocmp"
)

// TestMessageFraming: the runner's size-prefixed framing, both ways.
func TestMessageFraming(t *testing.T) {
	want := &v1.ServerCompatResponse{Host: "127.0.0.1", Port: 8080, PemCert: []byte("cert")}
	var buf bytes.Buffer
	if err := writeMessage(&buf, want); err != nil {
		t.Fatal(err)
	}
	if got := buf.Bytes()[:4]; !bytes.Equal(got, []byte{0, 0, 0, byte(buf.Len() - 4)}) {
		t.Fatalf("prefix %x for %d bytes", got, buf.Len()-4)
	}
	got := &v1.ServerCompatResponse{}
	if err := readMessage(&buf, got); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got, protocmp.Transform()); d != "" {
		t.Fatal(d)
	}
	if err := readMessage(bytes.NewReader([]byte{0xff, 0, 0, 0}), got); err == nil {
		t.Fatal("a 4 GiB size prefix was accepted")
	}
}

// TestHeaders: binary (-bin) header values come base64-encoded, padded or
// not, and go to grpc-go raw; names are lower-cased.
func TestHeaders(t *testing.T) {
	got := toMD([]*v1.Header{
		{Name: "X-Text", Value: []string{"a", "b"}},
		{Name: "x-data-bin", Value: []string{"AAEC", "AAE", "AAE="}},
	})
	want := metadata.MD{"x-text": {"a", "b"}, "x-data-bin": {"\x00\x01\x02", "\x00\x01", "\x00\x01"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatal(d)
	}
}
