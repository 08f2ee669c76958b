package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/duetrpc/duet/internal/testpb"
	"github.com/duetrpc/duet/problem"
	"github.com/duetrpc/duet/rest"
)

// The bindings grpc-gateway accepts, served with its semantics: bench's
// TestDifferential holds them against grpc-gateway itself; these pin them
// in the library's own tests.
func TestGatewayBindings(t *testing.T) {
	rule := func(r *annotations.HttpRule) *annotations.HttpRule { return r }
	h := newHandler(t,
		rest.WithStrictRules(),
		// A repeated field in the path: a comma-separated list.
		rest.WithRule("/duet.test.v1.Kitchens/Echo", rule(&annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: "/v1/rep/{tags}/{nums}"}})),
		// A body naming a field inside a sub-message, scalar and message.
		rest.WithRule("/duet.test.v1.Kitchens/Echo", rule(&annotations.HttpRule{Pattern: &annotations.HttpRule_Post{Post: "/v1/nested-body/s"}, Body: "nested.s"})),
		rest.WithRule("/duet.test.v1.Kitchens/Echo", rule(&annotations.HttpRule{Pattern: &annotations.HttpRule_Post{Post: "/v1/nested-body/child"}, Body: "nested.child"})),
		// A verb holding ':' beside one that is its tail.
		rest.WithRule("/duet.test.v1.Plain/Say", rule(&annotations.HttpRule{Pattern: &annotations.HttpRule_Post{Post: "/v1/verbs/{s}:a:b"}, Body: "*"})),
		rest.WithRule("/duet.test.v1.Kitchens/Echo", rule(&annotations.HttpRule{Pattern: &annotations.HttpRule_Post{Post: "/v1/verbs/{id}:b"}, Body: "*"})),
		// response_body naming an empty repeated field.
		rest.WithRule("/duet.test.v1.Kitchens/Echo", rule(&annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: "/v1/tags/{id}"}, ResponseBody: "tags"})),
	)
	srv := serve(t, h)
	tests := []struct {
		name, method, path, body string
		want                     string // the JSON body, compared by value
	}{
		{"repeated path fields", "GET", "/v1/rep/a,b%2Cc/1,2", "", `{"tags":["a","b","c"],"nums":[1,2]}`},
		{"nested scalar body", "POST", "/v1/nested-body/s", `"hello"`, `{"nested":{"s":"hello","i":0,"child":null}}`},
		{"nested message body", "POST", "/v1/nested-body/child", `{"s":"inner"}`, `{"nested":{"s":"","i":0,"child":{"s":"inner","i":0,"child":null}}}`},
		{"longest verb first", "POST", "/v1/verbs/x:a:b", `{}`, `{"s":"said x"}`},
		{"the shorter verb still routes", "POST", "/v1/verbs/x:b", `{}`, `{"id":"x"}`},
		{"empty repeated response_body", "GET", "/v1/tags/e", "", `[]`},
		{"map entries from the query", "GET", "/v1/rep/a/1?labels[a]=b&labels%5Bc%5D=d", "", `{"labels":{"a":"b","c":"d"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := call(t, srv, tt.method, tt.path, tt.body)
			if resp.status != 200 {
				t.Fatalf("%s %s = %d %s", tt.method, tt.path, resp.status, resp.body)
			}
			want := jsonOf(t, []byte(tt.want))
			got := jsonOf(t, resp.body)
			if w, ok := want.(map[string]any); ok {
				if d := subset(w, got.(map[string]any)); d != "" {
					t.Errorf("body %s: %s", resp.body, d)
				}
				return
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("body (-want +got):\n%s", d)
			}
		})
	}
}

func TestMapQueryErrors(t *testing.T) {
	srv := serve(t, newHandler(t))
	for _, tt := range []struct{ query, field string }{
		{"labels=x", "labels"},         // a map needs [key]
		{"name[a]=x", "name"},          // [key] on a non-map
		{"by_id[x]=1", "by_id"},        // an int32 key that is not one
		{"by_id[1]=x", "by_id"},        // message values have no query form
		{"labels[a]=%ZZ", "labels[a]"}, // malformed escape
	} {
		resp := call(t, srv, "GET", "/v1/echo/e?"+tt.query, "")
		var p problem.Problem
		_ = json.Unmarshal(resp.body, &p)
		errs, _ := p.Extensions["errors"].([]any)
		if resp.status != 400 || len(errs) != 1 || errs[0].(map[string]any)["field"] != tt.field {
			t.Errorf("?%s: %d %s, want 400 naming %s", tt.query, resp.status, resp.body, tt.field)
		}
	}
}

func TestHeadPrefersHeadBinding(t *testing.T) {
	srv := serve(t, newHandler(t, rest.WithRule("/duet.test.v1.Plain/Say",
		&annotations.HttpRule{Pattern: &annotations.HttpRule_Custom{Custom: &annotations.CustomHttpPattern{Kind: "HEAD", Path: "/v1/kitchens/{s}"}}})))
	say := call(t, srv, "GET", "/v1/say/1", "").header.Get("ETag")
	get := call(t, srv, "GET", "/v1/kitchens/1", "").header.Get("ETag")
	head := call(t, srv, "HEAD", "/v1/kitchens/1", "")
	if head.status != 200 || head.header.Get("ETag") != say || say == get {
		t.Errorf("HEAD ETag = %q (status %d), want Say's %q, not GetKitchen's %q", head.header.Get("ETag"), head.status, say, get)
	}
	// Without a HEAD binding, HEAD is GET's.
	if head := call(t, srv, "HEAD", "/v1/say/1", ""); head.header.Get("ETag") != say || len(head.body) != 0 {
		t.Errorf("HEAD on a GET route: ETag %q body %q", head.header.Get("ETag"), head.body)
	}
}

func TestPatchMaskRootedAtResource(t *testing.T) {
	// The annotation's body "kitchen", and body "*" in another handler.
	srv := serve(t, newHandler(t))
	star := serve(t, newHandler(t,
		rest.WithRule("/duet.test.v1.Kitchens/UpdateKitchen", &annotations.HttpRule{Pattern: &annotations.HttpRule_Patch{Patch: "/v1/kitchens-star/{kitchen.id}"}, Body: "*"})))
	for _, tt := range []struct {
		srv              *httptest.Server
		path, body, want string
	}{
		{srv, "/v1/kitchens/k1", `{"name":"n","nested":{"i":1}}`, "name,nested.i"},
		{star, "/v1/kitchens-star/k1", `{"kitchen":{"name":"n","nested":{"i":1}}}`, "name,nested.i"},
		{star, "/v1/kitchens-star/k1", `{"kitchen":{"name":"n"},"updateMask":"i32"}`, "i32"},
	} {
		resp := call(t, tt.srv, "PATCH", tt.path, tt.body)
		got, _ := jsonOf(t, resp.body).(map[string]any)
		if resp.status != 200 || got["mask"] != tt.want {
			t.Errorf("PATCH %s %s: %d mask %v, want %q", tt.path, tt.body, resp.status, got["mask"], tt.want)
		}
	}
}

func TestResponseBodyOnServerStream(t *testing.T) {
	srv := serve(t, newHandler(t, rest.WithRule("/duet.test.v1.Kitchens/Tail",
		&annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: "/v1/tail-i"}, ResponseBody: "i"})))
	resp := call(t, srv, "GET", "/v1/tail-i?count=3", "")
	if got := string(resp.body); got != "0\n1\n2\n" {
		t.Errorf("stream = %q, want each message's i on a line", got)
	}
}

// lateHeaders sends header metadata where grpc-go allows it and the REST
// transport once did not.
type lateHeaders struct{ kitchens }

func (lateHeaders) Collect(s grpc.ClientStreamingServer[testpb.Nested, testpb.Collected]) error {
	out := &testpb.Collected{}
	for {
		n, err := s.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		out.S = append(out.S, n.S)
	}
	if err := s.SendHeader(metadata.Pairs("x-count", "2")); err != nil {
		return err
	}
	if err := s.SendAndClose(out); err != nil {
		return err
	}
	s.SetTrailer(metadata.Pairs("x-after", "done"))
	return nil
}

func (lateHeaders) Chat(s grpc.BidiStreamingServer[testpb.Nested, testpb.Nested]) error {
	n, err := s.Recv()
	if err != nil {
		return err
	}
	if err := s.SendHeader(metadata.Pairs("x-first", n.S)); err != nil {
		return err
	}
	if err := s.Send(n); err != nil {
		return err
	}
	if s.SendHeader(metadata.Pairs("x-too-late", "1")) == nil {
		return s.Send(&testpb.Nested{S: "SendHeader after Send succeeded"})
	}
	return nil
}

func TestStreamHeaders(t *testing.T) {
	h := rest.NewHandler()
	testpb.RegisterKitchensServer(h, lateHeaders{})
	srv := serve(t, h)

	t.Run("client stream: SendHeader before SendAndClose, trailer after", func(t *testing.T) {
		resp := call(t, srv, "POST", "/v1/collect", `{"s":"a"}`+"\n"+`{"s":"b"}`+"\n")
		if resp.status != 200 || resp.header.Get("Content-Type") != "application/json" {
			t.Fatalf("%d %s %s", resp.status, resp.header.Get("Content-Type"), resp.body)
		}
		if d := cmp.Diff(map[string]any{"s": []any{"a", "b"}}, jsonOf(t, resp.body)); d != "" {
			t.Errorf("body (-want +got):\n%s", d)
		}
		if resp.header.Get("Grpc-Metadata-X-Count") != "2" || resp.header.Get("Grpc-Trailer-X-After") != "done" {
			t.Errorf("header metadata %q, trailer %q", resp.header.Get("Grpc-Metadata-X-Count"), resp.header.Get("Grpc-Trailer-X-After"))
		}
	})
	t.Run("bidi: SendHeader after reading", func(t *testing.T) {
		req, _ := http.NewRequest("POST", srv.URL+"/v1/chat", strings.NewReader(`{"s":"hi"}`+"\n"))
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		lines := readLines(t, resp.Body)
		if len(lines) != 1 || compact(t, lines[0]) != `{"s":"hi","i":0,"child":null}` {
			t.Errorf("stream = %q, want the one echo and no error", lines)
		}
		// Sent after the response began: it arrives as a trailer.
		if got := resp.Header.Get("Grpc-Metadata-X-First") + resp.Trailer.Get("Grpc-Metadata-X-First"); got != "hi" {
			t.Errorf("x-first = %q, want hi (header %v, trailer %v)", got, resp.Header, resp.Trailer)
		}
	})
}

func TestUnauthenticatedChallenge(t *testing.T) {
	srv := serve(t, newHandler(t))
	resp := call(t, srv, "POST", "/v1/fail", `{"code":16,"message":"who are you"}`)
	if resp.status != 401 || resp.header.Get("WWW-Authenticate") != "Bearer" {
		t.Errorf("401: status %d, WWW-Authenticate %q", resp.status, resp.header.Get("WWW-Authenticate"))
	}
}

func TestDisconnectWithUnreadBodyCancels(t *testing.T) {
	srv := serve(t, newHandler(t))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	// GET /v1/kitchens/slow reads no body, and waits on its context.
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/v1/kitchens/slow", strings.NewReader(`{"unread":true}`))
	if _, err := srv.Client().Do(req); err == nil {
		t.Fatal("the slow call returned before the client gave up")
	}
	// If the disconnect did not cancel the handler, srv.Close in Cleanup
	// blocks on it and the test times out.
}

// Body errors are in duet's words, never protojson's (whose text is
// deliberately unstable).
func TestBodyErrorText(t *testing.T) {
	srv := serve(t, newHandler(t))
	for _, tt := range []struct{ path, body, field, detail string }{
		{"/v1/echo", `{"i32":"abc"}`, "i32", "invalid request: i32: not a valid 32-bit integer"},
		{"/v1/echo", `{"nested":{"i":"x"}}`, "nested.i", "invalid request: nested.i: not a valid 32-bit integer"},
		{"/v1/echo", `{"name":`, "body", "invalid request: body: malformed JSON at byte 8"},
		{"/v1/echo/e/nested", `{"i":"x"}`, "nested.i", "invalid request: nested.i: not a valid 32-bit integer"},
		{"/v1/echo/e/tags", `"notalist"`, "tags", "invalid request: tags: not a valid list of string"},
	} {
		resp := call(t, srv, "POST", tt.path, tt.body)
		var p problem.Problem
		if err := json.Unmarshal(resp.body, &p); err != nil {
			t.Fatal(err)
		}
		errs, _ := p.Extensions["errors"].([]any)
		if resp.status != 400 || p.Detail != tt.detail || len(errs) != 1 || errs[0].(map[string]any)["field"] != tt.field {
			t.Errorf("POST %s %s: %d %s", tt.path, tt.body, resp.status, resp.body)
		}
		if bytes.Contains(resp.body, []byte("proto")) {
			t.Errorf("protojson's text leaked: %s", resp.body)
		}
	}
}

func TestPageLinksKeepTheClientsTokenName(t *testing.T) {
	srv := serve(t, newHandler(t))
	for _, tt := range []struct{ query, next, first string }{
		{"?pageToken=abc&page_size=1", `</v1/kitchens?pageToken=next&page_size=1>; rel="next"`, `</v1/kitchens?page_size=1>; rel="first"`},
		{"?page_token=abc&page_size=1", `</v1/kitchens?page_size=1&page_token=next>; rel="next"`, `</v1/kitchens?page_size=1>; rel="first"`},
	} {
		link := call(t, srv, "GET", "/v1/kitchens"+tt.query, "").header.Get("Link")
		if !strings.Contains(link, tt.next) || !strings.Contains(link, tt.first) || strings.Count(link, "oken=") != 1 {
			t.Errorf("%s: Link = %s, want %s and %s", tt.query, link, tt.next, tt.first)
		}
	}
}

func TestContentNegotiation(t *testing.T) {
	srv := serve(t, newHandler(t))
	tests := []struct {
		path, accept string
		wantStatus   int
		wantCT       string
	}{
		{"/v1/kitchens/1", "Application/JSON", 200, "application/json"},
		{"/v1/kitchens/1", "application/json;q=0", 406, problem.MediaType},
		{"/v1/kitchens/1", "text/html;q=0.9, application/json; q=0", 406, problem.MediaType},
		{"/v1/kitchens/1", "application/json;q=0, */*", 406, problem.MediaType},
		{"/v1/kitchens/1", "*/*;q=0.1", 200, "application/json"},
		{"/v1/kitchens/1", "application/*", 200, "application/json"},
		{"/v1/kitchens/1", "text/*", 406, problem.MediaType},
		{"/v1/kitchens/1", "text/html, */*;q=0", 406, problem.MediaType},
		{"/v1/kitchens/1", "not a media type, application/json", 200, "application/json"},
		{"/v1/tail?count=1", "", 200, "application/x-ndjson"},
		{"/v1/tail?count=1", "application/json", 200, "application/x-ndjson"},
		{"/v1/tail?count=1", "TEXT/EVENT-STREAM", 200, "text/event-stream"},
		{"/v1/tail?count=1", "text/event-stream;q=0.5, application/x-ndjson", 200, "application/x-ndjson"},
		{"/v1/tail?count=1", "application/x-ndjson;q=0.5, text/event-stream", 200, "text/event-stream"},
		{"/v1/tail?count=1", "text/event-stream;q=0, */*", 200, "application/x-ndjson"},
		{"/v1/tail?count=1", "text/*", 200, "text/event-stream"},
		{"/v1/tail?count=1", "text/html", 406, problem.MediaType},
		{"/v1/files/a.txt", "text/plain", 200, "text/plain"},
		{"/v1/files/a.txt", "application/json", 406, problem.MediaType},
	}
	for _, tt := range tests {
		resp := call(t, srv, "GET", tt.path, "", "Accept", tt.accept)
		if resp.status != tt.wantStatus || !strings.HasPrefix(resp.header.Get("Content-Type"), tt.wantCT) {
			t.Errorf("GET %s, Accept %q: %d %s, want %d %s", tt.path, tt.accept, resp.status, resp.header.Get("Content-Type"), tt.wantStatus, tt.wantCT)
		}
	}
}

// panicking panics in a unary handler and in a stream that has begun,
// with no recovering interceptor in front.
type panicking struct{ kitchens }

func (panicking) Echo(context.Context, *testpb.Kitchen) (*testpb.Kitchen, error) { panic("boom") }

func (panicking) Tail(_ *testpb.TailRequest, s grpc.ServerStreamingServer[testpb.Nested]) error {
	if err := s.Send(&testpb.Nested{I: 1}); err != nil {
		return err
	}
	panic("boom")
}

func TestPanicsBecomeProblems(t *testing.T) {
	h := rest.NewHandler()
	testpb.RegisterKitchensServer(h, panicking{})
	srv := serve(t, h)
	resp := call(t, srv, "GET", "/v1/echo/x", "")
	if resp.status != 500 || resp.header.Get("Content-Type") != problem.MediaType || bytes.Contains(resp.body, []byte("boom")) {
		t.Errorf("unary panic: %d %s", resp.status, resp.body)
	}
	resp = call(t, srv, "GET", "/v1/tail?count=1", "")
	lines := strings.Split(strings.TrimSpace(string(resp.body)), "\n")
	if resp.status != 200 || len(lines) != 2 || !strings.Contains(lines[1], `"code":"INTERNAL"`) {
		t.Errorf("stream panic: %d %q", resp.status, lines)
	}
}
