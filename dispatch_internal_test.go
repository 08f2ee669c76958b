package duet

import (
	"bytes"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// dispatchFixture runs a dispatcher on loopback with a short timeout and
// reports where each connection went, with every byte it replays.
type dispatchFixture struct {
	d    *dispatcher
	addr string
	got  chan routed
}

type routed struct {
	to    string // "http" or "grpc"
	bytes []byte // what the server reads, until the client closes
}

func newDispatchFixture(t *testing.T, timeout time.Duration) *dispatchFixture {
	t.Helper()
	before := runtime.NumGoroutine()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &dispatchFixture{d: newDispatcher(lis, nil), addr: lis.Addr().String(), got: make(chan routed, 8)}
	f.d.timeout = timeout
	go f.d.run()
	done := make(chan struct{}, 2)
	for name, q := range map[string]*connQueue{"http": f.d.http, "grpc": f.d.grpc} {
		go func() {
			defer func() { done <- struct{}{} }()
			for {
				c, err := q.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					b, _ := io.ReadAll(c)
					f.got <- routed{name, b}
				}()
			}
		}()
	}
	t.Cleanup(func() {
		f.d.close()
		f.d.grpc.Close()
		f.d.wg.Wait()
		<-done
		<-done
		deadline := time.Now().Add(2 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<16)
			t.Errorf("goroutines: %d before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
		}
	})
	return f
}

func (f *dispatchFixture) dial(t *testing.T) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// expect waits for the connection to be routed to 'to' with want replayed.
func (f *dispatchFixture) expect(t *testing.T, to string, want []byte) {
	t.Helper()
	select {
	case r := <-f.got:
		if r.to != to || !bytes.Equal(r.bytes, want) {
			t.Fatalf("routed to %s with %q; want %s with %q", r.to, r.bytes, to, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("not routed to %s", to)
	}
}

// expectClosed waits for the server to close c, within limit, having
// routed it nowhere.
func (f *dispatchFixture) expectClosed(t *testing.T, c net.Conn, limit time.Duration) {
	t.Helper()
	began := time.Now()
	_ = c.SetReadDeadline(began.Add(limit + 2*time.Second))
	_, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("still open after %v", time.Since(began))
	}
	if took := time.Since(began); took > limit+time.Second {
		t.Errorf("closed after %v; the timeout is %v", took, limit)
	}
	select {
	case r := <-f.got:
		t.Errorf("routed to %s", r.to)
	default:
	}
}

// h2Request is a client's HTTP/2 opening: preface, SETTINGS, then a
// HEADERS frame with the given fields.
func h2Request(t *testing.T, fields ...string) (preface, headers []byte) {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(http2.ClientPreface)
	fr := http2.NewFramer(&b, nil)
	if err := fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	preface = bytes.Clone(b.Bytes())
	b.Reset()
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for i := 0; i+1 < len(fields); i += 2 {
		_ = enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block.Bytes(), EndHeaders: true}); err != nil {
		t.Fatal(err)
	}
	return preface, b.Bytes()
}

var grpcFields = []string{":method", "POST", ":scheme", "http", ":path", "/duet.test.v1.Kitchens/GetKitchen", ":authority", "x", "content-type", "application/grpc", "te", "trailers"}

// TestDispatchRoutes: what goes where, with every byte replayed.
func TestDispatchRoutes(t *testing.T) {
	web := append(append([]string{}, grpcFields[:9]...), "application/grpc-web+proto")
	rest := []string{":method", "GET", ":scheme", "http", ":path", "/v1/kitchens/1", ":authority", "x"}
	proxied := append(append([]string{}, grpcFields...), "x-forwarded-for", "10.0.0.1")
	envoy := append(append([]string{}, grpcFields...), "x-envoy-expected-rq-timeout-ms", "100")
	codec := append(append([]string{}, grpcFields[:9]...), "application/grpc+json")
	for _, tc := range []struct {
		name   string
		fields []string
		to     string
	}{
		{"grpc", grpcFields, "grpc"},
		{"grpc+codec", codec, "grpc"},
		{"grpc-web", web, "http"},
		{"rest", rest, "http"},
		{"proxied grpc", proxied, "http"},
		{"envoy grpc", envoy, "http"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newDispatchFixture(t, 2*time.Second)
			c := f.dial(t)
			p, h := h2Request(t, tc.fields...)
			c.Write(append(p, h...))
			c.(*net.TCPConn).CloseWrite()
			f.expect(t, tc.to, append(p, h...))
		})
	}
	t.Run("HTTP/1.1", func(t *testing.T) {
		f := newDispatchFixture(t, 2*time.Second)
		c := f.dial(t)
		req := []byte("GET /v1/kitchens/1 HTTP/1.1\r\nHost: x\r\n\r\n")
		c.Write(req)
		c.(*net.TCPConn).CloseWrite()
		f.expect(t, "http", req)
	})
	t.Run("garbage", func(t *testing.T) {
		// Neither HTTP/1 nor HTTP/2: net/http answers 400 and closes.
		f := newDispatchFixture(t, 2*time.Second)
		c := f.dial(t)
		junk := []byte("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03")
		c.Write(junk)
		c.(*net.TCPConn).CloseWrite()
		f.expect(t, "http", junk)
	})
	t.Run("preface split across many reads", func(t *testing.T) {
		f := newDispatchFixture(t, 5*time.Second)
		c := f.dial(t)
		p, h := h2Request(t, grpcFields...)
		all := append(p, h...)
		for i := range all { // one byte per write, with pauses
			c.Write(all[i : i+1])
			if i%7 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		c.(*net.TCPConn).CloseWrite()
		f.expect(t, "grpc", all)
	})
}

