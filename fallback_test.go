package duet_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/duetrpc/duet/internal/testpb"
)

// h2cClient is an HTTP/2 prior-knowledge client: one connection, reused.
func h2cClient(t *testing.T) *http.Client {
	t.Helper()
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: p}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// rawGRPC makes a gRPC call with hand-made framing and no client-side
// deadline, so what the server puts on the wire is what the test sees.
// It returns the response's HTTP status and its grpc-status, from the
// trailers or, for a trailers-only response, the headers.
func rawGRPC(t *testing.T, c *http.Client, addr, contentType, timeout string, req *testpb.GetKitchenRequest) (int, string) {
	code, st, _ := rawGRPCDeclared(t, c, addr, contentType, timeout, req)
	return code, st
}

// rawGRPCDeclared is rawGRPC that also reports whether the response
// pre-declared trailers in its header.
func rawGRPCDeclared(t *testing.T, c *http.Client, addr, contentType, timeout string, req *testpb.GetKitchenRequest) (int, string, bool) {
	t.Helper()
	hr, _ := http.NewRequest("POST", "http://"+addr+"/duet.test.v1.Kitchens/GetKitchen", bytes.NewReader(frame(0, req)))
	hr.Header.Set("Content-Type", contentType)
	hr.Header.Set("Te", "trailers")
	if timeout != "" {
		hr.Header.Set("Grpc-Timeout", timeout)
	}
	resp, err := c.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	declared := len(resp.Trailer) > 0
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
	st := resp.Trailer.Get("Grpc-Status")
	if st == "" {
		st = resp.Header.Get("Grpc-Status")
	}
	return resp.StatusCode, st, declared
}

// restFirst makes a REST call on c so that c's connection to addr is one
// net/http serves: gRPC on it takes the fallback path.
func restFirst(t *testing.T, c *http.Client, addr string) {
	t.Helper()
	resp, err := c.Get("http://" + addr + "/v1/kitchens/1")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		t.Fatalf("REST first: %s %s", resp.Status, resp.Proto)
	}
}

// TestFallbackDeadline: gRPC on a connection that began with REST still
// ends at its deadline with DEADLINE_EXCEEDED on the wire, whether or not
// the handler had sent its headers, though the handler runs on. The header
// pre-declares no trailers: a client giving up at the same instant would
// read the declared names without a grpc-status.
func TestFallbackDeadline(t *testing.T) {
	f := start(t)
	for _, id := range []string{"slow", "slow-header"} {
		t.Run(id, func(t *testing.T) {
			c := h2cClient(t)
			restFirst(t, c, f.addr)
			began := time.Now()
			code, st, declared := rawGRPCDeclared(t, c, f.addr, "application/grpc", "200m", &testpb.GetKitchenRequest{Id: id})
			took := time.Since(began)
			if declared {
				t.Error("the response header pre-declares trailers")
			}
			if code != 200 || st != "4" {
				t.Errorf("HTTP %d, grpc-status %q; want 200, 4 (DEADLINE_EXCEEDED)", code, st)
			}
			if took >= time.Second {
				t.Errorf("answered after %v, when the handler returned, not at the deadline", took)
			}
			// The connection still serves: the same client, a fast call.
			if code, st := rawGRPC(t, c, f.addr, "application/grpc", "5S", &testpb.GetKitchenRequest{Id: "2"}); code != 200 || st != "0" {
				t.Errorf("next call: HTTP %d, grpc-status %q", code, st)
			}
		})
	}
}

// TestFallbackUnknownCodec: a codec no one registered is refused, not
// answered as proto; known ones are served.
func TestFallbackUnknownCodec(t *testing.T) {
	f := start(t)
	c := h2cClient(t)
	restFirst(t, c, f.addr)
	for _, tc := range []struct {
		ct         string
		code       int
		grpcStatus string
	}{
		{"application/grpc+foo", http.StatusUnsupportedMediaType, "12"},
		{"application/grpc+FOO; charset=utf-8", http.StatusUnsupportedMediaType, "12"},
		{"application/grpc+proto", 200, "0"},
		{"application/grpc", 200, "0"},
	} {
		code, st := rawGRPC(t, c, f.addr, tc.ct, "", &testpb.GetKitchenRequest{Id: "1"})
		if code != tc.code || st != tc.grpcStatus {
			t.Errorf("%s: HTTP %d, grpc-status %q; want %d, %q", tc.ct, code, st, tc.code, tc.grpcStatus)
		}
	}
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
