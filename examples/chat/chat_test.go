package main

import (
	"bufio"
	"context"
	"encoding/json"
	"github.com/duetrpc/duet/internal/exchange"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/duetrpc/duet"
	"github.com/duetrpc/duet/examples/chat/chatpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

func start(t *testing.T) (base string, dial func(...grpc.DialOption) chatpb.ChatServiceClient) {
	t.Helper()
	return serve(t, newServer())
}

// serve runs srv on a loopback port until the test ends.
func serve(t *testing.T, srv *duet.Server) (base string, dial func(...grpc.DialOption) chatpb.ChatServiceClient) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, lis, 0) }()
	var conns []*grpc.ClientConn
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
		cancel()
		<-done
	})
	return "http://" + lis.Addr().String(), func(opts ...grpc.DialOption) chatpb.ChatServiceClient {
		conn, err := grpc.NewClient(lis.Addr().String(), append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))...)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, conn)
		return chatpb.NewChatServiceClient(conn)
	}
}

// TestBroadcastWithStalledClient: alice posts, bob listens, and carol
// joins but never reads. The room must not wait for carol: bob gets every
// message, and carol is dropped with RESOURCE_EXHAUSTED.
func TestBroadcastWithStalledClient(t *testing.T) {
	_, dial := start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Carol's small fixed flow-control window makes her stall quickly.
	carolClient := dial(grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10))
	c := dial()

	join := func(client chatpb.ChatServiceClient, user string) chatpb.ChatService_ChatClient {
		s, err := client.Chat(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(&chatpb.ChatMessage{Room: "lobby", UserId: user, Content: "hi, I am " + user}); err != nil {
			t.Fatal(err)
		}
		// Wait for one's own greeting: now the room has us.
		for {
			m, err := s.Recv()
			if err != nil {
				t.Fatal(err)
			}
			if m.UserId == user {
				return s
			}
		}
	}
	carol := join(carolClient, "carol")
	bob := join(c, "bob")

	const n = 1500 // ~150 KB: more than carol's window plus the room's buffer
	text := strings.Repeat("x", 100)
	for i := 0; i < n; i++ {
		// Alice posts with the unary Send, as the browser page does.
		if _, err := c.Send(ctx, &chatpb.ChatMessage{Room: "lobby", UserId: "alice", Content: strconv.Itoa(i) + text}); err != nil {
			t.Fatal(err)
		}
		// Bob reads each message before alice sends the next, so only
		// carol falls behind.
		for {
			m, err := bob.Recv()
			if err != nil {
				t.Fatalf("bob after %d messages: %v", i, err)
			}
			if m.UserId != "alice" || strings.HasPrefix(m.Content, "hi, ") {
				continue
			}
			if m.Content != strconv.Itoa(i)+text || m.Room != "lobby" || m.Timestamp == 0 {
				t.Fatalf("bob got %v, want message %d", m, i)
			}
			break
		}
	}
	// Carol now reads what reached her, then learns she was dropped.
	for {
		_, err := carol.Recv()
		if err == nil {
			continue
		}
		if status.Code(err) != codes.ResourceExhausted {
			t.Errorf("carol: %v, want RESOURCE_EXHAUSTED", err)
		}
		break
	}
}

func TestChatErrors(t *testing.T) {
	_, dial := start(t)
	c := dial()
	ctx := context.Background()
	s, err := c.Chat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Send(&chatpb.ChatMessage{Content: "who am I"})
	if _, err := s.Recv(); status.Code(err) != codes.InvalidArgument {
		t.Errorf("Chat without room and user: %v, want INVALID_ARGUMENT", err)
	}
	if _, err := c.Send(ctx, &chatpb.ChatMessage{Room: "lobby"}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("Send without user: %v, want INVALID_ARGUMENT", err)
	}
}

// TestREST is what the browser page does: EventSource to receive, fetch to
// send, next to a gRPC client in the same room.
func TestREST(t *testing.T) {
	base, dial := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The response starts with the first event, so subscribe in the
	// background while sending.
	got := make(chan map[string]any, 1)
	go func() {
		defer close(got)
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/rooms/lobby/messages", nil)
		req.Header.Set("Accept", "text/event-stream")
		resp, err := restClient.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
			t.Errorf("Content-Type %q", ct)
		}
		events := bufio.NewScanner(resp.Body)
		for events.Scan() {
			if data, ok := strings.CutPrefix(events.Text(), "data: "); ok {
				var m map[string]any
				json.Unmarshal([]byte(data), &m)
				got <- m
				return
			}
		}
	}()
	c := dial()
	// Poll with a deadline: resend every 20 ms until the event arrives.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var m map[string]any
	for m == nil {
		if _, err := c.Send(ctx, &chatpb.ChatMessage{Room: "lobby", UserId: "grpc", Content: "hello browser"}); err != nil {
			t.Fatal(err)
		}
		select {
		case ev, ok := <-got:
			if !ok {
				t.Fatal("event stream ended")
			}
			m = ev
		case <-tick.C:
		}
	}
	if m["userId"] != "grpc" || m["content"] != "hello browser" {
		t.Errorf("event %v", m)
	}

	post, err := restClient.Post(base+"/v1/rooms/lobby/messages", "application/json", strings.NewReader(`{"content":"anonymous"}`))
	if err != nil {
		t.Fatal(err)
	}
	post.Body.Close()
	if post.StatusCode != 400 || post.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("POST without userId: %d %s, want 400 problem", post.StatusCode, post.Header.Get("Content-Type"))
	}
	page, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	page.Body.Close()
	if page.StatusCode != 200 || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET /: %d %s", page.StatusCode, page.Header.Get("Content-Type"))
	}
}

// restClient records its JSON exchanges when DUET_EXCHANGES is set (in CI),
// so tools/openapicheck can check them against the OpenAPI document.
var restClient = &http.Client{Transport: exchange.Transport(http.DefaultTransport)}