// TestDispatchWaitsForServerSettings: a client that waits for the
// server's SETTINGS before its first request (grpc-go, grpc-java) gets an
// empty one; its acknowledgement is not replayed.
func TestDispatchWaitsForServerSettings(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fields []string
		to     string
	}{{"grpc", grpcFields, "grpc"}, {"rest", []string{":method", "GET", ":scheme", "http", ":path", "/", ":authority", "x"}, "http"}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newDispatchFixture(t, 5*time.Second)
			c := f.dial(t)
			p, h := h2Request(t, tc.fields...)
			c.Write(p)
			fr := http2.NewFramer(c, c)
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			frame, err := fr.ReadFrame()
			if err != nil {
				t.Fatal(err)
			}
			if s, ok := frame.(*http2.SettingsFrame); !ok || s.IsAck() || s.NumSettings() != 0 {
				t.Fatalf("server sent %v; want an empty SETTINGS", frame)
			}
			if err := fr.WriteSettingsAck(); err != nil {
				t.Fatal(err)
			}
			c.Write(h)
			c.(*net.TCPConn).CloseWrite()
			f.expect(t, tc.to, append(p, h...))
		})
	}
}

// TestDispatchBadClients: silent, half a preface, a slow preface: closed
// after the timeout, routed nowhere, other connections unaffected.
func TestDispatchBadClients(t *testing.T) {
	const timeout = 500 * time.Millisecond
	f := newDispatchFixture(t, timeout)
	bad := map[string]func(c net.Conn){
		"silent":       func(net.Conn) {},
		"half preface": func(c net.Conn) { c.Write([]byte(http2.ClientPreface[:10])) },
		"slow preface": func(c net.Conn) {
			go func() {
				for i := 0; i < len(http2.ClientPreface); i++ {
					if _, err := c.Write([]byte{http2.ClientPreface[i]}); err != nil {
						return
					}
					time.Sleep(100 * time.Millisecond)
				}
			}()
		},
		"preface, no SETTINGS": func(c net.Conn) { c.Write([]byte(http2.ClientPreface)) },
	}
	conns := map[string]net.Conn{}
	for name, start := range bad {
		c := f.dial(t)
		start(c)
		conns[name] = c
	}
	// Meanwhile a good client is served at once.
	good := f.dial(t)
	p, h := h2Request(t, grpcFields...)
	good.Write(append(p, h...))
	good.(*net.TCPConn).CloseWrite()
	f.expect(t, "grpc", append(p, h...))
	for name, c := range conns {
		t.Run(name, func(t *testing.T) { f.expectClosed(t, c, timeout) })
	}
}

// TestDispatchIdleHTTP2: a valid HTTP/2 client that sends no request
// within the timeout is not closed: net/http gets it.
func TestDispatchIdleHTTP2(t *testing.T) {
	f := newDispatchFixture(t, 300*time.Millisecond)
	c := f.dial(t)
	p, _ := h2Request(t)
	c.Write(p)
	fr := http2.NewFramer(c, c)
	if _, err := fr.ReadFrame(); err != nil { // our SETTINGS
		t.Fatal(err)
	}
	fr.WriteSettingsAck()
	time.Sleep(600 * time.Millisecond)
	c.Write([]byte("more"))
	c.(*net.TCPConn).CloseWrite()
	f.expect(t, "http", append(p, "more"...))
}

func TestIsGRPC(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/grpc":                    true,
		"application/grpc+proto":              true,
		"Application/GRPC+json":               true,
		"application/grpc;charset=utf-8":      true,
		"application/grpc-web":                false,
		"application/grpc-web+proto":          false,
		"application/grpc-web-text":           false,
		"application/grpcx":                   false,
		"application/json":                    false,
		"":                                    false,
		strings.Repeat("application/grpc", 2): false,
	} {
		if got := isGRPC(ct); got != want {
			t.Errorf("isGRPC(%q) = %v", ct, got)
		}
	}
}
