package duet_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/duetrpc/duet"
	"github.com/duetrpc/duet/internal/testpb"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/descriptorpb"
)

// browserPage calls the server from another origin, with fetch, framing
// gRPC-Web by hand as PROTOCOL-WEB.md describes (binary and text mode), and
// with the npm client library @connectrpc/connect-web (proto and JSON
// codecs, testdata/grpcweb-browser/client.js), and posts what it saw back
// to the page's own server.
var browserPage = template.Must(template.New("page").Parse(`<!doctype html>
<script src="/client.js"></script>
<script>
const api = {{.API}};
function frame(b64) {
  const msg = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  const f = new Uint8Array(5 + msg.length);
  new DataView(f.buffer).setUint32(1, msg.length);
  f.set(msg, 5);
  return f;
}
function b64(bytes) { let s = ""; for (const c of bytes) s += String.fromCharCode(c); return btoa(s); }
function unb64chunks(text) {
  const out = [];
  for (const chunk of text.match(/[^=]+=*/g) || []) for (const c of atob(chunk)) out.push(c.charCodeAt(0));
  return new Uint8Array(out);
}
async function call(method, reqB64, text) {
  const body = text ? b64(frame(reqB64)) : frame(reqB64);
  const resp = await fetch(api + "/duet.test.v1.Kitchens/" + method, {
    method: "POST",
    headers: {"Content-Type": text ? "application/grpc-web-text" : "application/grpc-web+proto", "X-Grpc-Web": "1", "X-Tenant": "acme"},
    body,
  });
  let raw = text ? unb64chunks(await resp.text()) : new Uint8Array(await resp.arrayBuffer());
  const out = {messages: [], trailers: "", header: resp.headers.get("x-kitchen") || ""};
  while (raw.length >= 5) {
    const n = new DataView(raw.buffer, raw.byteOffset).getUint32(1);
    const payload = raw.subarray(5, 5 + n);
    if (raw[0] & 0x80) out.trailers += new TextDecoder().decode(payload);
    else out.messages.push(b64(payload));
    raw = raw.subarray(5 + n);
  }
  return out;
}
(async () => {
  const results = {};
  try {
    for (const text of [false, true]) {
      const mode = text ? "text" : "binary";
      results["unary " + mode] = await call("GetKitchen", {{.Get}}, text);
      results["stream " + mode] = await call("Tail", {{.Tail}}, text);
    }
    Object.assign(results, await duetClient.run(api, {{.Descriptors}}));
  } catch (e) {
    results.error = String(e);
  }
  await fetch("/result", {method: "POST", body: JSON.stringify(results)});
})();
</script>`))

type browserCall struct {
	Messages []string `json:"messages"`
	Trailers string   `json:"trailers"`
	Header   string   `json:"header"`
}

