package descset

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/descriptorpb"

	_ "google.golang.org/genproto/googleapis/api/annotations"
	_ "google.golang.org/genproto/googleapis/api/httpbody"
	_ "google.golang.org/genproto/googleapis/rpc/code"
	_ "google.golang.org/genproto/googleapis/rpc/errdetails"
	_ "google.golang.org/genproto/googleapis/rpc/status"
)

// roundTrip are files whose printed source protoc must compile back to the
// linked descriptors: what cmd/protoimports writes by default, and the
// rest of genproto's api and rpc files, which use more of the syntax
// (nested messages, maps, enums with options, custom options).
var roundTrip = []string{
	"google/api/annotations.proto",
	"google/api/http.proto",
	"google/api/httpbody.proto",
	"google/api/field_behavior.proto",
	"google/api/client.proto",
	"google/api/resource.proto",
	"google/api/routing.proto",
	"google/api/field_info.proto",
	"google/rpc/code.proto",
	"google/rpc/error_details.proto",
	"google/rpc/status.proto",
}

// The printed source compiles, with Debian's protoc, to the very
// descriptors it was printed from (source info and json_name aside:
// protoc's --descriptor_set_out leaves default JSON names unset).
func TestSourceRoundTrip(t *testing.T) {
	protoc, err := exec.LookPath("protoc")
	if err != nil {
		if os.Getenv("DUET_CI") != "" {
			t.Fatal("protoc not found: apt-get install protobuf-compiler")
		}
		t.Skip("protoc not found: apt-get install protobuf-compiler")
	}
	dir := t.TempDir()
	written, err := WriteSources(dir, roundTrip...)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range written {
		if strings.HasPrefix(w, "google/protobuf/") {
			t.Errorf("wrote the well-known type %s, which protoc ships", w)
		}
	}
	out := filepath.Join(t.TempDir(), "set.pb")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, protoc, append([]string{"-I", dir, "--descriptor_set_out=" + out}, roundTrip...)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("protoc: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	if len(set.File) != len(roundTrip) {
		t.Fatalf("protoc compiled %d files, want %d", len(set.File), len(roundTrip))
	}
	for _, got := range set.File {
		fd, err := protoregistry.GlobalFiles.FindFileByPath(got.GetName())
		if err != nil {
			t.Fatal(err)
		}
		want := protodesc.ToFileDescriptorProto(fd)
		if diff := cmp.Diff(normalise(want), normalise(got), protocmp.Transform()); diff != "" {
			src, _ := Source(fd)
			t.Errorf("%s: protoc read back other definitions (-linked +printed):\n%s\nsource:\n%s", got.GetName(), diff, src)
		}
	}
}

func normalise(f *descriptorpb.FileDescriptorProto) *descriptorpb.FileDescriptorProto {
	f = proto.Clone(f).(*descriptorpb.FileDescriptorProto)
	f.SourceCodeInfo = nil
	var fields func(ms []*descriptorpb.DescriptorProto)
	clear := func(fs []*descriptorpb.FieldDescriptorProto) {
		for _, fd := range fs {
			fd.JsonName = nil
		}
	}
	fields = func(ms []*descriptorpb.DescriptorProto) {
		for _, m := range ms {
			clear(m.Field)
			clear(m.Extension)
			fields(m.NestedType)
		}
	}
	fields(f.MessageType)
	clear(f.Extension)
	return f
}

func TestSourceRefusesUnknown(t *testing.T) {
	if _, err := WriteSources(t.TempDir(), "no/such.proto"); err == nil {
		t.Error("a file not linked in: no error")
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:   `"plain"`,
		`a"b\c`:   `"a\"b\\c"`,
		"é\n\x00": `"\303\251\n\000"`,
	} {
		if got := quote(in); got != want {
			t.Errorf("quote(%q) = %s, want %s", in, got, want)
		}
	}
}
