package health_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/duetrpc/duet/health"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// TestGRPCAndHTTPAgree: in every state, gRPC's overall status and
// /readyz give the same verdict; with no checks at all a started server
// is SERVING (the README's health.New() pattern).
func TestGRPCAndHTTPAgree(t *testing.T) {
	for _, tc := range []struct {
		name   string
		checks func(*flag) []health.Check
		setup  func(hs *health.Server, f *flag)
		want   healthpb.HealthCheckResponse_ServingStatus
	}{
		{name: "no checks, not started", setup: func(*health.Server, *flag) {}, want: healthpb.HealthCheckResponse_NOT_SERVING},
		{name: "no checks, started", setup: start, want: healthpb.HealthCheckResponse_SERVING},
		{name: "critical passing", checks: critical, setup: start, want: healthpb.HealthCheckResponse_SERVING},
		{name: "critical failing", checks: critical, setup: func(hs *health.Server, f *flag) { f.bad.Store(true); start(hs, f) },
			want: healthpb.HealthCheckResponse_NOT_SERVING},
		{name: "non-critical failing", checks: optional, setup: func(hs *health.Server, f *flag) { f.bad.Store(true); start(hs, f) },
			want: healthpb.HealthCheckResponse_SERVING},
		{name: "gate closed", setup: func(hs *health.Server, f *flag) { start(hs, f); hs.SetReady(false) },
			want: healthpb.HealthCheckResponse_NOT_SERVING},
		{name: "gate reopened", setup: func(hs *health.Server, f *flag) { start(hs, f); hs.SetReady(false); hs.SetReady(true) },
			want: healthpb.HealthCheckResponse_SERVING},
		{name: "draining", setup: func(hs *health.Server, f *flag) { start(hs, f); hs.Shutdown() },
			want: healthpb.HealthCheckResponse_NOT_SERVING},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &flag{}
			var checks []health.Check
			if tc.checks != nil {
				checks = tc.checks(f)
			}
			hs := health.New(health.WithChecks(checks...))
			t.Cleanup(hs.Close)
			tc.setup(hs, f)
			cc := startGRPC(t, hs)
			resp, err := healthpb.NewHealthClient(cc).Check(context.Background(), &healthpb.HealthCheckRequest{})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			hs.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			wantHTTP := http.StatusServiceUnavailable
			if tc.want == healthpb.HealthCheckResponse_SERVING {
				wantHTTP = http.StatusOK
			}
			if resp.GetStatus() != tc.want || rec.Code != wantHTTP {
				t.Errorf("gRPC %v, /readyz %d; want %v and %d", resp.GetStatus(), rec.Code, tc.want, wantHTTP)
			}
		})
	}
}

func critical(f *flag) []health.Check {
	return []health.Check{{Name: "db", Func: f.check, Interval: time.Hour, Critical: true}}
}

func optional(f *flag) []health.Check {
	return []health.Check{{Name: "cache", Func: f.check, Interval: time.Hour}}
}

// start starts hs and waits for every check's first run.
func start(hs *health.Server, _ *flag) {
	hs.Start()
	for {
		ran := true
		for _, r := range hs.Results() {
			ran = ran && !r.Time.IsZero()
		}
		if ran {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// TestWatchEndsOnShutdown: a Watch stream open when the server shuts
// down gets NOT_SERVING and then ends with UNAVAILABLE at once, instead of
// holding a graceful stop for its whole grace.
func TestWatchEndsOnShutdown(t *testing.T) {
	for _, name := range []string{"served before", "not serving before"} {
		t.Run(name, func(t *testing.T) {
			hs := health.New()
			if name == "served before" {
				hs.Start()
			}
			cc := startGRPC(t, hs)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			w, err := healthpb.NewHealthClient(cc).Watch(ctx, &healthpb.HealthCheckRequest{})
			if err != nil {
				t.Fatal(err)
			}
			first, err := w.Recv()
			if err != nil {
				t.Fatal(err)
			}
			hs.Shutdown()
			var got []healthpb.HealthCheckResponse_ServingStatus
			got = append(got, first.GetStatus())
			for {
				r, err := w.Recv()
				if err != nil {
					if status.Code(err) != codes.Unavailable {
						t.Fatalf("Watch ended with %v, want UNAVAILABLE", err)
					}
					break
				}
				got = append(got, r.GetStatus())
			}
			if last := got[len(got)-1]; last != healthpb.HealthCheckResponse_NOT_SERVING {
				t.Errorf("statuses %v: the last before the end is not NOT_SERVING", got)
			}
		})
	}
}
