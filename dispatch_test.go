package duet_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/duetrpc/duet"
	"github.com/duetrpc/duet/internal/testpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// TestTLSDispatch: over TLS with client certificates, gRPC (ALPN h2,
// served by grpc-go's transport) sees the client's certificate in its
// peer, and HTTP handlers see Request.TLS over HTTP/2 and HTTP/1.1 alike.
func TestTLSDispatch(t *testing.T) {
	cert, pool := selfSigned(t)
	ccert, cpool := clientCert(t)
	peers := make(chan string, 1)
	record := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		p, _ := peer.FromContext(ctx)
		ti, ok := p.AuthInfo.(credentials.TLSInfo)
		if ok && len(ti.State.PeerCertificates) > 0 {
			peers <- ti.State.PeerCertificates[0].Subject.CommonName
		} else {
			peers <- fmt.Sprintf("%T", p.AuthInfo)
		}
		return h(ctx, req)
	}
	srv := duet.NewServer(
		duet.WithTLS(&tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: cpool, ClientAuth: tls.RequireAndVerifyClientCert}),
		duet.WithInterceptors([]grpc.UnaryServerInterceptor{record}, nil),
	)
	testpb.RegisterKitchensServer(srv, kitchens{})
	srv.Handle("GET /tls", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			fmt.Fprintf(w, "%s without TLS state", r.Proto)
			return
		}
		fmt.Fprintf(w, "%s %s", r.Proto, r.TLS.PeerCertificates[0].Subject.CommonName)
	}))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-served
	})
	addr := lis.Addr().String()
	clientTLS := &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{ccert}}

	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(clientTLS)))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	if _, err := testpb.NewKitchensClient(cc).GetKitchen(context.Background(), &testpb.GetKitchenRequest{Id: "1"}); err != nil {
		t.Fatal(err)
	}
	if got := <-peers; got != "client-1" {
		t.Errorf("gRPC peer: %s; want the client certificate's client-1", got)
	}

	for _, h2 := range []bool{false, true} {
		tr := &http.Transport{TLSClientConfig: clientTLS, Protocols: new(http.Protocols)}
		tr.Protocols.SetHTTP1(!h2)
		tr.Protocols.SetHTTP2(h2)
		resp, err := (&http.Client{Transport: tr}).Get("https://" + addr + "/tls")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		tr.CloseIdleConnections()
		want := "HTTP/1.1 client-1"
		if h2 {
			want = "HTTP/2.0 client-1"
		}
		if string(b) != want {
			t.Errorf("got %q; want %q", b, want)
		}
	}
}

// TestProxiedConnectionMixes: a connection whose first request is gRPC
// from a proxy (X-Forwarded-For) stays on net/http, so REST and gRPC-Web
// on it later are served too.
func TestProxiedConnectionMixes(t *testing.T) {
	f := start(t)
	c := h2cClient(t)
	hr, _ := http.NewRequest("POST", "http://"+f.addr+"/duet.test.v1.Kitchens/GetKitchen", bytesReader(frame(0, &testpb.GetKitchenRequest{Id: "1"})))
	hr.Header.Set("Content-Type", "application/grpc")
	hr.Header.Set("Te", "trailers")
	hr.Header.Set("X-Forwarded-For", "10.0.0.1")
	resp, err := c.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.Trailer.Get("Grpc-Status") != "0" {
		t.Fatalf("gRPC: %s, trailers %v", resp.Status, resp.Trailer)
	}
	restFirst(t, c, f.addr) // the same connection: the transport reuses it
	if code, st := rawGRPC(t, c, f.addr, "application/grpc", "", &testpb.GetKitchenRequest{Id: "2"}); code != 200 || st != "0" {
		t.Errorf("gRPC after REST: HTTP %d, grpc-status %q", code, st)
	}
}

// TestShutdownDrainsNativeCalls: a call grpc-go's transport serves on the
// one port finishes within the grace period; Shutdown then returns nil.
func TestShutdownDrainsNativeCalls(t *testing.T) {
	srv := duet.NewServer()
	testpb.RegisterKitchensServer(srv, kitchens{})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	c := grpcClient(t, lis.Addr().String())
	if _, err := c.GetKitchen(context.Background(), &testpb.GetKitchenRequest{Id: "1"}); err != nil {
		t.Fatal(err)
	}
	call := make(chan error, 1)
	go func() {
		_, err := c.GetKitchen(context.Background(), &testpb.GetKitchenRequest{Id: "slow"})
		call <- err
	}()
	time.Sleep(100 * time.Millisecond) // the call is in its handler
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown = %v", err)
	}
	if err := <-call; err != nil {
		t.Errorf("call in flight at Shutdown: %v", err)
	}
	if err := <-served; err != http.ErrServerClosed {
		t.Errorf("Serve = %v", err)
	}
}

// TestGarbageConnection: bytes that are neither HTTP/1 nor HTTP/2 get
// net/http's 400 and a closed connection; the port keeps serving.
func TestGarbageConnection(t *testing.T) {
	f := start(t)
	c, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("\x00\x01\x02\xffgarbage\r\n\r\n"))
	c.SetReadDeadline(time.Now().Add(15 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("not closed: %v (read %q)", err, b)
	}
	if !strings.HasPrefix(string(b), "HTTP/1.1 400 ") {
		t.Errorf("answered %q", b)
	}
	if _, err := grpcClient(t, f.addr).GetKitchen(context.Background(), &testpb.GetKitchenRequest{Id: "1"}); err != nil {
		t.Errorf("the port after garbage: %v", err)
	}
}
