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
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
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
	dsn := flag.String("db", "users.db", "an SQLite file, or a postgres:// URL")
	drain := flag.Duration("drain", 3*time.Second, "on SIGTERM, how long /readyz fails before the port closes, so load balancers stop sending first")
	keyFile := flag.String("page-keys", os.Getenv("USERS_PAGE_KEYS"), "a file of page-token keys, one per line in base64; the first signs, all verify (default $USERS_PAGE_KEYS)")
	flag.Parse()

	if *printOpenAPI {
		// The document comes from the registered services, so building the
		// server (without listening) is all it takes.
		doc, err := newServer(nil, [][]byte{nil}).REST().OpenAPI(openAPIOptions)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s\n", doc)
		return
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	keys, err := pageKeys(*keyFile)
	if err != nil {
		log.Fatal(err)
	}
	store, err := openDB(ctx, *dsn)
	if err != nil {
		log.Fatalf("users: %s: %v", *dsn, err)
	}
	defer store.Close()
	log.Printf("users: data in %s", redact(*dsn))
	if err := run(ctx, newServer(store, keys, duet.WithDrain(*drain)), *addr, *grpcAddr, func(a net.Addr) {
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
// OpenAPI document at /openapi.json; opts add to or override its options
// (main adds the drain period).
func newServer(store Store, keys [][]byte, opts ...duet.Option) *duet.Server {
	hs := health.New()
	hs.AddService(userspb.UserService_ServiceDesc.ServiceName)
	srv := duet.NewServer(append([]duet.Option{duet.WithHealth(hs), duet.WithRESTOptions(linkOptions()...)}, opts...)...)
	userspb.RegisterUserServiceServer(srv, newService(store, keys))
	// Reflection only makes sense on gRPC, so it goes on the grpc.Server.
	reflection.Register(srv.GRPCServer())
	// After registering: the document describes what is registered.
	srv.Handle("GET /openapi.json", srv.REST().OpenAPIHandler(openAPIOptions))
	return srv
}

// run serves until ctx is done, then shuts down gracefully. started is
// called once the listener is open.
func run(ctx context.Context, srv *duet.Server, addr, grpcAddr string, started func(net.Addr)) error {
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

// pageKeys reads the keys that sign and verify page tokens. Replicas behind
// one load balancer must share them, or a token from one is refused by the
// next; listing a new key second, then first, then dropping the old one
// rotates keys without breaking the pages clients are in. Without a file, a
// process makes up a key of its own, which is fine for one process only.
func pageKeys(file string) ([][]byte, error) {
	if file == "" {
		log.Printf("users: page tokens signed with a random key: they do not survive a restart nor work across replicas; set -page-keys to share keys")
		key := make([]byte, 32)
		rand.Read(key)
		return [][]byte{key}, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("page keys: %w", err)
	}
	var keys [][]byte
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, err := base64.StdEncoding.DecodeString(line)
		if err != nil {
			return nil, fmt.Errorf("page keys: %s:%d: not base64: %w", file, i+1, err)
		}
		if len(k) < 32 {
			return nil, fmt.Errorf("page keys: %s:%d: a key needs at least 32 bytes, this one has %d", file, i+1, len(k))
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("page keys: %s holds no key", file)
	}
	return keys, nil
}

// redact hides the password of a database URL, for logs.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		return u.Redacted()
	}
	return dsn
}
