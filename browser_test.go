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
	"os/exec"
	"testing"
	"time"

	"github.com/duetrpc/duet"
	"github.com/duetrpc/duet/internal/testpb"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
)

// browserPage calls the server with fetch from another origin, framing
// gRPC-Web by hand as PROTOCOL-WEB.md describes, and posts what it saw
// back to the page's own server.
var browserPage = template.Must(template.New("page").Parse(`<!doctype html>
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
// real browser. It needs Debian's chromium (apt-get install chromium) and
// is skipped without it.
func TestBrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed")
	}
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
			browserPage.Execute(w, map[string]string{"API": apiURL, "Get": getB64, "Tail": tailB64})
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
}
