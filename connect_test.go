package duet_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/duetrpc/duet"
	"github.com/duetrpc/duet/internal/testpb"
	"github.com/duetrpc/duet/rest"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
)

// connectResponse is what a Connect unary request got back.
type connectResponse struct {
	status int
	header http.Header
	body   []byte
}

func postConnect(t *testing.T, addr, method, ct string, body []byte, hdr http.Header) connectResponse {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+addr+method, bytes.NewReader(body))
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return connectResponse{resp.StatusCode, resp.Header, b}
}

// connectErrorCode returns the code of a Connect JSON error body, "" for
// another body.
func connectErrorCode(b []byte) string {
	var e struct{ Code string }
	if json.Unmarshal(b, &e) != nil {
		return ""
	}
	return e.Code
}

func gzipBytes(b []byte) []byte {
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(b)
	zw.Close()
	return z.Bytes()
}

// TestConnectUnary: unary Connect calls in proto and JSON, compressed or
// not, and every request the protocol rejects, with the spec's HTTP status
// and error code; never a panic or a 500 for a client's mistake.
func TestConnectUnary(t *testing.T) {
	f := start(t)
	v1 := http.Header{"Connect-Protocol-Version": {"1"}}
	with := func(kv ...string) http.Header {
		h := v1.Clone()
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	get5, _ := proto.Marshal(&testpb.GetKitchenRequest{Id: "5"})
	big, _ := proto.Marshal(&testpb.GetKitchenRequest{Id: strings.Repeat("x", 5<<20)})
	for _, c := range []struct {
		name, method, ct string
		body             []byte
		hdr              http.Header
		status           int
		code             string // "" for success
	}{
		{"proto", "GetKitchen", "application/proto", get5, v1, 200, ""},
		{"proto without Connect-Protocol-Version", "GetKitchen", "application/proto", get5, nil, 200, ""},
		{"json", "GetKitchen", "application/json", []byte(`{"id":"5"}`), v1, 200, ""},
		{"json with charset", "GetKitchen", "application/json; charset=utf-8", []byte(`{"id":"5"}`), v1, 200, ""},
		{"gzip request", "GetKitchen", "application/proto", gzipBytes(get5), with("Content-Encoding", "gzip"), 200, ""},
		{"not found", "GetKitchen", "application/json", []byte(`{"id":"missing"}`), v1, 404, "not_found"},
		{"internal error", "GetKitchen", "application/json", []byte(`{"id":"internal"}`), v1, 500, "internal"},
		{"unknown method", "Nope", "application/proto", get5, v1, 404, "unimplemented"},
		{"unsupported codec", "GetKitchen", "application/xml", get5, v1, 415, ""},
		{"stream content type on a unary method", "GetKitchen", "application/connect+proto", get5, v1, 415, ""},
		{"unary content type on a stream", "Tail", "application/proto", get5, v1, 415, ""},
		{"protocol version 2", "GetKitchen", "application/proto", get5, with("Connect-Protocol-Version", "2"), 400, "invalid_argument"},
		{"unknown content-encoding", "GetKitchen", "application/proto", get5, with("Content-Encoding", "br2"), 501, "unimplemented"},
		{"content-encoding gzip, body not gzip", "GetKitchen", "application/proto", get5, with("Content-Encoding", "gzip"), 400, "invalid_argument"},
		{"malformed proto", "GetKitchen", "application/proto", []byte{0xff, 0xff}, v1, 400, "invalid_argument"},
		{"malformed json", "GetKitchen", "application/json", []byte(`{"id":`), v1, 400, "invalid_argument"},
		{"over the limit", "GetKitchen", "application/proto", big, v1, 429, "resource_exhausted"},
		{"malformed Connect-Timeout-Ms", "GetKitchen", "application/proto", get5, with("Connect-Timeout-Ms", "soon"), 400, "invalid_argument"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := postConnect(t, f.addr, "/duet.test.v1.Kitchens/"+c.method, c.ct, c.body, c.hdr)
			if r.status != c.status {
				t.Fatalf("HTTP %d, want %d (body %q)", r.status, c.status, r.body)
			}
			if c.code == "" {
				return
			}
			if got := connectErrorCode(r.body); got != c.code {
				t.Errorf("code %q, want %q (body %q)", got, c.code, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("error Content-Type %q, want application/json", ct)
			}
			if bytes.Contains(r.body, []byte("secret")) {
				t.Errorf("internal message left the process: %q", r.body)
			}
		})
	}
}

// TestConnectUnaryResponse: the response carries the message in the
// request's codec, the handler's headers as headers and its trailers as
// Trailer- headers; a large response is gzipped when the client accepts
// it, a small one is not.
func TestConnectUnaryResponse(t *testing.T) {
	f := start(t)
	get, _ := proto.Marshal(&testpb.GetKitchenRequest{Id: "5"})
	r := postConnect(t, f.addr, "/duet.test.v1.Kitchens/GetKitchen", "application/proto", get, http.Header{"Connect-Protocol-Version": {"1"}, "Accept-Encoding": {"gzip"}})
	if r.status != 200 {
		t.Fatalf("HTTP %d: %s", r.status, r.body)
	}
	var k testpb.Kitchen
	if err := proto.Unmarshal(r.body, &k); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&testpb.Kitchen{Id: "5", Name: "kitchen 5"}, &k, protocmp.Transform()); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	for k, want := range map[string]string{"Content-Type": "application/proto", "X-Kitchen": "5", "Trailer-X-Done": "yes", "Content-Encoding": ""} {
		if got := r.header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}

	long := strings.Repeat("k", 4<<10)
	r = postConnect(t, f.addr, "/duet.test.v1.Kitchens/GetKitchen", "application/json", []byte(`{"id":"`+long+`"}`), http.Header{"Connect-Protocol-Version": {"1"}, "Accept-Encoding": {"br;q=0.5, gzip"}})
	if r.status != 200 || r.header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("HTTP %d, Content-Encoding %q, want 200 gzip", r.status, r.header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if !bytes.Contains(plain, []byte(`"name":"kitchen `+long[:10])) && !bytes.Contains(plain, []byte(`"name": "kitchen `+long[:10])) {
		t.Errorf("decompressed JSON %.80q does not hold the kitchen", plain)
	}
}

// TestConnectErrorDetails: error details travel as the spec's
// {"type","value"} objects, value base64 without padding.
func TestConnectErrorDetails(t *testing.T) {
	f := start(t)
	r := postConnect(t, f.addr, "/duet.test.v1.Kitchens/GetKitchen", "application/json", []byte(`{"id":"missing"}`), http.Header{"Connect-Protocol-Version": {"1"}})
	var e struct {
		Code    string
		Details []struct{ Type, Value string }
	}
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("%v: %q", err, r.body)
	}
	var found bool
	for _, d := range e.Details {
		if strings.HasSuffix(d.Value, "=") {
			t.Errorf("detail %s value %q is padded", d.Type, d.Value)
		}
		if d.Type != "google.rpc.ResourceInfo" {
			continue
		}
		raw, err := base64.RawStdEncoding.DecodeString(d.Value)
		if err != nil {
			t.Fatal(err)
		}
		var ri errdetails.ResourceInfo
		if err := proto.Unmarshal(raw, &ri); err != nil {
			t.Fatal(err)
		}
		found = ri.GetResourceName() != ""
	}
	if e.Code != "not_found" || !found {
		t.Errorf("error %q with details %v, want not_found with a google.rpc.ResourceInfo", e.Code, e.Details)
	}
}

