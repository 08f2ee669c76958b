// Command users serves a users/orders API as REST/JSON, gRPC
// and gRPC-Web on one port, from one implementation of users.proto.
//
//	go -C examples run ./users
//	curl -i localhost:8080/v1/users
//	grpcurl -plaintext localhost:8080 list
//	curl localhost:8080/openapi.json
//	go -C examples run ./users -openapi > users.openapi.json
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/duetrpc/duet"
	"github.com/duetrpc/duet/examples/users/userspb"
	"github.com/duetrpc/duet/health"
	"github.com/duetrpc/duet/rest"
	"google.golang.org/grpc/reflection"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address for REST, gRPC and gRPC-Web")
	grpcAddr := flag.String("grpc-addr", "", "optional extra address for native gRPC only")
	printOpenAPI := flag.Bool("openapi", false, "print the OpenAPI 3.1 document to stdout and exit")
	flag.Parse()

	if *printOpenAPI {
		// The document comes from the registered services, so building the
		// server (without listening) is all it takes.
		doc, err := newServer(newMemStore()).REST().OpenAPI(openAPIOptions)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s\n", doc)
		return
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *grpcAddr, func(a net.Addr) {
		log.Printf("users: serving REST, gRPC and gRPC-Web on http://%s", a)
	}); err != nil {
		log.Fatal(err)
	}
}

// openAPIOptions are the parts of the OpenAPI document that the proto does
// not say. Bearer declares a bearer-token scheme, as an API behind an
// authenticating gateway would; this example itself does not check tokens.
var openAPIOptions = rest.OpenAPIOptions{
	Title:       "Users API",
	Version:     "1.0.0",
	Description: "A users/orders API, served as REST/JSON, gRPC and gRPC-Web from one implementation.",
	Bearer:      true,
}

// newServer builds the server: the service, health, reflection and the
// OpenAPI document at /openapi.json.
func newServer(store Store) *duet.Server {
	// Page tokens are signed; a random key per process means tokens do not
	// survive a restart. Load the key from a secret store to keep them.
	key := make([]byte, 32)
	rand.Read(key)

	hs := health.New(nil)
	hs.AddService(userspb.UserService_ServiceDesc.ServiceName)
	srv := duet.NewServer(duet.WithHealth(hs), duet.WithRESTOptions(linkOptions()...))
	userspb.RegisterUserServiceServer(srv, newService(store, key))
	// Reflection only makes sense on gRPC, so it goes on the grpc.Server.
	reflection.Register(srv.GRPCServer())
	// After registering: the document describes what is registered.
	srv.Handle("GET /openapi.json", srv.REST().OpenAPIHandler(openAPIOptions))
	return srv
}

// run serves until ctx is done, then shuts down gracefully. started is
// called once the listener is open.
func run(ctx context.Context, addr, grpcAddr string, started func(net.Addr)) error {
	srv := newServer(seededStore())
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if grpcAddr != "" {
		glis, err := net.Listen("tcp", grpcAddr)
		if err != nil {
			lis.Close()
			return err
		}
		go func() {
			if err := srv.ServeGRPC(glis); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Printf("users: gRPC port: %v", err)
			}
		}()
	}
	started(lis.Addr())
	return srv.Run(ctx, lis, 10*time.Second)
}

// seededStore returns a store with a few users, so the first request shows
// something.
func seededStore() *memStore {
	s := newMemStore()
	for _, u := range []*userspb.User{
		{Email: "jane@example.com", Name: "Jane Smith", Status: "active"},
		{Email: "john@example.com", Name: "John Doe", Status: "active"},
		{Email: "ada@example.com", Name: "Ada Lovelace", Status: "inactive"},
	} {
		if _, err := s.CreateUser(u); err != nil {
			panic(err)
		}
	}
	return s
}
