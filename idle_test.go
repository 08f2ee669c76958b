package duet_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/duetrpc/duet"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// TestIdleConnectionsClosed: a keep-alive HTTP/1.1 connection and an h2c
// connection left idle after a request are closed once the http.Server's
// IdleTimeout (set small here through WithHTTPServer) has passed; HTTP/2
// gets a GOAWAY first.
func TestIdleConnectionsClosed(t *testing.T) {
	const idle = 200 * time.Millisecond
	f := start(t, duet.WithHTTPServer(func(hs *http.Server) { hs.IdleTimeout = idle }))

	t.Run("HTTP/1.1 keep-alive", func(t *testing.T) {
		c, err := net.Dial("tcp", f.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, "GET /v1/kitchens/1 HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Close {
			t.Fatalf("answered %d, close %v: want 200 on a kept-alive connection", resp.StatusCode, resp.Close)
		}
		served := time.Now()
		waitClosed(t, c, br, served, idle)
	})

	t.Run("h2c", func(t *testing.T) {
		c, err := net.Dial("tcp", f.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var b bytes.Buffer
		b.WriteString(http2.ClientPreface)
		fr := http2.NewFramer(&b, nil)
		_ = fr.WriteSettings()
		var block bytes.Buffer
		enc := hpack.NewEncoder(&block)
		for _, hf := range []hpack.HeaderField{{Name: ":method", Value: "GET"}, {Name: ":scheme", Value: "http"}, {Name: ":path", Value: "/v1/kitchens/1"}, {Name: ":authority", Value: "x"}} {
			_ = enc.WriteField(hf)
		}
		_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block.Bytes(), EndHeaders: true, EndStream: true})
		if _, err := c.Write(b.Bytes()); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		rfr := http2.NewFramer(c, c)
		// Read the response to stream 1 to its end.
		for ended := false; !ended; {
			frame, err := rfr.ReadFrame()
			if err != nil {
				t.Fatalf("reading the response: %v", err)
			}
			switch fm := frame.(type) {
			case *http2.SettingsFrame:
				if !fm.IsAck() {
					_ = rfr.WriteSettingsAck()
				}
			case *http2.GoAwayFrame:
				t.Fatalf("GOAWAY (%v) before the response", fm.ErrCode)
			case *http2.HeadersFrame:
				ended = fm.StreamID == 1 && fm.StreamEnded()
			case *http2.DataFrame:
				ended = fm.StreamID == 1 && fm.StreamEnded()
			}
		}
		served := time.Now()
		// Then nothing but a GOAWAY and the end of the connection.
		goaway := false
		for {
			frame, err := rfr.ReadFrame()
			if err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatal("the idle h2c connection was still open 5 s after its last response")
				}
				break
			}
			if _, ok := frame.(*http2.GoAwayFrame); ok {
				goaway = true
			}
		}
		if waited := time.Since(served); waited < idle/2 {
			t.Errorf("closed %v after the response, before the idle timeout of %v", waited, idle)
		}
		if !goaway {
			t.Error("the idle h2c connection was closed without a GOAWAY")
		}
	})
}

// waitClosed reads c until the server closes it, failing if it stays open
// for 5 s or closes well before the idle timeout.
func waitClosed(t *testing.T, c net.Conn, r io.Reader, served time.Time, idle time.Duration) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := r.Read(make([]byte, 1))
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		t.Fatal("the idle connection was still open 5 s after its last response")
	case n > 0:
		t.Fatal("the server sent bytes on an idle connection")
	}
	if waited := time.Since(served); waited < idle/2 {
		t.Errorf("closed %v after the response, before the idle timeout of %v", waited, idle)
	}
}
