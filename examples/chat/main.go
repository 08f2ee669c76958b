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
	"github.com/duetrpc/duet/health"
	"google.golang.org/grpc/reflection"
)

//go:embed index.html
var page []byte

func main() {
	addr := flag.String("addr", "127.0.0.1:8082", "address for the page, REST, gRPC and gRPC-Web")
	drain := flag.Duration("drain", 3*time.Second, "on SIGTERM, how long /readyz fails before the port closes, so load balancers stop sending first")
	db := flag.String("db", "", "a postgres:// URL: replicas on one database share their rooms (LISTEN/NOTIFY)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	h := newHub()
	var b bus = localBus{h}
	if *db != "" {
		pg, err := newPGBus(ctx, *db, h)
		if err != nil {
			log.Fatalf("chat: bus: %v", err)
		}
		b = pg
		log.Printf("chat: rooms shared with every replica on the same PostgreSQL database")
	}
	srv := newServerWith(h, b, duet.WithDrain(*drain))
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("chat: open http://%s/ in two browser tabs", lis.Addr())
	// Streams never finish on their own: give them a short grace, then
	// they end with UNAVAILABLE (a final SSE error event), and browsers'
	// EventSource reconnects to another replica.
	if err := srv.Run(ctx, lis, 2*time.Second); err != nil {
		log.Fatal(err)
	}
}

// newServer builds a server whose rooms live in this process.
func newServer(opts ...duet.Option) *duet.Server {
	h := newHub()
	return newServerWith(h, localBus{h}, opts...)
}

// newServerWith builds the server: the service, whose members join rooms
// in h and send through b, health (grpc.health.v1 and /livez, /readyz,
// /healthz), reflection and the page; opts add to or override its options
// (main adds the drain period).
func newServerWith(h *hub, b bus, opts ...duet.Option) *duet.Server {
	hs := health.New()
	hs.AddService(chatpb.ChatService_ServiceDesc.ServiceName)
	srv := duet.NewServer(append([]duet.Option{duet.WithHealth(hs)}, opts...)...)
	chatpb.RegisterChatServiceServer(srv, &service{hub: h, bus: b, now: time.Now})
	reflection.Register(srv.GRPCServer())
	srv.Handle("GET /{$}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	}))
	return srv
}
