package health_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duetrpc/duet/health"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	_ "google.golang.org/grpc/health" // client-side health checking
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
)

// flag is a check whose result the test sets.
type flag struct{ bad atomic.Bool }

func (f *flag) check(context.Context) error {
	if f.bad.Load() {
		return errors.New("dial tcp 10.1.2.3:5432: password=hunter2 rejected")
	}
	return nil
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

type testService struct {
	testgrpc.UnimplementedTestServiceServer
}

func (testService) EmptyCall(context.Context, *testgrpc.Empty) (*testgrpc.Empty, error) {
	return &testgrpc.Empty{}, nil
}

func startGRPC(t *testing.T, hs *health.Server, dialOpts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	hs.Register(srv)
	testgrpc.RegisterTestServiceServer(srv, testService{})
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	opts := append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) })}, dialOpts...)
	cc, err := grpc.NewClient("passthrough:///bufnet", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

func TestGRPCCheckWatchList(t *testing.T) {
	db := &flag{}
	hs := health.New(health.WithChecks(health.Check{Name: "db", Func: db.check, Interval: 5 * time.Millisecond, Critical: true}))
	hs.AddService("users.v1.UserService", "db")
	hs.AddService("static.v1.Files")
	cc := startGRPC(t, hs)
	client := healthpb.NewHealthClient(cc)
	ctx := context.Background()

	// Before Start nothing has passed: NOT_SERVING.
	if r, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: "users.v1.UserService"}); err != nil || r.Status != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("before start: %v, %v", r, err)
	}
	watch, err := client.Watch(ctx, &healthpb.HealthCheckRequest{Service: "users.v1.UserService"})
	if err != nil {
		t.Fatal(err)
	}
	// A watcher that never reads must not hold the others up.
	slowCtx, cancelSlow := context.WithCancel(ctx)
	defer cancelSlow()
	if _, err := client.Watch(slowCtx, &healthpb.HealthCheckRequest{Service: "users.v1.UserService"}); err != nil {
		t.Fatal(err)
	}
	next := func() healthpb.HealthCheckResponse_ServingStatus {
		r, err := watch.Recv()
		if err != nil {
			t.Fatal(err)
		}
		return r.Status
	}
	var got []healthpb.HealthCheckResponse_ServingStatus
	got = append(got, next()) // the initial NOT_SERVING, before any check ran
	hs.Start()
	defer hs.Close()
	got = append(got, next())
	db.bad.Store(true)
	got = append(got, next())
	db.bad.Store(false)
	got = append(got, next())
	want := []healthpb.HealthCheckResponse_ServingStatus{
		healthpb.HealthCheckResponse_NOT_SERVING, healthpb.HealthCheckResponse_SERVING,
		healthpb.HealthCheckResponse_NOT_SERVING, healthpb.HealthCheckResponse_SERVING,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Watch transitions (-want +got):\n%s", diff)
	}

	list, err := client.List(ctx, &healthpb.HealthListRequest{})
	if err != nil {
		t.Fatal(err)
	}
	statuses := map[string]healthpb.HealthCheckResponse_ServingStatus{}
	for name, r := range list.Statuses {
		statuses[name] = r.Status
	}
	wantList := map[string]healthpb.HealthCheckResponse_ServingStatus{
		"": healthpb.HealthCheckResponse_SERVING, "users.v1.UserService": healthpb.HealthCheckResponse_SERVING, "static.v1.Files": healthpb.HealthCheckResponse_SERVING,
	}
	if diff := cmp.Diff(wantList, statuses); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	if _, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: "nope"}); status.Code(err) != codes.NotFound {
		t.Errorf("unknown service: %v, want NOT_FOUND", err)
	}

	// Shutdown: NOT_SERVING everywhere, streamed to watchers.
	hs.Shutdown()
	if s := next(); s != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("after Shutdown: %v", s)
	}
}

