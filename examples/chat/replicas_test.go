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
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.Cleanup()
	os.Exit(code)
}

var chatServing = regexp.MustCompile(`chat: open http://(\S+)/ in`)

// startChat starts a chat process on PostgreSQL database dsn and returns
// its address.
func startChat(t *testing.T, dsn string) string {
	t.Helper()
	return testenv.Start(t, testenv.Build(t), chatServing, "-addr", "127.0.0.1:0", "-drain", "100ms", "-db", dsn).Addr
}

// dialChat returns a client of the chat server at addr.
func dialChat(t *testing.T, addr string, opts ...grpc.DialOption) chatpb.ChatServiceClient {
	t.Helper()
	conn, err := grpc.NewClient(addr, append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return chatpb.NewChatServiceClient(conn)
}

// TestReplicas runs two chat processes on one PostgreSQL database: members
// connected to either replica receive what is sent on both, each sender's
// messages in the order sent. A member who stops reading is dropped by its
// replica without holding up the others.
func TestReplicas(t *testing.T) {
	dsn := testenv.NewPostgresDatabase(t, testenv.PostgresURL(t))
	addrA, addrB := startChat(t, dsn), startChat(t, dsn)
	a, b := dialChat(t, addrA), dialChat(t, addrB)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Carol joins on replica A and never reads; her small fixed
	// flow-control window makes her fall behind quickly.
	carol, err := dialChat(t, addrA, grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10)).
		Subscribe(ctx, &chatpb.SubscribeRequest{Room: "lobby"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := carol.Header(); err != nil {
		t.Fatal(err)
	}

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

	// Enough for carol to fall more than her window and the room's buffer
	// behind: 120 messages of 4000 bytes each way.
	const n = 120
	text := strings.Repeat("x", 4000)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // bob speaks on replica B, one unary Send after another
		defer wg.Done()
		for i := 0; i < n; i++ {
			if _, err := b.Send(ctx, &chatpb.ChatMessage{Room: "lobby", UserId: "bob", Content: "bob-" + strconv.Itoa(i) + "-" + text}); err != nil {
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
		// Alice is in the room too: she reads (and ignores) what it says,
		// or she would be dropped like carol.
		go func() {
			for {
				if _, err := stream.Recv(); err != nil {
					return
				}
			}
		}()
		for i := 0; i < n; i++ {
			if err := stream.Send(&chatpb.ChatMessage{Room: "lobby", UserId: "alice", Content: "alice-" + strconv.Itoa(i) + "-" + text}); err != nil {
				t.Errorf("Chat send: %v", err)
				return
			}
		}
		stream.CloseSend()
	}()

	// Both members read as they go, each on its own goroutine.
	for i, sub := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := map[string]int{} // sender → the number of its next message
			for got := 0; got < 2*n; got++ {
				msg, err := sub.Recv()
				if err != nil {
					t.Errorf("member on replica %d, after %d messages: %v", i, got, err)
					return
				}
				sender, _, _ := strings.Cut(msg.Content, "-")
				if want := sender + "-" + strconv.Itoa(next[sender]) + "-" + text; msg.Content != want || msg.UserId != sender {
					t.Errorf("member on replica %d got %.20q from %s, want %.20q: out of order", i, msg.Content, msg.UserId, want)
					return
				}
				next[sender]++
			}
		}()
	}
	wg.Wait()

	// Carol reads what reached her, then learns she was dropped.
	for {
		if _, err := carol.Recv(); err != nil {
			if status.Code(err) != codes.ResourceExhausted {
				t.Errorf("carol: %v, want RESOURCE_EXHAUSTED", err)
			}
			break
		}
	}
}
