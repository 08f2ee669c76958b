package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/duetrpc/duet/bench/internal/gwexamples/proto/examplepb"
	"github.com/duetrpc/duet/bench/internal/gwexamples/server"
	"github.com/duetrpc/duet/rest"
)

// exchange is one request of grpc-gateway's integration suite
// (examples/internal/integration/integration_test.go, v2.33.0), ported to
// a row: what is sent, and how the two answers are compared.
type exchange struct {
	name   string
	method string
	path   string
	body   string
	header []string // name, value, ...
	// unordered: a stream whose messages come from a map, compared as a
	// set.
	unordered bool
}

// abePath is the path of ABitOfEverythingService.Create, with every path
// variable set (testABECreate).
const abePath = "/v1/example/a_bit_of_everything/1.5/2.5/3/separator/4/5/6/7/true/strprefix/foo/8/9/10/11/12/camelCase/ONE/DEF/JKL/ONE"

const abeBody = `{"floatValue":1.5,"doubleValue":2.5,"int64Value":"4294967296","uint64Value":"9223372036854775807","int32Value":-2147483648,"fixed64Value":"9223372036854775807","fixed32Value":4294967295,"boolValue":true,"stringValue":"strprefix/foo","uint32Value":4294967295,"sfixed32Value":2147483647,"sfixed64Value":"-4611686018427387904","sint32Value":2147483647,"sint64Value":"4611686018427387903","nonConventionalNameValue":"camelCase","enumValue":"ONE","pathEnumValue":"DEF","nestedPathEnumValue":"JKL","enumValueAnnotation":"ONE","singleNested":{"name":"nested","amount":10,"ok":"TRUE"},"nested":[{"name":"n1","amount":1}],"mapValue":{"a":"ONE","b":"ZERO"},"timestampValue":"2026-11-29T08:00:00Z","repeatedEnumValue":["ONE","ZERO"],"bytesValue":"aGVsbG8="}`

// The ids the servers hand out, in order: each run starts the sequence
// again (server.ResetIDs), so both implementations create the same ones.
func uuidN(n int) string { return fmt.Sprintf("%048x", n) }

