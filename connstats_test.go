package duet_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duetrpc/duet"
	"github.com/duetrpc/duet/internal/testpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/stats"
)

// connRecorder records a stats.Handler's events by type, noting any RPC
// event whose context was not derived from its connection's tagged one.
type connRecorder struct {
	mu     sync.Mutex
	events []string
}

type connTagKey struct{}

func (r *connRecorder) add(ctx context.Context, ev string, needConn bool) {
	if needConn && ctx.Value(connTagKey{}) == nil {
		ev += " (no TagConn context)"
	}
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}

func (r *connRecorder) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	r.add(ctx, "TagConn", false)
	return context.WithValue(ctx, connTagKey{}, true)
}

func (r *connRecorder) HandleConn(ctx context.Context, s stats.ConnStats) {
	r.add(ctx, strings.TrimPrefix(fmt.Sprintf("%T", s), "*stats."), true)
}

func (r *connRecorder) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context {
	r.add(ctx, "TagRPC", true)
	return ctx
}

func (r *connRecorder) HandleRPC(ctx context.Context, s stats.RPCStats) {
	r.add(ctx, strings.TrimPrefix(fmt.Sprintf("%T", s), "*stats."), true)
}

func (r *connRecorder) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// TestConnStatsEveryProtocol: a call on its own connection gives a stats
// handler TagConn, ConnBegin, the call's events in a context derived from
// the tagged one, and ConnEnd once the client closes the connection, on
// REST, gRPC-Web and Connect as grpc-go does for native gRPC.
func TestConnStatsEveryProtocol(t *testing.T) {
	httpCall := func(method, path, ct, body string) func(t *testing.T, addr string) {
		return func(t *testing.T, addr string) {
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			req, err := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if ct != "" {
				req.Header.Set("Content-Type", ct)
				req.Header.Set("Connect-Protocol-Version", "1")
			}
			resp, err := (&http.Client{Transport: tr}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			_, _ = b.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Grpc-Status") != "" && resp.Header.Get("Grpc-Status") != "0" {
				t.Fatalf("%s %s: %d %s %q", method, path, resp.StatusCode, resp.Header.Get("Grpc-Status"), b.String())
			}
		}
	}
	webBody := func(msg string) string {
		f := make([]byte, 5, 5+len(msg))
		binary.BigEndian.PutUint32(f[1:], uint32(len(msg)))
		return string(append(f, msg...))
	}
	for _, tc := range []struct {
		name string
		call func(t *testing.T, addr string)
	}{
		{"gRPC", func(t *testing.T, addr string) {
			cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			defer cc.Close()
			if _, err := testpb.NewKitchensClient(cc).GetKitchen(context.Background(), &testpb.GetKitchenRequest{Id: "1"}); err != nil {
				t.Fatal(err)
			}
		}},
		{"REST", httpCall("GET", "/v1/kitchens/1", "", "")},
		{"gRPC-Web", httpCall("POST", "/duet.test.v1.Kitchens/GetKitchen", "application/grpc-web+json", webBody(`{"id":"1"}`))},
		{"Connect", httpCall("POST", "/duet.test.v1.Kitchens/GetKitchen", "application/json", `{"id":"1"}`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &connRecorder{}
			f := start(t, duet.WithStatsHandler(rec))
			tc.call(t, f.addr)
			var got []string
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				if got = rec.snapshot(); slices.Contains(got, "ConnEnd") {
					break
				}
			}
			for _, ev := range got {
				if strings.Contains(ev, "no TagConn") {
					t.Errorf("event %s", ev)
				}
			}
			// The connection's frame around the call, as grpc-go emits it.
			var frame []string
			for _, ev := range got {
				switch ev {
				case "TagConn", "ConnBegin", "TagRPC", "End", "ConnEnd":
					frame = append(frame, ev)
				}
			}
			if want := []string{"TagConn", "ConnBegin", "TagRPC", "End", "ConnEnd"}; !slices.Equal(frame, want) {
				t.Errorf("events %v\nframe %v, want %v", got, frame, want)
			}
		})
	}
}
