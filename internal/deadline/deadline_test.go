package deadline

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// deadlined stands for net/http's own writers, which take deadlines.
type deadlined struct{ http.ResponseWriter }

func (deadlined) SetWriteDeadline(time.Time) error { return nil }
func (deadlined) SetReadDeadline(time.Time) error  { return nil }

// wrapper is a middleware's writer that unwraps, as
// http.ResponseController expects; opaque is one that does not.
type wrapper struct{ http.ResponseWriter }

func (w wrapper) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type opaque struct{ http.ResponseWriter }

func TestSupported(t *testing.T) {
	rec := httptest.NewRecorder()
	for _, c := range []struct {
		name string
		w    http.ResponseWriter
		want bool
	}{
		{"recorder", rec, false},
		{"deadlined", deadlined{rec}, true},
		{"wrapped deadlined", wrapper{wrapper{deadlined{rec}}}, true},
		{"wrapped recorder", wrapper{rec}, false},
		{"opaque over deadlined", opaque{deadlined{rec}}, false},
	} {
		if got := Supported(c.w); got != c.want {
			t.Errorf("%s: Supported = %v, want %v", c.name, got, c.want)
		}
		if got := ReadSupported(c.w); got != c.want {
			t.Errorf("%s: ReadSupported = %v, want %v", c.name, got, c.want)
		}
		// The answers are ResponseController's.
		rc := http.NewResponseController(c.w)
		if got := rc.SetWriteDeadline(time.Time{}) == nil; got != c.want {
			t.Errorf("%s: ResponseController.SetWriteDeadline succeeds = %v, Supported says %v", c.name, got, c.want)
		}
		if got := rc.SetReadDeadline(time.Time{}) == nil; got != c.want {
			t.Errorf("%s: ResponseController.SetReadDeadline succeeds = %v, ReadSupported says %v", c.name, got, c.want)
		}
	}
}
