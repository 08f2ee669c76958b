package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests that need real processes (restart, replicas) build the users
// command once, into a directory TestMain removes.
var (
	buildOnce sync.Once
	binDir    string
	binErr    error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// usersBinary returns the path of the users command, built for this test run.
func usersBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "users-test"); binErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, "users"), ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return filepath.Join(binDir, "users")
}

// process is a users process serving on base.
type process struct {
	base string
	cmd  *exec.Cmd
	done chan error
	log  *strings.Builder
	mu   *sync.Mutex
	// stopped is set by stop, on the test's goroutine.
	stopped bool
}

// startUsers starts the users command on a free loopback port with args
// and waits until it serves; it is stopped when the test ends.
func startUsers(t testing.TB, args ...string) *process {
	t.Helper()
	cmd := exec.Command(usersBinary(t), append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, done: make(chan error, 1), log: &strings.Builder{}, mu: &sync.Mutex{}}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.log.WriteString(line + "\n")
			p.mu.Unlock()
			if _, a, ok := strings.Cut(line, "serving REST, gRPC and gRPC-Web on "); ok {
				addr <- a
			}
		}
		io.Copy(io.Discard, stderr)
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() { p.stop(t) })
	select {
	case p.base = <-addr:
		return p
	case err := <-p.done:
		p.done <- err
		t.Fatalf("users exited before serving: %v\n%s", err, p.output())
	case <-time.After(30 * time.Second):
		t.Fatalf("users did not start within 30s:\n%s", p.output())
	}
	return nil
}

func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// stop asks the process to shut down (SIGTERM) and waits for it, killing
// it after 15 seconds. Stopping twice is a no-op.
func (p *process) stop(t testing.TB) {
	if p.stopped {
		return
	}
	p.stopped = true
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Errorf("users exited with %v:\n%s", err, p.output())
		}
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		t.Errorf("users did not stop within 15s after SIGTERM")
	}
}
