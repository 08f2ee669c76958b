package duet_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/duetrpc/duet/internal/transcript"
	"github.com/google/go-cmp/cmp"
)

// The README's "Your own service" guide, as its tests read it: fenced
// blocks in order. A block whose preceding paragraph says
// "Save this as `path`" is a file to write; an sh
// block holds commands to run; the curl and grpcurl transcripts are read
// by internal/transcript.
type guideBlock struct {
	lang, file, text string
}

// guideModule is the module path the guide's files use in place of the
// repository's own examples/greeter.
const guideModule = "example.com/greeter"

var saveAs = regexp.MustCompile("Save this as `([^`]+)`")

func readGuide(t *testing.T) []guideBlock {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, "\n## Your own service\n")
	if start < 0 {
		t.Fatal(`README.md has no "## Your own service" section`)
	}
	section := readme[start+1:]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	var blocks []guideBlock
	var cur *guideBlock
	var prose, last []string // the paragraph being read, the one before
	for _, line := range strings.SplitAfter(section, "\n") {
		trimmed := strings.TrimRight(line, "\n")
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```"):
			cur = &guideBlock{lang: strings.TrimPrefix(trimmed, "```")}
			if len(prose) == 0 {
				prose = last
			}
			if m := saveAs.FindStringSubmatch(strings.Join(prose, " ")); m != nil {
				cur.file = m[1]
			}
			prose, last = nil, nil
		case cur != nil && trimmed == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text += line
		case trimmed == "":
			if len(prose) > 0 { // a blank line ends a paragraph
				prose, last = nil, prose
			}
		default:
			prose = append(prose, trimmed)
		}
	}
	return blocks
}

// The guide shows the repository's examples/greeter files, with the
// guide's module path, and pins the plugin versions the repository's own
// generated code is made with.
func TestGuideMatchesRepository(t *testing.T) {
	blocks := readGuide(t)
	files := map[string]string{
		"greeterpb/greeter.proto": "examples/greeter/greeterpb/greeter.proto",
		"main.go":                 "examples/greeter/main.go",
		"# buf.yaml":              "examples/greeter/buf.yaml",
		"# buf.gen.yaml":          "examples/greeter/buf.gen.yaml",
	}
	var commands strings.Builder
	for _, b := range blocks {
		name := b.file
		if b.lang == "yaml" {
			name, b.text, _ = strings.Cut(b.text, "\n")
		}
		if b.lang == "sh" {
			commands.WriteString(b.text)
		}
		repo, ok := files[name]
		if !ok {
			continue
		}
		delete(files, name)
		want, err := os.ReadFile(repo)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(strings.ReplaceAll(string(want), "github.com/duetrpc/duet/examples/greeter", guideModule), b.text); diff != "" {
			t.Errorf("README's %s differs from %s (-repository +README):\n%s", name, repo, diff)
		}
	}
	for name, repo := range files {
		t.Errorf("README's guide does not show %s (%s)", name, repo)
	}

	gomod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	protobuf := regexp.MustCompile(`google\.golang\.org/protobuf (v\S+)`).FindSubmatch(gomod)
	protogen, err := os.ReadFile("internal/protogen/main.go")
	if err != nil {
		t.Fatal(err)
	}
	grpcPlugin := regexp.MustCompile(`grpcPluginVersion = "(v[^"]+)"`).FindSubmatch(protogen)
	if protobuf == nil || grpcPlugin == nil {
		t.Fatal("cannot find the protobuf version in go.mod or the plugin pin in internal/protogen")
	}
	for _, want := range []string{
		"go install google.golang.org/protobuf/cmd/protoc-gen-go@" + string(protobuf[1]) + "\n",
		"go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@" + string(grpcPlugin[1]) + "\n",
	} {
		if !strings.Contains(commands.String(), want) {
			t.Errorf("the guide's commands lack %q (the versions go generate uses)", strings.TrimSpace(want))
		}
	}
}