var exchanges = []exchange{
	// TestEcho and friends (EchoService).
	{name: "echo/post-id", method: "POST", path: "/v1/example/echo/myid", body: "{}"},
	{name: "echo/get-id-num-lang", method: "GET", path: "/v1/example/echo/myid/10/golang"},
	{name: "echo/get-id-num", method: "GET", path: "/v1/example/echo/myid/10"},
	{name: "echo/echo1-oneof", method: "GET", path: "/v1/example/echo1/myid/10/golang"},
	{name: "echo/echo2-oneof", method: "GET", path: "/v1/example/echo2/golang"},
	{name: "echo/path-param-overwrite", method: "GET", path: "/v1/example/echo/resource/my_resource_id?resourceId=bad_resource_id"},
	{name: "echo/nested", method: "GET", path: "/v1/example/echo/nested/my_nested_id?n_id.val=foo"},
	{name: "echo/nested-override", method: "GET", path: "/v1/example/echo/nested/my_nested_id?nId.nId=bad_id"},
	{name: "echo/body", method: "POST", path: "/v1/example/echo_body", body: `{"id":"myid","num":"10","lang":"golang","status":{"progress":"3","note":"n"}}`},
	{name: "echo/body-field-no", method: "PUT", path: "/v1/example/echo_body/myid", body: `{"progress":"3","note":"n"}`},
	{name: "echo/delete", method: "DELETE", path: "/v1/example/echo_delete?id=myid&num=3"},
	{name: "echo/patch", method: "PATCH", path: "/v1/example/echo_patch", body: `{"struct_field":{"struct_key":{"layered_struct_key":{"layered_struct_value":"value"}}},"value_field":{"value_struct_key":"value"}}`},
	{name: "echo/unauthorized", method: "GET", path: "/v1/example/echo_unauthorized"},
	{name: "echo/status", method: "POST", path: "/v1/example/echo_status", body: `{"id":"x"}`},
	{name: "echo/non-ascii-header", method: "POST", path: "/v1/example/echo/myid", body: "{}", header: []string{"Grpc-Metadata-Foo", "fóó"}},
	{name: "echo/not-implemented-method", method: "GET", path: "/v1/example/echo/myid"},
	{name: "echo/invalid-argument", method: "GET", path: "/v1/example/echo/myid/not_int64"},
	{name: "echo/parse-form", method: "POST", path: "/v1/example/echo/myid1", body: "num=10", header: []string{"Content-Type", "application/x-www-form-urlencoded"}},
	{name: "unknown-path", method: "POST", path: "/", body: "{}"},

	// TestABE (ABitOfEverythingService), in the suite's order of state.
	{name: "abe/create-path", method: "POST", path: abePath, body: "{}"},
	{name: "abe/create-body", method: "POST", path: "/v1/example/a_bit_of_everything", body: abeBody},
	{name: "abe/lookup", method: "GET", path: "/v1/example/a_bit_of_everything/" + uuidN(2)},
	{name: "abe/lookup-not-found", method: "GET", path: "/v1/example/a_bit_of_everything/not_exist"},
	{name: "abe/exists", method: "HEAD", path: "/v1/example/a_bit_of_everything/" + uuidN(2)},
	{name: "abe/exists-not-found", method: "HEAD", path: "/v1/example/a_bit_of_everything/not_exist"},
	{name: "abe/get-query", method: "GET", path: "/v1/example/a_bit_of_everything/query/" + uuidN(2) + "?single_nested.name=nested&int32_value=3"},
	{name: "abe/patch-v2-body-field", method: "PATCH", path: "/v2/example/a_bit_of_everything/" + uuidN(2), body: `{"string_value":"strprefix/foo"}`},
	{name: "abe/lookup-after-patch", method: "GET", path: "/v1/example/a_bit_of_everything/" + uuidN(2)},
	{name: "abe/patch-v2a-with-mask", method: "PATCH", path: "/v2a/example/a_bit_of_everything/" + uuidN(2), body: `{"abe":{"singleNested":{"amount":457},"int32Value":5},"updateMask":"singleNested.amount"}`},
	{name: "abe/lookup-after-patch-mask", method: "GET", path: "/v1/example/a_bit_of_everything/" + uuidN(2)},
	{name: "abe/patch-v2a-no-mask", method: "PATCH", path: "/v2a/example/a_bit_of_everything/" + uuidN(2), body: `{"abe":{"singleNested":{"amount":458},"stringValue":"strprefix/nomask"}}`},
	{name: "abe/lookup-after-patch-no-mask", method: "GET", path: "/v1/example/a_bit_of_everything/" + uuidN(2)},
	{name: "abe/patch-v2a-empty-mask", method: "PATCH", path: "/v2a/example/a_bit_of_everything/" + uuidN(2), body: `{"abe":{"int32Value":6},"updateMask":""}`},
	{name: "abe/lookup-after-patch-empty-mask", method: "GET", path: "/v1/example/a_bit_of_everything/" + uuidN(2)},
	{name: "abe/update", method: "PUT", path: "/v1/example/a_bit_of_everything/" + uuidN(2), body: `{"stringValue":"strprefix/updated","int32Value":32}`},
	{name: "abe/lookup-after-update", method: "GET", path: "/v1/example/a_bit_of_everything/" + uuidN(2)},
	{name: "abe/update-v2-put", method: "PUT", path: "/v2/example/a_bit_of_everything/" + uuidN(2), body: `{"stringValue":"strprefix/v2","int32Value":33}`},
	{name: "abe/update-entity", method: "PUT", path: "/v1/example/a_bit_of_everything/entity/" + uuidN(2), body: `{"data":"x"}`},
	{name: "abe/custom-verb", method: "POST", path: "/v1/example/a_bit_of_everything/" + uuidN(2) + ":custom", body: "{}"},
	{name: "abe/custom-additional-get", method: "GET", path: "/v1/example/a_bit_of_everything/custom/opt"},
	{name: "abe/double-colon-verb", method: "POST", path: "/v1/example/a_bit_of_everything/" + uuidN(2) + ":custom:custom", body: "{}"},
	{name: "abe/nested-body-oneof", method: "POST", path: "/v1/example/a_bit_of_everything/nested_body_oneof", body: `"hello"`},
	{name: "abe/deep-path", method: "POST", path: "/v1/example/deep_path/deepname", body: `{"singleNested":{"amount":1}}`},
	{name: "abe/create-book", method: "POST", path: "/v1/publishers/123/books?book_id=b1", body: `{"name":"publishers/123/books/b1"}`},
	{name: "abe/update-book", method: "PATCH", path: "/v1/publishers/123/books/b1", body: `{"id":"x"}`},
	{name: "abe/echo-path", method: "GET", path: "/v1/example/a_bit_of_everything/echo/hello"},
	{name: "abe/echo-body-string", method: "POST", path: "/v2/example/echo", body: `"hello"`},
	{name: "abe/echo-body-empty", method: "POST", path: "/v2/example/echo", body: ``},
	{name: "abe/echo-query", method: "GET", path: "/v2/example/echo?value=hello"},
	{name: "abe/repeated-path", method: "GET", path: "/v1/example/a_bit_of_everything_repeated/1.5,-1.5/2.5,-2.5/4294967296,-4294967296/4294967296,0/-2147483648,2147483647/0,9223372036854775807/0,4294967295/true,false/foo,bar/AA==,_w==/0,4294967295/ONE,ZERO/2147483647,-2147483648/4611686018427387903,-4611686018427387904/2147483647,-2147483648/4611686018427387903,-4611686018427387904"},
	{name: "abe/timeout", method: "GET", path: "/v2/example/timeout", header: []string{"Grpc-Timeout", "10m"}},
	{name: "abe/invalid-timeout", method: "GET", path: "/v2/example/timeout", header: []string{"Grpc-Timeout", "INVALID"}},
	{name: "abe/error-with-details", method: "GET", path: "/v2/example/errorwithdetails"},
	{name: "abe/message-with-body", method: "POST", path: "/v2/example/withbody/foo", body: `{"name":"bar"}`},
	{name: "abe/post-with-empty-body", method: "POST", path: "/v2/example/postwithemptybody/name"},
	{name: "abe/query-params-get", method: "GET", path: "/v1/example/a_bit_of_everything/params/get/foo?double_value=1234.56&bool_value=true&mapped_string_value[a]=b"},
	{name: "abe/query-params-nested-enum", method: "GET", path: "/v1/example/a_bit_of_everything/params/get/nested_enum/TRUE"},
	{name: "abe/query-params-nested-enum-number", method: "GET", path: "/v1/example/a_bit_of_everything/params/get/nested_enum/1"},
	{name: "abe/query-params-oneof-empty", method: "GET", path: "/v1/example/a_bit_of_everything/params/get/foo?oneof_empty="},
	{name: "abe/query-params-post", method: "POST", path: "/v1/example/a_bit_of_everything/params/post/hello-world?double_value=1234.56&bool_value=true", body: `{"name":"nested","amount":10}`},
	{name: "abe/overwrite-request-content-type", method: "POST", path: "/v2/example/overwriterequestcontenttype", body: `{"name":"x"}`},
	{name: "abe/overwrite-response-content-type", method: "GET", path: "/v2/example/overwriteresponsecontenttype"},
	{name: "abe/check-external-path-enum", method: "GET", path: "/v2/DEF:check"},
	{name: "abe/check-external-nested-path-enum", method: "GET", path: "/v3/JKL:check"},
	{name: "abe/check-status", method: "GET", path: "/v1/example/checkStatus"},
	{name: "abe/options", method: "OPTIONS", path: "/v1/example/a_bit_of_everything/test", body: `{"uuid":"test"}`},
	{name: "abe/trace", method: "TRACE", path: "/v1/example/a_bit_of_everything/test", body: `{"uuid":"test"}`},
	{name: "abe/post-oneof-enum", method: "POST", path: "/v1/example/oneofenum", body: `"EXAMPLE_ENUM_FOO"`},
	{name: "abe/post-required-message-type", method: "POST", path: "/v1/example/requiredmessagetype", body: `{"id":"1","foo":{"bar":{"id":"2"}}}`},
	{name: "abe/create-invalid-json", method: "POST", path: "/v1/example/a_bit_of_everything", body: `{"int32Value":"x"`},
	{name: "abe/create-wrong-type", method: "POST", path: "/v1/example/a_bit_of_everything", body: `{"int32Value":"x"}`},
	{name: "abe/delete", method: "DELETE", path: "/v1/example/a_bit_of_everything/" + uuidN(1)},
	{name: "abe/delete-not-found", method: "DELETE", path: "/v1/example/a_bit_of_everything/" + uuidN(1)},

	// Streams (StreamService).
	{name: "stream/list", method: "GET", path: "/v1/example/a_bit_of_everything", unordered: true},
	{name: "stream/list-error", method: "GET", path: "/v1/example/a_bit_of_everything?error=true"},
	{name: "stream/download", method: "GET", path: "/v1/example/download"},
	{name: "stream/download-error", method: "GET", path: "/v1/example/download?error=true"},
	{name: "stream/bulk-create", method: "POST", path: "/v1/example/a_bit_of_everything/bulk", body: `{"stringValue":"strprefix/a"}` + "\n" + `{"stringValue":"strprefix/b"}` + "\n"},
	{name: "stream/bulk-create-invalid", method: "POST", path: "/v1/example/a_bit_of_everything/bulk", body: `{"stringValue":"strprefix/a"}` + "\n" + `{"int32Value":"x"}` + "\n"},
	{name: "stream/bulk-echo", method: "POST", path: "/v1/example/a_bit_of_everything/echo", body: `{"value":"a"}` + "\n" + `{"value":"b"}` + "\n"},
	{name: "stream/bulk-echo-empty", method: "POST", path: "/v1/example/a_bit_of_everything/echo"},
	{name: "stream/bulk-echo-duration", method: "POST", path: "/v1/example/a_bit_of_everything/echo_duration", body: `"1s"` + "\n" + `"2.5s"` + "\n"},

	// TestResponseBody* (ResponseBodyService).
	{name: "responsebody/get", method: "GET", path: "/responsebody/foo"},
	{name: "responsebody/same-name", method: "GET", path: "/responsebody/samename/foo"},
	{name: "responsebody/imported-type", method: "GET", path: "/responsebody/importedtype/foo"},
	{name: "responsebody/list", method: "GET", path: "/responsebodies/foo"},
	{name: "responsebody/list-empty", method: "GET", path: "/responsebodies/empty"},
	{name: "responsebody/strings", method: "GET", path: "/responsestrings/foo"},
	{name: "responsebody/strings-empty", method: "GET", path: "/responsestrings/empty"},
	{name: "responsebody/stream", method: "GET", path: "/responsebody/stream/foo"},
}

