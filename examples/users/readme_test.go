package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// transcript is one `curl -i` call recorded in README.md and what it printed.
type transcript struct {
	command string
	method  string
	url     string // path and query, as typed after the host
	header  http.Header
	body    string
	status  string            // "HTTP/1.1 200 OK"
	shown   map[string]string // response headers the README shows
	resp    string            // response body
}

// readTranscripts parses the README's fenced blocks: a "$ curl -i ..." line,
// the status line, headers up to a blank line, then the body up to the next
// blank line or command.
func readTranscripts(t *testing.T, path string) []transcript {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out     []transcript
		cur     *transcript
		inFence bool
		part    int // 0 status, 1 headers, 2 body
	)
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			inFence = !inFence
			cur = nil
			continue
		}
		if !inFence {
			continue
		}
		if strings.HasPrefix(line, "$ curl -i ") {
			out = append(out, parseCurl(t, strings.TrimPrefix(line, "$ ")))
			cur, part = &out[len(out)-1], 0
			continue
		}
		if cur == nil {
			continue
		}
		switch {
		case part == 0:
			cur.status, part = line, 1
		case part == 1 && line == "":
			part = 2
		case part == 1:
			k, v, _ := strings.Cut(line, ": ")
			cur.shown[http.CanonicalHeaderKey(k)] = v
		case line == "":
			cur = nil
		default:
			cur.resp += line
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no curl -i transcripts", path)
	}
	return out
}

// parseCurl reads the few curl options the README uses: -X, -H, -d and the
// URL, with single-quoted words as in a POSIX shell.
func parseCurl(t *testing.T, cmd string) transcript {
	t.Helper()
	var words []string
	for rest := strings.TrimSpace(cmd); rest != ""; rest = strings.TrimSpace(rest) {
		if rest[0] == '\'' {
			end := strings.IndexByte(rest[1:], '\'')
			if end < 0 {
				t.Fatalf("unterminated quote in %q", cmd)
			}
			words, rest = append(words, rest[1:1+end]), rest[2+end:]
			continue
		}
		w, r, _ := strings.Cut(rest, " ")
		words, rest = append(words, w), r
	}
	tr := transcript{command: cmd, method: "GET", header: http.Header{}, shown: map[string]string{}}
	for i := 1; i < len(words); i++ {
		switch w := words[i]; w {
		case "-i":
		case "-X":
			i++
			tr.method = words[i]
		case "-H":
			i++
			k, v, _ := strings.Cut(words[i], ": ")
			tr.header.Set(k, v)
		case "-d":
			i++
			tr.body = words[i]
			if tr.method == "GET" {
				tr.method = "POST" // as curl does
			}
		default:
			if strings.HasPrefix(w, "-") {
				t.Fatalf("%q: option %s not understood by this test", cmd, w)
			}
			_, tr.url, _ = strings.Cut(w, "/") // drop the host
			tr.url = "/" + tr.url
		}
	}
	return tr
}

var etag = regexp.MustCompile(`^(W/)?"[^"]*"$`)

// normalise replaces what differs between runs in a decoded JSON body:
// timestamps.
func normalise(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = normalise(e)
		}
	case []any:
		for i, e := range v {
			v[i] = normalise(e)
		}
	case string:
		if _, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return "<timestamp>"
		}
	}
	return v
}

// TestREADME runs the README's curl transcripts against a freshly seeded
// server, in order, and checks the status line, the headers shown and the
// JSON body, so the README stays true. Timestamps and ETag values vary.
func TestREADME(t *testing.T) {
	base, _, _ := start(t)
	for _, tr := range readTranscripts(t, "README.md") {
		t.Run(tr.command, func(t *testing.T) {
			var body io.Reader
			if tr.body != "" {
				body = strings.NewReader(tr.body)
			}
			req, err := http.NewRequest(tr.method, base+tr.url, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header = tr.header
			// Not the recording client: the README's requests carry no
			// bearer token (the example checks none), which the OpenAPI
			// validation would report; the e2e tests cover these routes.
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.Proto + " " + resp.Status; got != tr.status {
				t.Errorf("status line %q, README shows %q", got, tr.status)
			}
			for k, want := range tr.shown {
				got := resp.Header.Get(k)
				if k == "Etag" {
					if !etag.MatchString(got) {
						t.Errorf("ETag %q is not an entity tag", got)
					}
					continue
				}
				if got != want {
					t.Errorf("%s: %q, README shows %q", k, got, want)
				}
			}
			var got, want any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("response body %q: %v", b, err)
			}
			if err := json.Unmarshal([]byte(tr.resp), &want); err != nil {
				t.Fatalf("README body %q: %v", tr.resp, err)
			}
			if diff := cmp.Diff(normalise(want), normalise(got)); diff != "" {
				t.Errorf("body (-README +server):\n%s", diff)
			}
		})
	}
}
