package rest_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/duetrpc/duet/grpcx"
	"github.com/duetrpc/duet/internal/testpb"
	"github.com/duetrpc/duet/problem"
	"github.com/duetrpc/duet/rest"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func newHandler(t testing.TB, opts ...rest.Option) *rest.Handler {
	t.Helper()
	opts = append([]rest.Option{
		rest.WithUnaryInterceptor(grpcx.Server{}.UnaryInterceptors()...),
		rest.WithStreamInterceptor(grpcx.Server{}.StreamInterceptors()...),
		rest.WithRule("/duet.test.v1.Plain/Say", &annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: "/v1/say/{s}"}}),
		rest.WithIncomingHeaders("X-Tenant"),
		rest.WithoutSelfLinks(), // links_test.go covers them
		rest.WithDefaultRoutes(),
	}, opts...)
	h := rest.NewHandler(opts...)
	testpb.RegisterKitchensServer(h, kitchens{})
	testpb.RegisterPlainServer(h, plain{})
	return h
}

func serve(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func call(t testing.TB, srv *httptest.Server, method, path, body string, headers ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

func jsonOf(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	return v
}

// subset reports the members of want missing or different in got.
func subset(want, got map[string]any) string {
	var diffs []string
	for k, w := range want {
		if d := cmp.Diff(w, got[k]); d != "" {
			diffs = append(diffs, k+": "+d)
		}
	}
	return strings.Join(diffs, "\n")
}

func TestRoutesAndBodies(t *testing.T) {
	srv := serve(t, newHandler(t))
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		headers    []string
		wantStatus int
		want       map[string]any // members that must be present with these values
		wantHeader map[string]string
	}{
		{"get", "GET", "/v1/kitchens/42", "", nil, 200, map[string]any{"id": "42", "name": "kitchen 42", "i64": "0", "tags": []any{}, "nested": nil, "customJson": ""}, map[string]string{"Content-Type": "application/json"}},
		{"list with query", "GET", "/v1/kitchens?page_size=2&filter=big", "", nil, 200, map[string]any{"nextPageToken": "next", "totalSize": 100.0}, nil},
		{"create is 201 with Location", "POST", "/v1/kitchens?kitchen_id=k1", `{"name":"new"}`, nil, 201, map[string]any{"id": "k1", "name": "new"}, map[string]string{"Location": "/v1/kitchens/k1"}},
		{"patch fills the mask from the body", "PATCH", "/v1/kitchens/k1", `{"name":"x","nested":{"s":"y"},"tags":["t"]}`, nil, 200, map[string]any{"id": "k1", "name": "x", "mask": "name,nested.s,tags"}, nil},
		{"patch keeps a mask the client sent", "PATCH", "/v1/kitchens/k1?update_mask=name", `{"name":"x","flag":true}`, nil, 200, map[string]any{"mask": "name"}, nil},
		{"put: the path wins over the body", "PUT", "/v1/kitchens/k1", `{"id":"other","name":"n"}`, nil, 200, map[string]any{"id": "k1", "name": "n"}, nil},
		{"custom verb", "POST", "/v1/kitchens/k7:deactivate", `{}`, nil, 200, map[string]any{"id": "k7", "name": "deactivated"}, nil},
		{"nested path variables", "GET", "/v1/echo/sx/5/nested", "", nil, 200, map[string]any{"nested": map[string]any{"s": "sx", "i": 5.0, "child": nil}}, nil},
		{"body is one message field", "POST", "/v1/echo/e1/nested", `{"s":"in"}`, nil, 200, map[string]any{"id": "e1", "nested": map[string]any{"s": "in", "i": 0.0, "child": nil}}, nil},
		{"body is a repeated field", "POST", "/v1/echo/e1/tags", `["a","b"]`, nil, 200, map[string]any{"id": "e1", "tags": []any{"a", "b"}}, nil},
		{"multi-segment variable", "GET", "/v1/shelves/1/books/x%2Fy?view=full", "", nil, 200, map[string]any{"name": "shelves/1/books/x%2Fy", "title": "full"}, nil},
		{"single-segment variable decodes %2F", "GET", "/v1/kitchens/a%2Fb", "", nil, 200, map[string]any{"id": "a/b"}, nil},
		{"anonymous wildcard", "GET", "/v1/wild/anything/x/val", "", nil, 200, map[string]any{"a": "val", "b": ""}, nil},
		{"response_body", "GET", "/v1/children/s1", "", nil, 200, map[string]any{"s": "child of s1", "i": 7.0, "child": nil}, nil},
		{"default route", "POST", "/duet.test.v1.Kitchens/NoRule", `{"s":"x"}`, nil, 200, map[string]any{"s": "x"}, nil},
		{"rule given in Go", "GET", "/v1/say/hi", "", nil, 200, map[string]any{"s": "said hi"}, nil},
		{"default route of a Go-ruled method is replaced", "POST", "/duet.test.v1.Plain/Say", `{}`, nil, 404, map[string]any{"code": "NOT_FOUND"}, nil},
		{"delete is 204", "DELETE", "/v1/kitchens/k1", "", nil, 204, nil, nil},
		{"metadata from allowed headers", "GET", "/v1/kitchens/1", "", []string{"Authorization", "Bearer t", "X-Tenant", "acme", "Cookie", "session=1"}, 200, map[string]any{"tags": []any{"Bearer t", "acme"}}, nil},
		{"Grpc-Metadata- prefix", "GET", "/v1/kitchens/1", "", []string{"Grpc-Metadata-Tenant", "t2"}, 200, map[string]any{"tags": []any{"t2"}}, nil},
		{"deadline from Grpc-Timeout", "GET", "/v1/kitchens/1", "", []string{"Grpc-Timeout", "5S"}, 200, map[string]any{"flag": true}, nil},
		{"handler headers and trailers", "POST", "/v1/fail", `{}`, nil, 204, nil, map[string]string{"Grpc-Metadata-X-Seen": "yes", "Grpc-Trailer-X-After": "done"}},
		{"unknown body fields are discarded by default", "POST", "/v1/echo", `{"name":"n","nope":1}`, nil, 200, map[string]any{"name": "n"}, nil},
		{"unknown query parameters are ignored by default", "GET", "/v1/echo/e?nope=1", "", nil, 200, map[string]any{"id": "e"}, nil},
		{"head", "HEAD", "/v1/kitchens/1", "", nil, 200, nil, map[string]string{"Content-Type": "application/json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := call(t, srv, tt.method, tt.path, tt.body, tt.headers...)
			if resp.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", resp.status, tt.wantStatus, resp.body)
			}
			for k, v := range tt.wantHeader {
				if got := resp.header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if tt.want == nil {
				if len(resp.body) != 0 {
					t.Errorf("body = %s, want none", resp.body)
				}
				return
			}
			got, _ := jsonOf(t, resp.body).(map[string]any)
			if d := subset(tt.want, got); d != "" {
				t.Errorf("body %s:\n%s", resp.body, d)
			}
		})
	}
}

func TestQueryBindsEveryFieldKind(t *testing.T) {
	srv := serve(t, newHandler(t))
	q := "name=n&i32=-3&i64=9007199254740993&u32=4&u64=18446744073709551615&s32=-1&s64=-2&f32=5&f64=6&sf32=-7&sf64=-8" +
		"&fl=1.5&db=2.25&flag=true&data=AQI&color=RED&tags=a&tags=b&nums=1&nums=2&colors=GREEN&colors=1" +
		"&nested.s=ns&nested.child.i=3&ts=2024-01-02T03:04:05Z&dur=1.5s&mask=a,b.c&sv=str&i64v=5&bv=false" +
		"&val=hello&st=%7B%22k%22%3A1%7D&opt=o&a=choice&customJson=cj&camel_case_name=ignored-first"
	resp := call(t, srv, "GET", "/v1/echo/e1?"+q, "")
	if resp.status != 200 {
		t.Fatalf("status %d: %s", resp.status, resp.body)
	}
	var got testpb.Kitchen
	if err := protojson.Unmarshal(resp.body, &got); err != nil {
		t.Fatal(err)
	}
	st, _ := structpb.NewStruct(map[string]any{"k": 1})
	want := &testpb.Kitchen{
		Id: "e1", Name: "n", I32: -3, I64: 9007199254740993, U32: 4, U64: 18446744073709551615, S32: -1, S64: -2,
		F32: 5, F64: 6, Sf32: -7, Sf64: -8, Fl: 1.5, Db: 2.25, Flag: true, Data: []byte{1, 2}, Color: testpb.Color_RED,
		Tags: []string{"a", "b"}, Nums: []int32{1, 2}, Colors: []testpb.Color{testpb.Color_GREEN, testpb.Color_RED},
		Nested: &testpb.Nested{S: "ns", Child: &testpb.Nested{I: 3}},
		Ts:     timestamppb.New(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)), Dur: durationpb.New(1500 * time.Millisecond),
		Mask: &fieldmaskpb.FieldMask{Paths: []string{"a", "b.c"}}, Sv: wrapperspb.String("str"), I64V: wrapperspb.Int64(5), Bv: wrapperspb.Bool(false),
		Val: structpb.NewStringValue("hello"), St: st, Opt: strPtr("o"), Choice: &testpb.Kitchen_A{A: "choice"}, CamelCaseName: "ignored-first",
	}
	if diff := cmp.Diff(want, &got, protocmp.Transform()); diff != "" {
		t.Errorf("bound request (-want +got):\n%s", diff)
	}
}

