package transcript

import (
	"context"
	"encoding/json"
	"fmt"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// GRPCurlVersion is the grpcurl the READMEs' transcripts were recorded
// with, and the one .ci/run installs.
const GRPCurlVersion = "v1.9.4"

var hostPort = regexp.MustCompile(`^(127\.0\.0\.1|localhost):[0-9]+$`)

// GRPCurl runs a README's grpcurl command against addr (in place of the
// README's host and port) and checks that it prints what the README shows:
// the same lines, and JSON documents equal as values after normalise
// (which may be nil), since protojson varies its whitespace on purpose.
// args are the command's arguments, c.Args or a copy the caller has
// rewritten (say, with ids that differ from run to run).
//
// It needs the grpcurl binary on PATH or in GOPATH/bin. Without one the
// test is skipped, unless DUET_CI is set (as .ci/run does, after installing
// it), where it fails.
func GRPCurl(t *testing.T, c Call, args []string, addr string, normalise func(any) any) {
	t.Helper()
	bin := GRPCurlPath()
	if bin == "" {
		msg := "grpcurl not found; go install github.com/fullstorydev/grpcurl/cmd/grpcurl@" + GRPCurlVersion
		if os.Getenv("DUET_CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	args = append([]string(nil), args...)
	for i, a := range args {
		if hostPort.MatchString(a) {
			args[i] = addr
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if _, exit := err.(*exec.ExitError); err != nil && !exit {
		t.Fatalf("running grpcurl: %v", err)
	}
	got, err := ParseOutput(strings.Split(strings.TrimRight(string(out), "\n"), "\n"))
	if err != nil {
		t.Fatalf("grpcurl printed %s: %v", out, err)
	}
	want, err := ParseOutput(c.Resp)
	if err != nil {
		t.Fatalf("README shows %q: %v", c.Resp, err)
	}
	if normalise != nil {
		for i := range got {
			got[i] = normalise(got[i])
		}
		for i := range want {
			want[i] = normalise(want[i])
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("grpcurl output (-README +grpcurl):\n%s", diff)
	}
}

// GRPCurlPath finds the grpcurl binary: on PATH, else in GOPATH/bin; "" if
// there is none.
func GRPCurlPath() string {
	if p, err := exec.LookPath("grpcurl"); err == nil {
		return p
	}
	for _, dir := range filepath.SplitList(build.Default.GOPATH) {
		p := filepath.Join(dir, "bin", "grpcurl")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// Line is a line of grpcurl's output that is not part of a JSON document,
// compared as it is.
type Line string

// ParseOutput splits grpcurl's output into its lines of text and the JSON
// documents between them, decoded: the response messages, and the details
// of an error, whose lines grpcurl prefixes with "  1)\t" and "    \t".
func ParseOutput(lines []string) ([]any, error) {
	var out []any
	var doc strings.Builder
	depth := 0
	for _, l := range lines {
		if depth == 0 {
			if rest, ok := cutDetailNumber(l); ok {
				out = append(out, Line(l[:len(l)-len(rest)]))
				l = rest
			}
		}
		l = strings.TrimPrefix(l, "    \t")
		if depth == 0 && !strings.HasPrefix(strings.TrimSpace(l), "{") {
			out = append(out, Line(l))
			continue
		}
		doc.WriteString(l)
		doc.WriteByte('\n')
		depth += jsonDepth(l)
		if depth == 0 {
			var v any
			if err := json.Unmarshal([]byte(doc.String()), &v); err != nil {
				return nil, fmt.Errorf("JSON %q: %v", doc.String(), err)
			}
			out = append(out, v)
			doc.Reset()
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("unterminated JSON %q", doc.String())
	}
	return out, nil
}

// cutDetailNumber removes the "  1)\t" grpcurl writes before an error
// detail.
func cutDetailNumber(l string) (string, bool) {
	t := strings.TrimLeft(l, " ")
	i := 0
	for i < len(t) && '0' <= t[i] && t[i] <= '9' {
		i++
	}
	if i == 0 || !strings.HasPrefix(t[i:], ")\t") {
		return l, false
	}
	return t[i+2:], true
}

// jsonDepth is the change in nesting over a line of JSON, ignoring braces
// and brackets inside strings.
func jsonDepth(l string) int {
	d, inStr := 0, false
	for i := 0; i < len(l); i++ {
		switch c := l[i]; {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			d++
		case c == '}' || c == ']':
			d--
		}
	}
	return d
}
