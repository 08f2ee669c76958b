package duet_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duetrpc/duet"
	"github.com/duetrpc/duet/internal/testpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// TestRegisterAfterServe: registering once the server serves panics with
// a message that says what to do, instead of racing the route tables.
func TestRegisterAfterServe(t *testing.T) {
	f := start(t)
	// start has called Serve on another goroutine; wait until it runs.
	for i := 0; i < 100; i++ {
		if resp, err := http.Get("http://" + f.addr + "/v1/kitchens/1"); err == nil {
			resp.Body.Close()
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	defer func() {
		v := recover()
		msg, _ := v.(string)
		if !strings.Contains(msg, "after Serve") || !strings.Contains(msg, "duet.test.v1.Plain") {
			t.Errorf("panic %v, want one naming the service and saying after Serve", v)
		}
	}()
	testpb.RegisterPlainServer(f.srv, testpb.UnimplementedPlainServer{})
}

// TestWithHTTPServer: the hook sees duet's defaults and its settings take
// effect, but it cannot replace the handler.
func TestWithHTTPServer(t *testing.T) {
	var seen struct {
		IdleTimeout, ReadHeaderTimeout time.Duration
		MaxHeaderBytes                 int
	}
	var states atomic.Int32
	f := start(t, duet.WithHTTPServer(func(hs *http.Server) {
		seen.IdleTimeout, seen.ReadHeaderTimeout, seen.MaxHeaderBytes = hs.IdleTimeout, hs.ReadHeaderTimeout, hs.MaxHeaderBytes
		hs.ConnState = func(net.Conn, http.ConnState) { states.Add(1) }
		hs.Handler = http.NotFoundHandler()
	}))
	var resp *http.Response
	var err error
	for i := 0; i < 100; i++ {
		if resp, err = http.Get("http://" + f.addr + "/v1/kitchens/1"); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET answered %d: the hook replaced the handler", resp.StatusCode)
	}
	if seen.IdleTimeout != duet.DefaultIdleTimeout || seen.MaxHeaderBytes != duet.DefaultMaxHeaderBytes || seen.ReadHeaderTimeout <= 0 {
		t.Errorf("defaults seen by the hook: idle %v, max header bytes %d, read header %v", seen.IdleTimeout, seen.MaxHeaderBytes, seen.ReadHeaderTimeout)
	}
	if states.Load() == 0 {
		t.Error("the hook's ConnState was never called")
	}
}

// TestWithInterceptorsKeepsRecovery: interceptors given with
// WithInterceptors run inside the default chain, so a panic in them (or in
// a handler) is an INTERNAL status on native gRPC, not a crashed process.
func TestWithInterceptorsKeepsRecovery(t *testing.T) {
	boom := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		panic("boom")
	}
	f := start(t, duet.WithInterceptors([]grpc.UnaryServerInterceptor{boom}, nil))
	cc, err := grpc.NewClient(f.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	_, err = testpb.NewKitchensClient(cc).GetKitchen(context.Background(), &testpb.GetKitchenRequest{Id: "1"})
	if status.Code(err) != codes.Internal || strings.Contains(err.Error(), "boom") {
		t.Errorf("got %v, want INTERNAL without the panic's value", err)
	}
}