func strPtr(s string) *string { return &s }

func TestHTTPBody(t *testing.T) {
	srv := serve(t, newHandler(t))
	resp := call(t, srv, "GET", "/v1/files/a/b%2Fc.txt", "")
	if resp.status != 200 || string(resp.body) != "file a/b%2Fc.txt" || resp.header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("download = %d %q %q", resp.status, resp.header.Get("Content-Type"), resp.body)
	}
	req, _ := http.NewRequest("POST", srv.URL+"/v1/raw", strings.NewReader("\x00\x01raw"))
	req.Header.Set("Content-Type", "application/octet-stream")
	r, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || string(b) != "\x00\x01raw" || r.Header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("raw echo = %d %q %q", r.StatusCode, r.Header.Get("Content-Type"), b)
	}
	req, _ = http.NewRequest("POST", srv.URL+"/v1/uploads/pic", strings.NewReader("PNG"))
	req.Header.Set("Content-Type", "image/png")
	r, err = srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(r.Body)
	r.Body.Close()
	got, _ := jsonOf(t, b).(map[string]any)
	if d := subset(map[string]any{"name": "pic", "id": "image/png", "data": "UE5H"}, got); d != "" || r.StatusCode != 200 {
		t.Errorf("upload %d %s:\n%s", r.StatusCode, b, d)
	}
}

