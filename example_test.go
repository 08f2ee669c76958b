package duet_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/duetrpc/duet"
	"github.com/duetrpc/duet/grpcx"
	"github.com/duetrpc/duet/health"
	"github.com/duetrpc/duet/internal/testpb"
)

// A service served as gRPC, gRPC-Web and REST on one port, with health,
// shut down gracefully on SIGINT or SIGTERM.
func Example() {
	hs := health.New(nil)
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
