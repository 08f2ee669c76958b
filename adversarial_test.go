package duet

// The adversarial suite: clients that behave as an attacker would, on
// real loopback connections, against a whole Server. Each test asserts
// what must hold while they do: memory stays bounded, other clients keep
// getting answers, and nothing leaks once they leave.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/duetrpc/duet/internal/testpb"
	"google.golang.org/grpc"
)

type hostileKitchens struct {
	testpb.UnimplementedKitchensServer
	tailEnded chan error // receives when a Tail stream's handler returns
}

// Tail sends 16 KiB messages until a send fails.
func (k hostileKitchens) Tail(_ *testpb.TailRequest, s grpc.ServerStreamingServer[testpb.Nested]) error {
	m := &testpb.Nested{S: strings.Repeat("x", 16<<10)}
	for {
		if err := s.Send(m); err != nil {
			if k.tailEnded != nil {
				k.tailEnded <- err
			}
			return err
		}
	}
}

func (hostileKitchens) Echo(_ context.Context, k *testpb.Kitchen) (*testpb.Kitchen, error) {
	return k, nil
}

func (hostileKitchens) GetKitchen(_ context.Context, r *testpb.GetKitchenRequest) (*testpb.Kitchen, error) {
	return &testpb.Kitchen{Id: r.Id}, nil
}

// startHostile serves a Server with the kitchens service on loopback
// and returns its address; the server is shut down when the test ends.
func startHostile(t *testing.T, opts ...Option) (*Server, string) {
	return startHostileWith(t, hostileKitchens{}, opts...)
}

func startHostileWith(t *testing.T, impl hostileKitchens, opts ...Option) (*Server, string) {
	t.Helper()
	srv := NewServer(opts...)
	testpb.RegisterKitchensServer(srv, impl)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(lis) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	})
	return srv, lis.Addr().String()
}

// stillAnswers checks that an ordinary client gets an ordinary answer.
func stillAnswers(t *testing.T, addr string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + addr + "/v1/kitchens/k1")
	if err != nil {
		t.Fatalf("an ordinary client got no answer: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(`"k1"`)) {
		t.Fatalf("an ordinary client got %d %s", resp.StatusCode, b)
	}
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// h2Stalled opens a cleartext HTTP/2 connection (prior knowledge) and
// starts n streams that each declare a body of declared bytes and send
// none of it: HEADERS without END_STREAM, then nothing. The frames are
// written by hand, so that the client's own memory is no part of what
// the test measures. Frames from the server are read and dropped.
func h2Stalled(t *testing.T, addr string, n, declared int) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, c) }()
	var b bytes.Buffer
	b.WriteString("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
	frame := func(typ, flags byte, stream uint32, payload []byte) {
		l := len(payload)
		b.Write([]byte{byte(l >> 16), byte(l >> 8), byte(l), typ, flags,
			byte(stream >> 24), byte(stream >> 16), byte(stream >> 8), byte(stream)})
		b.Write(payload)
	}
	frame(0x4, 0, 0, nil) // SETTINGS
	// HPACK literals without indexing; every length here is < 127.
	var hb []byte
	for _, kv := range [][2]string{
		{":method", "POST"}, {":scheme", "http"}, {":path", "/v1/echo"}, {":authority", "x"},
		{"content-type", "application/json"}, {"content-length", fmt.Sprint(declared)},
	} {
		hb = append(hb, 0, byte(len(kv[0])))
		hb = append(hb, kv[0]...)
		hb = append(hb, byte(len(kv[1])))
		hb = append(hb, kv[1]...)
	}
	for i := 0; i < n; i++ {
		frame(0x1, 0x4, uint32(2*i+1), hb) // HEADERS, END_HEADERS, no END_STREAM
	}
	if _, err := c.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	return c
}

// declaredHeapBound is what 1000 declared-but-unsent 4 MiB HTTP/2
// bodies and 200 HTTP/1.1 ones may grow the server's heap by; the README
// quotes it. Before bodies grew as bytes arrive, they took 4.8 GiB.
const declaredHeapBound = 64 << 20

