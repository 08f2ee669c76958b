// Command protogen regenerates every .pb.go file in the module from the
// .proto files beside it. It is what `go generate ./...` runs.
//
// Reproducibility comes from three pins: protoc is Debian's
// protobuf-compiler, protoc-gen-go is built from the google.golang.org/protobuf
// version in go.mod, and protoc-gen-go-grpc is installed at the version below.
//
// No third-party .proto source lives in the repository. The files our protos
// import (google/api/*.proto, the well-known types, google/rpc/*.proto) are
// rebuilt from the descriptors that genproto and protobuf-go link into this
// program, written as a FileDescriptorSet and handed to protoc with
// --descriptor_set_in.
package main

import (
	"flag"
	"fmt"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/duetrpc/duet/internal/descset"

	// Linked for their descriptors, which become the import set for protoc.
	_ "google.golang.org/genproto/googleapis/api/annotations"
	_ "google.golang.org/genproto/googleapis/api/httpbody"
	_ "google.golang.org/genproto/googleapis/rpc/code"
	_ "google.golang.org/genproto/googleapis/rpc/errdetails"
	_ "google.golang.org/genproto/googleapis/rpc/status"
	_ "google.golang.org/protobuf/types/known/anypb"
	_ "google.golang.org/protobuf/types/known/durationpb"
	_ "google.golang.org/protobuf/types/known/emptypb"
	_ "google.golang.org/protobuf/types/known/fieldmaskpb"
	_ "google.golang.org/protobuf/types/known/structpb"
	_ "google.golang.org/protobuf/types/known/timestamppb"
	_ "google.golang.org/protobuf/types/known/wrapperspb"
)

// grpcPluginVersion pins protoc-gen-go-grpc; bump it deliberately and
// regenerate.
const grpcPluginVersion = "v1.6.1"

// importRoots are the files protos in this repository may import. Their
// transitive dependencies are added automatically.
var importRoots = []string{
	"google/api/annotations.proto",
	"google/api/field_behavior.proto",
	"google/api/http.proto",
	"google/api/httpbody.proto",
	"google/rpc/code.proto",
	"google/rpc/error_details.proto",
	"google/rpc/status.proto",
	"google/protobuf/any.proto",
	"google/protobuf/duration.proto",
	"google/protobuf/empty.proto",
	"google/protobuf/field_mask.proto",
	"google/protobuf/struct.proto",
	"google/protobuf/timestamp.proto",
	"google/protobuf/wrappers.proto",
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("protogen: ")
	root := flag.String("root", ".", "module root to search for .proto files")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: protogen [-root dir] [proto-dir ...]")
		flag.PrintDefaults()
	}
	flag.Parse()

	tmp, err := os.MkdirTemp("", "protogen")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)

	setPath := filepath.Join(tmp, "imports.pb")
	if err := descset.Write(setPath, importRoots...); err != nil {
		log.Fatal(err)
	}
	genGo, genGRPC, err := buildPlugins(tmp)
	if err != nil {
		log.Fatal(err)
	}
	dirs, err := protoDirs(*root)
	if err != nil {
		log.Fatal(err)
	}
	if flag.NArg() > 0 { // only the directories named on the command line
		dirs = flag.Args()
	}
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(*root, dir, "*.proto"))
		sort.Strings(files)
		for i, f := range files {
			files[i], _ = filepath.Rel(*root, f)
		}
		args := []string{
			"--descriptor_set_in=" + setPath,
			"-I", ".",
			"--plugin=protoc-gen-go=" + genGo,
			"--plugin=protoc-gen-go-grpc=" + genGRPC,
			"--go_out=.", "--go_opt=paths=source_relative",
			"--go-grpc_out=.", "--go-grpc_opt=paths=source_relative",
		}
		args = append(args, files...)
		cmd := exec.Command("protoc", args...)
		cmd.Dir = *root
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			log.Fatalf("protoc %s: %v", strings.Join(files, " "), err)
		}
	}
}

// buildPlugins builds protoc-gen-go at the protobuf version this module
// requires and installs the pinned protoc-gen-go-grpc, both into dir.
func buildPlugins(dir string) (genGo, genGRPC string, err error) {
	genGo = filepath.Join(dir, "protoc-gen-go")
	build := exec.Command("go", "build", "-o", genGo, "google.golang.org/protobuf/cmd/protoc-gen-go")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", "", fmt.Errorf("building protoc-gen-go: %w", err)
	}
	install := exec.Command("go", "install", "google.golang.org/grpc/cmd/protoc-gen-go-grpc@"+grpcPluginVersion)
	install.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-mod=mod")
	install.Stdout, install.Stderr = os.Stderr, os.Stderr
	if err := install.Run(); err != nil {
		return "", "", fmt.Errorf("installing protoc-gen-go-grpc: %w", err)
	}
	return genGo, filepath.Join(dir, "protoc-gen-go-grpc"), nil
}

// protoDirs lists the directories under root that hold .proto files,
// relative to root, skipping nested modules (they generate their own code) and hidden folders.
func protoDirs(root string) ([]string, error) {
	set := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root {
				if strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" {
					return filepath.SkipDir
				}
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if strings.HasSuffix(path, ".proto") {
			rel, err := filepath.Rel(root, filepath.Dir(path))
			if err != nil {
				return err
			}
			set[rel] = true
		}
		return nil
	})
	var dirs []string
	for d := range set {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	return dirs, err
}
