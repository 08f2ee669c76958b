package call_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duetrpc/duet/internal/call"
	"github.com/duetrpc/duet/internal/testpb"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
)

type kitchens struct {
	testpb.UnimplementedKitchensServer
}

func (kitchens) GetKitchen(ctx context.Context, req *testpb.GetKitchenRequest) (*testpb.Kitchen, error) {
	_ = grpc.SetHeader(ctx, metadata.Pairs("h", "1"))
	_ = grpc.SetTrailer(ctx, metadata.Pairs("t", "2"))
	return &testpb.Kitchen{Id: req.GetId(), Name: "k"}, nil
}

func (kitchens) Fail(_ context.Context, req *testpb.FailRequest) (*emptypb.Empty, error) {
	if req.GetCode() < 0 {
		panic("boom")
	}
	return nil, status.Error(codes.Code(req.GetCode()), req.GetMessage())
}

// Chat echoes each message as it comes, full duplex.
func (kitchens) Chat(s testpb.Kitchens_ChatServer) error {
	for {
		m, err := s.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.Send(m); err != nil {
			return err
		}
	}
}

// recorder keeps the names of the RPC events a stats.Handler receives.
type recorder struct {
	mu     sync.Mutex
	events []string
	end    *stats.End
}

func (r *recorder) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context {
	r.add("TagRPC")
	return ctx
}
func (r *recorder) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (r *recorder) HandleConn(context.Context, stats.ConnStats)                       {}
func (r *recorder) HandleRPC(_ context.Context, s stats.RPCStats) {
	name := strings.TrimPrefix(fmt.Sprintf("%T", s), "*stats.")
	if e, ok := s.(*stats.End); ok {
		r.mu.Lock()
		r.end = e
		r.mu.Unlock()
	}
	r.add(name)
}
func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, s)
}
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.events
	r.events = nil
	return e
}

// transport is a Transport over channels, recording what it is given.
type transport struct {
	in      []proto.Message
	header  metadata.MD
	sent    []proto.Message
	err     error
	trailer metadata.MD
	calls   []string
	done    bool
}

func (t *transport) RecvMsg(m proto.Message) error {
	t.calls = append(t.calls, "RecvMsg")
	if len(t.in) == 0 {
		return io.EOF
	}
	proto.Merge(m, t.in[0])
	t.in = t.in[1:]
	return nil
}
func (t *transport) SendHeader(md metadata.MD) error {
	t.calls = append(t.calls, "SendHeader")
	t.header = md
	return nil
}
func (t *transport) SendMsg(m proto.Message) error {
	t.calls = append(t.calls, "SendMsg")
	t.sent = append(t.sent, m)
	return nil
}
func (t *transport) Finish(err error, trailer metadata.MD) {
	t.calls = append(t.calls, "Finish")
	t.err, t.trailer, t.done = err, trailer, true
}

func methodsByName() map[string]*call.Method {
	out := map[string]*call.Method{}
	for _, m := range call.Methods(&testpb.Kitchens_ServiceDesc, kitchens{}) {
		out[m.Name] = m
	}
	return out
}

// nativeEvents runs fn against a real grpc.Server over bufconn and
// returns the server's RPC events.
func nativeEvents(t *testing.T, fn func(testpb.KitchensClient)) []string {
	t.Helper()
	rec := &recorder{}
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer(grpc.StatsHandler(rec))
	testpb.RegisterKitchensServer(srv, kitchens{})
	go srv.Serve(lis)
	defer srv.Stop()
	cc, err := grpc.NewClient("passthrough:///buf", grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
		return lis.DialContext(ctx)
	}), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	fn(testpb.NewKitchensClient(cc))
	// The server records End after the client has its answer.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		rec.mu.Lock()
		n := len(rec.events)
		last := ""
		if n > 0 {
			last = rec.events[n-1]
		}
		rec.mu.Unlock()
		if last == "End" {
			break
		}
		time.Sleep(time.Millisecond)
	}
	return rec.take()
}

