package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestOpenAPI fetches the document the server publishes and checks that it
// is OpenAPI 3.1 with both file routes, their raw-bytes bodies included.
func TestOpenAPI(t *testing.T) {
	base, _ := start(t)
	resp, err := http.Get(base + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /openapi.json: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Info    struct{ Title, Version string }       `json:"info"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" || doc.Info.Title != openAPIOptions.Title || doc.Info.Version != "1.0.0" {
		t.Errorf("openapi %q, info %+v", doc.OpenAPI, doc.Info)
	}
	var got []string
	for path, ops := range doc.Paths {
		for method := range ops {
			if method != "parameters" {
				got = append(got, strings.ToUpper(method)+" "+path)
			}
		}
	}
	slices.Sort(got)
	// Health (a grpc.* service) never gets default routes: only what a
	// rule names is served and documented.
	want := []string{"GET /v1/files/{file_id}", "POST /v1/files"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("operations (-want +got):\n%s", diff)
	}

	// google.api.HttpBody is raw bytes of any type, not a JSON object.
	var upload struct {
		RequestBody struct {
			Content map[string]struct{ Schema map[string]string } `json:"content"`
		} `json:"requestBody"`
	}
	if err := json.Unmarshal(doc.Paths["/v1/files"]["post"], &upload); err != nil {
		t.Fatal(err)
	}
	wantBody := map[string]struct{ Schema map[string]string }{"*/*": {Schema: map[string]string{"type": "string", "format": "binary"}}}
	if diff := cmp.Diff(wantBody, upload.RequestBody.Content); diff != "" {
		t.Errorf("upload request body (-want +got):\n%s", diff)
	}
}
