// Command chat is a chat server: gRPC clients use the bidirectional Chat
// method, browsers the page at / (EventSource to receive, fetch to send),
// all in the same rooms.
//
//	go -C examples run ./chat
//	open http://127.0.0.1:8082/
package main

import (
	"context"
	_ "embed"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/duetrpc/duet"
	"github.com/duetrpc/duet/examples/chat/chatpb"
	"google.golang.org/grpc/reflection"
)

//go:embed index.html
var page []byte

func main() {
	addr := flag.String("addr", "127.0.0.1:8082", "address for the page, REST, gRPC and gRPC-Web")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := newServer()
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("chat: open http://%s/ in two browser tabs", lis.Addr())
	// Streams never finish on their own: give them a short grace, then cut.
	if err := srv.Run(ctx, lis, 2*time.Second); err != nil {
		log.Fatal(err)
	}
}

func newServer() *duet.Server {
	srv := duet.NewServer()
	chatpb.RegisterChatServiceServer(srv, &service{hub: newHub(), now: time.Now})
	reflection.Register(srv.GRPCServer())
	srv.Handle("GET /{$}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	}))
	return srv
}
