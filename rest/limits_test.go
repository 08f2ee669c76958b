package rest_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/duetrpc/duet/rest"
	"google.golang.org/grpc"
)

// rawServer serves h over HTTP/1.1 and reports every connection that
// closes.
func rawServer(t *testing.T, h http.Handler) (addr string, closed <-chan struct{}) {
	t.Helper()
	c := make(chan struct{}, 16)
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = smallBuffers{srv.Listener}
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			select {
			case c <- struct{}{}:
			default:
			}
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), c
}

// smallBuffers makes the server's socket send buffers small, so that a
// client that does not read blocks the server's writes after kilobytes,
// not megabytes.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4 << 10)
	}
	return c, err
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// readProblem reads one response from conn and returns its status and
// problem code.
func readProblem(t *testing.T, conn net.Conn) (int, string) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	defer resp.Body.Close()
	var p struct {
		Code   string `json:"code"`
		Detail string `json:"detail"`
	}
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("body %q is not a problem: %v", b, err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	return resp.StatusCode, p.Code
}

// TestSlowBody: a body that does not arrive within the body timeout is
// answered 408, instead of holding the handler forever.
func TestSlowBody(t *testing.T) {
	addr, _ := rawServer(t, newHandler(t, rest.WithBodyTimeout(200*time.Millisecond)))
	conn := dial(t, addr)
	fmt.Fprintf(conn, "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\":")
	// ...and nothing more.
	st, code := readProblem(t, conn)
	if st != http.StatusRequestTimeout || code != "DEADLINE_EXCEEDED" {
		t.Errorf("got %d %s, want 408 DEADLINE_EXCEEDED", st, code)
	}
}

// TestMalformedChunkedBody: broken chunked framing is the client's
// fault: 400, not 499 CANCELLED.
func TestMalformedChunkedBody(t *testing.T) {
	addr, _ := rawServer(t, newHandler(t))
	conn := dial(t, addr)
	fmt.Fprintf(conn, "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")
	st, code := readProblem(t, conn)
	if st != http.StatusBadRequest || code != "INVALID_ARGUMENT" {
		t.Errorf("got %d %s, want 400 INVALID_ARGUMENT", st, code)
	}
}

// TestBodyBudget: while one slow body holds the whole budget, another
// body is refused with 503 RESOURCE_EXHAUSTED; once it is done, bodies
// are read again.
//
// The budget is first come, first served at every growth of a body, so
// the other body is sent only once the hog holds the whole budget: sent
// earlier, it may take its bytes first, and then it is the hog that is
// refused (its growth from 8 to 16 KiB no longer fits) and nothing holds
// the budget any more.
func TestBodyBudget(t *testing.T) {
	const limit = 16 << 10
	h := newHandler(t, rest.WithBodyBudget(limit))
	addr, _ := rawServer(t, h)
	hog := dial(t, addr)
	// 12 KiB of a declared 100000: the body grows 4 -> 8 -> 16 KiB as
	// they arrive, and waits for the rest.
	fmt.Fprintf(hog, "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"name\":\"%s", strings.Repeat("x", 12<<10))
	waitInUse(t, h, hog, limit)
	other := func() (int, string) {
		conn := dial(t, addr)
		fmt.Fprintf(conn, "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n{\"id\":\"%s\"}", strings.Repeat("y", 10000-9))
		return readProblemOrOK(t, conn)
	}
	if st, code := other(); st != http.StatusServiceUnavailable || code != "RESOURCE_EXHAUSTED" {
		t.Fatalf("got %d %s, want 503 RESOURCE_EXHAUSTED", st, code)
	}
	hog.Close()
	waitInUse(t, h, nil, 0) // the server notices the hog left and gives its bytes back
	if st, code := other(); st != http.StatusOK {
		t.Fatalf("budget given back, got %d %s, want 200", st, code)
	}
}

// waitInUse waits until the bodies h reads hold want bytes of its body
// budget. If they never do, it fails, with what hog (if any) received.
func waitInUse(t *testing.T, h *rest.Handler, hog net.Conn, want int64) {
	t.Helper()
	for end := time.Now().Add(20 * time.Second); rest.BodyBudgetInUse(h) != want; time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			got := rest.BodyBudgetInUse(h)
			if hog == nil {
				t.Fatalf("the body budget holds %d bytes, want %d", got, want)
			}
			_ = hog.SetReadDeadline(time.Now().Add(time.Second))
			hb, herr := io.ReadAll(hog)
			t.Fatalf("the body budget holds %d bytes, want %d; the hog got %q %v", got, want, hb, herr)
		}
	}
}

func readProblemOrOK(t *testing.T, conn net.Conn) (int, string) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	defer resp.Body.Close()
	var p struct {
		Code string `json:"code"`
	}
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &p)
	return resp.StatusCode, p.Code
}