// TestGuide follows the README's "Your own service" guide in an empty
// temporary module: it writes the files the guide shows, runs its
// commands with protoc and the pinned plugins, starts the program, and
// replays the guide's curl and grpcurl transcripts with the real tools.
// The only liberties: "go get github.com/duetrpc/duet@latest" takes this
// checkout instead (a replace directive), and "go run ." is built and
// started on a free port.
//
// It needs protoc, curl and grpcurl; without them it is skipped, unless
// DUET_CI is set, where it fails.
func TestGuide(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module from scratch; not in -short")
	}
	need := func(ok bool, msg string) {
		if ok {
			return
		}
		if os.Getenv("DUET_CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	_, err := exec.LookPath("protoc")
	need(err == nil, "protoc not found: apt-get install protobuf-compiler")
	_, err = exec.LookPath("curl")
	need(err == nil, "curl not found")
	need(transcript.GRPCurlPath() != "", "grpcurl not found; go install github.com/fullstorydev/grpcurl/cmd/grpcurl@"+transcript.GRPCurlVersion)

	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, ".bin")
	env := append(os.Environ(),
		"GOBIN="+bin,
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"GOFLAGS=-mod=mod",
		"GOWORK=off",
	)
	run := func(command string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", command)
		cmd.Dir, cmd.Env = dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("the guide's %q failed: %v\n%s", command, err, out)
		}
	}

	var addr string
	for _, b := range readGuide(t) {
		switch {
		case b.file != "":
			path := filepath.Join(dir, filepath.FromSlash(b.file))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(b.text), 0o644); err != nil {
				t.Fatal(err)
			}
		case b.lang == "sh" && strings.Contains(b.text, "buf "):
			// buf needs the Buf Schema Registry; TestGuideMatchesRepository
			// checks its files.
		case b.lang == "sh":
			for _, command := range shellCommands(b.text) {
				switch command {
				case "go get github.com/duetrpc/duet@latest":
					run("go mod edit -replace=github.com/duetrpc/duet=" + root +
						" && go get github.com/duetrpc/duet@v0.0.0-00010101000000-000000000000")
				case "go run .":
					run("go build -o .bin/greeter .")
					addr = startGuideServer(t, filepath.Join(bin, "greeter"), dir)
				default:
					run(command)
				}
			}
		}
	}
	if addr == "" {
		t.Fatal(`the guide never runs its program ("go run .")`)
	}

	session, err := transcript.Read("README.md")
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	for _, c := range session.Calls {
		if !strings.Contains(c.Command, "127.0.0.1:8080/v1/greetings") && !strings.Contains(c.Command, "greeter.v1.") {
			continue // not the guide's
		}
		calls++
		if c.Tool == "grpcurl" {
			transcript.GRPCurl(t, c, c.Args, addr, nil)
			continue
		}
		resp := transcript.Curl(t, c, addr)
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		var gotJSON, wantJSON any
		if err := json.Unmarshal(got, &gotJSON); err != nil {
			t.Fatalf("%s: body %q: %v", c.Command, got, err)
		}
		if err := json.Unmarshal([]byte(strings.Join(c.Resp, "\n")), &wantJSON); err != nil {
			t.Fatalf("%s: README's body: %v", c.Command, err)
		}
		if diff := cmp.Diff(wantJSON, gotJSON); diff != "" {
			t.Errorf("%s: body (-README +server):\n%s", c.Command, diff)
		}
	}
	if calls < 2 {
		t.Errorf("the guide shows %d calls to the greeter; want a curl and a grpcurl one", calls)
	}
}

// shellCommands splits an sh block into commands: comments dropped, lines
// ending in a backslash joined with the next.
func shellCommands(block string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(block, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") || line == "" && cur.Len() == 0 {
			continue
		}
		if l, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(l)
			continue
		}
		cur.WriteString(line)
		out = append(out, strings.Join(strings.Fields(cur.String()), " "))
		cur.Reset()
	}
	return out
}

// startGuideServer starts the guide's program on a free port, stops it
// when the test ends, and returns the address it logged.
func startGuideServer(t *testing.T, program, dir string) string {
	t.Helper()
	cmd := exec.Command(program, "-addr", "127.0.0.1:0")
	cmd.Dir = dir
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	done := make(chan struct{})
	addrs := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if _, a, ok := strings.Cut(sc.Text(), "serving on "); ok {
				select {
				case addrs <- a:
				default:
				}
			}
		}
		waitErr = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
			if waitErr != nil {
				t.Errorf("the guide's program after SIGTERM: %v", waitErr)
			}
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Error("the guide's program did not stop within 15s of SIGTERM")
		}
	})
	select {
	case a := <-addrs:
		return a
	case <-done:
		t.Fatalf("the guide's program exited: %v", waitErr)
	case <-time.After(30 * time.Second):
		t.Fatal("the guide's program logged no address within 30s")
	}
	return ""
}
