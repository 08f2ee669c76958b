package grpcx_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duetrpc/duet/grpcx"
	"github.com/duetrpc/duet/problem"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
)

// service behaves as the "action" metadata says and records what it saw.
type service struct {
	testpb.UnimplementedTestServiceServer
	calls      atomic.Int32
	mu         sync.Mutex
	deadline   time.Time
	hasDL      bool
	downstream testpb.TestServiceClient // for two-hop tests
}

func action(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get("action"); len(v) > 0 {
		return v[0]
	}
	return ""
}

func (s *service) record(ctx context.Context) {
	s.calls.Add(1)
	s.mu.Lock()
	s.deadline, s.hasDL = ctx.Deadline()
	s.mu.Unlock()
}

func (s *service) seen() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deadline, s.hasDL
}

var errDebug, _ = status.New(codes.FailedPrecondition, "state").WithDetails(&errdetails.DebugInfo{Detail: "internal"}, &errdetails.ErrorInfo{Reason: "R"})

func (s *service) UnaryCall(ctx context.Context, _ *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	s.record(ctx)
	switch action(ctx) {
	case "problem":
		return nil, problem.NotFound("user", "users/1")
	case "wrapped":
		return nil, fmt.Errorf("loading user: %w", status.Error(codes.PermissionDenied, "not yours"))
	case "deadline":
		return nil, fmt.Errorf("db: %w", context.DeadlineExceeded)
	case "canceled":
		return nil, context.Canceled
	case "plain":
		return nil, errors.New("pq: password authentication failed for user admin")
	case "internal":
		return nil, status.Error(codes.Internal, "secret path /etc/x")
	case "debuginfo":
		return nil, errDebug.Err()
	case "panic":
		panic("nil map write in handler")
	case "downstream":
		_, err := s.downstream.UnaryCall(ctx, &testpb.SimpleRequest{})
		return &testpb.SimpleResponse{}, err
	}
	return &testpb.SimpleResponse{}, nil
}

