package rest_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestConditionalWrites: If-Match and If-None-Match on PUT, PATCH and
// DELETE are evaluated against the ETag a GET of the same path answers;
// a failed condition is 412 and the write does not happen.
func TestConditionalWrites(t *testing.T) {
	srv := serve(t, newHandler(t))
	etag := call(t, srv, "GET", "/v1/kitchens/k1", "").header.Get("ETag")
	if etag == "" {
		t.Fatal("GET answered no ETag")
	}
	for _, tc := range []struct {
		name, method, path, body string
		headers                  []string
		want                     int
	}{
		{"PATCH, current ETag", "PATCH", "/v1/kitchens/k1", `{"name":"x"}`, []string{"If-Match", etag}, http.StatusOK},
		{"PATCH, one of the ETags", "PATCH", "/v1/kitchens/k1", `{"name":"x"}`, []string{"If-Match", `"old", ` + etag}, http.StatusOK},
		{"PATCH, stale ETag", "PATCH", "/v1/kitchens/k1", `{"name":"x"}`, []string{"If-Match", `"stale"`}, http.StatusPreconditionFailed},
		{"PUT, weak ETag never matches If-Match", "PUT", "/v1/kitchens/k1", `{"name":"x"}`, []string{"If-Match", "W/" + etag}, http.StatusPreconditionFailed},
		{"PUT, current ETag", "PUT", "/v1/kitchens/k1", `{"name":"x"}`, []string{"If-Match", etag}, http.StatusOK},
		{"DELETE, If-Match * on a missing resource", "DELETE", "/v1/kitchens/missing", "", []string{"If-Match", "*"}, http.StatusPreconditionFailed},
		{"DELETE, If-Match * on an existing one", "DELETE", "/v1/kitchens/k1", "", []string{"If-Match", "*"}, http.StatusNoContent},
		{"DELETE, stale", "DELETE", "/v1/kitchens/k1", "", []string{"If-Match", `"stale"`}, http.StatusPreconditionFailed},
		{"PUT that creates, If-None-Match *, absent", "PUT", "/v1/kitchens/missing", `{"name":"x"}`, []string{"If-None-Match", "*"}, http.StatusOK},
		{"PUT that creates, If-None-Match *, present", "PUT", "/v1/kitchens/k1", `{"name":"x"}`, []string{"If-None-Match", "*"}, http.StatusPreconditionFailed},
		{"PUT, If-None-Match current ETag", "PUT", "/v1/kitchens/k1", `{"name":"x"}`, []string{"If-None-Match", etag}, http.StatusPreconditionFailed},
		{"no condition", "PATCH", "/v1/kitchens/k1", `{"name":"x"}`, nil, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := call(t, srv, tc.method, tc.path, tc.body, tc.headers...)
			if resp.status != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.status, tc.want, resp.body)
			}
			if tc.want == http.StatusPreconditionFailed {
				if ct := resp.header.Get("Content-Type"); ct != "application/problem+json" || !strings.Contains(string(resp.body), `"FAILED_PRECONDITION"`) {
					t.Errorf("412 is not a FAILED_PRECONDITION problem: %s %s", ct, resp.body)
				}
			}
		})
	}
}

// TestRepeatedSingularQuery: a singular field given twice in the query
// is ambiguous: 400 naming it, rather than keeping the last value.
func TestRepeatedSingularQuery(t *testing.T) {
	srv := serve(t, newHandler(t))
	resp := call(t, srv, "GET", "/v1/kitchens?filter=active&filter=inactive", "")
	if resp.status != http.StatusBadRequest || !strings.Contains(string(resp.body), `"field":"filter"`) {
		t.Errorf("got %d %s, want 400 naming filter", resp.status, resp.body)
	}
	// Repeated fields repeat their key.
	if resp := call(t, srv, "GET", "/v1/echo/e1?tags=a&tags=b", ""); resp.status != http.StatusOK {
		t.Errorf("repeated field: %d %s", resp.status, resp.body)
	}
}
