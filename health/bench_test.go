package health_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/duetrpc/duet/health"
)

// BenchmarkReadyz measures one probe answered from the cached results.
func BenchmarkReadyz(b *testing.B) {
	ok := func(context.Context) error { return nil }
	hs := health.New(health.WithChecks(
		health.Check{Name: "db", Func: ok, Interval: time.Hour, Critical: true},
		health.Check{Name: "cache", Func: ok, Interval: time.Hour},
	))
	hs.Start()
	b.Cleanup(hs.Close)
	for _, path := range []string{"/readyz", "/readyz?verbose"} {
		b.Run(path, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				w := httptest.NewRecorder()
				hs.ServeHTTP(w, req)
			}
		})
	}
}