func TestBadInput(t *testing.T) {
	srv := serve(t, newHandler(t))
	strict := serve(t, newHandler(t, rest.WithUnmarshalOptions(protojson.UnmarshalOptions{}), rest.WithMaxBodyBytes(64)))
	tests := []struct {
		name       string
		srv        *httptest.Server
		method     string
		path       string
		body       string
		headers    []string
		wantStatus int
		wantCode   string
		wantField  string // the BadRequest violation's field, if any
		wantAllow  string
	}{
		{"unknown route", srv, "GET", "/v2/nothing", "", nil, 404, "NOT_FOUND", "", ""},
		{"wrong method", srv, "DELETE", "/v1/kitchens", "", nil, 405, "UNIMPLEMENTED", "", "GET, HEAD, POST"},
		{"not found from the handler", srv, "GET", "/v1/kitchens/missing", "", nil, 404, "NOT_FOUND", "", ""},
		{"body too large", strict, "POST", "/v1/echo", `{"name":"` + strings.Repeat("x", 100) + `"}`, nil, 413, "RESOURCE_EXHAUSTED", "", ""},
		{"wrong content type", srv, "POST", "/v1/echo", `name=x`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "INVALID_ARGUMENT", "", ""},
		{"unacceptable Accept", srv, "GET", "/v1/kitchens/1", "", []string{"Accept", "text/html"}, 406, "INVALID_ARGUMENT", "", ""},
		{"wrong JSON type", srv, "POST", "/v1/echo", `{"i32":"abc"}`, nil, 400, "INVALID_ARGUMENT", "i32", ""},
		{"malformed JSON", srv, "POST", "/v1/echo", `{"name":`, nil, 400, "INVALID_ARGUMENT", "body", ""},
		{"malformed JSON in a body field", srv, "POST", "/v1/echo/e/nested", `{"i":"x"}`, nil, 400, "INVALID_ARGUMENT", "nested.i", ""},
		{"unknown field when strict", strict, "POST", "/v1/echo", `{"nope":1}`, nil, 400, "INVALID_ARGUMENT", "nope", ""},
		{"unknown query parameter when strict", strict, "GET", "/v1/echo/e?nope=1", "", nil, 400, "INVALID_ARGUMENT", "nope", ""},
		{"bad query value", srv, "GET", "/v1/echo/e?i32=abc", "", nil, 400, "INVALID_ARGUMENT", "i32", ""},
		{"int32 overflow", srv, "GET", "/v1/echo/e?i32=99999999999", "", nil, 400, "INVALID_ARGUMENT", "i32", ""},
		{"bad enum", srv, "GET", "/v1/echo/e?color=PURPLE", "", nil, 400, "INVALID_ARGUMENT", "color", ""},
		{"bad timestamp", srv, "GET", "/v1/echo/e?ts=yesterday", "", nil, 400, "INVALID_ARGUMENT", "ts", ""},
		{"message field in the query", srv, "GET", "/v1/echo/e?nested=x", "", nil, 400, "INVALID_ARGUMENT", "nested", ""},
		{"path field in the query", srv, "GET", "/v1/echo/e?id=other", "", nil, 400, "INVALID_ARGUMENT", "id", ""},
		{"bad path value", srv, "GET", "/v1/echo/x/notanint/nested", "", nil, 400, "INVALID_ARGUMENT", "nested.i", ""},
		{"malformed Grpc-Timeout", srv, "GET", "/v1/kitchens/1", "", []string{"Grpc-Timeout", "soon"}, 400, "INVALID_ARGUMENT", "Grpc-Timeout", ""},
		{"handler error with its code", srv, "POST", "/v1/fail", `{"code":9,"message":"not now"}`, nil, 400, "FAILED_PRECONDITION", "", ""},
		{"internal error is redacted", srv, "POST", "/v1/fail", `{"code":13,"message":"db password hunter2"}`, nil, 500, "INTERNAL", "", ""},
		{"plain error is internal", srv, "POST", "/v1/fail", `{"code":2,"message":"plain"}`, nil, 500, "INTERNAL", "", ""},
		{"panic is internal", srv, "POST", "/v1/fail", `{"code":2,"message":"panic"}`, nil, 500, "INTERNAL", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := call(t, tt.srv, tt.method, tt.path, tt.body, tt.headers...)
			if resp.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", resp.status, tt.wantStatus, resp.body)
			}
			if ct := resp.header.Get("Content-Type"); ct != problem.MediaType {
				t.Fatalf("Content-Type = %q, want %s", ct, problem.MediaType)
			}
			if tt.wantAllow != "" && resp.header.Get("Allow") != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", resp.header.Get("Allow"), tt.wantAllow)
			}
			var p problem.Problem
			if err := json.Unmarshal(resp.body, &p); err != nil {
				t.Fatal(err)
			}
			if p.Extensions["code"] != tt.wantCode {
				t.Errorf("code = %v, want %s; %s", p.Extensions["code"], tt.wantCode, resp.body)
			}
			if strings.Contains(string(resp.body), "hunter2") || strings.Contains(string(resp.body), "secret") || strings.Contains(string(resp.body), "boom") {
				t.Errorf("internal detail leaked: %s", resp.body)
			}
			if tt.wantField != "" {
				errs, _ := p.Extensions["errors"].([]any)
				if len(errs) != 1 || errs[0].(map[string]any)["field"] != tt.wantField {
					t.Errorf("violations = %v, want one on %q", p.Extensions["errors"], tt.wantField)
				}
			}
		})
	}
}