// answer is what a server said to one exchange.
type answer struct {
	status int
	ctype  string
	body   []byte
	cut    bool // the response ended before its end
}

// register registers fresh implementations of the examples' services on r.
func register(r grpc.ServiceRegistrar) {
	abe := server.NewABitOfEverything()
	examplepb.RegisterABitOfEverythingServiceServer(r, abe)
	examplepb.RegisterStreamServiceServer(r, abe)
	examplepb.RegisterEchoServiceServer(r, server.NewEcho())
	examplepb.RegisterResponseBodyServiceServer(r, server.NewResponseBody())
	examplepb.RegisterExcessBodyServiceServer(r, server.NewExcessBody())
}

// gatewayHandler serves the examples as grpc-gateway's integration suite
// does: runtime.ServeMux in front of a grpc.Server over loopback (the
// in-process registration cannot stream).
func gatewayHandler(t *testing.T) http.Handler {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// The examples' implementation panics on some inputs (a mask path
	// through an unset message); grpc-go does not recover, so the
	// reference server gets what a production server would have.
	gs := grpc.NewServer(grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = status.Errorf(codes.Internal, "panic: %v", r)
			}
		}()
		return handler(ctx, req)
	}))
	register(gs)
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	mux := runtime.NewServeMux()
	ctx := context.Background()
	for _, reg := range []func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error{
		examplepb.RegisterABitOfEverythingServiceHandler,
		examplepb.RegisterStreamServiceHandler,
		examplepb.RegisterEchoServiceHandler,
		examplepb.RegisterResponseBodyServiceHandler,
		examplepb.RegisterExcessBodyServiceHandler,
	} {
		if err := reg(ctx, mux, conn); err != nil {
			t.Fatal(err)
		}
	}
	return mux
}

