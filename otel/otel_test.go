package otel_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/duetrpc/duet"
	"github.com/duetrpc/duet/internal/testpb"
	"github.com/duetrpc/duet/problem"
	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
)

type kitchens struct {
	testpb.UnimplementedKitchensServer
}

func (kitchens) GetKitchen(_ context.Context, r *testpb.GetKitchenRequest) (*testpb.Kitchen, error) {
	switch r.Id {
	case "missing":
		return nil, problem.NotFound("kitchen", "kitchens/missing")
	case "internal":
		return nil, errors.New("secret")
	}
	return &testpb.Kitchen{Id: r.Id, Name: "kitchen " + r.Id}, nil
}

// The client's trace: every request carries it in a W3C traceparent.
const (
	traceID     = "4bf92f3577b34da6a3ce929d0e0e4736"
	parentSpan  = "00f067aa0ba902b7"
	traceparent = "00-" + traceID + "-" + parentSpan + "-01"
)

// span is what the test compares across protocols.
type span struct {
	Name     string
	Kind     trace.SpanKind
	TraceID  string
	Parent   string
	Status   otelcodes.Code
	RPCAttrs map[string]string
}

func summarize(s sdktrace.ReadOnlySpan) span {
	attrs := map[string]string{}
	for _, kv := range s.Attributes() {
		if strings.HasPrefix(string(kv.Key), "rpc.") {
			attrs[string(kv.Key)] = kv.Value.Emit()
		}
	}
	return span{
		Name:     s.Name(),
		Kind:     s.SpanKind(),
		TraceID:  s.SpanContext().TraceID().String(),
		Parent:   s.Parent().SpanID().String(),
		Status:   s.Status().Code,
		RPCAttrs: attrs,
	}
}

// TestSameSpanOnEveryProtocol: with the real otelgrpc server handler and an
// in-memory exporter, one call of GetKitchen makes exactly one server span
// on gRPC, gRPC-Web and REST, with the same name, rpc.* attributes and
// status, continuing the trace of the request's traceparent.
func TestSameSpanOnEveryProtocol(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())
	srv := duet.NewServer(duet.WithStatsHandler(otelgrpc.NewServerHandler(
		otelgrpc.WithTracerProvider(tp),
		otelgrpc.WithPropagators(propagation.TraceContext{}),
	)))
	testpb.RegisterKitchensServer(srv, kitchens{})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(lis) }()
	defer func() { _ = srv.Shutdown(context.Background()); <-done }()
	addr := lis.Addr().String()

	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	kc := testpb.NewKitchensClient(cc)

	protocols := map[string]func(t *testing.T, id string){
		"grpc": func(t *testing.T, id string) {
			ctx := metadata.AppendToOutgoingContext(context.Background(), "traceparent", traceparent)
			_, _ = kc.GetKitchen(ctx, &testpb.GetKitchenRequest{Id: id})
		},
		"grpc-web": func(t *testing.T, id string) {
			b, _ := proto.Marshal(&testpb.GetKitchenRequest{Id: id})
			body := make([]byte, 5+len(b))
			binary.BigEndian.PutUint32(body[1:], uint32(len(b)))
			copy(body[5:], b)
			send(t, "POST", "http://"+addr+"/duet.test.v1.Kitchens/GetKitchen", "application/grpc-web", body)
		},
		"rest": func(t *testing.T, id string) {
			send(t, "GET", "http://"+addr+"/v1/kitchens/"+id, "", nil)
		},
	}
	names := make([]string, 0, len(protocols))
	for n := range protocols {
		names = append(names, n)
	}
	sort.Strings(names)

	for _, id := range []string{"1", "missing", "internal"} {
		t.Run(id, func(t *testing.T) {
			got := map[string]span{}
			for _, name := range names {
				exp.Reset()
				protocols[name](t, id)
				// The server ends its span after the client has its answer.
				spans := exp.GetSpans().Snapshots()
				for wait := time.Now().Add(5 * time.Second); len(spans) == 0 && time.Now().Before(wait); {
					time.Sleep(time.Millisecond)
					spans = exp.GetSpans().Snapshots()
				}
				if len(spans) != 1 {
					t.Fatalf("%s: %d spans, want 1", name, len(spans))
				}
				got[name] = summarize(spans[0])
			}
			want := got["grpc"]
			if want.TraceID != traceID || want.Parent != parentSpan || want.Kind != trace.SpanKindServer {
				t.Errorf("grpc span %+v does not continue the client's trace as a server span", want)
			}
			if len(want.RPCAttrs) == 0 {
				t.Errorf("grpc span has no rpc.* attributes: %+v", want)
			}
			for _, name := range names[1:] {
				if diff := cmp.Diff(want, got[name]); diff != "" {
					t.Errorf("%s span differs from gRPC's (-grpc +%s):\n%s", name, name, diff)
				}
			}
			t.Logf("span: %+v", want)
		})
	}
}

func send(t *testing.T, method, url, ct string, body []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == nil {
		req.Body = nil
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Traceparent", traceparent)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}