func TestStatusErrorShape(t *testing.T) {
	srv := serve(t, newHandler(t, rest.WithStatusErrors()))
	resp := call(t, srv, "GET", "/v1/kitchens/missing", "")
	got, _ := jsonOf(t, resp.body).(map[string]any)
	if resp.status != 404 || got["code"] != 5.0 || got["message"] != "kitchen kitchens/missing not found" {
		t.Errorf("google.rpc.Status error = %d %s", resp.status, resp.body)
	}
}

func TestETag(t *testing.T) {
	srv := serve(t, newHandler(t, rest.WithCacheControl("/duet.test.v1.Kitchens/GetKitchen", "max-age=60")))
	first := call(t, srv, "GET", "/v1/kitchens/1", "")
	etag := first.header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) || first.header.Get("Cache-Control") != "max-age=60" {
		t.Fatalf("ETag = %q, Cache-Control = %q", etag, first.header.Get("Cache-Control"))
	}
	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
		again := call(t, srv, "GET", "/v1/kitchens/1", "", "If-None-Match", inm)
		if again.status != 304 || len(again.body) != 0 {
			t.Errorf("If-None-Match %s: %d %s, want 304 and no body", inm, again.status, again.body)
		}
	}
	if other := call(t, srv, "GET", "/v1/kitchens/2", "", "If-None-Match", etag); other.status != 200 {
		t.Errorf("another resource with the first ETag: %d", other.status)
	}
}

