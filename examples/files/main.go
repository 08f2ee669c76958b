// Command files stores and serves files, streaming them over gRPC in
// 64 KiB chunks and over REST as raw bytes, with memory use independent of
// file size.
//
//	go run ./examples/files -data /tmp/files
//	curl -T big.bin -X POST localhost:8081/v1/files
//	curl -o copy.bin localhost:8081/v1/files/<file_id>
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
	"github.com/duetrpc/duet/examples/files/filespb"
	"google.golang.org/grpc/reflection"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "address for REST, gRPC and gRPC-Web")
	data := flag.String("data", "files-data", "directory the files are stored in")
	flag.Parse()

	if err := os.MkdirAll(*data, 0o755); err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := newServer(*data)
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("files: serving REST, gRPC and gRPC-Web on http://%s, storing in %s", lis.Addr(), *data)
	if err := srv.Run(ctx, lis, 30*time.Second); err != nil {
		log.Fatal(err)
	}
}

func newServer(dir string) *duet.Server {
	srv := duet.NewServer()
	filespb.RegisterFileServiceServer(srv, &service{dir: dir})
	reflection.Register(srv.GRPCServer())
	return srv
}
