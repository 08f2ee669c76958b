package transcript

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRead(t *testing.T) {
	readme := "# x\n\nText $ curl -i not in a fence.\n\n```\n" +
		"$ printf 'hello\\n' > a.txt\n" +
		"$ curl -i -T a.txt -X POST localhost:1/v1/files\n" +
		"HTTP/1.1 200 OK\ncontent-type: application/json\n\n{\"a\":1}\n\n" +
		"$ curl -iN localhost:1/v1/x?y=1 -H 'Accept: text/event-stream' -H 'X-A: b c'\n" +
		"HTTP/1.1 200 OK\n\ndata: 1\n\n" +
		"$ curl -i localhost:1/v1/u -d '{\"n\":\"a b\"}'\n" +
		"HTTP/1.1 201 Created\nLocation: /v1/u/1\n\n" +
		"$ curl -s -O localhost:1/ignored\n" +
		"$ grpcurl -plaintext -d '{\"id\":\"1\"}' 127.0.0.1:8080 a.B/C\n" +
		"{\n  \"id\": \"1\"\n}\n" +
		"```\n"
	path := filepath.Join(t.TempDir(), "README.md")
	if err := os.WriteFile(path, []byte(readme), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	want := Session{
		Files: map[string]string{"a.txt": "hello\n"},
		Calls: []Call{
			{Tool: "curl", Command: "curl -i -T a.txt -X POST localhost:1/v1/files", Method: "POST", URL: "/v1/files", Header: http.Header{}, Upload: "a.txt",
				Status: "HTTP/1.1 200 OK", Shown: [][2]string{{"Content-Type", "application/json"}}, Resp: []string{`{"a":1}`}},
			{Tool: "curl", Command: "curl -iN localhost:1/v1/x?y=1 -H 'Accept: text/event-stream' -H 'X-A: b c'", Method: "GET", URL: "/v1/x?y=1",
				Header: http.Header{"Accept": {"text/event-stream"}, "X-A": {"b c"}}, Status: "HTTP/1.1 200 OK", Resp: []string{"data: 1"}},
			{Tool: "curl", Command: `curl -i localhost:1/v1/u -d '{"n":"a b"}'`, Method: "POST", URL: "/v1/u", Header: http.Header{}, Body: `{"n":"a b"}`,
				Status: "HTTP/1.1 201 Created", Shown: [][2]string{{"Location", "/v1/u/1"}}},
			{Tool: "grpcurl", Command: `grpcurl -plaintext -d '{"id":"1"}' 127.0.0.1:8080 a.B/C`,
				Args: []string{"-plaintext", "-d", `{"id":"1"}`, "127.0.0.1:8080", "a.B/C"}, Resp: []string{"{", `  "id": "1"`, "}"}},
		},
	}
	want.Calls[0].Args = []string{"-i", "-T", "a.txt", "-X", "POST", "localhost:1/v1/files"}
	want.Calls[1].Args = []string{"-iN", "localhost:1/v1/x?y=1", "-H", "Accept: text/event-stream", "-H", "X-A: b c"}
	want.Calls[2].Args = []string{"-i", "localhost:1/v1/u", "-d", `{"n":"a b"}`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Read (-want +got):\n%s", diff)
	}
}

func TestReadRefuses(t *testing.T) {
	for name, readme := range map[string]string{
		"unknown option":  "```\n$ curl -i -k localhost:1/x\n```\n",
		"open quote":      "```\n$ curl -i localhost:1/x -d '{\n```\n",
		"option at end":   "```\n$ curl -i localhost:1/x -H\n```\n",
		"printf to pipe":  "```\n$ printf 'x' | tee a\n$ curl -i localhost:1/x\n```\n",
		"no transcripts":  "```\n$ curl -s localhost:1/x\n```\n",
		"outside a fence": "$ curl -i localhost:1/x\n",
	} {
		path := filepath.Join(t.TempDir(), "README.md")
		if err := os.WriteFile(path, []byte(readme), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Read(path); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestParseOutput(t *testing.T) {
	out := []string{
		"ERROR:",
		"  Code: InvalidArgument",
		"  Message: One or more fields failed validation",
		"  Details:",
		"  1)\t{",
		"    \t  \"@type\": \"type.googleapis.com/google.rpc.BadRequest\",",
		"    \t  \"fieldViolations\": [ { \"field\": \"a{\", \"reason\": \"R\" } ]",
		"    \t}",
	}
	got, err := ParseOutput(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{
		Line("ERROR:"), Line("  Code: InvalidArgument"), Line("  Message: One or more fields failed validation"), Line("  Details:"), Line("  1)\t"),
		map[string]any{"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": []any{map[string]any{"field": "a{", "reason": "R"}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseOutput (-want +got):\n%s", diff)
	}
	if _, err := ParseOutput([]string{"{", `  "a": 1`}); err == nil {
		t.Error("unterminated JSON: no error")
	}
}

// recorder is a testing.TB that keeps the errors reported to it.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestCheckHead(t *testing.T) {
	resp := &http.Response{Proto: "HTTP/1.1", Status: "200 OK", ContentLength: 12,
		TransferEncoding: nil, Header: http.Header{
			"Content-Type": {"text/plain"}, "Etag": {`"abc"`}, "Date": {"Thu, 26 Nov 2026 00:00:00 GMT"},
		}}
	for _, tt := range []struct {
		name   string
		status string
		shown  [][2]string
		errs   int
	}{
		{"equal", "HTTP/1.1 200 OK", [][2]string{{"Content-Type", "text/plain"}, {"Content-Length", "12"}}, 0},
		{"dates and etags vary", "HTTP/1.1 200 OK", [][2]string{{"Date", "Wed, 25 Nov 2026 08:55:48 GMT"}, {"Etag", `"other"`}}, 0},
		{"status", "HTTP/1.1 201 Created", nil, 1},
		{"header", "HTTP/1.1 200 OK", [][2]string{{"Content-Type", "application/json"}}, 1},
		{"length", "HTTP/1.1 200 OK", [][2]string{{"Content-Length", "13"}}, 1},
		{"chunked", "HTTP/1.1 200 OK", [][2]string{{"Transfer-Encoding", "chunked"}}, 1},
	} {
		r := &recorder{TB: t}
		CheckHead(r, Call{Status: tt.status, Shown: tt.shown}, resp)
		if len(r.errs) != tt.errs {
			t.Errorf("%s: errors %q, want %d", tt.name, r.errs, tt.errs)
		}
	}
	bad := &http.Response{Proto: "HTTP/1.1", Status: "200 OK", Header: http.Header{"Etag": {"abc"}}}
	r := &recorder{TB: t}
	CheckHead(r, Call{Status: "HTTP/1.1 200 OK", Shown: [][2]string{{"Etag", `"abc"`}}}, bad)
	if len(r.errs) != 1 {
		t.Errorf("an unquoted ETag: errors %q, want 1", r.errs)
	}
}