func (s *service) StreamingOutputCall(req *testpb.StreamingOutputCallRequest, stream testpb.TestService_StreamingOutputCallServer) error {
	ctx := stream.Context()
	s.record(ctx)
	switch action(ctx) {
	case "panic":
		panic("stream panic")
	case "forever":
		for {
			if err := stream.Send(&testpb.StreamingOutputCallResponse{}); err != nil {
				return err
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	return stream.Send(&testpb.StreamingOutputCallResponse{})
}

type reports struct {
	mu   sync.Mutex
	errs []error
}

func (r *reports) report(_ context.Context, _ string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
}

func (r *reports) all() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

// start serves svc with opts over bufconn and returns a client with copts.
func start(t testing.TB, svc *service, opts []grpc.ServerOption, copts ...grpc.DialOption) testpb.TestServiceClient {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer(opts...)
	testpb.RegisterTestServiceServer(srv, svc)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	copts = append(copts, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))
	cc, err := grpc.NewClient("passthrough:///bufnet", copts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return testpb.NewTestServiceClient(cc)
}

func withAction(ctx context.Context, a string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "action", a)
}

// wireRounding is the most a deadline gains on the wire: grpc-timeout
// carries at most 8 digits of a unit, rounded up, which for timeouts
// under 27 hours is at most a millisecond.
const wireRounding = time.Millisecond

func TestServerDeadlines(t *testing.T) {
	svc := &service{}
	client := start(t, svc, grpcx.Server{Deadlines: grpcx.Deadlines{Default: 2 * time.Second, Max: 5 * time.Second, Min: 100 * time.Millisecond}}.Options())
	tests := []struct {
		name     string
		timeout  time.Duration // 0: none
		wantCode codes.Code
		wantRan  bool
		// wantFromArrival is the deadline the handler sees, counted from
		// when the call reached the server; 0: the client's own deadline.
		wantFromArrival time.Duration
	}{
		{"default for calls without a deadline", 0, codes.OK, true, 2 * time.Second},
		{"a client's deadline under the cap is kept", 3 * time.Second, codes.OK, true, 0},
		{"the cap", time.Hour, codes.OK, true, 5 * time.Second},
		{"refused under the minimum budget", 50 * time.Millisecond, codes.DeadlineExceeded, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := svc.calls.Load()
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			start := time.Now()
			_, err := client.UnaryCall(ctx, &testpb.SimpleRequest{})
			end := time.Now()
			if c := status.Code(err); c != tt.wantCode {
				t.Fatalf("code = %v (%v), want %v", c, err, tt.wantCode)
			}
			if ran := svc.calls.Load() > before; ran != tt.wantRan {
				t.Fatalf("handler ran = %v, want %v", ran, tt.wantRan)
			}
			if !tt.wantRan {
				return
			}
			dl, ok := svc.seen()
			if !ok {
				t.Fatal("handler saw no deadline")
			}
			// The call reached the server at some time between start and
			// end, however long it took to get there (the first call also
			// dials; under load, scheduling alone can take a second): the
			// deadline is bracketed by the same span.
			lo, hi := start.Add(tt.wantFromArrival), end.Add(tt.wantFromArrival)
			if tt.wantFromArrival == 0 {
				// The wire carries the time left, which the server adds to
				// when it receives the call: the client's deadline, later by
				// the time in transit (within the span) and the rounding.
				cdl, _ := ctx.Deadline()
				lo, hi = cdl, cdl.Add(end.Sub(start)+wireRounding)
			}
			if dl.Before(lo) || dl.After(hi) {
				t.Errorf("handler's deadline is %v after the call started, want within [%v, %v]", dl.Sub(start), lo.Sub(start), hi.Sub(start))
			}
		})
	}
}

func TestDeadlinePropagatesAcrossTwoHops(t *testing.T) {
	const margin = 200 * time.Millisecond
	b := &service{}
	a := &service{}
	// A calls B through the client chain: B must see A's budget less the margin.
	var aDeadline time.Time
	aOpts := append(grpcx.Server{}.Options(), grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		aDeadline, _ = ctx.Deadline()
		return h(ctx, req)
	}))
	// What A's call to B carries, seen after the client chain, and when
	// that call started and returned.
	var sent, sentAt, returnedAt time.Time
	hop := grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		sent, _ = ctx.Deadline()
		sentAt = time.Now()
		err := invoker(ctx, method, req, reply, cc, opts...)
		returnedAt = time.Now()
		return err
	})
	a.downstream = startDownstream(t, b, margin, hop)
	aClient := start(t, a, aOpts)
	ctx, cancel := context.WithTimeout(withAction(context.Background(), "downstream"), 3*time.Second)
	defer cancel()
	if _, err := aClient.UnaryCall(ctx, &testpb.SimpleRequest{}); err != nil {
		t.Fatal(err)
	}
	if want := aDeadline.Add(-margin); !sent.Equal(want) {
		t.Errorf("A's call to B carries a deadline %v off A's deadline less the margin", sent.Sub(want))
	}
	bDeadline, ok := b.seen()
	if !ok {
		t.Fatal("B saw no deadline")
	}
	// The wire carries a remaining duration, which B adds to the time it
	// receives the call: B's deadline is the one sent, later by the time
	// in transit (within the call's span, however long load makes it) and
	// the wire's rounding.
	if bDeadline.Before(sent) || bDeadline.After(sent.Add(returnedAt.Sub(sentAt)+wireRounding)) {
		t.Errorf("B's deadline is %v off the one A's call carries, which took %v", bDeadline.Sub(sent), returnedAt.Sub(sentAt))
	}
}

func startDownstream(t *testing.T, b *service, margin time.Duration, copts ...grpc.DialOption) testpb.TestServiceClient {
	return start(t, b, grpcx.Server{}.Options(), append(grpcx.Client{Deadlines: grpcx.ClientDeadlines{Margin: margin}}.Options(), copts...)...)
}

func TestClientFailsFastWhenBudgetIsSpent(t *testing.T) {
	svc := &service{}
	client := start(t, svc, nil, grpcx.Client{Deadlines: grpcx.ClientDeadlines{Margin: time.Second}}.Options()...)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := client.UnaryCall(ctx, &testpb.SimpleRequest{})
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("err = %v, want DEADLINE_EXCEEDED", err)
	}
	if n := svc.calls.Load(); n != 0 {
		t.Errorf("server saw %d calls, want none", n)
	}
	stream, err := client.StreamingOutputCall(ctx, &testpb.StreamingOutputCallRequest{})
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("stream: %v, %v; want DEADLINE_EXCEEDED", stream, err)
	}
}

