//go:build linux

package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// tabPage is a test harness around the real page: it loads / in an iframe
// (same origin, so the harness can reach into it), waits until the page's
// own EventSource is open, types a message into the page's form and clicks
// Send, then waits for the page's log to show both tabs' messages and posts
// that log to /test/result. Everything in between — subscribing, sending,
// rendering — is index.html's own code.
const tabPage = `<!doctype html>
<meta charset="utf-8">
<iframe id="chat" width="800" height="600"></iframe>
<script>
const q = new URLSearchParams(location.search);
const name = q.get("name");
function report(result) {
  return fetch("/test/result?name=" + encodeURIComponent(name), {method: "POST", body: JSON.stringify(result)});
}
// when resolves once cond() holds, re-checking whenever the page changes.
function when(doc, cond) {
  return new Promise(resolve => {
    if (cond()) return resolve();
    const obs = new MutationObserver(() => { if (cond()) { obs.disconnect(); resolve(); } });
    obs.observe(doc.documentElement, {subtree: true, childList: true, attributes: true, characterData: true});
  });
}
(async () => {
  const frame = document.getElementById("chat");
  const loaded = new Promise(resolve => frame.onload = resolve);
  frame.src = "/?" + new URLSearchParams({room: q.get("room"), name: name});
  await loaded;
  const doc = frame.contentDocument;
  await when(doc, () => doc.body.dataset.connected === "true");
  // Both tabs are in the room once this returns.
  const ready = await fetch("/test/ready", {method: "POST"});
  if (!ready.ok) throw new Error("ready: " + ready.status);
  const text = doc.getElementById("text");
  text.value = q.get("say");
  text.dispatchEvent(new Event("input", {bubbles: true}));
  doc.querySelector("#form button").click();
  const lines = () => [...doc.querySelectorAll("#log .msg")].map(e => e.textContent);
  const want = q.getAll("expect");
  await when(doc, () => want.every(w => lines().includes(w)));
  await report({log: lines()});
})().catch(e => report({error: String(e && e.stack || e)}));
</script>`

type tabReport struct {
	Log   []string `json:"log"`
	Error string   `json:"error"`
}

// TestBrowserTabs runs the embedded page in two headless Chromium
// browsers: alice and bob each type a message into the page, and each page
// must show both messages, delivered by its own EventSource. It needs
// Debian's chromium on PATH and is skipped without it.
func TestBrowserTabs(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not on PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()

	const tabs = 2
	reports := make(chan map[string]tabReport, tabs)
	var (
		mu     sync.Mutex
		joined int
		ready  = make(chan struct{}) // closed when every tab is in the room
	)
	srv := newServer()
	srv.Handle("GET /test/tab", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, tabPage)
	}))
	srv.Handle("POST /test/ready", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if joined++; joined == tabs {
			close(ready)
		}
		mu.Unlock()
		select {
		case <-ready:
		case <-r.Context().Done():
		}
	}))
	srv.Handle("POST /test/result", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var rep tabReport
		if err := json.NewDecoder(r.Body).Decode(&rep); err != nil {
			rep.Error = "bad report: " + err.Error()
		}
		reports <- map[string]tabReport{r.URL.Query().Get("name"): rep}
	}))
	base, _ := serve(t, srv)

	want := []string{"alice: hello from alice", "bob: hello from bob"}
	for _, name := range []string{"alice", "bob"} {
		q := url.Values{"room": {"browsers"}, "name": {name}, "say": {"hello from " + name}, "expect": want}
		browse(t, ctx, chromium, base+"/test/tab?"+q.Encode())
	}

	got := map[string][]string{}
	for len(got) < tabs {
		select {
		case m := <-reports:
			for name, rep := range m {
				if rep.Error != "" {
					t.Fatalf("%s's tab: %s", name, rep.Error)
				}
				sort.Strings(rep.Log) // both send at once: either may come first
				got[name] = rep.Log
			}
		case <-ctx.Done():
			t.Fatalf("only %d of %d tabs reported (got %v)", len(got), tabs, got)
		}
	}
	if diff := cmp.Diff(map[string][]string{"alice": want, "bob": want}, got); diff != "" {
		t.Errorf("messages shown per tab (-want +got):\n%s", diff)
	}
}

// browse opens url in a fresh headless Chromium that is killed, with
// every process it started, when the test ends.
func browse(t *testing.T, ctx context.Context, chromium, url string) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), url)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	// Chromium forks renderers and helpers: start it in a process group of
	// its own and kill the whole group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		// Wait for the helpers too, before t.TempDir removes their
		// profile directory.
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if syscall.Kill(-cmd.Process.Pid, 0) == syscall.ESRCH {
				return
			}
		}
		t.Errorf("chromium (process group %d) still running", cmd.Process.Pid)
	})
}
