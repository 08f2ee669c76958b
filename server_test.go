package duet_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/duetrpc/duet"
	"github.com/duetrpc/duet/health"
	"github.com/duetrpc/duet/internal/testpb"
	"github.com/duetrpc/duet/problem"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
)

type kitchens struct {
	testpb.UnimplementedKitchensServer
	streaming chan struct{} // receives when a Tail stream has sent its first message
}

func (kitchens) GetKitchen(ctx context.Context, r *testpb.GetKitchenRequest) (*testpb.Kitchen, error) {
	if r.Id == "missing" {
		return nil, problem.NotFound("kitchen", "kitchens/missing")
	}
	if r.Id == "internal" {
		return nil, errors.New("secret: db at 10.0.0.1")
	}
	if strings.HasPrefix(r.Id, "slow") { // a handler that ignores its deadline
		if r.Id == "slow-header" {
			_ = grpc.SendHeader(ctx, metadata.Pairs("x-kitchen", r.Id))
		}
		time.Sleep(time.Second)
	}
	_ = grpc.SetHeader(ctx, metadata.Pairs("x-kitchen", r.Id))
	_ = grpc.SetTrailer(ctx, metadata.Pairs("x-done", "yes"))
	return &testpb.Kitchen{Id: r.Id, Name: "kitchen " + r.Id}, nil
}

// DeactivateKitchen answers like GetKitchen, without headers: a POST
// with a JSON body on REST ("/v1/kitchens/{id}:deactivate") for
// BenchmarkConnectVsREST.
func (kitchens) DeactivateKitchen(_ context.Context, r *testpb.GetKitchenRequest) (*testpb.Kitchen, error) {
	return &testpb.Kitchen{Id: r.Id, Name: "kitchen " + r.Id}, nil
}

func (k kitchens) Tail(r *testpb.TailRequest, s grpc.ServerStreamingServer[testpb.Nested]) error {
	n := r.Count
	forever := n < 0
	for i := int32(0); forever || i < n; i++ {
		if err := s.Send(&testpb.Nested{I: i, S: strings.Repeat("x", int(r.FailAfter))}); err != nil {
			return err
		}
		if forever && i == 0 && k.streaming != nil {
			k.streaming <- struct{}{}
		}
		if forever {
			select {
			case <-s.Context().Done():
				return s.Context().Err()
			case <-time.After(time.Millisecond):
			}
		}
	}
	return nil
}

func (kitchens) Collect(s grpc.ClientStreamingServer[testpb.Nested, testpb.Collected]) error {
	out := &testpb.Collected{}
	for {
		n, err := s.Recv()
		if err == io.EOF {
			return s.SendAndClose(out)
		}
		if err != nil {
			return err
		}
		out.S = append(out.S, n.S)
	}
}

func (kitchens) Chat(s grpc.BidiStreamingServer[testpb.Nested, testpb.Nested]) error {
	for {
		n, err := s.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.Send(&testpb.Nested{S: strings.ToUpper(n.S)}); err != nil {
			return err
		}
	}
}

type fixture struct {
	srv      *duet.Server
	addr     string // the one port
	grpcAddr string // the native gRPC port
	impl     kitchens
}

func start(t testing.TB, opts ...duet.Option) *fixture {
	t.Helper()
	f := &fixture{impl: kitchens{streaming: make(chan struct{}, 16)}}
	f.srv = duet.NewServer(opts...)
	testpb.RegisterKitchensServer(f.srv, f.impl)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	glis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr, f.grpcAddr = lis.Addr().String(), glis.Addr().String()
	done := make(chan struct{}, 2)
	go func() { f.srv.Serve(lis); done <- struct{}{} }()
	go func() { f.srv.ServeGRPC(glis); done <- struct{}{} }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		f.srv.Shutdown(ctx)
		<-done
		<-done
	})
	return f
}

func grpcClient(t testing.TB, addr string) testpb.KitchensClient {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return testpb.NewKitchensClient(cc)
}