// TestStatsSequence: a stats.Handler sees the same events, in the same
// order, for a call through the Invoker as for the same call through a
// real grpc.Server.
func TestStatsSequence(t *testing.T) {
	ms := methodsByName()
	for _, tt := range []struct {
		name   string
		method string
		in     []proto.Message
		native func(testpb.KitchensClient)
	}{
		{"unary", "/duet.test.v1.Kitchens/GetKitchen", []proto.Message{&testpb.GetKitchenRequest{Id: "1"}},
			func(c testpb.KitchensClient) {
				_, _ = c.GetKitchen(context.Background(), &testpb.GetKitchenRequest{Id: "1"})
			}},
		{"unary error, trailers only", "/duet.test.v1.Kitchens/Fail", []proto.Message{&testpb.FailRequest{Code: 5}},
			func(c testpb.KitchensClient) { _, _ = c.Fail(context.Background(), &testpb.FailRequest{Code: 5}) }},
		{"bidi", "/duet.test.v1.Kitchens/Chat", []proto.Message{&testpb.Nested{S: "a"}, &testpb.Nested{S: "b"}},
			func(c testpb.KitchensClient) {
				s, err := c.Chat(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				for _, v := range []string{"a", "b"} {
					_ = s.Send(&testpb.Nested{S: v})
					_, _ = s.Recv()
				}
				_ = s.CloseSend()
				_, _ = s.Recv()
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			want := nativeEvents(t, tt.native)
			t.Logf("grpc-go: %v", want)
			rec := &recorder{}
			inv := call.New(call.Config{Stats: []stats.Handler{rec}})
			tr := &transport{in: tt.in}
			var s call.Stream
			inv.Serve(&s, httptest.NewRequest(http.MethodPost, tt.method, nil), ms[tt.method], tr)
			if diff := cmp.Diff(want, rec.take()); diff != "" {
				t.Errorf("events (-grpc-go +invoker):\n%s", diff)
			}
		})
	}
}

// TestServe: what the handler sets reaches the Transport in the order the
// package documentation promises, and the context carries the metadata
// the allow-list admits, the peer and the deadline.
func TestServe(t *testing.T) {
	ms := methodsByName()
	var got struct {
		md       metadata.MD
		peer     string
		deadline bool
		method   string
	}
	spy := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		got.md, _ = metadata.FromIncomingContext(ctx)
		if p, ok := peer.FromContext(ctx); ok {
			got.peer = p.Addr.String()
		}
		_, got.deadline = ctx.Deadline()
		got.method, _ = grpc.Method(ctx)
		return h(ctx, req)
	}
	inv := call.New(call.Config{Unary: []grpc.UnaryServerInterceptor{spy}, Headers: call.NewHeaders("X-Tenant")})
	r := httptest.NewRequest(http.MethodPost, "/x", nil)
	r.RemoteAddr = "192.0.2.7:4711"
	r.Header = http.Header{
		"Authorization":       {"Bearer t"},
		"X-Tenant":            {"acme"},
		"Cookie":              {"s=1"},
		"Grpc-Metadata-Trace": {"z"},
		"Grpc-Metadata-K-Bin": {"AAEC"},
		"Connection":          {"keep-alive"},
		"Grpc-Timeout":        {"5S"},
	}
	tr := &transport{in: []proto.Message{&testpb.GetKitchenRequest{Id: "7"}}}
	var s call.Stream
	inv.Serve(&s, r, ms["/duet.test.v1.Kitchens/GetKitchen"], tr)

	wantMD := metadata.MD{"authorization": {"Bearer t"}, "x-tenant": {"acme"}, "trace": {"z"}, "k-bin": {"\x00\x01\x02"}}
	if diff := cmp.Diff(wantMD, got.md); diff != "" {
		t.Errorf("incoming metadata (-want +got):\n%s", diff)
	}
	if got.peer != "192.0.2.7:4711" || !got.deadline || got.method != "/duet.test.v1.Kitchens/GetKitchen" {
		t.Errorf("peer %q, deadline %v, method %q", got.peer, got.deadline, got.method)
	}
	if diff := cmp.Diff([]string{"RecvMsg", "SendHeader", "SendMsg", "Finish"}, tr.calls); diff != "" {
		t.Errorf("transport calls (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(metadata.Pairs("h", "1"), tr.header); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(metadata.Pairs("t", "2"), tr.trailer); diff != "" {
		t.Errorf("trailer (-want +got):\n%s", diff)
	}
	if tr.err != nil || len(tr.sent) != 1 {
		t.Errorf("err %v, %d messages sent", tr.err, len(tr.sent))
	}
}

// TestServeFailures: errors reach Finish; a panic no interceptor recovers
// is reported and ends the call INTERNAL; a malformed timeout is refused
// before the handler runs.
func TestServeFailures(t *testing.T) {
	ms := methodsByName()
	var reported []error
	inv := call.New(call.Config{Report: func(_ context.Context, _ string, err error) { reported = append(reported, err) }})
	for _, tt := range []struct {
		name     string
		hdr      http.Header
		req      *testpb.FailRequest
		code     codes.Code
		reported int
		calls    []string
	}{
		{"status error", nil, &testpb.FailRequest{Code: 5, Message: "gone"}, codes.NotFound, 0, []string{"RecvMsg", "Finish"}},
		{"panic", nil, &testpb.FailRequest{Code: -1}, codes.Internal, 1, []string{"RecvMsg", "Finish"}},
		{"malformed timeout", http.Header{"Grpc-Timeout": {"soon"}}, &testpb.FailRequest{}, codes.InvalidArgument, 0, []string{"Finish"}},
		{"malformed connect timeout", http.Header{"Connect-Timeout-Ms": {"-1"}}, &testpb.FailRequest{}, codes.InvalidArgument, 0, []string{"Finish"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			reported = nil
			r := httptest.NewRequest(http.MethodPost, "/x", nil)
			for k, v := range tt.hdr {
				r.Header[k] = v
			}
			tr := &transport{in: []proto.Message{tt.req}}
			var s call.Stream
			inv.Serve(&s, r, ms["/duet.test.v1.Kitchens/Fail"], tr)
			if got := status.Code(tr.err); got != tt.code {
				t.Errorf("code %v, want %v (%v)", got, tt.code, tr.err)
			}
			if len(reported) != tt.reported {
				t.Errorf("reported %v, want %d reports", reported, tt.reported)
			}
			if diff := cmp.Diff(tt.calls, tr.calls); diff != "" {
				t.Errorf("transport calls (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSetHeaderAfterSend: once headers are out, SetHeader fails as it
// does on grpc-go, rather than dropping the metadata silently.
func TestSetHeaderAfterSend(t *testing.T) {
	var errSet error
	m := call.Methods(&grpc.ServiceDesc{
		ServiceName: "x.S",
		HandlerType: (*any)(nil),
		Streams: []grpc.StreamDesc{{StreamName: "M", ServerStreams: true, Handler: func(_ any, ss grpc.ServerStream) error {
			if err := ss.SendMsg(&emptypb.Empty{}); err != nil {
				return err
			}
			errSet = ss.SetHeader(metadata.Pairs("late", "1"))
			return nil
		}}},
	}, nil)[0]
	tr := &transport{}
	var s call.Stream
	call.New(call.Config{}).Serve(&s, httptest.NewRequest(http.MethodPost, "/x", nil), m, tr)
	if errSet == nil {
		t.Error("SetHeader after the first message succeeded")
	}
	if !errors.Is(tr.err, nil) {
		t.Errorf("call ended with %v", tr.err)
	}
}
