package openapi_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/duetrpc/duet/internal/testpb"
	"github.com/duetrpc/duet/rest"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/api/annotations"
)

// -openapi.out writes every document built here to a directory, for CI to
// validate with tools/openapicheck (an independent OpenAPI 3.1 validator).
var outDir = flag.String("openapi.out", "", "write the OpenAPI documents to this directory")

// documents are the documents CI validates.
func documents(t *testing.T) map[string][]byte {
	h := rest.NewHandler(rest.WithRule("/duet.test.v1.Plain/Say", &annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: "/v1/say/{s}"}}))
	testpb.RegisterKitchensServer(h, testpb.UnimplementedKitchensServer{})
	testpb.RegisterPlainServer(h, testpb.UnimplementedPlainServer{})
	doc, err := h.OpenAPI(rest.OpenAPIOptions{Title: "rest test proto", Version: "1.0.0", Bearer: true, APIKeyHeader: "X-Api-Key",
		Comments: map[string]string{"duet.test.v1.Kitchens.GetKitchen": "Gets a kitchen.\n\nBy id."}})
	if err != nil {
		t.Fatal(err)
	}
	// The examples' documents are written by the examples module's own
	// TestDocuments (examples/documents_test.go): the examples are a nested
	// module, which the library cannot import.
	return map[string][]byte{"rest-testpb.json": doc}
}

func TestDocuments(t *testing.T) {
	docs := documents(t)
	for name, b := range docs {
		if *outDir != "" {
			if err := os.WriteFile(filepath.Join(*outDir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	var doc map[string]any
	if err := json.Unmarshal(docs["rest-testpb.json"], &doc); err != nil {
		t.Fatal(err)
	}
	get := func(v any, keys ...string) any {
		for _, k := range keys {
			m, _ := v.(map[string]any)
			v = m[k]
		}
		return v
	}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"int64 is a string", get(doc, "components", "schemas", "duet.test.v1.Kitchen", "properties", "i64", "type"), []any{"string", "integer"}},
		{"json_name", get(doc, "components", "schemas", "duet.test.v1.Kitchen", "properties", "customJson", "type"), "string"},
		{"enum as names", get(doc, "components", "schemas", "duet.test.v1.Color", "enum"), []any{"COLOR_UNSPECIFIED", "RED", "GREEN"}},
		{"timestamp", get(doc, "components", "schemas", "duet.test.v1.Kitchen", "properties", "ts"), map[string]any{"type": []any{"string", "null"}, "format": "date-time"}},
		{"deprecated field", get(doc, "components", "schemas", "duet.test.v1.Kitchen", "properties", "old", "deprecated"), true},
		{"create is 201", get(doc, "paths", "/v1/kitchens", "post", "responses", "201", "description"), "Created"},
		{"delete is 204", get(doc, "paths", "/v1/kitchens/{id}", "delete", "responses", "204", "description"), "No Content"},
		{"problem errors", get(doc, "paths", "/v1/kitchens/{id}", "get", "responses", "default", "content", "application/problem+json", "schema", "$ref"), "#/components/schemas/Problem"},
		{"comment as summary", get(doc, "paths", "/v1/kitchens/{id}", "get", "summary"), "Gets a kitchen."},
		{"custom verb", get(doc, "paths", "/v1/kitchens/{id}:deactivate", "post", "operationId"), "Kitchens_DeactivateKitchen"},
		{"server streaming", get(doc, "paths", "/v1/tail", "get", "x-duet-streaming"), "server-streaming"},
		{"go rule", get(doc, "paths", "/v1/say/{s}", "get", "operationId"), "Plain_Say"},
		{"HttpBody download", get(doc, "paths", "/v1/files/{path}", "get", "responses", "200", "content", "*/*", "schema", "format"), "binary"},
		{"security", get(doc, "components", "securitySchemes", "bearer", "scheme"), "bearer"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}