func TestClientDefaultDeadline(t *testing.T) {
	svc := &service{}
	client := start(t, svc, nil, grpcx.Client{Deadlines: grpcx.ClientDeadlines{Default: 2 * time.Second}}.Options()...)
	start := time.Now()
	if _, err := client.UnaryCall(context.Background(), &testpb.SimpleRequest{}); err != nil {
		t.Fatal(err)
	}
	end := time.Now()
	// The client chain sets the deadline between start and end, and the
	// server receives it later by the time in transit (within the same
	// span) and the wire's rounding.
	dl, ok := svc.seen()
	if !ok || dl.Before(start.Add(2*time.Second)) || dl.After(end.Add(2*time.Second+wireRounding)) {
		t.Errorf("server deadline = %v after the call started (set %v), want 2s after the call was made, within the %v it took", dl.Sub(start), ok, end.Sub(start))
	}
}

func TestErrorMapping(t *testing.T) {
	rep := &reports{}
	client := start(t, &service{}, grpcx.Server{Report: rep.report}.Options())
	notFound := problem.NotFound("user", "users/1").GRPCStatus().Proto()
	errInfo, _ := anypb.New(&errdetails.ErrorInfo{Reason: "R"})
	tests := []struct {
		action     string
		want       *spb.Status
		wantReport string // substring of the reported error, "" for none
	}{
		{"problem", notFound, ""},
		{"wrapped", &spb.Status{Code: int32(codes.PermissionDenied), Message: "not yours"}, ""},
		{"deadline", &spb.Status{Code: int32(codes.DeadlineExceeded), Message: "deadline exceeded"}, ""},
		{"canceled", &spb.Status{Code: int32(codes.Canceled), Message: "canceled"}, ""},
		{"plain", &spb.Status{Code: int32(codes.Internal), Message: "internal error"}, "password authentication failed"},
		{"internal", &spb.Status{Code: int32(codes.Internal), Message: "internal error"}, "secret path"},
		{"debuginfo", &spb.Status{Code: int32(codes.FailedPrecondition), Message: "state", Details: []*anypb.Any{errInfo}}, ""},
		{"panic", &spb.Status{Code: int32(codes.Internal), Message: "internal error"}, "panic: nil map write"},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			n := len(rep.all())
			_, err := client.UnaryCall(withAction(context.Background(), tt.action), &testpb.SimpleRequest{})
			if diff := cmp.Diff(tt.want, status.Convert(err).Proto(), protocmp.Transform()); diff != "" {
				t.Errorf("status on the wire (-want +got):\n%s", diff)
			}
			got := rep.all()[n:]
			switch {
			case tt.wantReport == "" && len(got) > 0:
				t.Errorf("reported %v, want nothing", got)
			case tt.wantReport != "" && (len(got) != 1 || !strings.Contains(got[0].Error(), tt.wantReport)):
				t.Errorf("reported %v, want one error containing %q", got, tt.wantReport)
			}
		})
	}
	// The panic's stack went to the report hook, and the server still serves.
	var pe *grpcx.PanicError
	for _, e := range rep.all() {
		errors.As(e, &pe)
	}
	if pe == nil || !strings.Contains(string(pe.Stack), "UnaryCall") {
		t.Errorf("panic report = %v, want a *PanicError with the handler's stack", pe)
	}
	if _, err := client.UnaryCall(context.Background(), &testpb.SimpleRequest{}); err != nil {
		t.Errorf("server stopped serving after a panic: %v", err)
	}
}

func TestStreamPanicAndDeadline(t *testing.T) {
	rep := &reports{}
	client := start(t, &service{}, grpcx.Server{Report: rep.report, Deadlines: grpcx.Deadlines{Max: 150 * time.Millisecond}}.Options())

	stream, err := client.StreamingOutputCall(withAction(context.Background(), "panic"), &testpb.StreamingOutputCallRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); status.Code(err) != codes.Internal || strings.Contains(err.Error(), "stream panic") {
		t.Errorf("panicking stream: %v, want INTERNAL without the panic", err)
	}

	// The deadline passes mid-stream: messages arrive, then DEADLINE_EXCEEDED.
	stream, err = client.StreamingOutputCall(withAction(context.Background(), "forever"), &testpb.StreamingOutputCallRequest{})
	if err != nil {
		t.Fatal(err)
	}
	received := 0
	for {
		_, err := stream.Recv()
		if err != nil {
			if status.Code(err) != codes.DeadlineExceeded {
				t.Errorf("stream ended with %v, want DEADLINE_EXCEEDED", err)
			}
			break
		}
		received++
	}
	if received == 0 {
		t.Error("no message arrived before the deadline")
	}
}

