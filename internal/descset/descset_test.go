package descset

import (
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	_ "google.golang.org/genproto/googleapis/api/annotations"
)

// The set holds the root and its imports, each before the files that
// import it, as protoc requires.
func TestWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "set.pb")
	if err := Write(path, "google/api/annotations.proto"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, f := range set.File {
		pos[f.GetName()] = i
	}
	for _, f := range set.File {
		for _, dep := range f.GetDependency() {
			if p, ok := pos[dep]; !ok || p > pos[f.GetName()] {
				t.Errorf("%s imports %s, which is missing or comes later", f.GetName(), dep)
			}
		}
	}
	if _, ok := pos["google/protobuf/descriptor.proto"]; !ok {
		t.Errorf("set lacks the transitive import descriptor.proto: %v", pos)
	}
	if err := Write(path, "no/such.proto"); err == nil {
		t.Error("a file not linked in: no error")
	}
}