// TestAdversarialDeclaredButUnsentBodies: 1000 HTTP/2 streams (4 connections of
// 250, Go's default stream limit) and 200 HTTP/1.1 connections that
// declare a 4 MiB body and send none of it cost kilobytes each, not the
// declared 4 MiB, and other clients are still served.
func TestAdversarialDeclaredButUnsentBodies(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 1200 requests")
	}
	srv, addr := startHostile(t)
	before := heapInUse()

	const h2Conns, streamsPerConn, h1Conns = 4, 250, 200
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range h2Conns {
		conns = append(conns, h2Stalled(t, addr, streamsPerConn, 4<<20))
	}
	for range h1Conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", 4<<20)
	}
	// Wait until every body is being read: each holds its first
	// allocation (4 KiB) from the budget.
	const bodies = h2Conns*streamsPerConn + h1Conns
	deadline := time.Now().Add(60 * time.Second)
	for srv.budget.InUse() < bodies*4096 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d KiB of bodies being read after 60s", srv.budget.InUse()>>10)
		}
		time.Sleep(20 * time.Millisecond)
	}
	grown := int64(heapInUse()) - int64(before)
	t.Logf("heap grew %d KiB for %d declared-but-unsent 4 MiB bodies", grown>>10, bodies)
	if grown > declaredHeapBound {
		t.Errorf("heap grew %d MiB, want under %d MiB", grown>>20, declaredHeapBound>>20)
	}
	stillAnswers(t, addr)
}

// TestAdversarialBodyBudget: with the budget held by slow bodies, another
// body is refused with 503 RESOURCE_EXHAUSTED on REST and
// RESOURCE_EXHAUSTED on gRPC-Web, while requests without bodies are
// served.
func TestAdversarialBodyBudget(t *testing.T) {
	srv, addr := startHostile(t, WithBodyBudget(64<<10))
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	// Hogs: each sends 8 KiB of a declared 1 MiB body, then stalls.
	for srv.budget.InUse() < 56<<10 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n{\"name\":\"%s", strings.Repeat("x", 8<<10))
		time.Sleep(10 * time.Millisecond)
		if len(conns) > 100 {
			t.Fatalf("budget in use %d after 100 hogs", srv.budget.InUse())
		}
	}
	resp, err := http.Post("http://"+addr+"/v1/echo", "application/json", strings.NewReader(`{"id":"`+strings.Repeat("y", 20<<10)+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !bytes.Contains(b, []byte("RESOURCE_EXHAUSTED")) || resp.Header.Get("Retry-After") == "" {
		t.Errorf("REST got %d %s (Retry-After %q), want 503 RESOURCE_EXHAUSTED with Retry-After", resp.StatusCode, b, resp.Header.Get("Retry-After"))
	}
	frame := make([]byte, 5+20<<10)
	frame[3], frame[4] = byte((20<<10)>>8), 0
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/duet.test.v1.Kitchens/Echo", bytes.NewReader(frame))
	req.Header.Set("Content-Type", "application/grpc-web+proto")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(b, []byte("grpc-status: 8")) {
		t.Errorf("gRPC-Web got %q, want grpc-status: 8 (RESOURCE_EXHAUSTED)", b)
	}
	stillAnswers(t, addr)
}

// settled waits until the goroutine count is back near before: whatever
// hostile clients started has ended.
func settled(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for runtime.NumGoroutine() > before+5 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAdversarialSlowBodies: bodies sent a byte at a time, and HTTP/2
// bodies declared but never sent, are ended by the body timeout (408 on
// HTTP/1.1), give back what they took from the budget, and leave no
// goroutine behind; meanwhile other clients are served.
func TestAdversarialSlowBodies(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		srv, addr := startHostile(t, WithBodyTimeout(300*time.Millisecond))
		const slow = 50
		statuses := make(chan string, slow)
		for range slow {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			fmt.Fprintf(c, "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
			go func() {
				// A byte every 50 ms: 1000 bytes would take 50 s.
				for i := 0; i < 1000; i++ {
					if _, err := c.Write([]byte(" ")); err != nil {
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
			}()
			go func() {
				_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
				line, err := bufio.NewReader(c).ReadString('\n')
				if err != nil {
					line = err.Error()
				}
				statuses <- strings.TrimSpace(line)
			}()
		}
		h2 := h2Stalled(t, addr, 50, 1000)
		defer h2.Close()
		stillAnswers(t, addr)
		for range slow {
			if st := <-statuses; st != "HTTP/1.1 408 Request Timeout" {
				t.Errorf("a slow body got %q, want 408", st)
			}
		}
		deadline := time.Now().Add(20 * time.Second)
		for srv.budget.InUse() != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%d bytes of the budget still taken after the body timeout", srv.budget.InUse())
			}
			time.Sleep(20 * time.Millisecond)
		}
		stillAnswers(t, addr)
	}()
	http.DefaultClient.CloseIdleConnections()
	settled(t, before)
}

// TestAdversarialNonReadingStreams: gRPC-Web and SSE clients that stop
// reading are dropped by the write timeout: the handler's Send fails.
func TestAdversarialNonReadingStreams(t *testing.T) {
	impl := hostileKitchens{tailEnded: make(chan error, 4)}
	_, addr := startHostileWith(t, impl, WithWriteTimeout(300*time.Millisecond))
	frame := []byte{0, 0, 0, 0, 0} // an empty TailRequest
	for name, req := range map[string]string{
		"grpc-web": fmt.Sprintf("POST /duet.test.v1.Kitchens/Tail HTTP/1.1\r\nHost: x\r\nContent-Type: application/grpc-web+proto\r\nContent-Length: %d\r\n\r\n%s", len(frame), frame),
		"sse":      "GET /v1/tail?count=-1 HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n",
		"ndjson":   "GET /v1/tail?count=-1 HTTP/1.1\r\nHost: x\r\nAccept: application/x-ndjson\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.(*net.TCPConn).SetReadBuffer(4 << 10)
			fmt.Fprint(c, req) // and never read
			select {
			case <-impl.tailEnded:
			case <-time.After(30 * time.Second):
				t.Fatal("still streaming to a client that does not read")
			}
			stillAnswers(t, addr)
		})
	}
}

