// Command gen regenerates internal/conformancev1, the Go code for the
// Connect conformance suite's protos (connectrpc.conformance.v1) that the
// server-under-test needs. The suite generates that code only into an
// internal package of its own module, so we generate ours.
//
// It follows internal/protogen in the root module: Debian's protoc, plugins
// built from the versions this go.mod pins, and no third-party .proto in the
// repository. The suite's .proto files are read from the module cache
// (`go mod download` of the suite's module at suiteVersion, the version CI
// installs the runner at), and google/protobuf/any.proto from the
// descriptors protobuf-go links into this program.
package main

import (
	"encoding/json"
	"log"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/duetrpc/duet/internal/descset"

	_ "google.golang.org/protobuf/types/known/anypb"
)

// suiteVersion is the connectrpc.com/conformance release whose protos we
// compile; keep it equal to CONFORMANCE_VERSION in run.sh.
const suiteVersion = "v1.0.7"

const goPackage = "github.com/duetrpc/duet/conformance/internal/conformancev1"

var protos = []string{
	"connectrpc/conformance/v1/config.proto",
	"connectrpc/conformance/v1/server_compat.proto",
	"connectrpc/conformance/v1/service.proto",
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("gen: ")
	tmp, err := os.MkdirTemp("", "conformancegen")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)

	out, err := exec.Command("go", "mod", "download", "-json", "connectrpc.com/conformance@"+suiteVersion).Output()
	if err != nil {
		log.Fatalf("go mod download connectrpc.com/conformance@%s: %v", suiteVersion, err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		log.Fatalf("go mod download: no module directory in %s", out)
	}

	set := filepath.Join(tmp, "imports.pb")
	if err := descset.Write(set, "google/protobuf/any.proto"); err != nil {
		log.Fatal(err)
	}
	args := []string{"--descriptor_set_in=" + set, "-I", filepath.Join(mod.Dir, "proto")}
	for name, pkg := range map[string]string{
		"protoc-gen-go":      "google.golang.org/protobuf/cmd/protoc-gen-go",
		"protoc-gen-go-grpc": "google.golang.org/grpc/cmd/protoc-gen-go-grpc",
	} {
		bin := filepath.Join(tmp, name)
		run("go", "build", "-o", bin, pkg)
		args = append(args, "--plugin="+name+"="+bin)
	}
	const module = "module=github.com/duetrpc/duet/conformance"
	args = append(args, "--go_out=.", "--go_opt="+module, "--go-grpc_out=.", "--go-grpc_opt="+module)
	for _, p := range protos {
		m := "M" + p + "=" + goPackage
		args = append(args, "--go_opt="+m, "--go-grpc_opt="+m)
	}
	run("protoc", append(args, protos...)...)
}

func run(name string, args ...string) {
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		log.Fatalf("%s %v: %v", name, args, err)
	}
}
