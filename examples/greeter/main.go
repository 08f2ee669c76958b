// Command greeter serves the Greeter service of greeterpb/greeter.proto as
// gRPC, gRPC-Web and REST/JSON on one port, with health checks, server
// reflection for grpcurl and an OpenAPI document at /openapi.json.
package main

import (
	"context"
	"flag"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/duetrpc/duet"
	"github.com/duetrpc/duet/examples/greeter/greeterpb"
	"github.com/duetrpc/duet/health"
	"github.com/duetrpc/duet/problem"
	"github.com/duetrpc/duet/rest"
	"google.golang.org/grpc/reflection"
)

// greeter implements greeterpb.GreeterServer, the interface that
// protoc-gen-go-grpc generated.
type greeter struct {
	greeterpb.UnimplementedGreeterServer
}

func (greeter) SayHello(ctx context.Context, req *greeterpb.SayHelloRequest) (*greeterpb.SayHelloResponse, error) {
	if req.GetName() == "" {
		return nil, problem.InvalidArgument("name is required",
			problem.Violation{Field: "name", Reason: "REQUIRED", Description: "say who to greet"})
	}
	return &greeterpb.SayHelloResponse{Message: "Hello, " + req.GetName() + "!"}, nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to serve gRPC, gRPC-Web and REST on")
	flag.Parse()

	srv := duet.NewServer(duet.WithHealth(health.New()))
	greeterpb.RegisterGreeterServer(srv, greeter{}) // gRPC, gRPC-Web and REST
	reflection.Register(srv.GRPCServer())           // for grpcurl
	srv.Handle("GET /openapi.json", srv.REST().OpenAPIHandler(rest.OpenAPIOptions{Title: "Greeter"}))

	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("serving on %s", lis.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := srv.Run(ctx, lis, 10*time.Second); err != nil {
		log.Fatal(err)
	}
}