func TestClientSideHealthChecking(t *testing.T) {
	db := &flag{}
	db.bad.Store(true)
	hs := health.New(health.WithChecks(health.Check{Name: "db", Func: db.check, Interval: 5 * time.Millisecond, Critical: true}))
	hs.Start()
	defer hs.Close()
	cc := startGRPC(t, hs, grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}],"healthCheckConfig":{"serviceName":""}}`))
	client := testgrpc.NewTestServiceClient(cc)
	call := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, err := client.EmptyCall(ctx, &testgrpc.Empty{})
		return err
	}
	if err := call(); err == nil {
		t.Fatal("a client checking health reached a NOT_SERVING server")
	}
	db.bad.Store(false)
	waitFor(t, "the client to see SERVING", func() bool { return call() == nil })
}

func get(t *testing.T, srv *httptest.Server, path string) (int, map[string]any) {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != health.MediaType {
		t.Errorf("%s: Content-Type %q", path, ct)
	}
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func TestHTTPProbes(t *testing.T) {
	db, cache := &flag{}, &flag{}
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	hs := health.New(health.WithChecks(
		health.Check{Name: "db", Func: db.check, Interval: 5 * time.Millisecond, Critical: true},
		health.Check{Name: "cache", Func: cache.check, Interval: 5 * time.Millisecond},
		health.Check{Name: "hung", Func: func(context.Context) error { <-hang; return nil }, Interval: time.Hour, Timeout: 20 * time.Millisecond},
		health.Check{Name: "panics", Func: func(context.Context) error { panic("oops") }, Interval: time.Hour},
		health.Check{Name: "public", Func: func(context.Context) error { return health.Fail("replica lag 30s") }, Interval: time.Hour},
	))
	mux := http.NewServeMux()
	for _, p := range []string{"/livez", "/readyz", "/healthz"} {
		mux.Handle(p, hs)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	hs.Start()
	t.Cleanup(hs.Close)
	waitFor(t, "every check to run", func() bool {
		for _, r := range hs.Results() {
			if r.Time.IsZero() {
				return false
			}
		}
		return true
	})

	code, body := get(t, srv, "/readyz?verbose")
	if code != 200 || body["status"] != "warn" {
		t.Errorf("readyz with only non-critical failures = %d %v, want 200 warn", code, body)
	}
	checks, _ := body["checks"].(map[string]any)
	outputs := map[string]any{}
	for name, v := range checks {
		outputs[name] = v.([]any)[0].(map[string]any)["output"]
	}
	wantOutputs := map[string]any{"db": nil, "cache": nil, "hung": "timed out after 20ms", "panics": "panicked", "public": "replica lag 30s"}
	if diff := cmp.Diff(wantOutputs, outputs); diff != "" {
		t.Errorf("verbose outputs (-want +got):\n%s", diff)
	}

	cache.bad.Store(true)
	db.bad.Store(true)
	waitFor(t, "db to fail", func() bool { c, _ := get(t, srv, "/readyz"); return c == 503 })
	code, body = get(t, srv, "/healthz?verbose")
	raw, _ := json.Marshal(body)
	if code != 503 || body["status"] != "fail" || strings.Contains(string(raw), "hunter2") || !strings.Contains(string(raw), "check failed") {
		t.Errorf("healthz = %d %s", code, raw)
	}
	if code, body := get(t, srv, "/livez"); code != 200 || body["status"] != "pass" {
		t.Errorf("livez with failing dependencies = %d %v, want 200 pass", code, body)
	}
	if _, body := get(t, srv, "/readyz"); body["checks"] != nil {
		t.Errorf("checks listed without ?verbose: %v", body)
	}

	// Flapping back, then draining.
	db.bad.Store(false)
	waitFor(t, "db to recover", func() bool { c, _ := get(t, srv, "/readyz"); return c == 200 })
	hs.Shutdown()
	if code, _ := get(t, srv, "/readyz"); code != 503 {
		t.Errorf("readyz while draining = %d", code)
	}
	if code, _ := get(t, srv, "/livez"); code != 200 {
		t.Errorf("livez while draining = %d", code)
	}
}

func TestReadinessGateAndLiveness(t *testing.T) {
	worker := &flag{}
	hs := health.New(health.WithChecks(health.Check{Name: "worker", Func: worker.check, Interval: 5 * time.Millisecond, Liveness: true}))
	srv := httptest.NewServer(hs)
	t.Cleanup(srv.Close)
	hs.SetReady(false)
	hs.Start()
	t.Cleanup(hs.Close)
	if code, _ := get(t, srv, "/readyz"); code != 503 {
		t.Errorf("readyz with the gate closed = %d", code)
	}
	hs.SetReady(true)
	waitFor(t, "ready", func() bool { c, _ := get(t, srv, "/readyz"); return c == 200 })
	worker.bad.Store(true)
	waitFor(t, "livez to fail", func() bool { c, _ := get(t, srv, "/livez"); return c == 503 })
}

// Close stops the checks without turning a run in flight into a failure.
func TestCloseKeepsStatus(t *testing.T) {
	var calls atomic.Int32
	hs := health.New(health.WithChecks(health.Check{Name: "db", Interval: time.Millisecond, Timeout: time.Hour, Critical: true,
		Func: func(ctx context.Context) error {
			if calls.Add(1) > 1 {
				<-ctx.Done() // in flight when Close runs
			}
			return nil
		}}))
	hs.Start()
	waitFor(t, "a second run in flight", func() bool { return calls.Load() > 1 })
	hs.Close()
	r := hs.Results()
	if len(r) != 1 || !r[0].OK {
		t.Errorf("after Close: %+v, want db still OK", r)
	}
}