// connectEnvelope returns msg as one Connect envelope.
func connectEnvelope(flags byte, payload []byte) []byte {
	out := make([]byte, 5+len(payload))
	out[0] = flags
	binary.BigEndian.PutUint32(out[1:], uint32(len(payload)))
	copy(out[5:], payload)
	return out
}

// readEnvelopes splits a streaming response into its messages and the
// end-of-stream JSON.
func readEnvelopes(t *testing.T, b []byte) (msgs [][]byte, end []byte) {
	t.Helper()
	for len(b) >= 5 {
		n := int(binary.BigEndian.Uint32(b[1:5]))
		if 5+n > len(b) {
			t.Fatal("truncated envelope")
		}
		if b[0]&0x02 != 0 {
			if end != nil {
				t.Fatal("two end-of-stream messages")
			}
			end = b[5 : 5+n]
		} else {
			if end != nil {
				t.Fatal("a message after the end of the stream")
			}
			msgs = append(msgs, b[5:5+n])
		}
		b = b[5+n:]
	}
	if len(b) != 0 || end == nil {
		t.Fatalf("%d stray bytes, end-of-stream %q", len(b), end)
	}
	return msgs, end
}

// TestConnectStreams: server, client and bidirectional streams over
// application/connect+proto|json end with the end-of-stream message, which
// carries errors and trailers, always under HTTP 200.
func TestConnectStreams(t *testing.T) {
	f := start(t)
	v1 := http.Header{"Connect-Protocol-Version": {"1"}}
	forever, _ := proto.Marshal(&testpb.TailRequest{Count: -1})
	tail, _ := proto.Marshal(&testpb.TailRequest{Count: 3})
	nested := func(s string) []byte { b, _ := proto.Marshal(&testpb.Nested{S: s}); return b }
	for _, c := range []struct {
		name, method, ct string
		body             []byte
		hdr              http.Header
		msgs             int
		endCode          string
	}{
		{"server stream", "Tail", "application/connect+proto", connectEnvelope(0, tail), nil, 3, ""},
		{"server stream json", "Tail", "application/connect+json", connectEnvelope(0, []byte(`{"count":2}`)), nil, 2, ""},
		{"client stream", "Collect", "application/connect+proto", append(connectEnvelope(0, nested("a")), connectEnvelope(0, nested("b"))...), nil, 1, ""},
		{"bidi stream", "Chat", "application/connect+proto", append(connectEnvelope(0, nested("a")), connectEnvelope(0, nested("b"))...), nil, 2, ""},
		{"gzip envelope", "Chat", "application/connect+proto", connectEnvelope(1, gzipBytes(nested("b"))), http.Header{"Connect-Protocol-Version": {"1"}, "Connect-Content-Encoding": {"gzip"}}, 1, ""},
		{"compressed envelope without connect-content-encoding", "Chat", "application/connect+proto", connectEnvelope(1, gzipBytes(nested("b"))), nil, 0, "internal"},
		{"server stream without a request", "Tail", "application/connect+proto", nil, nil, 0, "unimplemented"},
		{"server stream with two requests", "Tail", "application/connect+proto", append(connectEnvelope(0, tail), connectEnvelope(0, tail)...), nil, 0, "unimplemented"},
		{"Connect-Timeout-Ms passes", "Tail", "application/connect+proto", connectEnvelope(0, forever), http.Header{"Connect-Protocol-Version": {"1"}, "Connect-Timeout-Ms": {"50"}}, -1, "deadline_exceeded"},
		{"truncated envelope", "Collect", "application/connect+proto", connectEnvelope(0, nested("a"))[:4], nil, 0, "internal"},
	} {
		t.Run(c.name, func(t *testing.T) {
			hdr := v1
			if c.hdr != nil {
				hdr = c.hdr
			}
			r := postConnect(t, f.addr, "/duet.test.v1.Kitchens/"+c.method, c.ct, c.body, hdr)
			if r.status != 200 || r.header.Get("Content-Type") != c.ct {
				t.Fatalf("HTTP %d %q, want 200 %q", r.status, r.header.Get("Content-Type"), c.ct)
			}
			msgs, end := readEnvelopes(t, r.body)
			var e struct {
				Error *struct{ Code string }
			}
			if err := json.Unmarshal(end, &e); err != nil {
				t.Fatalf("end-of-stream %q: %v", end, err)
			}
			code := ""
			if e.Error != nil {
				code = e.Error.Code
			}
			if code != c.endCode {
				t.Errorf("end-of-stream %s, want code %q", end, c.endCode)
			}
			if c.endCode == "" && len(msgs) != c.msgs {
				t.Errorf("%d messages, want %d", len(msgs), c.msgs)
			}
		})
	}
}