// run sends every exchange, in order, to a fresh server built by handler.
func run(t *testing.T, h http.Handler) map[string]answer {
	server.ResetIDs()
	srv := httptest.NewServer(h)
	defer srv.Close()
	out := map[string]answer{}
	for _, ex := range exchanges {
		var body io.Reader
		if ex.body != "" {
			body = strings.NewReader(ex.body)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		req, err := http.NewRequestWithContext(ctx, ex.method, srv.URL+ex.path, body)
		if err != nil {
			t.Fatal(err)
		}
		if ex.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for i := 0; i+1 < len(ex.header); i += 2 {
			req.Header.Set(ex.header[i], ex.header[i+1])
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			// No response at all: recorded, and a difference unless both cut.
			cancel()
			out[ex.name] = answer{cut: true, body: []byte(err.Error())}
			continue
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		out[ex.name] = answer{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), body: b, cut: err != nil}
	}
	return out
}

// classification is a row of differential.tsv.
type classification struct {
	kind   string // "spec", "deliberate" or "bug"
	reason string
}

func readClassifications(t *testing.T) map[string]classification {
	f, err := os.Open("differential.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]classification{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.SplitN(line, "\t", 3)
		if len(parts) != 3 {
			t.Fatalf("differential.tsv: %q: want name<TAB>kind<TAB>reason", line)
		}
		switch parts[1] {
		case "spec", "deliberate", "bug":
		default:
			t.Fatalf("differential.tsv: %s: kind %q is not spec, deliberate or bug", parts[0], parts[1])
		}
		out[parts[0]] = classification{kind: parts[1], reason: parts[2]}
	}
	return out
}

// panicWatch collects what the REST handler reports about panics.
type panicWatch struct {
	mu   sync.Mutex
	msgs []string
}

func (p *panicWatch) Enabled(context.Context, slog.Level) bool { return true }
func (p *panicWatch) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "panic") {
		p.mu.Lock()
		p.msgs = append(p.msgs, r.Message)
		p.mu.Unlock()
	}
	return nil
}
func (p *panicWatch) WithAttrs([]slog.Attr) slog.Handler { return p }
func (p *panicWatch) WithGroup(string) slog.Handler      { return p }