func TestHeaderTimeout(t *testing.T) {
	tests := []struct {
		header, value string
		want          time.Duration
		wantOK        bool
		wantErr       bool
	}{
		{"Grpc-Timeout", "100m", 100 * time.Millisecond, true, false},
		{"Grpc-Timeout", "5S", 5 * time.Second, true, false},
		{"Grpc-Timeout", "1H", time.Hour, true, false},
		{"Grpc-Timeout", "2M", 2 * time.Minute, true, false},
		{"Grpc-Timeout", "7u", 7 * time.Microsecond, true, false},
		{"Grpc-Timeout", "99999999n", 99999999, true, false},
		{"Grpc-Timeout", "123456789S", 0, false, true},
		{"Grpc-Timeout", "10", 0, false, true},
		{"Grpc-Timeout", "S", 0, false, true},
		{"Grpc-Timeout", "-1S", 0, false, true},
		{"Grpc-Timeout", "1.5S", 0, false, true},
		{"Connect-Timeout-Ms", "250", 250 * time.Millisecond, true, false},
		{"Connect-Timeout-Ms", "abc", 0, false, true},
		{"Connect-Timeout-Ms", "-5", 0, false, true},
		{"Connect-Timeout-Ms", "12345678901", 0, false, true},
		{"X-Other", "5", 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.header+"="+tt.value, func(t *testing.T) {
			h := http.Header{}
			h.Set(tt.header, tt.value)
			got, ok, err := grpcx.HeaderTimeout(h)
			if got != tt.want || ok != tt.wantOK || (err != nil) != tt.wantErr {
				t.Fatalf("HeaderTimeout = %v, %v, %v; want %v, %v, error %v", got, ok, err, tt.want, tt.wantOK, tt.wantErr)
			}
			if err != nil {
				st := status.Convert(err)
				br, _ := st.Details()[0].(*errdetails.BadRequest)
				if st.Code() != codes.InvalidArgument || br == nil || br.FieldViolations[0].Field != tt.header {
					t.Errorf("error = %v, want INVALID_ARGUMENT with a violation on %s", st.Proto(), tt.header)
				}
			}
		})
	}
}

func TestEncodeTimeout(t *testing.T) {
	for _, d := range []time.Duration{1, time.Microsecond + 1, 100 * time.Millisecond, 3 * time.Second, 1234 * time.Hour, 2000000 * time.Hour} {
		s := grpcx.EncodeTimeout(d)
		back, err := grpcx.ParseTimeout(s)
		if err != nil {
			t.Fatalf("EncodeTimeout(%v) = %q, which does not parse: %v", d, s, err)
		}
		if back < d {
			t.Errorf("EncodeTimeout(%v) = %q shortens the deadline to %v", d, s, back)
		}
	}
	if s := grpcx.EncodeTimeout(-time.Second); s != "0n" {
		t.Errorf("EncodeTimeout(-1s) = %q", s)
	}
}

func FuzzParseTimeout(f *testing.F) {
	for _, s := range []string{"1S", "100m", "99999999H", "", "1", "x", "1Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := grpcx.ParseTimeout(s)
		if err == nil && d < 0 {
			t.Fatalf("ParseTimeout(%q) = %v, negative", s, d)
		}
	})
}

