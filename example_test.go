package duet_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"log"
	"net"
	"net/http/httptest"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/duetrpc/duet"
	"github.com/duetrpc/duet/grpcx"
	"github.com/duetrpc/duet/health"
	"github.com/duetrpc/duet/internal/testpb"
	"google.golang.org/protobuf/proto"
)

// A service served as gRPC, gRPC-Web and REST on one port, with health,
// shut down gracefully on SIGINT or SIGTERM.
func Example() {
	hs := health.New()
	srv := duet.NewServer(
		duet.WithChain(grpcx.Server{Deadlines: grpcx.Deadlines{Default: 5 * time.Second, Max: 30 * time.Second}}),
		duet.WithHealth(hs),
		duet.WithDrain(2*time.Second),
	)
	testpb.RegisterKitchensServer(srv, kitchens{})

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stop() // in a real main, Run returns when a signal arrives
	if err := srv.Run(ctx, lis, 10*time.Second); err != nil {
		log.Fatal(err)
	}
	fmt.Println("stopped")
	// Output: stopped
}

func ExampleServer_ServeGRPC() {
	srv := duet.NewServer()
	testpb.RegisterKitchensServer(srv, kitchens{})
	public, _ := net.Listen("tcp", "127.0.0.1:0")   // REST, gRPC-Web and gRPC
	internal, _ := net.Listen("tcp", "127.0.0.1:0") // native gRPC, faster
	go srv.Serve(public)
	go srv.ServeGRPC(internal)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	fmt.Println(srv.Shutdown(ctx))
	// Output: <nil>
}

func ExampleWithCORS() {
	_ = duet.NewServer(duet.WithCORS(duet.CORS{
		Origins:       []string{"https://app.example.com"},
		Headers:       []string{"X-Tenant"},
		ExposeHeaders: []string{"Grpc-Metadata-Request-Id"},
	}))
}

// A gRPC-Web call, framed by hand as the protocol spec describes: one
// length-prefixed message in, data frames and a trailer frame (flag 0x80)
// with the status out. Browsers use a gRPC-Web client library instead.
func ExampleServer_ServeHTTP() {
	srv := duet.NewServer()
	testpb.RegisterKitchensServer(srv, kitchens{})

	msg, _ := proto.Marshal(&testpb.GetKitchenRequest{Id: "5"})
	body := append([]byte{0, 0, 0, 0, byte(len(msg))}, msg...)
	req := httptest.NewRequest("POST", "/duet.test.v1.Kitchens/GetKitchen", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/grpc-web+proto")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)

	out := rec.Body.Bytes()
	for len(out) >= 5 {
		n := binary.BigEndian.Uint32(out[1:5])
		payload := out[5 : 5+n]
		if out[0]&0x80 != 0 {
			fmt.Printf("trailers: %q\n", payload)
		} else {
			var k testpb.Kitchen
			_ = proto.Unmarshal(payload, &k)
			fmt.Println("message:", k.GetName())
		}
		out = out[5+n:]
	}
	// Output:
	// message: kitchen 5
	// trailers: "grpc-status: 0\r\nx-done: yes\r\n"
}

func ExampleWithTLS() {
	cert, err := tls.LoadX509KeyPair("server.crt", "server.key")
	if err != nil {
		return // in a real main: log.Fatal(err)
	}
	// HTTP/2 (and with it gRPC) is negotiated by ALPN; HTTP/1.1 clients
	// are served on the same port.
	_ = duet.NewServer(duet.WithTLS(&tls.Config{Certificates: []tls.Certificate{cert}}))
}
