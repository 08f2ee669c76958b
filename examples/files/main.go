// Command files stores and serves files, streaming them over gRPC in
// 64 KiB chunks and over REST as raw bytes, with memory use independent of
// file size.
//
//	go -C examples run ./files -data /tmp/files
//	curl -T big.bin -X POST localhost:8081/v1/files
//	curl -o copy.bin localhost:8081/v1/files/<file_id>
//	curl localhost:8081/openapi.json
//	go -C examples run ./files -openapi > files.openapi.json
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/duetrpc/duet"
	"github.com/duetrpc/duet/examples/files/filespb"
	"github.com/duetrpc/duet/health"
	"github.com/duetrpc/duet/rest"
	"google.golang.org/grpc/reflection"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "address for REST, gRPC and gRPC-Web")
	data := flag.String("data", "files-data", "directory the files are stored in")
	printOpenAPI := flag.Bool("openapi", false, "print the OpenAPI 3.1 document to stdout and exit")
	drain := flag.Duration("drain", 3*time.Second, "on SIGTERM, how long /readyz fails before the port closes, so load balancers stop sending first")
	flag.Parse()

	if *printOpenAPI {
		// The document comes from the registered services; nothing is
		// stored or served, so the data directory is not touched.
		doc, err := newServer(*data).REST().OpenAPI(openAPIOptions)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s\n", doc)
		return
	}

	if err := os.MkdirAll(*data, 0o755); err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := newServer(*data, duet.WithDrain(*drain))
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("files: serving REST, gRPC and gRPC-Web on http://%s, storing in %s", lis.Addr(), *data)
	if err := srv.Run(ctx, lis, 30*time.Second); err != nil {
		log.Fatal(err)
	}
}

// openAPIOptions are the parts of the OpenAPI document that the proto does
// not say. Bearer declares a bearer-token scheme, as an API behind an
// authenticating gateway would; this example itself does not check tokens.
var openAPIOptions = rest.OpenAPIOptions{
	Title:       "Files API",
	Version:     "1.0.0",
	Description: "Upload and download files of any size: raw bytes over REST, 64 KiB chunks over gRPC.",
	Bearer:      true,
}

// newServer builds the server: the service, health (grpc.health.v1 and
// /livez, /readyz, /healthz), reflection and the OpenAPI document at
// /openapi.json; opts add to or override its options (main adds the drain
// period).
func newServer(dir string, opts ...duet.Option) *duet.Server {
	hs := health.New()
	hs.AddService(filespb.FileService_ServiceDesc.ServiceName)
	srv := duet.NewServer(append([]duet.Option{duet.WithHealth(hs)}, opts...)...)
	filespb.RegisterFileServiceServer(srv, &service{dir: dir})
	reflection.Register(srv.GRPCServer())
	// After registering: the document describes what is registered.
	srv.Handle("GET /openapi.json", srv.REST().OpenAPIHandler(openAPIOptions))
	return srv
}
