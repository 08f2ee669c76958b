//go:build tools

package conformance

// Pins the code generators' modules in go.mod so `go generate` is reproducible.
import (
	_ "google.golang.org/grpc/cmd/protoc-gen-go-grpc"
	_ "google.golang.org/protobuf/cmd/protoc-gen-go"
)
