package main

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/duetrpc/duet/internal/transcript"
	"github.com/google/go-cmp/cmp"
)

// TestREADME runs the README's curl -i and grpcurl transcripts, in order,
// against a fresh server and checks status lines, the headers shown and the
// bodies (for grpcurl, its whole output), so the README stays true. File
// ids are random: an id the README shows in a curl upload's response stands
// for the id this run got, in later commands and bodies; the id of a
// grpcurl upload is checked for its shape.
func TestREADME(t *testing.T) {
	base, _ := start(t)
	session, err := transcript.Read("README.md")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{} // README's id → this run's
	for _, tr := range session.Calls {
		t.Run(tr.Command, func(t *testing.T) {
			if tr.Tool == "grpcurl" {
				args := make([]string, len(tr.Args))
				for i, a := range tr.Args {
					for readme, real := range ids {
						a = strings.ReplaceAll(a, readme, real)
					}
					args[i] = a
				}
				transcript.GRPCurl(t, tr, args, strings.TrimPrefix(base, "http://"), newFileID)
				return
			}
			url := tr.URL
			for readme, real := range ids {
				url = strings.ReplaceAll(url, readme, real)
			}
			var body io.Reader
			if tr.Upload != "" {
				content, ok := session.Files[tr.Upload]
				if !ok {
					t.Fatalf("the README does not create %s", tr.Upload)
				}
				body = strings.NewReader(content)
			}
			// The README's requests carry no token (the example checks
			// none), so they are not recorded for OpenAPI validation; the
			// e2e tests cover these routes.
			resp := transcript.Send(t, http.DefaultClient, base, url, tr, body)
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			readme := ""
			if len(tr.Resp) > 0 {
				readme = strings.Join(tr.Resp, "\n") + "\n"
			}
			if !strings.Contains(resp.Header.Get("Content-Type"), "json") {
				if diff := cmp.Diff(readme, string(b)); diff != "" {
					t.Errorf("body (-README +server):\n%s", diff)
				}
				return
			}
			var got, want map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("response body %q: %v", b, err)
			}
			if err := json.Unmarshal([]byte(readme), &want); err != nil {
				t.Fatalf("README body %q: %v", readme, err)
			}
			if readme, ok := want["fileId"].(string); ok {
				real, _ := got["fileId"].(string)
				if len(real) != len(readme) {
					t.Errorf("fileId %q, README shows one like %q", real, readme)
				}
				ids[readme] = real
				want["fileId"] = real
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("body (-README +server):\n%s", diff)
			}
		})
	}
}

var fileID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// newFileID stands any fileId member of a decoded JSON body in for
// "<32 hex digits>".
func newFileID(v any) any {
	if m, ok := v.(map[string]any); ok {
		if id, ok := m["fileId"].(string); ok && fileID.MatchString(id) {
			m["fileId"] = "<32 hex digits>"
		}
	}
	return v
}
