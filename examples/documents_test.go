package examples_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/duetrpc/duet/examples/chat/chatpb"
	"github.com/duetrpc/duet/examples/files/filespb"
	"github.com/duetrpc/duet/examples/users/userspb"
	"github.com/duetrpc/duet/rest"
)

// -openapi.out writes the examples' documents to a directory, for CI to
// validate with tools/openapicheck (an independent OpenAPI 3.1 validator).
var outDir = flag.String("openapi.out", "", "write the OpenAPI documents to this directory")

// TestDocuments builds the document of each example's service as registered
// without the example's own options, and writes it for CI.
func TestDocuments(t *testing.T) {
	for name, register := range map[string]func(*rest.Handler){
		"examples-users.json": func(h *rest.Handler) { userspb.RegisterUserServiceServer(h, userspb.UnimplementedUserServiceServer{}) },
		"examples-files.json": func(h *rest.Handler) { filespb.RegisterFileServiceServer(h, filespb.UnimplementedFileServiceServer{}) },
		"examples-chat.json":  func(h *rest.Handler) { chatpb.RegisterChatServiceServer(h, chatpb.UnimplementedChatServiceServer{}) },
	} {
		h := rest.NewHandler()
		register(h)
		// users and files declare a bearer token, as their /openapi.json
		// does; chat is open to anyone in the room.
		b, err := h.OpenAPI(rest.OpenAPIOptions{Title: name, Version: "1.0.0", Bearer: name != "examples-chat.json"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(b) == 0 {
			t.Fatalf("%s: empty document", name)
		}
		if *outDir != "" {
			if err := os.WriteFile(filepath.Join(*outDir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
