package openapi_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/duetrpc/duet/hateoas"
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
	docs := map[string][]byte{"rest-testpb.json": doc}
	// Hypermedia on, in both styles: the documents describe the links
	// member the transcoder adds.
	for name, style := range map[string]hateoas.Style{"rest-testpb-links.json": hateoas.Array, "rest-testpb-hal.json": hateoas.HAL} {
		h := rest.NewHandler(rest.WithSelfLinks(), rest.WithLinkStyle(style),
			rest.WithCacheControl("/duet.test.v1.Kitchens/GetKitchen", "max-age=60"))
		testpb.RegisterKitchensServer(h, testpb.UnimplementedKitchensServer{})
		b, err := h.OpenAPI(rest.OpenAPIOptions{Title: name, Version: "1.0.0"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		docs[name] = b
	}
	return docs
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
	var doc, links, hal map[string]any
	for name, v := range map[string]*map[string]any{"rest-testpb.json": &doc, "rest-testpb-links.json": &links, "rest-testpb-hal.json": &hal} {
		if err := json.Unmarshal(docs[name], v); err != nil {
			t.Fatal(err)
		}
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

		{"GET has an ETag", get(doc, "paths", "/v1/kitchens/{id}", "get", "responses", "200", "headers", "ETag", "schema", "type"), "string"},
		{"GET answers 304", get(doc, "paths", "/v1/kitchens/{id}", "get", "responses", "304", "headers", "ETag", "schema", "type"), "string"},
		{"GET takes If-None-Match", lastParam(get(doc, "paths", "/v1/kitchens/{id}", "get", "parameters")), map[string]any{
			"name": "If-None-Match", "in": "header", "schema": map[string]any{"type": "string"},
			"description": "Entity tags of representations the client has (RFC 9110, section 13.1.2); when one matches, the answer is 304 Not Modified without a body."}},
		{"no Cache-Control unless configured", get(doc, "paths", "/v1/kitchens/{id}", "get", "responses", "200", "headers", "Cache-Control"), nil},
		{"Cache-Control when configured", get(links, "paths", "/v1/kitchens/{id}", "get", "responses", "200", "headers", "Cache-Control", "schema", "enum"), []any{"max-age=60"}},
		{"POST has no ETag", get(doc, "paths", "/v1/kitchens", "post", "responses", "201", "headers", "ETag"), nil},
		{"create keeps Location", get(doc, "paths", "/v1/kitchens", "post", "responses", "201", "headers", "Location", "schema", "type"), "string"},
		{"streams have no ETag", get(doc, "paths", "/v1/tail", "get", "responses", "304"), nil},
		{"List has a Link header", get(doc, "paths", "/v1/kitchens", "get", "responses", "200", "headers", "Link", "schema", "type"), "string"},
		{"Get has no Link header", get(doc, "paths", "/v1/kitchens/{id}", "get", "responses", "200", "headers", "Link"), nil},
		{"problems may carry Retry-After", get(doc, "paths", "/v1/kitchens/{id}", "get", "responses", "default", "headers", "Retry-After", "schema", "type"), "integer"},
		{"writes take If-Match", paramIn(get(doc, "paths", "/v1/kitchens/{id}", "delete", "parameters"), "If-Match"), "header"},
		{"reads do not", paramIn(get(doc, "paths", "/v1/kitchens/{id}", "get", "parameters"), "If-Match"), nil},
		{"problem members documented", get(doc, "components", "schemas", "Problem", "properties", "retry_delay", "type"), "string"},

		{"no links member without hypermedia", get(doc, "components", "schemas", "duet.test.v1.Kitchen", "properties", "links"), nil},
		{"no link schema without hypermedia", get(doc, "components", "schemas", "Link"), nil},
		{"links array on a resource with a Get", get(links, "components", "schemas", "duet.test.v1.Kitchen", "properties", "links", "items", "$ref"), "#/components/schemas/Link"},
		{"links array on a List response", get(links, "components", "schemas", "duet.test.v1.ListKitchensResponse", "properties", "links", "items", "$ref"), "#/components/schemas/Link"},
		{"Link requires rel and href", get(links, "components", "schemas", "Link", "required"), []any{"rel", "href"}},
		{"a message without links is there", get(links, "components", "schemas", "duet.test.v1.Nested", "type"), "object"},
		{"and has no links member", get(links, "components", "schemas", "duet.test.v1.Nested", "properties", "links"), nil},
		{"HAL _links", get(hal, "components", "schemas", "duet.test.v1.Kitchen", "properties", "_links", "$ref"), "#/components/schemas/HALLinks"},
		{"HAL has no links array", get(hal, "components", "schemas", "duet.test.v1.Kitchen", "properties", "links"), nil},
		{"HAL link requires href", get(hal, "components", "schemas", "HALLink", "required"), []any{"href"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

// lastParam is the last of an operation's parameters.
func lastParam(v any) any {
	params, _ := v.([]any)
	if len(params) == 0 {
		return nil
	}
	return params[len(params)-1]
}

// paramIn is where the named parameter of an operation goes, or nil.
func paramIn(v any, name string) any {
	params, _ := v.([]any)
	for _, p := range params {
		if m, _ := p.(map[string]any); m["name"] == name {
			return m["in"]
		}
	}
	return nil
}
