package rest_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPathStrings: a path variable bound to a plain string field of a
// generated request (set straight into its struct) is percent-decoded,
// taken whole across the characters a segment may carry, and refused
// with the field named when it is not UTF-8, as every other field is.
func TestPathStrings(t *testing.T) {
	srv := serve(t, newHandler(t))
	for _, c := range []struct {
		path   string
		status int
		want   map[string]any
	}{
		{"/v1/say/hello", http.StatusOK, map[string]any{"s": "said hello"}},
		{"/v1/say/caf%C3%A9", http.StatusOK, map[string]any{"s": "said café"}},
		{"/v1/say/a%2Fb%20c", http.StatusOK, map[string]any{"s": "said a/b c"}},
		{"/v1/say/%FF", http.StatusBadRequest, map[string]any{"code": "INVALID_ARGUMENT"}},
	} {
		t.Run(c.path, func(t *testing.T) {
			resp := call(t, srv, "GET", c.path, "")
			if resp.status != c.status {
				t.Fatalf("status %d, want %d: %s", resp.status, c.status, resp.body)
			}
			got, _ := jsonOf(t, resp.body).(map[string]any)
			if d := subset(c.want, got); d != "" {
				t.Errorf("body %s: %s", resp.body, d)
			}
			if c.status != http.StatusBadRequest {
				return
			}
			// The problem names the path variable's field.
			var fields []string
			for _, fv := range asList(got["errors"]) {
				if m, ok := fv.(map[string]any); ok {
					fields = append(fields, m["field"].(string))
				}
			}
			if d := cmp.Diff([]string{"s"}, fields); d != "" {
				t.Errorf("fields named (-want +got):\n%s\nbody %s", d, resp.body)
			}
		})
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
