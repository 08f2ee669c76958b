package rest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/api/annotations"

	"github.com/duetrpc/duet/rest"
)

// FuzzRequest sends arbitrary methods, paths, queries, bodies and Accept
// headers, to routes of every shape (response_body, the three kinds of
// stream, PATCH with automatic masks, repeated path fields, nested body
// fields, verbs holding ':'): the handler must never panic and never
// answer 500.
func FuzzRequest(f *testing.F) {
	seeds := []struct{ method, target, body, accept string }{
		{"GET", "/v1/echo/e?i32=1&nested.child.s=x&ts=2024-01-01T00:00:00Z", "", ""},
		{"POST", "/v1/echo", `{"i64":"1","nested":{"child":{"i":2}},"labels":{"a":"b"}}`, ""},
		{"POST", "/v1/echo/e/tags", `["a",1]`, ""},
		{"PATCH", "/v1/kitchens/k", `{"nested":{"s":"x"}}`, ""},
		{"GET", "/v1/shelves/1/books/2", "", ""},
		{"POST", "/v1/kitchens/k:deactivate", `{}`, ""},
		{"POST", "/v1/collect", "{\"s\":\"a\"}\n{", ""},
		{"GET", "/v1/tail?count=2&fail_after=1", "", ""},
		{"GET", "/v1/files/a%2F/%2e%2e/b", "", ""},
		// response_body: a message, an empty repeated field, a stream.
		{"GET", "/v1/children/x", "", ""},
		{"GET", "/v1/fz/tags/e", "", ""},
		{"GET", "/v1/fz/tail-i?count=3&fail_after=2", "", "text/event-stream"},
		// Streams: server (SSE and NDJSON), client, bidi.
		{"GET", "/v1/tail?count=2", "", "text/event-stream;q=0.5, application/x-ndjson"},
		{"POST", "/v1/collect", "{\"s\":\"a\"}\n{\"s\":\"b\"}\n", ""},
		{"POST", "/v1/chat", "{\"s\":\"a\"}\n{\"i\":\"x\"}\n", "application/x-ndjson"},
		// PATCH masks: body field and body "*", nested, with and without a
		// mask of the client's.
		{"PATCH", "/v1/kitchens/k", `{"name":"n","nested":{"child":{"i":1}},"labels":{"a":"b"}}`, ""},
		{"PATCH", "/v1/fz/star/k", `{"kitchen":{"nested":{"s":"x"}},"updateMask":"nested.s"}`, ""},
		{"PATCH", "/v1/fz/star/k", `{"kitchen":null}`, ""},
		// Repeated path fields, nested body fields, verbs holding ':'.
		{"GET", "/v1/fz/rep/a,b/1,,2", "", ""},
		{"POST", "/v1/fz/nested", `"s"`, ""},
		{"POST", "/v1/fz/verbs/x:a:b", `{}`, ""},
		{"GET", "/v1/kitchens/1", "", "Application/JSON;q=0.5, */*;q=0"},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, s.body, s.accept)
	}
	rule := func(method string, r *annotations.HttpRule) rest.Option { return rest.WithRule(method, r) }
	h := newHandler(f,
		rule("/duet.test.v1.Kitchens/Echo", &annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: "/v1/echo/{id}"},
			AdditionalBindings: []*annotations.HttpRule{
				{Pattern: &annotations.HttpRule_Post{Post: "/v1/echo"}, Body: "*"},
				{Pattern: &annotations.HttpRule_Get{Get: "/v1/echo/{nested.s}/{nested.i}/nested"}},
				{Pattern: &annotations.HttpRule_Post{Post: "/v1/echo/{id}/nested"}, Body: "nested"},
				{Pattern: &annotations.HttpRule_Post{Post: "/v1/echo/{id}/tags"}, Body: "tags"},
				{Pattern: &annotations.HttpRule_Get{Get: "/v1/fz/tags/{id}"}, ResponseBody: "tags"},
				{Pattern: &annotations.HttpRule_Get{Get: "/v1/fz/rep/{tags}/{nums}"}},
				{Pattern: &annotations.HttpRule_Post{Post: "/v1/fz/nested"}, Body: "nested.s"},
				{Pattern: &annotations.HttpRule_Post{Post: "/v1/fz/verbs/{id}:b"}, Body: "*"},
			}}),
		rule("/duet.test.v1.Plain/Say", &annotations.HttpRule{Pattern: &annotations.HttpRule_Post{Post: "/v1/fz/verbs/{s}:a:b"}, Body: "*"}),
		rule("/duet.test.v1.Kitchens/Tail", &annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: "/v1/tail"},
			AdditionalBindings: []*annotations.HttpRule{{Pattern: &annotations.HttpRule_Get{Get: "/v1/fz/tail-i"}, ResponseBody: "i"}}}),
		rule("/duet.test.v1.Kitchens/UpdateKitchen", &annotations.HttpRule{Pattern: &annotations.HttpRule_Patch{Patch: "/v1/kitchens/{kitchen.id}"}, Body: "kitchen",
			AdditionalBindings: []*annotations.HttpRule{{Pattern: &annotations.HttpRule_Patch{Patch: "/v1/fz/star/{kitchen.id}"}, Body: "*"}}}),
	)
	if s := h.Skipped(); len(s) > 0 {
		f.Fatalf("skipped bindings: %v", s)
	}
	f.Fuzz(func(t *testing.T, method, target, body, accept string) {
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
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 && !strings.Contains(target, "/v1/fail") {
			t.Fatalf("%s %s %q: %d %s", method, target, body, rec.Code, rec.Body)
		}
	})
}
