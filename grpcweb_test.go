package duet_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duetrpc/duet"
	"github.com/duetrpc/duet/internal/testpb"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
)

// jsonFrame returns a JSON message as one gRPC-Web data frame.
func jsonFrame(msg string) []byte {
	f := make([]byte, 5+len(msg))
	binary.BigEndian.PutUint32(f[1:], uint32(len(msg)))
	copy(f[5:], msg)
	return f
}

// gzipFrame returns msg's frame as one compressed frame.
func gzipFrame(t testing.TB, f []byte) []byte {
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(f[5:])
	zw.Close()
	out := append([]byte{1, 0, 0, 0, 0}, z.Bytes()...)
	binary.BigEndian.PutUint32(out[1:], uint32(z.Len()))
	return out
}

// frame returns msg as one gRPC-Web data frame.
func frame(flag byte, msg proto.Message) []byte {
	b, _ := proto.Marshal(msg)
	f := make([]byte, 5+len(b))
	f[0] = flag
	binary.BigEndian.PutUint32(f[1:], uint32(len(b)))
	copy(f[5:], b)
	return f
}

// rawWeb posts body as a gRPC-Web request and returns the response's
// trailer frame, parsed, and how many data frames preceded it.
func rawWeb(t *testing.T, addr, method, ct string, body []byte, hdr http.Header) (trailers map[string]string, data int) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+addr+method, bytes.NewReader(body))
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", ct)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("HTTP %d, want 200 with the status in the trailer frame", resp.StatusCode)
	}
	if strings.HasPrefix(ct, "application/grpc-web-text") {
		if raw, err = decodeConcat(raw); err != nil {
			t.Fatalf("text response is not base64: %v", err)
		}
	}
	trailers = map[string]string{}
	for len(raw) >= 5 {
		n := int(binary.BigEndian.Uint32(raw[1:5]))
		if 5+n > len(raw) {
			t.Fatalf("truncated response frame")
		}
		if raw[0]&0x80 == 0 {
			data++
		} else {
			sc := bufio.NewScanner(bytes.NewReader(raw[5 : 5+n]))
			for sc.Scan() {
				k, v, _ := strings.Cut(strings.TrimRight(sc.Text(), "\r"), ": ")
				trailers[k] = v
			}
		}
		raw = raw[5+n:]
	}
	if len(raw) != 0 {
		t.Fatalf("%d bytes after the last frame", len(raw))
	}
	return trailers, data
}

