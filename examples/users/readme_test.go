package main

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/duetrpc/duet/internal/transcript"
	"github.com/google/go-cmp/cmp"
)

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

// TestREADME runs the README's curl and grpcurl transcripts against a
// freshly seeded server, in order, and checks the status line, the headers
// shown and the JSON body (for grpcurl, its whole output), so the README
// stays true. Timestamps and ETag values vary.
func TestREADME(t *testing.T) {
	base, _, _ := start(t)
	session, err := transcript.Read("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range session.Calls {
		t.Run(tr.Command, func(t *testing.T) {
			if tr.Tool == "grpcurl" {
				transcript.GRPCurl(t, tr, tr.Args, strings.TrimPrefix(base, "http://"), normalise)
				return
			}
			var body io.Reader
			if tr.Body != "" {
				body = strings.NewReader(tr.Body)
			}
			req, err := http.NewRequest(tr.Method, base+tr.URL, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header = tr.Header
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
			if got := resp.Proto + " " + resp.Status; got != tr.Status {
				t.Errorf("status line %q, README shows %q", got, tr.Status)
			}
			for _, h := range tr.Shown {
				k, want := h[0], h[1]
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
			readme := strings.Join(tr.Resp, "")
			if err := json.Unmarshal([]byte(readme), &want); err != nil {
				t.Fatalf("README body %q: %v", readme, err)
			}
			if diff := cmp.Diff(normalise(want), normalise(got)); diff != "" {
				t.Errorf("body (-README +server):\n%s", diff)
			}
		})
	}
}
