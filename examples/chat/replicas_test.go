package main

import (
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duetrpc/duet/examples/chat/chatpb"
	"github.com/duetrpc/duet/examples/internal/testenv"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.Cleanup()
	os.Exit(code)
}

var chatServing = regexp.MustCompile(`chat: open http://(\S+)/ in`)

// startChat starts a chat process on PostgreSQL database dsn and returns a
// client connected to it.
func startChat(t *testing.T, dsn string) chatpb.ChatServiceClient {
	t.Helper()
	p := testenv.Start(t, testenv.Build(t), chatServing, "-addr", "127.0.0.1:0", "-drain", "100ms", "-db", dsn)
	conn, err := grpc.NewClient(p.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return chatpb.NewChatServiceClient(conn)
}

// TestReplicas runs two chat processes on one PostgreSQL database: members
// connected to either replica receive what is sent on both, each sender's
// messages in the order sent.
func TestReplicas(t *testing.T) {
	dsn := testenv.NewPostgresDatabase(t, testenv.PostgresURL(t))
	a, b := startChat(t, dsn), startChat(t, dsn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// One member on each replica, in the room before anyone speaks.
	var members []chatpb.ChatService_SubscribeClient
	for _, c := range []chatpb.ChatServiceClient{a, b} {
		sub, err := c.Subscribe(ctx, &chatpb.SubscribeRequest{Room: "lobby"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sub.Header(); err != nil { // sent once the member is in the room
			t.Fatal(err)
		}
		members = append(members, sub)
	}

	const n = 25
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // bob speaks on replica B, one unary Send after another
		defer wg.Done()
		for i := 0; i < n; i++ {
			if _, err := b.Send(ctx, &chatpb.ChatMessage{Room: "lobby", UserId: "bob", Content: "bob-" + strconv.Itoa(i)}); err != nil {
				t.Errorf("Send: %v", err)
				return
			}
		}
	}()
	go func() { // alice speaks on replica A, on a bidirectional stream
		defer wg.Done()
		stream, err := a.Chat(ctx)
		if err != nil {
			t.Error(err)
			return
		}
		for i := 0; i < n; i++ {
			if err := stream.Send(&chatpb.ChatMessage{Room: "lobby", UserId: "alice", Content: "alice-" + strconv.Itoa(i)}); err != nil {
				t.Errorf("Chat send: %v", err)
				return
			}
		}
		stream.CloseSend()
	}()

	for i, sub := range members {
		next := map[string]int{} // sender → the number of its next message
		for got := 0; got < 2*n; got++ {
			msg, err := sub.Recv()
			if err != nil {
				t.Fatalf("member on replica %d, after %d messages: %v", i, got, err)
			}
			sender, _, _ := strings.Cut(msg.Content, "-")
			if want := sender + "-" + strconv.Itoa(next[sender]); msg.Content != want || msg.UserId != sender {
				t.Fatalf("member on replica %d got %q from %s, want %q: out of order", i, msg.Content, msg.UserId, want)
			}
			next[sender]++
		}
	}
	wg.Wait()
}