// TestConnectRouting: Connect and REST share the port. A request with
// Connect-Protocol-Version, or with a Connect media type other than JSON,
// is Connect's; a JSON POST without it is REST's, so a REST route and a
// method path never collide.
func TestConnectRouting(t *testing.T) {
	f := start(t)
	const get = "/duet.test.v1.Kitchens/GetKitchen"
	body := []byte(`{"id":"7"}`)
	// Connect: the method's path with the protocol header.
	r := postConnect(t, f.addr, get, "application/json", body, http.Header{"Connect-Protocol-Version": {"1"}})
	if r.status != 200 || r.header.Get("Content-Type") != "application/json" {
		t.Errorf("Connect JSON: HTTP %d %q %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	// The same POST without the header: no REST rule binds the method's
	// path, so it is Connect's too (the header is optional in the spec).
	r = postConnect(t, f.addr, get, "application/json", body, nil)
	if r.status != 200 || r.header.Get("Content-Type") != "application/json" {
		t.Errorf("JSON POST without Connect-Protocol-Version: HTTP %d %q %s, want Connect's 200", r.status, r.header.Get("Content-Type"), r.body)
	}
	// A media type no protocol here speaks, on a method's path: 415, as
	// grpc-go answers for gRPC, not a 404 that clients read as
	// UNIMPLEMENTED.
	r = postConnect(t, f.addr, get, "text/plain", body, nil)
	if r.status != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain POST to a method's path: HTTP %d %s, want 415", r.status, r.body)
	}
	// REST's own binding of the method is untouched.
	resp, err := http.Get("http://" + f.addr + "/v1/kitchens/7")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("REST GET /v1/kitchens/7: HTTP %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// A REST path with a Connect header is Connect's, and not a method.
	r = postConnect(t, f.addr, "/v1/echo", "application/json", body, http.Header{"Connect-Protocol-Version": {"1"}})
	if r.status != 404 || connectErrorCode(r.body) != "unimplemented" {
		t.Errorf("Connect POST /v1/echo: HTTP %d %s, want 404 unimplemented", r.status, r.body)
	}
	// A REST rule bound to a method's own path keeps it: a JSON POST
	// without the Connect header is REST's, with it Connect's.
	bound := start(t, duet.WithRESTOptions(rest.WithRule("/duet.test.v1.Kitchens/GetKitchen",
		&annotations.HttpRule{Pattern: &annotations.HttpRule_Post{Post: get}, Body: "*"})))
	// (A malformed body tells the two apart: REST answers a problem,
	// Connect its own error body.)
	r = postConnect(t, bound.addr, get, "application/json", []byte(`{"id":`), nil)
	if r.status != 400 || r.header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("JSON POST to a REST-bound method path: HTTP %d %q %s, want REST's 400 problem", r.status, r.header.Get("Content-Type"), r.body)
	}
	r = postConnect(t, bound.addr, get, "application/json", []byte(`{"id":`), http.Header{"Connect-Protocol-Version": {"1"}})
	if r.header.Get("Content-Type") != "application/json" || connectErrorCode(r.body) == "" {
		t.Errorf("Connect POST to a REST-bound method path: HTTP %d %q %s, want Connect's error", r.status, r.header.Get("Content-Type"), r.body)
	}
	r = postConnect(t, bound.addr, get, "text/plain", body, nil)
	if r.status < 400 || r.status >= 500 || r.header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("text/plain POST to a REST-bound method path: HTTP %d %q, want REST's 4xx problem", r.status, r.header.Get("Content-Type"))
	}
	// GET of a method without NO_SIDE_EFFECTS: 405, POST allowed.
	req, _ := http.NewRequest("GET", "http://"+f.addr+get+"?connect=v1&encoding=json&message=%7B%7D", nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET of a method with side effects: HTTP %d Allow %q, want 405 POST", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

// TestConnectMetadata: a Connect handler sees the request's headers as
// metadata, as on gRPC and gRPC-Web, but not the protocol's own.
func TestConnectMetadata(t *testing.T) {
	var mu sync.Mutex
	var got metadata.MD
	record := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		mu.Lock()
		got, _ = metadata.FromIncomingContext(ctx)
		mu.Unlock()
		return h(ctx, req)
	}
	f := start(t, duet.WithInterceptors([]grpc.UnaryServerInterceptor{record}, nil))
	get, _ := proto.Marshal(&testpb.GetKitchenRequest{Id: "5"})
	r := postConnect(t, f.addr, "/duet.test.v1.Kitchens/GetKitchen", "application/proto", get, http.Header{
		"Connect-Protocol-Version": {"1"}, "Connect-Timeout-Ms": {"5000"}, "X-Tenant": {"acme"},
		"X-Trace-Bin": {base64.RawStdEncoding.EncodeToString([]byte{0, 1})}, "Cookie": {"s=1"},
	})
	if r.status != 200 {
		t.Fatalf("HTTP %d: %s", r.status, r.body)
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]string{"acme"}, got.Get("x-tenant")); diff != "" {
		t.Errorf("x-tenant (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"\x00\x01"}, got.Get("x-trace-bin")); diff != "" {
		t.Errorf("x-trace-bin (-want +got):\n%s", diff)
	}
	for _, k := range []string{"connect-protocol-version", "connect-timeout-ms", "content-type", "cookie"} {
		if v := got.Get(k); len(v) != 0 {
			t.Errorf("%s leaked into metadata: %q", k, v)
		}
	}
}

// FuzzConnectUnary: whatever a client sends as a Connect unary request
// (media type, encodings, timeout, body), the server answers without a
// panic, and every error is the protocol's: a JSON body with a code, or a
// bare 405/415.
func FuzzConnectUnary(f *testing.F) {
	get, _ := proto.Marshal(&testpb.GetKitchenRequest{Id: "5"})
	f.Add("application/proto", "", "", get)
	f.Add("application/json", "gzip", "100", []byte(`{"id":"5"}`))
	f.Add("application/connect+proto", "", "", connectEnvelope(0, get))
	f.Add("application/json; charset=latin1", "identity", "x", []byte(`{`))
	srv := duet.NewServer()
	testpb.RegisterKitchensServer(srv, kitchens{})
	f.Fuzz(func(t *testing.T, ct, enc, timeout string, body []byte) {
		for _, method := range []string{"GetKitchen", "Collect"} {
			req, err := http.NewRequest("POST", "/duet.test.v1.Kitchens/"+method, bytes.NewReader(body))
			if err != nil {
				return
			}
			req.Header.Set("Content-Type", ct)
			req.Header.Set("Connect-Protocol-Version", "1")
			req.Header.Set("Content-Encoding", enc)
			req.Header.Set("Connect-Content-Encoding", enc)
			req.Header.Set("Connect-Timeout-Ms", timeout)
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			switch {
			case rec.Code == http.StatusMethodNotAllowed || rec.Code == http.StatusUnsupportedMediaType:
			case rec.Code == http.StatusOK:
			default:
				if connectErrorCode(rec.Body.Bytes()) == "" {
					t.Errorf("%s: HTTP %d without a Connect error body: %q", method, rec.Code, rec.Body.Bytes())
				}
			}
		}
	})
}
