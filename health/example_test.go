package health_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/duetrpc/duet/health"
	"google.golang.org/grpc"
)

func ExampleNew() {
	hs := health.New(health.WithChecks(health.Check{
		Name:     "db",
		Func:     func(ctx context.Context) error { return nil }, // e.g. db.PingContext
		Interval: 5 * time.Second,
		Critical: true,
	}))
	hs.AddService("users.v1.UserService", "db")

	srv := grpc.NewServer()
	hs.Register(srv)
	mux := http.NewServeMux()
	mux.Handle("/livez", hs)
	mux.Handle("/readyz", hs)
	mux.Handle("/healthz", hs)

	hs.Start()
	defer hs.Shutdown()
	for hs.Results()[0].Time.IsZero() {
		time.Sleep(time.Millisecond)
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	fmt.Println(rec.Code, rec.Body.String())
	// Output: 200 {"status":"pass"}
}

func ExampleFail() {
	check := health.Check{Name: "replica", Func: func(context.Context) error {
		return health.Fail("replica lag above 30s") // shown on ?verbose
	}}
	_ = check
}

func ExampleServer_Shutdown() {
	hs := health.New()
	hs.Start()
	hs.Shutdown() // first in a graceful stop: readiness fails, gRPC NOT_SERVING
	rec := httptest.NewRecorder()
	hs.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	fmt.Println(rec.Code)
	// Output: 503
}

func ExampleServer_SetReady() {
	hs := health.New()
	hs.SetReady(false) // until caches are warm
	hs.Start()
	defer hs.Close()
	rec := httptest.NewRecorder()
	hs.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	fmt.Println(rec.Code)
	// Output: 503
}
