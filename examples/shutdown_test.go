package examples_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/duetrpc/duet/examples/chat/chatpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// TestSIGTERM runs each example as a process, with clients connected (a
// health Watch; in chat a gRPC Chat stream and an SSE subscription too),
// sends SIGTERM, and checks what operators and clients rely on: /readyz
// fails during the drain, no client sees INTERNAL, the Watch ends with
// NOT_SERVING then UNAVAILABLE, and the process exits 0.
func TestSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the three examples")
	}
	bin := t.TempDir()
	for _, tc := range []struct {
		name string
		args func(dir string) []string
	}{
		{"users", func(dir string) []string { return []string{"-db", filepath.Join(dir, "users.db")} }},
		{"files", func(dir string) []string { return []string{"-data", dir} }},
		{"chat", func(string) []string { return nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exe := filepath.Join(bin, tc.name)
			if out, err := exec.Command("go", "build", "-o", exe, "./"+tc.name).CombinedOutput(); err != nil {
				t.Fatalf("go build: %v\n%s", err, out)
			}
			addr := freeAddr(t)
			cmd := exec.Command(exe, append([]string{"-addr", addr, "-drain", "300ms"}, tc.args(t.TempDir())...)...)
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			defer func() { _ = cmd.Process.Kill() }()
			waitReady(t, addr)

			cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			defer cc.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			watch, err := healthpb.NewHealthClient(cc).Watch(ctx, &healthpb.HealthCheckRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if r, err := watch.Recv(); err != nil || r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				t.Fatalf("Watch: %v %v, want SERVING", r, err)
			}
			ends := map[string]chan error{}
			if tc.name == "chat" {
				chat, err := chatpb.NewChatServiceClient(cc).Chat(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if err := chat.Send(&chatpb.ChatMessage{Room: "r", UserId: "u", Content: "hi"}); err != nil {
					t.Fatal(err)
				}
				if _, err := chat.Recv(); err != nil {
					t.Fatal(err)
				}
				ends["grpc chat"] = make(chan error, 1)
				go func() {
					for {
						if _, err := chat.Recv(); err != nil {
							ends["grpc chat"] <- err
							return
						}
					}
				}()
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/v1/rooms/r/messages", nil)
				req.Header.Set("Accept", "text/event-stream")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				ends["sse"] = make(chan error, 1)
				go func() {
					sc := bufio.NewScanner(resp.Body)
					var last string
					for sc.Scan() {
						if l := sc.Text(); l != "" && !strings.HasPrefix(l, ":") {
							last = l
						}
					}
					if !strings.Contains(last, "UNAVAILABLE") {
						ends["sse"] <- status.Errorf(codes.Internal, "last SSE line %q", last)
						return
					}
					ends["sse"] <- status.Error(codes.Unavailable, last)
				}()
			}

			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			// The drain: /readyz fails while the port still answers.
			for i := 0; ; i++ {
				resp, err := http.Get("http://" + addr + "/readyz")
				if err != nil {
					t.Fatalf("the port closed before /readyz failed: %v", err)
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusServiceUnavailable {
					break
				}
				if i == 1000 {
					t.Fatal("/readyz never failed")
				}
			}
			var seen []string
			for {
				r, err := watch.Recv()
				if err != nil {
					seen = append(seen, status.Code(err).String())
					break
				}
				seen = append(seen, r.GetStatus().String())
			}
			if got := strings.Join(seen, " "); got != "NOT_SERVING Unavailable" {
				t.Errorf("Watch saw %q, want NOT_SERVING then Unavailable", got)
			}
			for name, c := range ends {
				if err := <-c; status.Code(err) != codes.Unavailable {
					t.Errorf("%s ended with %v, want UNAVAILABLE", name, err)
				}
			}
			select {
			case err := <-exited:
				if err != nil {
					t.Errorf("exit after SIGTERM: %v, want status 0", err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("still running 20s after SIGTERM")
			}
		})
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitReady(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after 30s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
