package bench

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type peer struct {
	name string
	h    http.Handler
}

func peers() []peer {
	l := newLibrary()
	return []peer{
		{"handwritten", newHandWritten(l)},
		{"duet", newDuet(l)},
		{"grpcgateway", newGateway(l)},
		{"vanguard", newVanguard(l)},
	}
}

const createBody = `{"title":"Concurrency in Go","author":"Katherine Cox-Buday","pages":238,"tags":["go","concurrency"]}`

// cases are the benchmarked requests.
var cases = []struct {
	name, method, target, body string
}{
	{"GetOne", http.MethodGet, "/v1/shelves/1/books/7", ""},
	{"List20", http.MethodGet, "/v1/shelves/1/books?page_size=20", ""},
	{"Create", http.MethodPost, "/v1/shelves/1/books?book_id=cig", createBody},
	{"NotFound", http.MethodGet, "/v1/shelves/1/books/999", ""},
}

func newRequest(method, target, body string) *http.Request {
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, target, nil)
	} else {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	}
	r.Header.Set("Accept", "application/json")
	return r
}

// TestSameAnswers checks that every handler does the same work: the success
// bodies are JSON-equal to the hand-written handler's, and every handler
// answers the not-found request with 404. Status codes of success and the
// shape of error bodies differ between peers on purpose (see README.md).
func TestSameAnswers(t *testing.T) {
	ps := peers()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var want map[string]any
			for i, p := range ps {
				rec := httptest.NewRecorder()
				p.h.ServeHTTP(rec, newRequest(c.method, c.target, c.body))
				if c.name == "NotFound" {
					if rec.Code != http.StatusNotFound {
						t.Errorf("%s: status %d, want 404; body %s", p.name, rec.Code, rec.Body)
					}
					continue
				}
				if rec.Code != http.StatusOK && rec.Code != http.StatusCreated {
					t.Fatalf("%s: status %d; body %s", p.name, rec.Code, rec.Body)
				}
				var got map[string]any
				if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
					t.Fatalf("%s: %v; body %s", p.name, err, rec.Body)
				}
				if i == 0 {
					want = got
					if len(want) == 0 {
						t.Fatalf("%s: empty body", p.name)
					}
					continue
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("%s answers differently from %s (-%s +%s):\n%s", p.name, ps[0].name, ps[0].name, p.name, d)
				}
			}
		})
	}
}

func BenchmarkREST(b *testing.B) {
	ps := peers()
	for _, c := range cases {
		for _, p := range ps {
			b.Run(c.name+"/"+p.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					rec := httptest.NewRecorder()
					p.h.ServeHTTP(rec, newRequest(c.method, c.target, c.body))
					if rec.Code >= 500 {
						b.Fatalf("status %d: %s", rec.Code, rec.Body)
					}
				}
			})
		}
	}
}