// TestAdversarialHeaderFlood: headers past the limit are refused with 431
// and cost nothing to other clients.
func TestAdversarialHeaderFlood(t *testing.T) {
	_, addr := startHostile(t)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() {
		fmt.Fprint(c, "GET /v1/kitchens/k1 HTTP/1.1\r\nHost: x\r\n")
		line := "X-Flood: " + strings.Repeat("a", 8<<10) + "\r\n"
		for i := 0; i < 256; i++ { // 2 MiB of headers
			if _, err := fmt.Fprint(c, line); err != nil {
				return
			}
		}
		fmt.Fprint(c, "\r\n")
	}()
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	st, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.Contains(st, " 431 ") {
		t.Errorf("a header flood got %q (%v), want 431", st, err)
	}
	stillAnswers(t, addr)
}

// TestShutdownSendsGOAWAY: an HTTP/2 connection open when the server
// shuts down is told so with GOAWAY, so its client opens new streams
// elsewhere instead of having them refused.
func TestShutdownSendsGOAWAY(t *testing.T) {
	srv, addr := startHostile(t)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var b bytes.Buffer
	b.WriteString("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
	b.Write([]byte{0, 0, 0, 0x4, 0, 0, 0, 0, 0}) // SETTINGS
	var hb []byte
	for _, kv := range [][2]string{{":method", "GET"}, {":scheme", "http"}, {":path", "/v1/kitchens/k1"}, {":authority", "x"}} {
		hb = append(hb, 0, byte(len(kv[0])))
		hb = append(hb, kv[0]...)
		hb = append(hb, byte(len(kv[1])))
		hb = append(hb, kv[1]...)
	}
	b.Write([]byte{0, 0, byte(len(hb)), 0x1, 0x5, 0, 0, 0, 1}) // HEADERS, END_STREAM|END_HEADERS, stream 1
	b.Write(hb)
	if _, err := c.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	// Read frames: once the response to stream 1 has ended, shut down.
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(c)
	shutdown := make(chan error, 1)
	started := false
	for {
		var h [9]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			t.Fatalf("connection ended without GOAWAY: %v", err)
		}
		n := int(h[0])<<16 | int(h[1])<<8 | int(h[2])
		if _, err := io.CopyN(io.Discard, r, int64(n)); err != nil {
			t.Fatal(err)
		}
		typ, flags, stream := h[3], h[4], uint32(h[5]&0x7f)<<24|uint32(h[6])<<16|uint32(h[7])<<8|uint32(h[8])
		if typ == 0x7 {
			break // GOAWAY
		}
		if stream == 1 && flags&0x1 != 0 && !started { // END_STREAM
			started = true
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				shutdown <- srv.Shutdown(ctx)
			}()
		}
	}
	if !started {
		t.Fatal("GOAWAY before the shutdown")
	}
	if err := <-shutdown; err != nil {
		t.Errorf("Shutdown = %v", err)
	}
}
