package main

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var param = regexp.MustCompile(`\{[^}]*\}`)

// TestOpenAPI fetches the document the server publishes and checks that it
// is OpenAPI 3.1 describing the users API. Its validity against the
// specification and the server's agreement with it are checked in CI by
// tools/openapicheck.
func TestOpenAPI(t *testing.T) {
	base, _, _ := start(t)
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
	// Every REST route of users.proto, as the README lists them. Parameter
	// names are left out: {id} and {user.id} name the same path segment,
	// and OpenAPI wants one name per path.
	want := []string{
		"DELETE /v1/users/{}",
		"GET /v1/orders/{}",
		"GET /v1/users",
		"GET /v1/users/{}",
		"GET /v1/users/{}/orders",
		"PATCH /v1/users/{}",
		"POST /v1/users",
		"POST /v1/users/{}/orders",
		"POST /v1/users/{}:deactivate",
		"PUT /v1/users/{}",
	}
	var got []string
	for path, ops := range doc.Paths {
		if !strings.HasPrefix(path, "/v1/") {
			continue // health's default routes
		}
		for method := range ops {
			if method == "parameters" {
				continue
			}
			got = append(got, strings.ToUpper(method)+" "+param.ReplaceAllString(path, "{}"))
		}
	}
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("operations (-want +got):\n%s", diff)
	}
}
