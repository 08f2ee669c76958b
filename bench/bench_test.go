package bench

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

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
		{"duet-protojson", newDuetProtojson(l)},
		{"encodingjson", newPlainJSON(l)},
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

// BenchmarkPair serves each request from duet and the hand-written handler
// in turn, in blocks of 32 requests alternating which handler goes first,
// and reports each one's time per request and their ratio. On a shared
// machine whose speed drifts from second to second, this ratio is far
// steadier than one taken between BenchmarkREST rows run seconds apart.
// Blocks, rather than single requests, keep each handler's code and data
// in cache as a server's steady traffic would; the two handlers allocate
// about the same, so neither pays much of the other's garbage collection.
func BenchmarkPair(b *testing.B) {
	ps := peers()
	hand, duet := ps[0], ps[1]
	if hand.name != "handwritten" || duet.name != "duet" {
		b.Fatal("peers() order changed")
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			ns := interleave(b, c.method, c.target, c.body, []peer{hand, duet})
			b.ReportMetric(ns[1]/ns[0], "duet/handwritten")
		})
	}
}

// BenchmarkJSON measures what JSON costs duet, interleaved as
// BenchmarkPair is, on the same service: encoding/json on plain structs
// (the floor), the hand-written net/http + protojson handler, duet with
// protojson (rest.WithProtojson, duet before its own encoder) and duet.
func BenchmarkJSON(b *testing.B) {
	l := newLibrary()
	hs := []peer{
		{"encodingjson", newPlainJSON(l)},
		{"handwritten", newHandWritten(l)},
		{"duet-protojson", newDuetProtojson(l)},
		{"duet", newDuet(l)},
	}
	for _, c := range cases[:3] {
		b.Run(c.name, func(b *testing.B) {
			ns := interleave(b, c.method, c.target, c.body, hs)
			b.ReportMetric(ns[3]/ns[0], "duet/encodingjson")
			b.ReportMetric(ns[2]/ns[3], "before/after")
		})
	}
}

// interleave serves one request from every handler in turn, in blocks of
// 32 requests, rotating which handler goes first, and reports each one's
// time and allocations per request; it returns the times. Only ServeHTTP
// is timed. On a shared machine whose speed drifts from second to second,
// ratios between these are far steadier than between benchmark rows run
// seconds apart. Blocks, rather than single requests, keep each handler's
// code and data in cache as a server's steady traffic would.
func interleave(b *testing.B, method, target, body string, hs []peer) []float64 {
	const block = 32
	t := make([]time.Duration, len(hs))
	allocs := make([]uint64, len(hs))
	reqs := make([]*http.Request, block)
	recs := make([]*httptest.ResponseRecorder, block)
	var ms runtime.MemStats
	serve := func(i, n int) {
		for k := 0; k < n; k++ {
			reqs[k], recs[k] = newRequest(method, target, body), httptest.NewRecorder()
		}
		runtime.ReadMemStats(&ms)
		before := ms.Mallocs
		start := time.Now()
		for k := 0; k < n; k++ {
			hs[i].h.ServeHTTP(recs[k], reqs[k])
		}
		t[i] += time.Since(start)
		runtime.ReadMemStats(&ms)
		allocs[i] += ms.Mallocs - before
		for k := 0; k < n; k++ {
			if recs[k].Code >= 500 {
				b.Fatalf("%s: status %d: %s", hs[i].name, recs[k].Code, recs[k].Body)
			}
		}
	}
	for done, turn := 0, 0; done < b.N; turn++ {
		n := min(block, b.N-done)
		for j := range hs {
			serve((turn+j)%len(hs), n)
		}
		done += n
	}
	n := float64(b.N)
	ns := make([]float64, len(hs))
	for i, h := range hs {
		ns[i] = float64(t[i].Nanoseconds()) / n
		b.ReportMetric(ns[i], h.name+"-ns/req")
		b.ReportMetric(float64(allocs[i])/n, h.name+"-allocs/req")
	}
	return ns
}
