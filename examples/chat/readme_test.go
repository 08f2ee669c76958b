package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// transcript is one curl call recorded in README.md and what it printed.
type transcript struct {
	command string
	method  string
	url     string // path and query, as typed after the host
	header  http.Header
	body    string
	status  string // "HTTP/1.1 200 OK"
	shown   [][2]string
	resp    []string // body lines up to the end of the block
}

// readTranscripts parses the README's fenced blocks: "$ curl ..." lines
// followed by the status line, headers up to a blank line, then body lines
// up to the next command or the end of the block.
func readTranscripts(t *testing.T, path string) []transcript {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var (
		out     []transcript
		cur     *transcript
		inFence bool
		part    int // 0 status, 1 headers, 2 body
	)
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			inFence, cur = !inFence, nil
			continue
		}
		if !inFence {
			continue
		}
		if strings.HasPrefix(line, "$ curl ") {
			out = append(out, parseCurl(t, strings.TrimPrefix(line, "$ ")))
			cur, part = &out[len(out)-1], 0
			continue
		}
		if cur == nil {
			continue
		}
		switch {
		case part == 0:
			cur.status, part = line, 1
		case part == 1 && line == "":
			part = 2
		case part == 1:
			k, v, _ := strings.Cut(line, ": ")
			cur.shown = append(cur.shown, [2]string{http.CanonicalHeaderKey(k), v})
		case line != "":
			cur.resp = append(cur.resp, line)
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no curl transcripts", path)
	}
	return out
}

// shellWords splits a command line into words, with single-quoted words
// as in a POSIX shell.
func shellWords(t *testing.T, cmd string) []string {
	t.Helper()
	var words []string
	for rest := strings.TrimSpace(cmd); rest != ""; rest = strings.TrimSpace(rest) {
		if rest[0] == '\'' {
			end := strings.IndexByte(rest[1:], '\'')
			if end < 0 {
				t.Fatalf("unterminated quote in %q", cmd)
			}
			words, rest = append(words, rest[1:1+end]), rest[2+end:]
			continue
		}
		w, r, _ := strings.Cut(rest, " ")
		words, rest = append(words, w), r
	}
	return words
}

// parseCurl reads the curl options the README uses: -i, -N, -X, -H, -d and
// the URL.
func parseCurl(t *testing.T, cmd string) transcript {
	t.Helper()
	words := shellWords(t, cmd)
	tr := transcript{command: cmd, method: "GET", header: http.Header{}}
	for i := 1; i < len(words); i++ {
		switch w := words[i]; w {
		case "-i", "-iN", "-N":
		case "-X":
			i++
			tr.method = words[i]
		case "-H":
			i++
			k, v, _ := strings.Cut(words[i], ": ")
			tr.header.Add(k, v)
		case "-d":
			i++
			tr.body = words[i]
		default:
			if strings.HasPrefix(w, "-") {
				t.Fatalf("%q: option %s not understood by this test", cmd, w)
			}
			_, tr.url, _ = strings.Cut(w, "/") // drop the host
			tr.url = "/" + tr.url
		}
	}
	return tr
}

// TestREADME replays the README's transcripts against a fresh server: the
// subscription first, held open, then the posts in order; it checks status
// lines, the headers shown (Date aside) and the bodies, and that the
// message the README shows arriving on the subscription arrives. Message
// timestamps are the server's clock, so they are compared by presence.
func TestREADME(t *testing.T) {
	base, _ := start(t)
	transcripts := readTranscripts(t, "README.md")
	sub := transcripts[0]
	if sub.header.Get("Accept") != "text/event-stream" {
		t.Fatalf("the README's first transcript is not the SSE subscription: %s", sub.command)
	}
	subResp := do(t, base, sub)
	defer subResp.Body.Close()
	checkHead(t, sub, subResp)
	events := bufio.NewReader(subResp.Body)

	for _, tr := range transcripts[1:] {
		t.Run(tr.command, func(t *testing.T) {
			resp := do(t, base, tr)
			defer resp.Body.Close()
			checkHead(t, tr, resp)
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if len(tr.resp) != 1 {
				t.Fatalf("README shows %d body lines, want 1", len(tr.resp))
			}
			checkJSON(t, tr.resp[0], string(b))
		})
	}

	// The subscription saw the README's message.
	var want string
	for _, l := range sub.resp {
		if d, ok := strings.CutPrefix(l, "data: "); ok {
			want = d
		}
	}
	if want == "" {
		t.Fatal("the README's subscription shows no data: line")
	}
	got := make(chan string, 1)
	go func() {
		for {
			l, err := events.ReadString('\n')
			if err != nil {
				close(got)
				return
			}
			if d, ok := strings.CutPrefix(strings.TrimSpace(l), "data: "); ok {
				got <- d
				return
			}
		}
	}()
	select {
	case d, ok := <-got:
		if !ok {
			t.Fatal("subscription ended before any message")
		}
		checkJSON(t, want, d)
	case <-time.After(10 * time.Second):
		t.Fatal("no message on the subscription after 10s")
	}
}

func do(t *testing.T, base string, tr transcript) *http.Response {
	t.Helper()
	var body io.Reader
	if tr.body != "" {
		body = strings.NewReader(tr.body)
	}
	req, err := http.NewRequest(tr.method, base+tr.url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = tr.header.Clone()
	resp, err := restClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func checkHead(t *testing.T, tr transcript, resp *http.Response) {
	t.Helper()
	if got := resp.Proto + " " + resp.Status; got != tr.status {
		t.Errorf("status line %q, README shows %q", got, tr.status)
	}
	for _, h := range tr.shown {
		got := resp.Header.Get(h[0])
		switch h[0] {
		case "Date":
			continue
		case "Transfer-Encoding":
			got = strings.Join(resp.TransferEncoding, ", ")
		case "Content-Length":
			if resp.Header.Get("Content-Type") == "application/json" {
				continue // protojson varies its whitespace on purpose
			}
			got = ""
			if resp.ContentLength >= 0 {
				got = strconv.FormatInt(resp.ContentLength, 10)
			}
		}
		if got != h[1] {
			t.Errorf("%s: %q, README shows %q", h[0], got, h[1])
		}
	}
}

// checkJSON compares two JSON bodies, a timestamp member by presence only.
func checkJSON(t *testing.T, readme, server string) {
	t.Helper()
	var want, got map[string]any
	if err := json.Unmarshal([]byte(readme), &want); err != nil {
		t.Fatalf("README body %q: %v", readme, err)
	}
	if err := json.Unmarshal([]byte(server), &got); err != nil {
		t.Fatalf("server body %q: %v", server, err)
	}
	if _, ok := want["timestamp"]; ok {
		if _, ok := got["timestamp"]; !ok {
			t.Errorf("server body %s has no timestamp", server)
		}
		delete(want, "timestamp")
		delete(got, "timestamp")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("body (-README +server):\n%s", diff)
	}
}
