package duet

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCORSOrigins(t *testing.T) {
	p := CORS{Origins: []string{"https://app.example.com", "https://*.example.com", "http://*.dev.test:8080"}, Credentials: true}.compile()
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"https://app.example.com", true},
		{"HTTPS://APP.EXAMPLE.COM", true}, // mixed case: origins compare case-insensitively
		{"https://a.example.com", true},
		{"https://a.b.example.com", true},
		{"https://example.com", false},            // the pattern is for subdomains
		{"http://a.example.com", false},           // scheme
		{"https://a.example.com:8443", false},     // port
		{"https://example.com.evil.net", false},   // lookalike suffix
		{"https://a.example.com.evil.net", false}, // lookalike suffix
		{"https://evilexample.com", false},        // no label boundary
		{"https://a.evilexample.com", false},      // no label boundary
		{"https://.example.com", false},           // empty label
		{"https://a.example.com/path", false},     // not an origin
		{"https://user@a.example.com", false},     // not an origin
		{"null", false},                           // opaque origin
		{"https://evil.example", false},
		{"http://a.dev.test:8080", true},
		{"http://a.dev.test", false},
		{"http://a.dev.test:80800", false},
	} {
		got, ok := p.allowOrigin(tc.origin)
		if ok != tc.ok || (ok && got != tc.origin) {
			t.Errorf("%q: allowed %v (%q), want %v", tc.origin, ok, got, tc.ok)
		}
	}
}

func TestCORSAnyWithCredentialsPanics(t *testing.T) {
	for _, c := range []CORS{
		{Origins: []string{"*"}, Credentials: true},
		{Origins: []string{"https://*"}},
		{Origins: []string{"https://a.*.example.com"}},
		{Origins: []string{"*.example.com"}},
	} {
		func() {
			defer func() {
				if v := recover(); v == nil || !strings.Contains(v.(string), "duet: CORS") {
					t.Errorf("%+v: panic %v, want a duet: CORS panic", c, v)
				}
			}()
			NewServer(WithCORS(c))
		}()
	}
	// Without credentials "*" stays allowed and answers "*".
	p := CORS{Origins: []string{"*"}}.compile()
	if got, ok := p.allowOrigin("https://evil.example"); !ok || got != "*" {
		t.Errorf(`"*" without credentials: %q %v`, got, ok)
	}
}

func TestCORSPreflightRefusals(t *testing.T) {
	p := CORS{Origins: []string{"https://app.example.com"}, Headers: []string{"X-Tenant"}}.compile()
	for _, tc := range []struct {
		name, origin, method, headers string
		want                          int
	}{
		{"allowed", "https://app.example.com", "PATCH", "Content-Type, X-Tenant, if-match", http.StatusNoContent},
		{"safelisted header", "https://app.example.com", "GET", "accept-language", http.StatusNoContent},
		{"foreign origin", "https://evil.example", "GET", "", http.StatusForbidden},
		{"method not allowed", "https://app.example.com", "TRACE", "", http.StatusForbidden},
		{"header not allowed", "https://app.example.com", "POST", "content-type, x-secret", http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodOptions, "/v1/kitchens", nil)
			r.Header.Set("Origin", tc.origin)
			r.Header.Set("Access-Control-Request-Method", tc.method)
			if tc.headers != "" {
				r.Header.Set("Access-Control-Request-Headers", tc.headers)
			}
			w := httptest.NewRecorder()
			if !p.handle(w, r) {
				t.Fatal("preflight not answered")
			}
			if w.Code != tc.want {
				t.Errorf("status %d, want %d", w.Code, tc.want)
			}
			if allow := w.Header().Get("Access-Control-Allow-Origin"); (tc.want == http.StatusForbidden) != (allow == "") {
				t.Errorf("Access-Control-Allow-Origin %q with status %d", allow, w.Code)
			}
		})
	}
}