func BenchmarkUnary(b *testing.B) {
	for _, bc := range []struct {
		name  string
		sopts []grpc.ServerOption
		copts []grpc.DialOption
		// margin, for rows without interceptors, is taken off the
		// caller's deadline by hand before each call, as a client that
		// keeps a margin without grpcx must.
		margin time.Duration
	}{
		{name: "bare"},
		// The same call carrying the same deadline as "chain" sends: the
		// caller derives it by hand. The fair baseline for "chain".
		{name: "bare-margin", margin: 10 * time.Millisecond},
		// The recommended chains, with deadlines that the server need not
		// shorten: the client call inherits the caller's budget less a margin.
		{name: "chain",
			sopts: grpcx.Server{Deadlines: grpcx.Deadlines{Default: 10 * time.Second, Max: 2 * time.Hour, Min: time.Millisecond}}.Options(),
			copts: grpcx.Client{Deadlines: grpcx.ClientDeadlines{Default: 10 * time.Second, Margin: 10 * time.Millisecond}}.Options()},
		// The same chains without a client margin: the caller's deadline
		// goes out unchanged, so no context is derived on either side. This
		// row is the cost of the interceptors themselves.
		{name: "chain-nomargin",
			sopts: grpcx.Server{Deadlines: grpcx.Deadlines{Default: 10 * time.Second, Max: 2 * time.Hour, Min: time.Millisecond}}.Options(),
			copts: grpcx.Client{Deadlines: grpcx.ClientDeadlines{Default: 10 * time.Second}}.Options()},
		// The same, but the server caps the client's hour at a minute: a
		// derived context with its own timer on both sides.
		{name: "chain-capped",
			sopts: grpcx.Server{Deadlines: grpcx.Deadlines{Default: 10 * time.Second, Max: time.Minute, Min: time.Millisecond}}.Options(),
			copts: grpcx.Client{Deadlines: grpcx.ClientDeadlines{Default: 10 * time.Second, Margin: 10 * time.Millisecond}}.Options()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			client := start(b, &service{}, bc.sopts, bc.copts...)
			ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
			defer cancel()
			dl, _ := ctx.Deadline()
			req := &testpb.SimpleRequest{}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				cctx, ccancel := ctx, context.CancelFunc(nil)
				if bc.margin > 0 {
					cctx, ccancel = context.WithDeadline(ctx, dl.Add(-bc.margin))
				}
				_, err := client.UnaryCall(cctx, req)
				if ccancel != nil {
					ccancel()
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUnaryInterleaved makes the calls of BenchmarkUnary's rows in
// turn, one of each per iteration in a rotating order, so that a shared
// machine's noise falls on all of them alike, and reports each one's time
// per call and its ratio to the bare call. Each row has its own server and
// connection, as in BenchmarkUnary; "bare2" is a second bare server, the
// control for what having several servers in one process costs.
func BenchmarkUnaryInterleaved(b *testing.B) {
	server := grpcx.Server{Deadlines: grpcx.Deadlines{Default: 10 * time.Second, Max: 2 * time.Hour, Min: time.Millisecond}}.Options()
	bare := start(b, &service{}, nil)
	rows := []struct {
		name   string
		client testpb.TestServiceClient
		margin time.Duration // derived by hand before the call
		total  time.Duration
	}{
		{name: "bare", client: bare},
		{name: "bare2", client: start(b, &service{}, nil)},
		{name: "bare-margin", client: start(b, &service{}, nil), margin: 10 * time.Millisecond},
		{name: "chain", client: start(b, &service{}, server,
			grpcx.Client{Deadlines: grpcx.ClientDeadlines{Default: 10 * time.Second, Margin: 10 * time.Millisecond}}.Options()...)},
		{name: "chain-nomargin", client: start(b, &service{}, server,
			grpcx.Client{Deadlines: grpcx.ClientDeadlines{Default: 10 * time.Second}}.Options()...)},
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	dl, _ := ctx.Deadline()
	req := &testpb.SimpleRequest{}
	for i := 0; i < b.N; i++ {
		for j := range rows {
			r := &rows[(i+j)%len(rows)]
			start := time.Now()
			cctx, ccancel := ctx, context.CancelFunc(nil)
			if r.margin > 0 {
				cctx, ccancel = context.WithDeadline(ctx, dl.Add(-r.margin))
			}
			if _, err := r.client.UnaryCall(cctx, req); err != nil {
				b.Fatal(err)
			}
			if ccancel != nil {
				ccancel()
			}
			r.total += time.Since(start)
		}
	}
	for _, r := range rows {
		b.ReportMetric(float64(r.total.Nanoseconds())/float64(b.N), r.name+"-ns/call")
		if r.name != "bare" {
			b.ReportMetric(float64(r.total)/float64(rows[0].total), r.name+"/bare")
		}
	}
}
