package main

import (
	"os"
	"regexp"
	"testing"

	"github.com/duetrpc/duet/examples/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.Cleanup()
	os.Exit(code)
}

var serving = regexp.MustCompile(`serving REST, gRPC and gRPC-Web on (\S+)`)

// process is a users process serving on base.
type process struct {
	*testenv.Process
	base string
}

// startUsers starts the users command on a free loopback port with args
// and waits until it serves; it is stopped when the test ends.
func startUsers(t testing.TB, args ...string) *process {
	t.Helper()
	p := testenv.Start(t, testenv.Build(t), serving, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	return &process{Process: p, base: p.Addr}
}

func (p *process) stop(t testing.TB) { p.Stop(t) }