// TestWriteTimeoutUnary: a client that never reads a large response
// loses its connection when the write timeout passes.
func TestWriteTimeoutUnary(t *testing.T) {
	addr, closed := rawServer(t, newHandler(t, rest.WithWriteTimeout(200*time.Millisecond), rest.WithMaxBodyBytes(64<<20)))
	conn := dial(t, addr).(*net.TCPConn)
	_ = conn.SetReadBuffer(4 << 10)
	name := strings.Repeat("n", 1<<20) // more than loopback's socket buffers hold
	fmt.Fprintf(conn, "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{\"name\":\"%s\"}", len(name)+11, name)
	select {
	case <-closed:
	case <-time.After(20 * time.Second):
		t.Fatal("the server still writes to a client that does not read")
	}
}

// TestWriteTimeoutStream: a Server-Sent Events client that stops
// reading is dropped: the handler's Send fails and it returns.
func TestWriteTimeoutStream(t *testing.T) {
	for _, accept := range []string{"text/event-stream", "application/x-ndjson"} {
		t.Run(accept, func(t *testing.T) {
			done := make(chan error, 1)
			watch := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
				err := h(srv, ss)
				done <- err
				return err
			}
			addr, _ := rawServer(t, newHandler(t, rest.WithWriteTimeout(200*time.Millisecond), rest.WithStreamInterceptor(watch)))
			conn := dial(t, addr).(*net.TCPConn)
			_ = conn.SetReadBuffer(4 << 10)
			fmt.Fprintf(conn, "GET /v1/tail?count=100000000 HTTP/1.1\r\nHost: x\r\nAccept: %s\r\n\r\n", accept)
			select {
			case err := <-done:
				if err == nil {
					t.Fatal("the stream ended without an error")
				}
			case <-time.After(30 * time.Second):
				t.Fatal("the server still streams to a client that does not read")
			}
		})
	}
}

// TestSlowClientStream: a client stream whose next message does not
// arrive in time ends with 408.
func TestSlowClientStream(t *testing.T) {
	addr, _ := rawServer(t, newHandler(t, rest.WithBodyTimeout(200*time.Millisecond)))
	conn := dial(t, addr)
	fmt.Fprintf(conn, "POST /v1/collect HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\na\r\n{\"s\":\"a\"}\n\r\n")
	// The stream's error passes through the interceptors as a gRPC
	// status, whose HTTP form is 504.
	st, code := readProblem(t, conn)
	if (st != http.StatusRequestTimeout && st != http.StatusGatewayTimeout) || code != "DEADLINE_EXCEEDED" {
		t.Errorf("got %d %s, want 408 or 504 DEADLINE_EXCEEDED", st, code)
	}
}

// TestBodyBudgetClientStream: the lines of an NDJSON client stream draw
// on the body budget as they arrive, so a slow multi-megabyte line
// cannot hold memory outside it.
func TestBodyBudgetClientStream(t *testing.T) {
	addr, _ := rawServer(t, newHandler(t, rest.WithBodyBudget(16<<10)))
	hog := dial(t, addr)
	line := `{"s":"` + strings.Repeat("x", 40<<10) // past the 32 KiB read buffer; no end: the line stays open
	fmt.Fprintf(hog, "POST /v1/collect HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n", len(line), line)
	st, code := readProblem(t, hog)
	// The stream's error passes through the interceptors as a gRPC
	// status, whose HTTP form is 429.
	if (st != http.StatusServiceUnavailable && st != http.StatusTooManyRequests) || code != "RESOURCE_EXHAUSTED" {
		t.Errorf("got %d %s, want 503 or 429 RESOURCE_EXHAUSTED", st, code)
	}
}

// TestAnsweredBodyCloses: a request answered before its body was read in
// full (too slow, too large, of the wrong type) has its connection
// closed once answered: the server waits for the rest of a body it will
// not use no longer than the body timeout.
func TestAnsweredBodyCloses(t *testing.T) {
	for _, tc := range []struct {
		name     string
		request  string
		wantCode int
		// timeout is the body timeout: short where the body is to be too
		// slow; where it is refused for what was read, long enough that
		// reading what is already sent never passes it.
		timeout time.Duration
	}{
		{"slow",
			"POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\":", http.StatusRequestTimeout, 200 * time.Millisecond},
		{"declared too large",
			"POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"id\":", http.StatusRequestEntityTooLarge, 200 * time.Millisecond},
		{"too large",
			"POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n{\"name\":\"" + strings.Repeat("x", 2000-9) + "\r\n", http.StatusRequestEntityTooLarge, 2 * time.Second},
		{"wrong type",
			"POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n{\"id\":", http.StatusUnsupportedMediaType, 200 * time.Millisecond},
		{"slow, on a route without a body",
			"DELETE /v1/kitchens/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"id\":", http.StatusRequestTimeout, 200 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr, closed := rawServer(t, newHandler(t, rest.WithBodyTimeout(tc.timeout), rest.WithMaxBodyBytes(1000)))
			conn := dial(t, addr)
			fmt.Fprint(conn, tc.request)
			// ...and nothing more.
			if st, _ := readProblem(t, conn); st != tc.wantCode {
				t.Fatalf("got %d, want %d", st, tc.wantCode)
			}
			select {
			case <-closed:
			case <-time.After(20 * time.Second):
				t.Fatal("the server still holds the connection, reading the rest of the body")
			}
		})
	}
}