func TestRegistrationErrors(t *testing.T) {
	tests := []struct {
		name string
		rule *annotations.HttpRule
		want string
	}{
		{"conflicting route", &annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: "/v1/kitchens/{s}"}}, "conflicts with GET /v1/kitchens/{id}"},
		{"bad template", &annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: "/v1/{s"}}, "unterminated"},
		{"unknown field", &annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: "/v1/x/{nope}"}}, `has no field "nope"`},
		{"message path field", &annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: "/v1/x/{child}"}}, "must be a scalar field"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/skipped by default", func(t *testing.T) {
			h := rest.NewHandler(rest.WithRule("/duet.test.v1.Plain/Say", tt.rule))
			testpb.RegisterKitchensServer(h, kitchens{})
			testpb.RegisterPlainServer(h, plain{})
			skipped := h.Skipped()
			if len(skipped) != 1 || !strings.Contains(skipped[0].Error(), tt.want) {
				t.Fatalf("Skipped() = %v, want one error containing %q", skipped, tt.want)
			}
			// The other bindings serve.
			if resp := call(t, serve(t, h), "GET", "/v1/kitchens/1", ""); resp.status != 200 {
				t.Errorf("GET /v1/kitchens/1 = %d, want 200", resp.status)
			}
		})
		t.Run(tt.name+"/panics when strict", func(t *testing.T) {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, tt.want) {
					t.Errorf("panic = %v, want one containing %q", r, tt.want)
				}
			}()
			h := rest.NewHandler(rest.WithStrictRules(), rest.WithRule("/duet.test.v1.Plain/Say", tt.rule))
			testpb.RegisterKitchensServer(h, kitchens{})
			testpb.RegisterPlainServer(h, plain{})
		})
	}
}

func TestClientDisconnectCancelsHandler(t *testing.T) {
	srv := serve(t, newHandler(t))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/v1/kitchens/slow", nil)
	if _, err := srv.Client().Do(req); err == nil {
		t.Fatal("the slow call returned before the client gave up")
	}
	// The handler waits on its context: if the disconnect did not cancel
	// it, srv.Close in Cleanup would block on it and the test time out.
}

func readLines(t *testing.T, r io.Reader) []string {
	t.Helper()
	var lines []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		lines = append(lines, compact(t, sc.Text()))
	}
	return lines
}

// compact removes the insignificant whitespace protojson adds on purpose,
// in a JSON line or an SSE data line.
func compact(t *testing.T, line string) string {
	t.Helper()
	prefix, js := "", line
	if rest, ok := strings.CutPrefix(line, "data: "); ok {
		prefix, js = "data: ", rest
	}
	if !strings.HasPrefix(js, "{") {
		return line
	}
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(js)); err != nil {
		t.Fatalf("not JSON: %q", line)
	}
	return prefix + b.String()
}

func TestServerStreaming(t *testing.T) {
	srv := serve(t, newHandler(t))
	tests := []struct {
		name      string
		path      string
		accept    string
		wantCT    string
		wantLines []string
	}{
		{"NDJSON", "/v1/tail?count=3", "", "application/x-ndjson", []string{`{"s":"","i":0,"child":null}`, `{"s":"","i":1,"child":null}`, `{"s":"","i":2,"child":null}`}},
		{"SSE", "/v1/tail?count=2", "text/event-stream", "text/event-stream", []string{`data: {"s":"","i":0,"child":null}`, ``, `data: {"s":"","i":1,"child":null}`, ``}},
		{"NDJSON error after the first message", "/v1/tail?count=5&fail_after=2", "", "application/x-ndjson", []string{`{"s":"","i":0,"child":null}`, `{"s":"","i":1,"child":null}`,
			`{"error":{"type":"about:blank","title":"Too Many Requests","status":429,"detail":"tail limit reached","code":"RESOURCE_EXHAUSTED"}}`}},
		{"SSE error event", "/v1/tail?count=5&fail_after=1", "text/event-stream", "text/event-stream", []string{`data: {"s":"","i":0,"child":null}`, ``, `event: error`,
			`data: {"type":"about:blank","title":"Too Many Requests","status":429,"detail":"tail limit reached","code":"RESOURCE_EXHAUSTED"}`, ``}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+tt.path, nil)
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != tt.wantCT {
				t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if diff := cmp.Diff(tt.wantLines, readLines(t, resp.Body)); diff != "" {
				t.Errorf("stream (-want +got):\n%s", diff)
			}
		})
	}
	// An error before the first message is an ordinary problem response.
	resp := call(t, srv, "GET", "/v1/tail?count=0&fail_after=1", "")
	if resp.status != 400 || resp.header.Get("Content-Type") != problem.MediaType {
		t.Errorf("early error = %d %s", resp.status, resp.body)
	}
}

