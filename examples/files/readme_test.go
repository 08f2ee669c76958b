package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// transcript is one `curl -i` call recorded in README.md and what it printed.
type transcript struct {
	command string
	method  string
	url     string // path and query, as typed after the host
	upload  string // the file given to -T
	status  string // "HTTP/1.1 200 OK"
	shown   [][2]string
	resp    string
}

// readTranscripts parses the README's fenced blocks: "$ printf '...' > f"
// lines that create files, and "$ curl -i ..." lines followed by the status
// line, headers up to a blank line, then the body up to the next blank line
// or command. It returns the transcripts and the files' contents.
func readTranscripts(t *testing.T, path string) ([]transcript, map[string]string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var (
		out     []transcript
		files   = map[string]string{}
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
		if strings.HasPrefix(line, "$ printf ") {
			words := shellWords(t, strings.TrimPrefix(line, "$ "))
			if len(words) != 4 || words[2] != ">" {
				t.Fatalf("%q: only printf 'text' > file is understood", line)
			}
			files[words[3]] = strings.ReplaceAll(words[1], `\n`, "\n")
			continue
		}
		if strings.HasPrefix(line, "$ curl -i ") {
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
		case line == "":
			cur = nil
		default:
			cur.resp += line + "\n"
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no curl -i transcripts", path)
	}
	return out, files
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

// parseCurl reads the curl options the README uses: -i, -X, -T and the URL.
func parseCurl(t *testing.T, cmd string) transcript {
	t.Helper()
	words := shellWords(t, cmd)
	tr := transcript{command: cmd, method: "GET"}
	for i := 1; i < len(words); i++ {
		switch w := words[i]; w {
		case "-i":
		case "-X":
			i++
			tr.method = words[i]
		case "-T":
			i++
			tr.upload = words[i]
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

// TestREADME runs the README's curl -i transcripts, in order, against a
// fresh server and checks status lines, the headers shown and the bodies,
// so the README stays true. File ids are random: an id the README shows in
// an upload's response stands for the id this run got, in later commands
// and bodies.
func TestREADME(t *testing.T) {
	base, _ := start(t)
	transcripts, files := readTranscripts(t, "README.md")
	ids := map[string]string{} // README's id → this run's
	for _, tr := range transcripts {
		t.Run(tr.command, func(t *testing.T) {
			url := tr.url
			for readme, real := range ids {
				url = strings.ReplaceAll(url, readme, real)
			}
			var body io.Reader
			if tr.upload != "" {
				content, ok := files[tr.upload]
				if !ok {
					t.Fatalf("the README does not create %s", tr.upload)
				}
				body = strings.NewReader(content)
			}
			req, err := http.NewRequest(tr.method, base+url, body)
			if err != nil {
				t.Fatal(err)
			}
			// The README's requests carry no token (the example checks
			// none), so they are not recorded for OpenAPI validation; the
			// e2e tests cover these routes.
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.Proto + " " + resp.Status; got != tr.status {
				t.Errorf("status line %q, README shows %q", got, tr.status)
			}
			for _, h := range tr.shown {
				got := resp.Header.Get(h[0])
				if h[0] == "Transfer-Encoding" {
					got = strings.Join(resp.TransferEncoding, ", ")
				}
				if got != h[1] {
					t.Errorf("%s: %q, README shows %q", h[0], got, h[1])
				}
			}
			if !strings.Contains(resp.Header.Get("Content-Type"), "json") {
				if diff := cmp.Diff(tr.resp, string(b)); diff != "" {
					t.Errorf("body (-README +server):\n%s", diff)
				}
				return
			}
			var got, want map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("response body %q: %v", b, err)
			}
			if err := json.Unmarshal([]byte(tr.resp), &want); err != nil {
				t.Fatalf("README body %q: %v", tr.resp, err)
			}
			if readme, ok := want["fileId"].(string); ok {
				real, _ := got["fileId"].(string)
				if len(real) != len(readme) {
					t.Errorf("fileId %q, README shows one like %q", real, readme)
				}
				ids[readme] = real
				want["fileId"] = real
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("body (-README +server):\n%s", diff)
			}
		})
	}
}
