package httprule

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		shape   string
		verb    string
		vars    []Var
		wantErr string
	}{
		{in: "/v1/users", shape: "/v1/users"},
		{in: "/v1/users/{id}", shape: "/v1/users/*", vars: []Var{{Path: "id", Start: 2, End: 3, Pattern: "*"}}},
		{in: "/v1/{a.b.c}", shape: "/v1/*", vars: []Var{{Path: "a.b.c", Start: 1, End: 2, Pattern: "*"}}},
		{in: "/v1/{name=shelves/*/books/*}", shape: "/v1/shelves/*/books/*", vars: []Var{{Path: "name", Start: 1, End: 5, Pattern: "shelves/*/books/*"}}},
		{in: "/v1/files/{path=**}", shape: "/v1/files/**", vars: []Var{{Path: "path", Start: 2, End: 3, Pattern: "**"}}},
		{in: "/v1/*/x/{a}", shape: "/v1/*/x/*", vars: []Var{{Path: "a", Start: 3, End: 4, Pattern: "*"}}},
		{in: "/v1/users/{id}:deactivate", shape: "/v1/users/*:deactivate", verb: "deactivate", vars: []Var{{Path: "id", Start: 2, End: 3, Pattern: "*"}}},
		{in: "/v1/**", shape: "/v1/**"},
		{in: "/v1/a%20b", shape: "/v1/a b"},
		{in: "v1/users", wantErr: "must start with /"},
		{in: "/v1//users", wantErr: "empty segment"},
		{in: "/v1/{id", wantErr: "unterminated"},
		{in: "/v1/{id=a/{b}}", wantErr: "cannot nest"},
		{in: "/v1/{1d}", wantErr: "bad field path"},
		{in: "/v1/{a..b}", wantErr: "bad field path"},
		{in: "/v1/**/x", wantErr: "** must be the last"},
		{in: "/v1/{id}/{id}", wantErr: "bound twice"},
		{in: "/v1/x:", wantErr: "malformed verb"},
		{in: "/v1/x}", wantErr: "unexpected"},
		{in: "/v1/%zz", wantErr: "invalid URL escape"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Shape() != tt.shape || got.Verb != tt.verb {
				t.Errorf("shape, verb = %q, %q; want %q, %q", got.Shape(), got.Verb, tt.shape, tt.verb)
			}
			if diff := cmp.Diff(tt.vars, got.Vars); diff != "" {
				t.Errorf("vars (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMatchAndExpand(t *testing.T) {
	tests := []struct {
		tmpl    string
		path    string // escaped, verb removed
		want    map[string]string
		noMatch bool
	}{
		{tmpl: "/v1/users/{id}", path: "/v1/users/42", want: map[string]string{"id": "42"}},
		{tmpl: "/v1/users/{id}", path: "/v1/users/a%2Fb%20c", want: map[string]string{"id": "a/b c"}},
		{tmpl: "/v1/{name=shelves/*/books/*}", path: "/v1/shelves/1/books/x%2Fy", want: map[string]string{"name": "shelves/1/books/x%2Fy"}},
		{tmpl: "/v1/files/{path=**}", path: "/v1/files/a/b/c.txt", want: map[string]string{"path": "a/b/c.txt"}},
		{tmpl: "/v1/files/{path=**}", path: "/v1/files/a%2Fb/%41", want: map[string]string{"path": "a%2Fb/A"}},
		{tmpl: "/v1/{a.b}/{c}", path: "/v1/x/y", want: map[string]string{"a.b": "x", "c": "y"}},
		{tmpl: "/v1/users/{id}", path: "/v1/users", noMatch: true},
		{tmpl: "/v1/users/{id}", path: "/v1/users/", noMatch: true},
		{tmpl: "/v1/users/{id}", path: "/v1/users/1/2", noMatch: true},
		{tmpl: "/v1/{name=shelves/*/books/*}", path: "/v1/shelves/1/cds/2", noMatch: true},
		{tmpl: "/v1/a%20b", path: "/v1/a%20b", want: map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl+" "+tt.path, func(t *testing.T) {
			tp, err := Parse(tt.tmpl)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			ok, err := tp.Match(tt.path, SplitPath(tt.path), func(v Var, val string) error { got[v.Path] = val; return nil })
			if err != nil {
				t.Fatal(err)
			}
			if ok == tt.noMatch {
				t.Fatalf("matched = %v, want %v", ok, !tt.noMatch)
			}
			if tt.noMatch {
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
			// Expanding the values routes back to the same values.
			path, err := tp.Expand(func(p string) (string, bool) { v, ok := got[p]; return v, ok })
			if err != nil {
				t.Fatal(err)
			}
			again := map[string]string{}
			if ok, err := tp.Match(path, SplitPath(path), func(v Var, val string) error { again[v.Path] = val; return nil }); !ok || err != nil {
				t.Fatalf("expanded %q does not match: %v", path, err)
			}
			if diff := cmp.Diff(got, again); diff != "" {
				t.Errorf("expand %q then match (-first +second):\n%s", path, diff)
			}
		})
	}
}

func TestExpandErrors(t *testing.T) {
	tp, _ := Parse("/v1/{name=shelves/*}/x:do")
	if _, err := tp.Expand(func(string) (string, bool) { return "", false }); err == nil {
		t.Error("missing value: no error")
	}
	if _, err := tp.Expand(func(string) (string, bool) { return "books/1", true }); err == nil {
		t.Error("value outside the pattern: no error")
	}
	got, err := tp.Expand(func(string) (string, bool) { return "shelves/a b:c", true })
	if err != nil || got != "/v1/shelves/a%20b%3Ac/x:do" {
		t.Errorf("Expand = %q, %v", got, err)
	}
}

func TestWriteEscaped(t *testing.T) {
	for c := 0; c < 256; c++ {
		s := "a" + string([]byte{byte(c)}) + "b"
		var b strings.Builder
		writeEscaped(&b, s)
		if got, want := b.String(), escapeSegment(s); got != want {
			t.Errorf("writeEscaped(%q) = %q, escapeSegment = %q", s, got, want)
		}
	}
}

func TestExpandAllocs(t *testing.T) {
	tp, _ := Parse("/v1/{name=shelves/*/books/*}:get")
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = tp.Expand(func(string) (string, bool) { return "shelves/1/books/2", true })
	})
	if allocs > 1 {
		t.Errorf("Expand allocates %v times, want 1", allocs)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"/v1/{name=shelves/*/books/*}:get", "/v1/**", "/{a.b}", "/x/{y=**}", "/{", "/a:b:c", "/%"} {
		f.Add(s, "/v1/shelves/1/books/2")
	}
	f.Fuzz(func(t *testing.T, tmpl, path string) {
		tp, err := Parse(tmpl)
		if err != nil {
			return
		}
		_ = tp.Shape()
		segs := SplitPath(path)
		var copied, sliced []string
		_, err1 := tp.Match("", segs, func(_ Var, v string) error { copied = append(copied, v); return nil })
		_, err2 := tp.Match(path, segs, func(_ Var, v string) error { sliced = append(sliced, v); return nil })
		if (err1 == nil) != (err2 == nil) || !slices.Equal(copied, sliced) {
			t.Errorf("Match(%q) from the path = %q, %v; from the segments = %q, %v", path, sliced, err2, copied, err1)
		}
		_, _ = tp.Expand(func(string) (string, bool) { return "x", true })
		for _, v := range tp.Vars {
			if !tp.Multi(v) {
				continue
			}
			sub := &Template{Segments: tp.Segments[v.Start:v.End]}
			if got, want := tp.fits(v, path), sub.matchShape(strings.Split(path, "/")); got != want {
				t.Errorf("fits(%s, %q) = %v, matchShape of its parts = %v", v.Pattern, path, got, want)
			}
		}
	})
}