// TestDifferential serves grpc-gateway's ABitOfEverything, stream, echo and
// response-body examples through grpc-gateway's runtime.ServeMux and
// through duet, sends both the integration suite's requests, and compares
// status codes and, when both succeed, bodies by JSON value. Every
// difference must be classified in differential.tsv; none may be a duet
// bug, and duet may answer no 5xx the implementation did not ask for.
func TestDifferential(t *testing.T) {
	watch := &panicWatch{}
	prev := slog.Default()
	slog.SetDefault(slog.New(watch))
	t.Cleanup(func() { slog.SetDefault(prev) })

	h := rest.NewHandler()
	register(h)
	if s := h.Skipped(); len(s) > 0 {
		t.Errorf("duet skipped bindings grpc-gateway serves: %v", s)
	}
	gw := run(t, gatewayHandler(t))
	duet := run(t, h)

	known := readClassifications(t)
	seen := map[string]bool{}
	for _, ex := range exchanges {
		g, d := gw[ex.name], duet[ex.name]
		diff := compare(ex, g, d)
		if d.status >= 500 && d.status != g.status {
			t.Errorf("%s %s %s: duet answered %d (grpc-gateway %d): %s", ex.name, ex.method, ex.path, d.status, g.status, d.body)
		}
		c, classified := known[ex.name]
		switch {
		case diff == "" && classified:
			t.Errorf("%s: classified as %s in differential.tsv, but the answers agree; remove the row", ex.name, c.kind)
		case diff == "":
		case !classified:
			t.Errorf("%s %s %s: unclassified difference: %s\ngrpc-gateway: %d %s %s\nduet:         %d %s %s",
				ex.name, ex.method, ex.path, diff, g.status, g.ctype, g.body, d.status, d.ctype, d.body)
		case c.kind == "bug":
			t.Errorf("%s: duet bug: %s (%s)", ex.name, c.reason, diff)
		default:
			t.Logf("%s: %s difference (%s): %s", ex.name, c.kind, c.reason, diff)
		}
		seen[ex.name] = true
	}
	for name := range known {
		if !seen[name] && !strings.HasPrefix(name, "excess-body/") {
			t.Errorf("differential.tsv: %s names no exchange", name)
		}
	}
	watch.mu.Lock()
	defer watch.mu.Unlock()
	for _, m := range watch.msgs {
		t.Errorf("duet reported a panic: %s", m)
	}
}

