package testenv

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildMu  sync.Mutex
	binDir   string
	binaries = map[string]string{}
)

// Build builds the command in the current directory (the test's package)
// once per test binary and returns its path. Call Cleanup from TestMain.
func Build(t testing.TB) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if bin, ok := binaries[wd]; ok {
		return bin
	}
	if binDir == "" {
		if binDir, err = os.MkdirTemp("", "duet-examples-test"); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(binDir, filepath.Base(wd))
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	binaries[wd] = bin
	return bin
}

// Cleanup removes what Build built.
func Cleanup() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}

// Process is a command serving at Addr.
type Process struct {
	// Addr is what the ready pattern's first group matched.
	Addr string

	cmd     *exec.Cmd
	done    chan error
	mu      sync.Mutex
	log     strings.Builder
	stopped bool
}

// Start runs bin with args and waits until a line of its standard error
// matches ready, whose first group is the address it serves on. The
// process is stopped when the test ends.
func Start(t testing.TB, bin string, ready *regexp.Regexp, args ...string) *Process {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &Process{cmd: cmd, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.log.WriteString(line + "\n")
			p.mu.Unlock()
			if m := ready.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() { p.Stop(t) })
	select {
	case p.Addr = <-addr:
		return p
	case err := <-p.done:
		p.done <- err
		p.stopped = true
		t.Fatalf("%s exited before serving: %v\n%s", filepath.Base(bin), err, p.Output())
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not start within 30s:\n%s", filepath.Base(bin), p.Output())
	}
	return nil
}

// Output is what the process has written to standard error so far.
func (p *Process) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// Stop asks the process to shut down (SIGTERM) and waits for it, killing
// it after 15 seconds. Stopping twice is a no-op.
func (p *Process) Stop(t testing.TB) {
	if p.stopped {
		return
	}
	p.stopped = true
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("exited with %v:\n%s", err, p.Output())
		}
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		t.Errorf("did not stop within 15s after SIGTERM:\n%s", p.Output())
	}
}