// TestBrowser runs gRPC-Web calls from headless Chromium, cross-origin, so
// that the CORS preflight, exposed headers and the framing are checked by a
// real browser and a real client library. It needs Debian's chromium
// (apt-get install chromium) and the npm packages of
// testdata/grpcweb-browser (npm ci there); it is skipped without them,
// except under DUET_CI, where it fails.
func TestBrowser(t *testing.T) {
	missing := func(what string) {
		if os.Getenv("DUET_CI") != "" {
			t.Fatal(what)
		}
		t.Skip(what)
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		missing("chromium is not installed")
	}
	client := bundleClient(t, missing)
	descriptors := descriptorSet(t, testpb.File_internal_testpb_test_proto)
	results := make(chan map[string]json.RawMessage, 1)
	var getB64, tailB64 string
	if b, err := proto.Marshal(&testpb.GetKitchenRequest{Id: "5"}); err == nil {
		getB64 = base64.StdEncoding.EncodeToString(b)
	}
	if b, err := proto.Marshal(&testpb.TailRequest{Count: 3}); err == nil {
		tailB64 = base64.StdEncoding.EncodeToString(b)
	}
	var apiURL string
	page := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			browserPage.Execute(w, map[string]string{"API": apiURL, "Get": getB64, "Tail": tailB64, "Descriptors": descriptors})
		case "/client.js":
			w.Header().Set("Content-Type", "text/javascript")
			w.Write(client)
		case "/result":
			var m map[string]json.RawMessage
			b, _ := io.ReadAll(r.Body)
			if err := json.Unmarshal(b, &m); err != nil {
				m = map[string]json.RawMessage{"error": json.RawMessage(fmt.Sprintf("%q", b))}
			}
			select {
			case results <- m:
			default:
			}
		default:
			http.NotFound(w, r)
		}
	}))
	pageOrigin := "http://" + page.Listener.Addr().String()
	f := start(t, duet.WithCORS(duet.CORS{Origins: []string{pageOrigin}, Headers: []string{"X-Tenant"}, ExposeHeaders: []string{"X-Kitchen"}}))
	apiURL = "http://" + f.addr
	page.Start()
	t.Cleanup(page.Close)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), page.URL+"/")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })

	var got map[string]json.RawMessage
	select {
	case got = <-results:
	case <-ctx.Done():
		t.Fatal("the page reported nothing")
	}
	if e, ok := got["error"]; ok {
		t.Fatalf("page error: %s", e)
	}
	for _, mode := range []string{"binary", "text"} {
		var unary, stream browserCall
		if err := json.Unmarshal(got["unary "+mode], &unary); err != nil {
			t.Fatalf("unary %s: %v", mode, err)
		}
		if err := json.Unmarshal(got["stream "+mode], &stream); err != nil {
			t.Fatalf("stream %s: %v", mode, err)
		}
		var k testpb.Kitchen
		if len(unary.Messages) != 1 {
			t.Fatalf("unary %s: %d messages, trailers %q", mode, len(unary.Messages), unary.Trailers)
		}
		b, _ := base64.StdEncoding.DecodeString(unary.Messages[0])
		if err := proto.Unmarshal(b, &k); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(&testpb.Kitchen{Id: "5", Name: "kitchen 5"}, &k, protocmp.Transform()); diff != "" {
			t.Errorf("unary %s (-want +got):\n%s", mode, diff)
		}
		want := browserCall{Header: "5", Trailers: "grpc-status: 0\r\nx-done: yes\r\n"}
		if diff := cmp.Diff(want, browserCall{Header: unary.Header, Trailers: unary.Trailers}); diff != "" {
			t.Errorf("unary %s header and trailers (-want +got):\n%s", mode, diff)
		}
		if len(stream.Messages) != 3 || stream.Trailers != "grpc-status: 0\r\n" {
			t.Errorf("stream %s: %d messages, trailers %q", mode, len(stream.Messages), stream.Trailers)
		}
	}

	// The npm client: both codecs, the same answers.
	for _, codec := range []string{"proto", "json"} {
		var unary struct {
			Kitchen         map[string]any `json:"kitchen"`
			Header, Trailer string
		}
		if err := json.Unmarshal(got["npm unary "+codec], &unary); err != nil {
			t.Fatalf("npm unary %s: %v: %s", codec, err, got["npm unary "+codec])
		}
		// With the REST side's EmitUnpopulated, an unset google.protobuf.Value
		// field is written as null, which a reader takes for NULL_VALUE: the
		// JSON call sees "val": null where the proto call sees nothing.
		delete(unary.Kitchen, "val")
		if diff := cmp.Diff(map[string]any{"id": "5", "name": "kitchen 5"}, unary.Kitchen); diff != "" {
			t.Errorf("npm unary %s (-want +got):\n%s", codec, diff)
		}
		if unary.Header != "5" || unary.Trailer != "yes" {
			t.Errorf("npm unary %s: header x-kitchen %q, trailer x-done %q", codec, unary.Header, unary.Trailer)
		}
		var tail []int
		if err := json.Unmarshal(got["npm stream "+codec], &tail); err != nil || !cmp.Equal([]int{0, 1, 2}, tail) {
			t.Errorf("npm stream %s: %s, want [0,1,2]", codec, got["npm stream "+codec])
		}
		var e struct {
			Code    int
			Message string
			Details int
		}
		if err := json.Unmarshal(got["npm error "+codec], &e); err != nil || e.Code != 5 || e.Details != 1 {
			t.Errorf("npm error %s: %s, want NOT_FOUND (5) with one detail", codec, got["npm error "+codec])
		}
	}
}

// bundleClient bundles testdata/grpcweb-browser/client.js and the npm
// packages it imports into one script, with the esbuild npm ci installed.
func bundleClient(t *testing.T, missing func(string)) []byte {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", "grpcweb-browser"))
	if err != nil {
		t.Fatal(err)
	}
	esbuild := filepath.Join(dir, "node_modules", ".bin", "esbuild")
	if _, err := os.Stat(esbuild); err != nil {
		missing("the npm packages are not installed: cd " + dir + " && npm ci")
	}
	out := filepath.Join(t.TempDir(), "client.js")
	cmd := exec.Command(esbuild, "client.js", "--bundle", "--format=iife", "--global-name=duetClient", "--log-level=warning", "--outfile="+out)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("esbuild: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// descriptorSet returns base64 of a FileDescriptorSet holding fd and every
// file it imports, dependencies first, for the client's registry.
func descriptorSet(t *testing.T, fd protoreflect.FileDescriptor) string {
	t.Helper()
	set := &descriptorpb.FileDescriptorSet{}
	seen := map[string]bool{}
	var add func(protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) {
		if seen[fd.Path()] {
			return
		}
		seen[fd.Path()] = true
		for i := 0; i < fd.Imports().Len(); i++ {
			add(fd.Imports().Get(i).FileDescriptor)
		}
		set.File = append(set.File, protodesc.ToFileDescriptorProto(fd))
	}
	add(fd)
	b, err := proto.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}