// compare describes how two answers differ, or returns "".
func compare(ex exchange, g, d answer) string {
	if g.status != d.status {
		return fmt.Sprintf("status %d vs %d", g.status, d.status)
	}
	if g.cut != d.cut {
		return fmt.Sprintf("cut short: %v vs %v", g.cut, d.cut)
	}
	if g.status < 200 || g.status > 299 {
		return ""
	}
	gv, gerr := jsonValues(g.body, true)
	dv, derr := jsonValues(d.body, false)
	if gerr != nil || derr != nil {
		if !bytes.Equal(g.body, d.body) {
			return fmt.Sprintf("bodies differ: %q vs %q", g.body, d.body)
		}
		return ""
	}
	if ex.unordered {
		sortValues(gv)
		sortValues(dv)
	}
	if diff := cmp.Diff(gv, dv); diff != "" {
		return "bodies differ (-grpc-gateway +duet):\n" + diff
	}
	return ""
}

// jsonValues reads a body as a sequence of JSON values (one for unary
// answers, one per message for streams); gateway stream messages are
// unwrapped from their {"result": …} envelope.
func jsonValues(b []byte, gateway bool) ([]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out []any
	for {
		var v any
		err := dec.Decode(&v)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if m, ok := v.(map[string]any); ok && gateway && len(m) == 1 {
			if r, ok := m["result"]; ok {
				v = r
			}
		}
		out = append(out, v)
	}
}

func sortValues(vs []any) {
	sort.Slice(vs, func(i, j int) bool {
		a, _ := json.Marshal(vs[i])
		b, _ := json.Marshal(vs[j])
		return string(a) < string(b)
	})
}

// TestDifferentialExcessBody ports grpc-gateway's TestExcessBody: a client
// that goes away while its call runs must cancel the handler's context,
// whether the rule reads a body or not and whether the client sent one or
// not. Each case ends one of three ways: the handler's context is done
// ("cancelled"), it is not within a second ("not cancelled", never allowed
// for duet), or the request is answered before the handler runs.
func TestDifferentialExcessBody(t *testing.T) {
	h := rest.NewHandler()
	register(h)
	cases := []struct {
		name, path, body string
		stream           bool
	}{
		{"rpc", "/rpc/excess-body/rpc", "", false},
		{"stream", "/rpc/excess-body/stream", "", true},
		{"rpc-unexpected-body", "/rpc/excess-body/rpc", "{}", false},
		{"stream-unexpected-body", "/rpc/excess-body/stream", "{}", true},
		{"rpc-with-body", "/rpc/excess-body/rpc/with-body", "{}", false},
		{"stream-with-body", "/rpc/excess-body/stream/with-body", "{}", true},
		{"rpc-with-body-trailing-bytes", "/rpc/excess-body/rpc/with-body", "{}.", false},
		{"stream-with-body-trailing-bytes", "/rpc/excess-body/stream/with-body", "{}" + strings.Repeat(".", 511), true},
	}
	outcomes := func(h http.Handler) map[string]string {
		srv := httptest.NewServer(h)
		defer srv.Close()
		out := map[string]string{}
		for _, c := range cases {
			ctx, cancel := context.WithCancel(context.Background())
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+c.path, body)
			answered := make(chan int, 1)
			go func() {
				resp, err := srv.Client().Do(req)
				if err != nil {
					answered <- 0
					return
				}
				resp.Body.Close()
				answered <- resp.StatusCode
			}()
			started := server.ExcessBodyContexts(c.stream)
			select {
			case sctx := <-started:
				cancel()
				select {
				case <-sctx.Done():
					out[c.name] = "cancelled"
				case <-time.After(time.Second):
					out[c.name] = "not cancelled"
				}
			case code := <-answered:
				out[c.name] = fmt.Sprintf("answered %d before the handler ran", code)
			case <-time.After(5 * time.Second):
				out[c.name] = "no answer and no handler"
			}
			cancel()
		}
		return out
	}
	gw, duet := outcomes(gatewayHandler(t)), outcomes(h)
	known := readClassifications(t)
	for _, c := range cases {
		name := "excess-body/" + c.name
		g, d := gw[c.name], duet[c.name]
		if d != "cancelled" && !strings.HasPrefix(d, "answered 4") {
			t.Errorf("%s: duet: %s (grpc-gateway: %s)", name, d, g)
		}
		k, classified := known[name]
		switch {
		case g == d && classified:
			t.Errorf("%s: classified as %s in differential.tsv, but the outcomes agree; remove the row", name, k.kind)
		case g != d && !classified:
			t.Errorf("%s: unclassified difference: grpc-gateway %s, duet %s", name, g, d)
		case g != d && k.kind == "bug":
			t.Errorf("%s: duet bug: %s", name, k.reason)
		}
	}
}
