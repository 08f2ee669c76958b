package transcript

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Send makes c's request to base+url (url is c.URL, or a copy the caller
// has rewritten) through client, with c's method and headers, and body as
// the request body (c.Body, -d, when body is nil), and checks the
// response's status line and the headers the README shows with
// [CheckHead]. The caller reads and closes the response body.
func Send(t testing.TB, client *http.Client, base, url string, c Call, body io.Reader) *http.Response {
	t.Helper()
	if body == nil && c.Body != "" {
		body = strings.NewReader(c.Body)
	}
	req, err := http.NewRequest(c.Method, base+url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = c.Header.Clone()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	CheckHead(t, c, resp)
	return resp
}

var entityTag = regexp.MustCompile(`^(W/)?"[^"]*"$`)

// CheckHead checks that resp has the status line and headers the README
// shows for c. What varies from run to run is checked for its shape: Date
// not at all, an ETag as an entity tag, the Content-Length of protojson
// bodies not at all (protojson varies its whitespace on purpose).
// Transfer-Encoding is compared with what net/http decoded.
func CheckHead(t testing.TB, c Call, resp *http.Response) {
	t.Helper()
	if got := resp.Proto + " " + resp.Status; got != c.Status {
		t.Errorf("status line %q, README shows %q", got, c.Status)
	}
	for _, h := range c.Shown {
		got := resp.Header.Get(h[0])
		switch h[0] {
		case "Date":
			continue
		case "Etag":
			if !entityTag.MatchString(got) {
				t.Errorf("ETag %q is not an entity tag", got)
			}
			continue
		case "Transfer-Encoding":
			got = strings.Join(resp.TransferEncoding, ", ")
		case "Content-Length":
			if resp.Header.Get("Content-Type") == "application/json" {
				continue
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

// Curl runs c, a curl -i command, with the real curl binary against addr
// (in place of the README's host and port), reads what it printed as an
// HTTP response and checks its head with [CheckHead]. The caller reads the
// body. Without curl on PATH the test is skipped, unless DUET_CI is set,
// where it fails.
func Curl(t testing.TB, c Call, addr string) *http.Response {
	t.Helper()
	bin, err := exec.LookPath("curl")
	if err != nil {
		if os.Getenv("DUET_CI") != "" {
			t.Fatal("curl not found")
		}
		t.Skip("curl not found")
	}
	args := []string{"-sS"}
	for _, a := range c.Args {
		if h, rest, ok := strings.Cut(a, "/"); ok && hostPort.MatchString(h) {
			a = addr + "/" + rest
		}
		args = append(args, a)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).Output()
	if err != nil {
		t.Fatalf("curl %s: %v", strings.Join(args, " "), err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(out)), nil)
	if err != nil {
		t.Fatalf("curl printed %q: %v", out, err)
	}
	CheckHead(t, c, resp)
	return resp
}