func TestGRPCAllFourPatterns(t *testing.T) {
	f := start(t)
	for _, port := range []struct{ name, addr string }{{"one port", f.addr}, {"native port", f.grpcAddr}} {
		t.Run(port.name, func(t *testing.T) {
			c := grpcClient(t, port.addr)
			ctx := context.Background()
			var header, trailer metadata.MD
			k, err := c.GetKitchen(ctx, &testpb.GetKitchenRequest{Id: "7"}, grpc.Header(&header), grpc.Trailer(&trailer))
			if err != nil || k.Name != "kitchen 7" || header.Get("x-kitchen")[0] != "7" || trailer.Get("x-done")[0] != "yes" {
				t.Fatalf("unary: %v %v %v %v", k, err, header, trailer)
			}
			_, err = c.GetKitchen(ctx, &testpb.GetKitchenRequest{Id: "missing"})
			if st := status.Convert(err); st.Code() != codes.NotFound || len(st.Details()) != 1 {
				t.Errorf("unary error: %v", st.Proto())
			}
			_, err = c.GetKitchen(ctx, &testpb.GetKitchenRequest{Id: "internal"})
			if st := status.Convert(err); st.Code() != codes.Internal || strings.Contains(st.Message(), "secret") {
				t.Errorf("internal error leaked: %v", st.Proto())
			}

			tail, err := c.Tail(ctx, &testpb.TailRequest{Count: 3})
			if err != nil {
				t.Fatal(err)
			}
			var got []int32
			for {
				n, err := tail.Recv()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, n.I)
			}
			if diff := cmp.Diff([]int32{0, 1, 2}, got); diff != "" {
				t.Errorf("server streaming (-want +got):\n%s", diff)
			}

			collect, err := c.Collect(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{"a", "b"} {
				collect.Send(&testpb.Nested{S: s})
			}
			res, err := collect.CloseAndRecv()
			if err != nil || !proto.Equal(res, &testpb.Collected{S: []string{"a", "b"}}) {
				t.Errorf("client streaming: %v %v", res, err)
			}

			chat, err := c.Chat(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{"hi", "there"} {
				chat.Send(&testpb.Nested{S: s})
				n, err := chat.Recv()
				if err != nil || n.S != strings.ToUpper(s) {
					t.Fatalf("bidi: %v %v", n, err)
				}
			}
			chat.CloseSend()
			if _, err := chat.Recv(); err != io.EOF {
				t.Errorf("bidi end: %v", err)
			}
		})
	}
}

func TestRESTOnTheSamePort(t *testing.T) {
	f := start(t)
	h2c := &http.Client{Transport: &http.Transport{Protocols: func() *http.Protocols {
		p := new(http.Protocols)
		p.SetUnencryptedHTTP2(true)
		return p
	}()}}
	for _, c := range []struct {
		name   string
		client *http.Client
		proto  int
	}{{"HTTP/1.1", http.DefaultClient, 1}, {"h2c", h2c, 2}} {
		t.Run(c.name, func(t *testing.T) {
			resp, err := c.client.Get("http://" + f.addr + "/v1/kitchens/9")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.ProtoMajor != c.proto || !strings.Contains(string(b), `"kitchen 9"`) {
				t.Errorf("%d %s %s", resp.StatusCode, resp.Proto, b)
			}
			req, _ := http.NewRequest("GET", "http://"+f.addr+"/v1/tail?count=2", nil)
			req.Header.Set("Accept", "text/event-stream")
			resp, err = c.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Count(string(b), "data: ") != 2 {
				t.Errorf("SSE over %s: %q", c.name, b)
			}
		})
	}
}

// webCall makes a gRPC-Web call with hand-written framing, as the protocol
// spec describes it, and returns the messages and the trailers.
func webCall(t *testing.T, addr, method string, req proto.Message, text bool) ([][]byte, map[string]string, http.Header) {
	t.Helper()
	b, _ := proto.Marshal(req)
	frame := make([]byte, 5+len(b))
	binary.BigEndian.PutUint32(frame[1:], uint32(len(b)))
	copy(frame[5:], b)
	ct := "application/grpc-web+proto"
	body := frame
	if text {
		ct = "application/grpc-web-text"
		body = []byte(base64.StdEncoding.EncodeToString(frame))
	}
	hr, _ := http.NewRequest("POST", "http://"+addr+method, bytes.NewReader(body))
	hr.Header.Set("Content-Type", ct)
	hr.Header.Set("X-Grpc-Web", "1")
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if text {
		if raw, err = decodeConcat(raw); err != nil {
			t.Fatalf("text response is not base64: %v", err)
		}
	}
	var msgs [][]byte
	trailers := map[string]string{}
	for len(raw) >= 5 {
		n := binary.BigEndian.Uint32(raw[1:5])
		payload := raw[5 : 5+n]
		if raw[0]&0x80 != 0 {
			sc := bufio.NewScanner(bytes.NewReader(payload))
			for sc.Scan() {
				k, v, _ := strings.Cut(strings.TrimRight(sc.Text(), "\r"), ": ")
				trailers[k] = v
			}
		} else {
			msgs = append(msgs, payload)
		}
		raw = raw[5+n:]
	}
	return msgs, trailers, resp.Header
}

func decodeConcat(b []byte) ([]byte, error) {
	var out []byte
	for len(b) > 0 {
		end := bytes.IndexByte(b, '=')
		if end < 0 {
			end = len(b)
		}
		for end < len(b) && b[end] == '=' {
			end++
		}
		d, err := base64.StdEncoding.DecodeString(string(b[:end]))
		if err != nil {
			return nil, err
		}
		out = append(out, d...)
		b = b[end:]
	}
	return out, nil
}

func TestGRPCWeb(t *testing.T) {
	f := start(t)
	for _, text := range []bool{false, true} {
		t.Run(fmt.Sprintf("text=%v", text), func(t *testing.T) {
			msgs, tr, hdr := webCall(t, f.addr, "/duet.test.v1.Kitchens/GetKitchen", &testpb.GetKitchenRequest{Id: "5"}, text)
			var k testpb.Kitchen
			if len(msgs) != 1 || proto.Unmarshal(msgs[0], &k) != nil {
				t.Fatalf("unary: %d messages", len(msgs))
			}
			if diff := cmp.Diff(&testpb.Kitchen{Id: "5", Name: "kitchen 5"}, &k, protocmp.Transform()); diff != "" {
				t.Errorf("unary (-want +got):\n%s", diff)
			}
			if tr["grpc-status"] != "0" || tr["x-done"] != "yes" || hdr.Get("X-Kitchen") != "5" {
				t.Errorf("trailers %v, header %v", tr, hdr)
			}

			msgs, tr, _ = webCall(t, f.addr, "/duet.test.v1.Kitchens/Tail", &testpb.TailRequest{Count: 3}, text)
			if len(msgs) != 3 || tr["grpc-status"] != "0" {
				t.Errorf("server streaming: %d messages, trailers %v", len(msgs), tr)
			}

			msgs, tr, _ = webCall(t, f.addr, "/duet.test.v1.Kitchens/GetKitchen", &testpb.GetKitchenRequest{Id: "missing"}, text)
			if len(msgs) != 0 || tr["grpc-status"] != "5" || tr["grpc-message"] != "kitchen kitchens/missing not found" || tr["grpc-status-details-bin"] == "" {
				t.Errorf("error: %d messages, trailers %v", len(msgs), tr)
			}
			msgs, tr, _ = webCall(t, f.addr, "/duet.test.v1.Kitchens/Collect", &testpb.Nested{S: "a"}, text)
			var c testpb.Collected
			if len(msgs) != 1 || proto.Unmarshal(msgs[0], &c) != nil || tr["grpc-status"] != "0" {
				t.Fatalf("client streaming: %d messages, trailers %v", len(msgs), tr)
			}
			if diff := cmp.Diff(&testpb.Collected{S: []string{"a"}}, &c, protocmp.Transform()); diff != "" {
				t.Errorf("client streaming (-want +got):\n%s", diff)
			}
			_, tr, _ = webCall(t, f.addr, "/duet.test.v1.Kitchens/Nope", &testpb.Nested{}, text)
			if tr["grpc-status"] != "12" {
				t.Errorf("unknown method: %v, want UNIMPLEMENTED", tr)
			}
		})
	}
}

func TestCORSPreflight(t *testing.T) {
	f := start(t, duet.WithCORS(duet.CORS{Origins: []string{"https://app.example.com"}, Headers: []string{"X-Tenant"}}))
	pre := func(origin string) *http.Response {
		req, _ := http.NewRequest("OPTIONS", "http://"+f.addr+"/duet.test.v1.Kitchens/GetKitchen", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type,x-grpc-web,x-tenant")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	ok := pre("https://app.example.com")
	if ok.StatusCode != 204 || ok.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		!strings.Contains(ok.Header.Get("Access-Control-Allow-Headers"), "X-Tenant") || !strings.Contains(ok.Header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Errorf("allowed preflight: %d %v", ok.StatusCode, ok.Header)
	}
	if bad := pre("https://evil.example"); bad.StatusCode != 403 || bad.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("foreign origin: %d %v", bad.StatusCode, bad.Header)
	}
	req, _ := http.NewRequest("GET", "http://"+f.addr+"/v1/kitchens/1", nil)
	req.Header.Set("Origin", "https://app.example.com")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "Grpc-Status") {
		t.Errorf("expose headers: %v", resp.Header)
	}
}

func TestHealthOnThePort(t *testing.T) {
	hs := health.New()
	f := start(t, duet.WithHealth(hs))
	resp, err := http.Get("http://" + f.addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("readyz = %d", resp.StatusCode)
	}
}

// TestShutdownWithOpenStreams: streams open over gRPC (both ports) and SSE
// lose no message that was sent, end when the grace period does, and leave
// no goroutine behind.
func TestShutdownWithOpenStreams(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		hs := health.New()
		srv := duet.NewServer(duet.WithHealth(hs))
		impl := kitchens{streaming: make(chan struct{}, 16)}
		testpb.RegisterKitchensServer(srv, impl)
		lis, _ := net.Listen("tcp", "127.0.0.1:0")
		glis, _ := net.Listen("tcp", "127.0.0.1:0")
		served := make(chan error, 2)
		go func() { served <- srv.Serve(lis) }()
		go func() { served <- srv.ServeGRPC(glis) }()

		type result struct {
			name     string
			received int
			err      error
		}
		results := make(chan result, 3)
		// Each reader says when its first message has arrived: the grace
		// below is short, and a message sent but still in flight when it
		// ends is not what this test is about.
		arrived := make(chan struct{}, 3)
		var conns []*grpc.ClientConn
		for _, addr := range []string{lis.Addr().String(), glis.Addr().String()} {
			cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, cc)
			stream, err := testpb.NewKitchensClient(cc).Tail(context.Background(), &testpb.TailRequest{Count: -1})
			if err != nil {
				t.Fatal(err)
			}
			go func() {
				n := 0
				for {
					m, err := stream.Recv()
					if err != nil {
						results <- result{"grpc " + addr, n, err}
						return
					}
					if m.I != int32(n) {
						results <- result{"grpc " + addr, n, fmt.Errorf("message %d arrived as %d: one was lost", n, m.I)}
						return
					}
					if n == 0 {
						arrived <- struct{}{}
					}
					n++
				}
			}()
		}
		req, _ := http.NewRequest("GET", "http://"+lis.Addr().String()+"/v1/tail?count=-1", nil)
		req.Header.Set("Accept", "application/x-ndjson")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			n := 0
			for sc.Scan() {
				if !strings.Contains(sc.Text(), `"error"`) {
					if n == 0 {
						arrived <- struct{}{}
					}
					n++
				}
			}
			results <- result{"ndjson", n, sc.Err()}
		}()
		for i := 0; i < 3; i++ {
			<-impl.streaming
		}
		for i := 0; i < 3; i++ {
			select {
			case <-arrived:
			case r := <-results:
				t.Fatalf("%s ended before its first message: %v", r.name, r.err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Shutdown with streams open past the grace period = %v", err)
		}
		for i := 0; i < 3; i++ {
			r := <-results
			if r.received == 0 {
				t.Errorf("%s: no message received", r.name)
			}
			if r.err != nil && (strings.Contains(r.err.Error(), "lost")) {
				t.Errorf("%s: %v", r.name, r.err)
			}
		}
		for i := 0; i < 2; i++ {
			if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
				t.Errorf("Serve returned %v", err)
			}
		}
		for _, cc := range conns {
			cc.Close()
		}
		http.DefaultClient.CloseIdleConnections()
	}()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before+2 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
