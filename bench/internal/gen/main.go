// Command gen regenerates bench/internal/bookpb: protoc-gen-go,
// protoc-gen-go-grpc and protoc-gen-grpc-gateway over book.proto.
//
// It follows internal/protogen in the root module: Debian's protoc, no
// third-party .proto in the repository (the imports are rebuilt from the
// descriptors genproto and protobuf-go link into this program and passed with
// --descriptor_set_in), and plugins pinned to the versions in this go.mod.
package main

import (
	"log"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/duetrpc/duet/internal/descset"

	_ "google.golang.org/genproto/googleapis/api/annotations"
	_ "google.golang.org/protobuf/types/known/timestamppb"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("gen: ")
	tmp, err := os.MkdirTemp("", "benchgen")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)

	set := filepath.Join(tmp, "imports.pb")
	if err := descset.Write(set, "google/api/annotations.proto", "google/protobuf/timestamp.proto"); err != nil {
		log.Fatal(err)
	}
	// Built from the module versions this go.mod requires, so go.sum pins them.
	plugins := map[string]string{
		"protoc-gen-go":           "google.golang.org/protobuf/cmd/protoc-gen-go",
		"protoc-gen-go-grpc":      "google.golang.org/grpc/cmd/protoc-gen-go-grpc",
		"protoc-gen-grpc-gateway": "github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway",
	}
	args := []string{"--descriptor_set_in=" + set, "-I", "."}
	for name, pkg := range plugins {
		bin := filepath.Join(tmp, name)
		run(".", "go", "build", "-o", bin, pkg)
		args = append(args, "--plugin="+name+"="+bin)
	}
	args = append(args,
		"--go_out=.", "--go_opt=paths=source_relative",
		"--go-grpc_out=.", "--go-grpc_opt=paths=source_relative",
		"--grpc-gateway_out=.", "--grpc-gateway_opt=paths=source_relative",
		"internal/bookpb/book.proto")
	run(".", "protoc", args...)
}

func run(dir, name string, args ...string) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		log.Fatalf("%s %v: %v", name, args, err)
	}
}