// TestGRPCWebRequests: malformed requests end in the trailer frame with the
// matching code, never a panic or a 500; valid variants of the protocol work.
func TestGRPCWebRequests(t *testing.T) {
	f := start(t)
	get := func(id string) []byte { return frame(0, &testpb.GetKitchenRequest{Id: id}) }
	b64 := base64.StdEncoding.EncodeToString
	ok := get("5")
	for _, c := range []struct {
		name, ct, method string
		body             []byte
		hdr              http.Header
		status           string
		data             int
	}{
		{"binary", "application/grpc-web", "GetKitchen", ok, nil, "0", 1},
		{"binary +proto with parameters", "application/grpc-web+proto; charset=utf-8", "GetKitchen", ok, nil, "0", 1},
		{"media type in capitals", "Application/gRPC-Web+Proto", "GetKitchen", ok, nil, "0", 1},
		{"text", "application/grpc-web-text", "GetKitchen", []byte(b64(ok)), nil, "0", 1},
		{"text in separately padded chunks", "application/grpc-web-text+proto", "GetKitchen", []byte(b64(ok[:4]) + b64(ok[4:])), nil, "0", 1},
		{"text with line breaks", "application/grpc-web-text", "GetKitchen", []byte(b64(ok[:4]) + "\r\n" + b64(ok[4:])), nil, "0", 1},
		{"empty request message", "application/grpc-web", "Tail", frame(0, &testpb.TailRequest{}), nil, "0", 0},
		{"internal error is redacted", "application/grpc-web", "GetKitchen", get("internal"), nil, "13", 0},
		{"json", "application/grpc-web+json", "GetKitchen", jsonFrame(`{"id": "5"}`), nil, "0", 1},
		{"json text", "application/grpc-web-text+json", "GetKitchen", []byte(b64(jsonFrame(`{"id": "5"}`))), nil, "0", 1},
		{"gzip", "application/grpc-web", "GetKitchen", gzipFrame(t, get("5")), http.Header{"Grpc-Encoding": {"gzip"}}, "0", 1},
		{"gzip and identity frames", "application/grpc-web", "Collect", append(gzipFrame(t, get("5")), ok...), http.Header{"Grpc-Encoding": {"gzip"}}, "0", 1},
		// Protocol violations: the codes of the gRPC status-code and
		// compression documents, never INVALID_ARGUMENT.
		{"unsupported codec", "application/grpc-web+xml", "GetKitchen", ok, nil, "12", 0},
		{"unknown method", "application/grpc-web", "Nope", ok, nil, "12", 0},
		{"unary without a message", "application/grpc-web", "GetKitchen", nil, nil, "12", 0},
		{"unary with two messages", "application/grpc-web", "GetKitchen", append(append([]byte{}, ok...), ok...), nil, "12", 0},
		{"server stream without a message", "application/grpc-web", "Tail", nil, nil, "12", 0},
		{"server stream with two messages", "application/grpc-web", "Tail", append(append([]byte{}, ok...), ok...), nil, "12", 0},
		{"truncated prefix", "application/grpc-web", "Collect", ok[:3], nil, "13", 0},
		{"truncated message", "application/grpc-web", "GetKitchen", ok[:len(ok)-1], nil, "13", 0},
		{"compressed flag without grpc-encoding", "application/grpc-web", "GetKitchen", append([]byte{1}, ok[1:]...), nil, "13", 0},
		{"compressed flag with identity", "application/grpc-web", "GetKitchen", append([]byte{1}, ok[1:]...), http.Header{"Grpc-Encoding": {"identity"}}, "13", 0},
		{"unknown grpc-encoding", "application/grpc-web", "GetKitchen", ok, http.Header{"Grpc-Encoding": {"foo"}}, "12", 0},
		{"compressed flag, bytes not gzip", "application/grpc-web", "GetKitchen", append([]byte{1}, ok[1:]...), http.Header{"Grpc-Encoding": {"gzip"}}, "13", 0},
		{"trailer frame as request", "application/grpc-web", "GetKitchen", append([]byte{0x80}, ok[1:]...), nil, "13", 0},
		{"bad base64", "application/grpc-web-text", "GetKitchen", []byte("!!!!"), nil, "13", 0},
		{"malformed message", "application/grpc-web", "GetKitchen", []byte{0, 0, 0, 0, 2, 0xff, 0xff}, nil, "13", 0},
		{"malformed json", "application/grpc-web+json", "GetKitchen", jsonFrame(`{"id": `), nil, "13", 0},
		{"over the limit", "application/grpc-web", "GetKitchen", get(strings.Repeat("x", 5<<20)), nil, "8", 0},
		{"malformed grpc-timeout", "application/grpc-web", "GetKitchen", ok, http.Header{"Grpc-Timeout": {"soon"}}, "3", 0},
		{"expired grpc-timeout", "application/grpc-web", "Tail", frame(0, &testpb.TailRequest{Count: -1}), http.Header{"Grpc-Timeout": {"1n"}}, "4", -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr, data := rawWeb(t, f.addr, "/duet.test.v1.Kitchens/"+c.method, c.ct, c.body, c.hdr)
			if tr["grpc-status"] != c.status || (c.data >= 0 && data != c.data) {
				t.Errorf("grpc-status %q after %d messages, want %q after %d (trailers %v)", tr["grpc-status"], data, c.status, c.data, tr)
			}
			if strings.Contains(tr["grpc-message"], "secret") {
				t.Errorf("internal message left the process: %q", tr["grpc-message"])
			}
		})
	}
}

// TestGRPCWebContext: handlers and interceptors see the request's headers
// as metadata, as on gRPC (binary values decoded), except the protocol's
// own and Cookie, and its grpc-timeout as the context deadline.
func TestGRPCWebContext(t *testing.T) {
	var mu sync.Mutex
	var gotMD metadata.MD
	var gotDeadline time.Duration
	record := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		mu.Lock()
		gotMD, _ = metadata.FromIncomingContext(ctx)
		if d, ok := ctx.Deadline(); ok {
			gotDeadline = time.Until(d)
		}
		mu.Unlock()
		return h(ctx, req)
	}
	f := start(t, duet.WithInterceptors([]grpc.UnaryServerInterceptor{record}, nil), duet.WithIncomingHeaders("X-Tenant", "x-trace-bin"))
	hdr := http.Header{
		"Grpc-Timeout": {"30S"},
		"Cookie":       {"session=1"},
		"X-Other":      {"yes"},
		"X-Tenant":     {"acme"},
		"X-Trace-Bin":  {base64.StdEncoding.EncodeToString([]byte{0, 1, 2})},
	}
	tr, _ := rawWeb(t, f.addr, "/duet.test.v1.Kitchens/GetKitchen", "application/grpc-web", frame(0, &testpb.GetKitchenRequest{Id: "1"}), hdr)
	if tr["grpc-status"] != "0" {
		t.Fatalf("trailers %v", tr)
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]string{"acme"}, gotMD.Get("x-tenant")); diff != "" {
		t.Errorf("x-tenant (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"\x00\x01\x02"}, gotMD.Get("x-trace-bin")); diff != "" {
		t.Errorf("x-trace-bin (-want +got):\n%s", diff)
	}
	// Every other header is metadata, as on gRPC (PROTOCOL-WEB.md).
	if diff := cmp.Diff([]string{"yes"}, gotMD.Get("x-other")); diff != "" {
		t.Errorf("x-other (-want +got):\n%s", diff)
	}
	if len(gotMD.Get("grpc-timeout")) != 0 || len(gotMD.Get("content-type")) != 0 || len(gotMD.Get("cookie")) != 0 {
		t.Errorf("transport headers leaked into metadata: %v", gotMD)
	}
	if gotDeadline <= 0 || gotDeadline > 30*time.Second {
		t.Errorf("deadline in %v, want within 30s", gotDeadline)
	}
}
