package duet_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duetrpc/duet"
	"github.com/duetrpc/duet/health"
	"github.com/duetrpc/duet/internal/testpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
)

// TestShutdownClientsCanActOn: during the drain /readyz answers 503
// while the port still serves; a health Watch ends at once with
// NOT_SERVING then UNAVAILABLE; when the grace ends every stream still
// open ends with a status clients act on (UNAVAILABLE on gRPC, on both
// ports, and gRPC-Web; a final 503 problem event on SSE and NDJSON),
// never INTERNAL; and Run returns nil, so a SIGTERM exits 0.
func TestShutdownClientsCanActOn(t *testing.T) {
	hs := health.New()
	// The drain is the window in which the test must see /readyz fail
	// on a new connection: when the port closes first, the test fails.
	// On a loaded 2-core machine under -race that first round trip has
	// taken over a second (a 300ms drain failed 1 run in 6 beside two
	// busy loops), so the drain is a few seconds, and the grace, which
	// cuts the streams, a little longer.
	srv := duet.NewServer(duet.WithHealth(hs), duet.WithDrain(3*time.Second))
	impl := kitchens{streaming: make(chan struct{}, 16)}
	testpb.RegisterKitchensServer(srv, impl)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	glis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	runCtx, stop := context.WithCancel(context.Background())
	defer stop()
	ran := make(chan error, 1)
	go func() { ran <- srv.Run(runCtx, lis, 3500*time.Millisecond) }()
	go func() { _ = srv.ServeGRPC(glis) }()

	var mu sync.Mutex
	endings := map[string]string{}
	var wg sync.WaitGroup
	record := func(name, how string) {
		mu.Lock()
		endings[name] = how
		mu.Unlock()
		wg.Done()
	}
	streams := 0
	// gRPC, on the one port and the native one.
	for name, a := range map[string]string{"grpc one port": addr, "grpc native": glis.Addr().String()} {
		cc, err := grpc.NewClient(a, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer cc.Close()
		s, err := testpb.NewKitchensClient(cc).Tail(context.Background(), &testpb.TailRequest{Count: -1})
		if err != nil {
			t.Fatal(err)
		}
		streams++
		wg.Add(1)
		go func() {
			for {
				if _, err := s.Recv(); err != nil {
					record(name, status.Code(err).String())
					return
				}
			}
		}()
	}
	// gRPC-Web.
	streams++
	wg.Add(1)
	go func() {
		_, trailers, _ := webCall(t, addr, "/duet.test.v1.Kitchens/Tail", &testpb.TailRequest{Count: -1}, false)
		record("grpc-web", "grpc-status "+trailers["grpc-status"])
	}()
	// REST: the last SSE event and the last NDJSON line.
	for name, accept := range map[string]string{"sse": "text/event-stream", "ndjson": "application/x-ndjson"} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/v1/tail?count=-1", nil)
		req.Header.Set("Accept", accept)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		streams++
		wg.Add(1)
		go func() {
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			var event, last string
			for sc.Scan() {
				line := sc.Text()
				switch {
				case strings.HasPrefix(line, "event: "):
					event = line
				case line != "":
					last = line
				}
			}
			st := "no status"
			if strings.Contains(last, `"status":503`) && strings.Contains(last, `"UNAVAILABLE"`) {
				st = "503 UNAVAILABLE"
			}
			record(name, strings.TrimSpace(event+" "+st))
		}()
	}
	// A health Watch on the one port.
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	watch, err := healthpb.NewHealthClient(cc).Watch(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := watch.Recv(); err != nil || r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("Watch before the shutdown: %v %v", r, err)
	}
	watchEnd := make(chan string, 1)
	go func() {
		var seen []string
		for {
			r, err := watch.Recv()
			if err != nil {
				watchEnd <- strings.Join(append(seen, status.Code(err).String()), " ")
				return
			}
			seen = append(seen, r.GetStatus().String())
		}
	}()
	for i := 0; i < streams; i++ { // every Tail has sent a message
		<-impl.streaming
	}

	stop() // SIGTERM
	// The drain: /readyz fails while the port still answers.
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			t.Fatalf("the port closed before /readyz failed: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("/readyz never failed during the drain")
		}
	}
	select {
	case got := <-watchEnd:
		if got != "NOT_SERVING Unavailable" {
			t.Errorf("Watch saw %q, want NOT_SERVING then Unavailable", got)
		}
	case <-time.After(5 * time.Second):
		t.Error("Watch did not end when the shutdown began")
	}
	if err := <-ran; err != nil {
		t.Errorf("Run = %v, want nil after a clean shutdown", err)
	}
	wg.Wait()
	want := map[string]string{
		"grpc one port": "Unavailable",
		"grpc native":   "Unavailable",
		"grpc-web":      "grpc-status 14",
		"sse":           "event: error 503 UNAVAILABLE",
		"ndjson":        "503 UNAVAILABLE",
	}
	for k, w := range want {
		if endings[k] != w {
			t.Errorf("%s ended with %q, want %q", k, endings[k], w)
		}
	}
}

// slowEnd takes its time over the end of every call, which the call
// layer reports after the interceptors returned and before the protocol
// writes how the call ended.
type slowEnd struct{}

func (slowEnd) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context   { return ctx }
func (slowEnd) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (slowEnd) HandleConn(context.Context, stats.ConnStats)                       {}
func (slowEnd) HandleRPC(_ context.Context, s stats.RPCStats) {
	if _, ok := s.(*stats.End); ok {
		time.Sleep(300 * time.Millisecond)
	}
}

// TestShutdownWaitsForTheFinalWrite: when the grace ends, the
// connections close only after each protocol wrote how its calls ended,
// however long that takes after the call's interceptors returned (here
// a slow stats handler, within the second a shutdown gives them): the
// gRPC-Web trailer frame and the SSE "error" event reach the client.
func TestShutdownWaitsForTheFinalWrite(t *testing.T) {
	srv := duet.NewServer(duet.WithStatsHandler(slowEnd{}))
	impl := kitchens{streaming: make(chan struct{}, 2)}
	testpb.RegisterKitchensServer(srv, impl)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	runCtx, stop := context.WithCancel(context.Background())
	defer stop()
	ran := make(chan error, 1)
	go func() { ran <- srv.Run(runCtx, lis, 100*time.Millisecond) }()

	web := make(chan string, 1)
	go func() {
		_, trailers, _ := webCall(t, addr, "/duet.test.v1.Kitchens/Tail", &testpb.TailRequest{Count: -1}, false)
		web <- trailers["grpc-status"]
	}()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/v1/tail?count=-1", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	<-impl.streaming
	<-impl.streaming

	stop()
	if err := <-ran; err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
	var event, last string
	for sc := bufio.NewScanner(resp.Body); sc.Scan(); {
		switch line := sc.Text(); {
		case strings.HasPrefix(line, "event: "):
			event = line
		case line != "":
			last = line
		}
	}
	if event != "event: error" || !strings.Contains(last, `"status":503`) {
		t.Errorf("the SSE stream ended with %q %q, want an error event with a 503 problem", event, last)
	}
	if got := <-web; got != "14" {
		t.Errorf("gRPC-Web grpc-status %q, want 14 (UNAVAILABLE)", got)
	}
}
