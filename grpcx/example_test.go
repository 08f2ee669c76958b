package grpcx_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/duetrpc/duet/grpcx"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func ExampleServer() {
	srv := grpc.NewServer(grpcx.Server{
		Deadlines: grpcx.Deadlines{Default: 5 * time.Second, Max: 30 * time.Second, Min: 10 * time.Millisecond},
		Report: func(ctx context.Context, method string, err error) {
			log.Printf("%s: %v", method, err) // the only place internal errors go
		},
	}.Options()...)
	defer srv.Stop()
	fmt.Println("server ready")
	// Output: server ready
}

func ExampleClient() {
	opts := append(grpcx.Client{
		Deadlines: grpcx.ClientDeadlines{Default: 5 * time.Second, Margin: 20 * time.Millisecond},
	}.Options(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	cc, err := grpc.NewClient("dns:///users.internal:443", opts...)
	if err != nil {
		log.Fatal(err)
	}
	defer cc.Close()
	fmt.Println("client ready")
	// Output: client ready
}

func ExampleDeadlines() {
	// Alone, without the rest of the chain.
	srv := grpc.NewServer(grpc.UnaryInterceptor(grpcx.Deadlines{Default: time.Second}.UnaryServerInterceptor()))
	defer srv.Stop()
}

func ExampleClientDeadlines() {
	_ = grpc.WithUnaryInterceptor(grpcx.ClientDeadlines{Margin: 50 * time.Millisecond}.UnaryClientInterceptor())
}

func ExampleErrors() {
	_ = grpc.ChainUnaryInterceptor(grpcx.Errors{Report: func(_ context.Context, m string, err error) { log.Print(m, err) }}.UnaryServerInterceptor())
}

func ExampleRecover() {
	_ = grpc.ChainStreamInterceptor(grpcx.Recover{}.StreamServerInterceptor())
}

func ExampleHeaderTimeout() {
	h := http.Header{}
	h.Set("Grpc-Timeout", "250m")
	d, ok, err := grpcx.HeaderTimeout(h)
	fmt.Println(d, ok, err)

	h = http.Header{}
	h.Set("Connect-Timeout-Ms", "soon")
	_, _, err = grpcx.HeaderTimeout(h)
	fmt.Println(err)
	// Output:
	// 250ms true <nil>
	// rpc error: code = InvalidArgument desc = malformed Connect-Timeout-Ms header: not a whole number of milliseconds
}

func ExampleParseTimeout() {
	d, _ := grpcx.ParseTimeout("5S")
	fmt.Println(d, grpcx.EncodeTimeout(1500*time.Millisecond))
	// Output: 5s 1500000u
}

func ExampleEncodeTimeout() {
	fmt.Println(grpcx.EncodeTimeout(3 * time.Second))
	// Output: 3000000u
}