func TestClientStreaming(t *testing.T) {
	srv := serve(t, newHandler(t))
	req, _ := http.NewRequest("POST", srv.URL+"/v1/collect", strings.NewReader("{\"s\":\"a\"}\n\n{\"s\":\"b\"}\n{\"s\":\"c\"}"))
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || compact(t, string(b)) != `{"s":["a","b","c"]}` {
		t.Errorf("collect = %d %s", resp.StatusCode, b)
	}
	bad := call(t, srv, "POST", "/v1/collect", "{\"s\":\"a\"}\n{\"s\":1}\n")
	if bad.status != 400 || !strings.Contains(string(bad.body), "message 2") {
		t.Errorf("bad second message = %d %s", bad.status, bad.body)
	}
}

// TestBidiFullDuplex interleaves requests and responses on one call, over
// HTTP/2 and over HTTP/1.1.
func TestBidiFullDuplex(t *testing.T) {
	for _, h2 := range []bool{true, false} {
		name := "HTTP/1.1"
		if h2 {
			name = "HTTP/2"
		}
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewUnstartedServer(newHandler(t))
			srv.EnableHTTP2 = h2
			srv.StartTLS()
			t.Cleanup(srv.Close)
			client := srv.Client()
			if !h2 {
				client.Transport.(*http.Transport).TLSClientConfig = &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}}
			}
			pr, pw := io.Pipe()
			req, _ := http.NewRequest("POST", srv.URL+"/v1/chat", pr)
			req.Header.Set("Content-Type", "application/x-ndjson")
			respc := make(chan *http.Response, 1)
			errc := make(chan error, 1)
			go func() {
				resp, err := client.Do(req)
				if err != nil {
					errc <- err
					return
				}
				respc <- resp
			}()
			if _, err := io.WriteString(pw, `{"s":"hello","i":1}`+"\n"); err != nil {
				t.Fatal(err)
			}
			var resp *http.Response
			select {
			case resp = <-respc:
			case err := <-errc:
				t.Fatal(err)
			case <-time.After(10 * time.Second):
				t.Fatal("no response headers while the request is still open")
			}
			defer resp.Body.Close()
			if resp.ProtoMajor != map[bool]int{true: 2, false: 1}[h2] {
				t.Fatalf("protocol %s", resp.Proto)
			}
			rd := bufio.NewReader(resp.Body)
			for i, msg := range []string{"hello", "world"} {
				if i > 0 {
					io.WriteString(pw, `{"s":"`+msg+`","i":2}`+"\n")
				}
				line, err := rd.ReadString('\n')
				if err != nil {
					t.Fatal(err)
				}
				want := `{"s":"` + strings.ToUpper(msg) + `","i":` + map[int]string{0: "1", 1: "2"}[i] + `,"child":null}` + "\n"
				if compact(t, strings.TrimSuffix(line, "\n"))+"\n" != want {
					t.Errorf("reply %d = %q, want %q", i, line, want)
				}
			}
			pw.Close()
			if rest, _ := io.ReadAll(rd); len(rest) != 0 {
				t.Errorf("after close: %q", rest)
			}
		})
	}
}

// TestBidiHeadersBeforeFirstMessage: a client that waits for the response
// headers before it writes gets them as soon as the handler reads.
func TestBidiHeadersBeforeFirstMessage(t *testing.T) {
	srv := httptest.NewUnstartedServer(newHandler(t))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pr, pw := io.Pipe()
	defer pw.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/v1/chat", pr)
	req.Header.Set("Content-Type", "application/x-ndjson")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := srv.Client().Do(req.WithContext(ctx))
	if err != nil {
		t.Fatalf("no response headers before the first message: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	io.WriteString(pw, `{"s":"late"}`+"\n")
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || !strings.Contains(line, "LATE") {
		t.Errorf("reply = %q, %v", line, err)
	}
}
