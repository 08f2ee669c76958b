package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/duetrpc/duet/internal/transcript"
	"github.com/google/go-cmp/cmp"
)

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
			// Not the recording client: the README's requests carry no
			// bearer token (the example checks none), which the OpenAPI
			// validation would report; the e2e tests cover these routes.
			resp := transcript.Send(t, http.DefaultClient, base, tr.URL, tr, nil)
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
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
