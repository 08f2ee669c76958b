package rest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzRequest sends arbitrary methods, paths, queries and bodies: the
// handler must never panic and never answer 500.
func FuzzRequest(f *testing.F) {
	seeds := []struct{ method, target, body string }{
		{"GET", "/v1/echo/e?i32=1&nested.child.s=x&ts=2024-01-01T00:00:00Z", ""},
		{"POST", "/v1/echo", `{"i64":"1","nested":{"child":{"i":2}},"labels":{"a":"b"}}`},
		{"POST", "/v1/echo/e/tags", `["a",1]`},
		{"PATCH", "/v1/kitchens/k", `{"nested":{"s":"x"}}`},
		{"GET", "/v1/shelves/1/books/2", ""},
		{"POST", "/v1/kitchens/k:deactivate", `{}`},
		{"POST", "/v1/collect", "{\"s\":\"a\"}\n{"},
		{"GET", "/v1/tail?count=2&fail_after=1", ""},
		{"GET", "/v1/files/a%2F/%2e%2e/b", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, s.body)
	}
	h := newHandler(f)
	f.Fuzz(func(t *testing.T, method, target, body string) {
		if len(body) > 1<<16 {
			return
		}
		switch method {
		case "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD":
		default:
			method = "POST"
		}
		if !strings.HasPrefix(target, "/") {
			target = "/" + target
		}
		req, err := http.NewRequest(method, "http://x"+target, strings.NewReader(body))
		if err != nil {
			return // net/http itself refuses such a request line
		}
		if strings.Contains(target, "/v1/tail") && strings.Contains(target, "count=-") {
			return // waits for the client to leave, by design
		}
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 && !strings.Contains(target, "/v1/fail") {
			t.Fatalf("%s %s %q: %d %s", method, target, body, rec.Code, rec.Body)
		}
	})
}
