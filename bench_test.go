package duet_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/duetrpc/duet/internal/testpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// BenchmarkUnary compares a unary gRPC call on the one port (a connection
// the dispatcher hands to grpc-go's transport) with the native gRPC port.
func BenchmarkUnary(b *testing.B) {
	f := start(b)
	for _, port := range []struct{ name, addr string }{{"one-port", f.addr}, {"native", f.grpcAddr}} {
		b.Run(port.name, func(b *testing.B) {
			c := grpcClient(b, port.addr)
			req := &testpb.GetKitchenRequest{Id: "1"}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := c.GetKitchen(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUnaryNewConnection makes each unary call on a new connection
// (connect, HTTP/2 preface and settings, the call, close), one port
// against the native port: the one port's classification is in every op.
func BenchmarkUnaryNewConnection(b *testing.B) {
	f := start(b)
	for _, port := range []struct{ name, addr string }{{"one-port", f.addr}, {"native", f.grpcAddr}} {
		b.Run(port.name, func(b *testing.B) {
			req := &testpb.GetKitchenRequest{Id: "1"}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				cc, err := grpc.NewClient(port.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := testpb.NewKitchensClient(cc).GetKitchen(context.Background(), req); err != nil {
					b.Fatal(err)
				}
				cc.Close()
			}
		})
	}
}

// BenchmarkServerStream measures server-streaming throughput of 1 KiB
// messages over gRPC (both ports), SSE, NDJSON and gRPC-Web (binary, HTTP/1.1); msgs/s is the figure.
func BenchmarkServerStream(b *testing.B) {
	f := start(b)
	const perCall = 1000
	req := &testpb.TailRequest{Count: perCall, FailAfter: 1024} // FailAfter doubles as the payload size here
	grpcRun := func(addr string) func(b *testing.B) {
		return func(b *testing.B) {
			c := grpcClient(b, addr)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				s, err := c.Tail(context.Background(), req)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for {
					if _, err := s.Recv(); err == io.EOF {
						break
					} else if err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n != perCall {
					b.Fatalf("%d messages", n)
				}
			}
			b.ReportMetric(float64(b.N*perCall)/b.Elapsed().Seconds(), "msgs/s")
		}
	}
	httpRun := func(accept string) func(b *testing.B) {
		return func(b *testing.B) {
			url := "http://" + f.addr + "/v1/tail?count=1000&fail_after=1024"
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				req, _ := http.NewRequest("GET", url, nil)
				req.Header.Set("Accept", accept)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				sc := bufio.NewScanner(resp.Body)
				sc.Buffer(make([]byte, 4096), 1<<20)
				n := 0
				for sc.Scan() {
					if strings.HasPrefix(sc.Text(), "{") || strings.HasPrefix(sc.Text(), "data: ") {
						n++
					}
				}
				resp.Body.Close()
				if n != perCall {
					b.Fatalf("%d messages", n)
				}
			}
			b.ReportMetric(float64(b.N*perCall)/b.Elapsed().Seconds(), "msgs/s")
		}
	}
	webRun := func(b *testing.B) {
		body := frame(0, req)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			hr, _ := http.NewRequest("POST", "http://"+f.addr+"/duet.test.v1.Kitchens/Tail", bytes.NewReader(body))
			hr.Header.Set("Content-Type", "application/grpc-web+proto")
			resp, err := http.DefaultClient.Do(hr)
			if err != nil {
				b.Fatal(err)
			}
			br := bufio.NewReader(resp.Body)
			hdr := make([]byte, 5)
			n := 0
			for {
				if _, err := io.ReadFull(br, hdr); err != nil {
					break
				}
				if _, err := br.Discard(int(binary.BigEndian.Uint32(hdr[1:]))); err != nil || hdr[0]&0x80 != 0 {
					break
				}
				n++
			}
			resp.Body.Close()
			if n != perCall {
				b.Fatalf("%d messages", n)
			}
		}
		b.ReportMetric(float64(b.N*perCall)/b.Elapsed().Seconds(), "msgs/s")
	}
	b.Run("grpc-native", grpcRun(f.grpcAddr))
	b.Run("grpc-one-port", grpcRun(f.addr))
	b.Run("sse", httpRun("text/event-stream"))
	b.Run("ndjson", httpRun("application/x-ndjson"))
	b.Run("grpc-web", webRun)
}

// BenchmarkClientStream measures client-streaming throughput of 1 KiB
// messages, 1000 a call: native gRPC (grpc-go's transport) against
// gRPC-Web on the one port, whose request body is the sequence of frames
// (HTTP/1.1, half duplex; HTTP/2 cleartext); msgs/s is the figure.
func BenchmarkClientStream(b *testing.B) {
	f := start(b)
	const perCall = 1000
	msg := &testpb.Nested{Child: &testpb.Nested{S: strings.Repeat("x", 1024)}} // Collect echoes only the top-level S
	b.Run("grpc-native", func(b *testing.B) {
		c := grpcClient(b, f.grpcAddr)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			s, err := c.Collect(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			for j := 0; j < perCall; j++ {
				if err := s.Send(msg); err != nil {
					b.Fatal(err)
				}
			}
			got, err := s.CloseAndRecv()
			if err != nil || len(got.S) != perCall {
				b.Fatalf("%v, %d messages", err, len(got.GetS()))
			}
		}
		b.ReportMetric(float64(b.N*perCall)/b.Elapsed().Seconds(), "msgs/s")
	})
	one := frame(0, msg)
	body := bytes.Repeat(one, perCall)
	for name, client := range webClients(b) {
		b.Run("grpc-web-"+strings.ToLower(strings.ReplaceAll(name, "/", "")), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				req, _ := http.NewRequest("POST", "http://"+f.addr+"/duet.test.v1.Kitchens/Collect", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/grpc-web+proto")
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				got := readWebFrames(b, resp.Body)
				resp.Body.Close()
				if got.trailer["grpc-status"] != "0" || len(got.messages) != 1 {
					b.Fatalf("trailer %v", got.trailer)
				}
			}
			b.ReportMetric(float64(b.N*perCall)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkOnePortVsNative runs the same gRPC work on the one port and on
// the native port in turn, in blocks that alternate which port goes first,
// and reports each port's time per op and their ratio. On a shared machine
// whose speed drifts from second to second, this ratio is far steadier
// than one taken between BenchmarkUnary rows run seconds apart.
func BenchmarkOnePortVsNative(b *testing.B) {
	f := start(b)
	addrs := [2]string{f.addr, f.grpcAddr}
	clients := [2]testpb.KitchensClient{grpcClient(b, f.addr), grpcClient(b, f.grpcAddr)}
	unaryReq := &testpb.GetKitchenRequest{Id: "1"}
	tailReq := &testpb.TailRequest{Count: 1000, FailAfter: 1024}
	for _, c := range []struct {
		name  string
		block int
		op    func(b *testing.B, port int)
		msgs  int // messages per op, for msgs/s
	}{
		{"unary", 32, func(b *testing.B, port int) {
			if _, err := clients[port].GetKitchen(context.Background(), unaryReq); err != nil {
				b.Fatal(err)
			}
		}, 0},
		{"new-connection", 4, func(b *testing.B, port int) {
			cc, err := grpc.NewClient(addrs[port], grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				b.Fatal(err)
			}
			defer cc.Close()
			if _, err := testpb.NewKitchensClient(cc).GetKitchen(context.Background(), unaryReq); err != nil {
				b.Fatal(err)
			}
		}, 0},
		{"server-stream", 1, func(b *testing.B, port int) {
			s, err := clients[port].Tail(context.Background(), tailReq)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for ; ; n++ {
				if _, err := s.Recv(); err == io.EOF {
					break
				} else if err != nil {
					b.Fatal(err)
				}
			}
			if n != int(tailReq.Count) {
				b.Fatalf("%d messages", n)
			}
		}, int(tailReq.Count)},
	} {
		b.Run(c.name, func(b *testing.B) {
			var t [2]time.Duration
			run := func(port, n int) {
				start := time.Now()
				for k := 0; k < n; k++ {
					c.op(b, port)
				}
				t[port] += time.Since(start)
			}
			for done, turn := 0, 0; done < b.N; turn++ {
				n := min(c.block, b.N-done)
				run(turn%2, n)
				run(1-turn%2, n)
				done += n
			}
			n := float64(b.N)
			b.ReportMetric(float64(t[0].Nanoseconds())/n, "one-port-ns/op")
			b.ReportMetric(float64(t[1].Nanoseconds())/n, "native-ns/op")
			b.ReportMetric(float64(t[0])/float64(t[1]), "one-port/native")
			if c.msgs > 0 {
				b.ReportMetric(n*float64(c.msgs)/t[0].Seconds(), "one-port-msgs/s")
				b.ReportMetric(n*float64(c.msgs)/t[1].Seconds(), "native-msgs/s")
			}
		})
	}
}

// BenchmarkConnectVsREST calls one method, DeactivateKitchen, over
// HTTP/1.1 on one keep-alive connection, with the same JSON body both
// ways: as REST (POST /v1/kitchens/1:deactivate, its google.api.http
// binding, body {}) and as Connect unary JSON (POST of {"id":"1"} to
// /duet.test.v1.Kitchens/DeactivateKitchen). Sub-benchmarks alternate
// rounds of b.N calls, so that both see the same machine load.
func BenchmarkConnectVsREST(b *testing.B) {
	f := start(b)
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	call := func(b *testing.B, url, body string, hdr ...string) {
		req, _ := http.NewRequest("POST", url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("HTTP %d", resp.StatusCode)
		}
	}
	rest := func(b *testing.B) { call(b, "http://"+f.addr+"/v1/kitchens/1:deactivate", "{}") }
	connect := func(b *testing.B) {
		call(b, "http://"+f.addr+"/duet.test.v1.Kitchens/DeactivateKitchen", `{"id":"1"}`, "Connect-Protocol-Version", "1")
	}
	for _, c := range []struct {
		name string
		do   func(*testing.B)
	}{{"rest", rest}, {"connect-json", connect}, {"rest", rest}, {"connect-json", connect}, {"rest", rest}, {"connect-json", connect}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				c.do(b)
			}
		})
	}
}
