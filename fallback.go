package duet

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/duetrpc/duet/grpcx"
	"google.golang.org/grpc/encoding"
)

// serveGRPC serves a native gRPC request that arrived on a connection
// net/http serves (one that began with something else, or came through a
// proxy; see dispatch.go), through grpc-go's ServeHTTP. It adds what that
// handler transport lacks: an unknown codec is refused instead of being
// answered as proto, and the deadline ends the call on the wire with
// DEADLINE_EXCEEDED even when the method's handler runs on (grpc-go's
// handler transport only cancels the handler's context).
func (s *Server) serveGRPC(w http.ResponseWriter, r *http.Request) {
	ct := r.Header.Get("Content-Type")
	if codec := codecName(ct); codec != "" && encoding.GetCodecV2(codec) == nil {
		// The gRPC spec answers a content type it cannot serve with 415
		// (PROTOCOL-HTTP2.md, "Requests"); grpc-status tells gRPC clients
		// the codec is what is unsupported.
		h := w.Header()
		h.Set("Content-Type", "application/grpc")
		h.Set("Grpc-Status", "12") // UNIMPLEMENTED
		h.Set("Grpc-Message", "unsupported codec "+strings.ReplaceAll(codec, "%", "%25"))
		w.WriteHeader(http.StatusUnsupportedMediaType)
		return
	}
	v := r.Header.Get("Grpc-Timeout")
	if v == "" {
		s.grpc.ServeHTTP(w, r)
		return
	}
	d, err := grpcx.ParseTimeout(v)
	if err != nil {
		s.grpc.ServeHTTP(w, r) // grpc-go answers a malformed timeout
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), d)
	defer cancel()
	dw := &deadlineWriter{w: w, shadow: http.Header{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.grpc.ServeHTTP(dw, r)
	}()
	select {
	case <-done:
		dw.finish()
	case <-ctx.Done():
		// The handler may run on; its writes now go nowhere, and grpc-go's
		// goroutine ends when it returns. The status is written even when
		// the request's context has ended too: the client's deadline is the
		// same instant, and whatever of the response can still reach it
		// must end with a status (net/http drops it if the stream is gone).
		dw.expire()
	}
}

// codecName is the codec of a gRPC content type ("proto" in
// application/grpc+proto), or "" for plain application/grpc.
func codecName(ct string) string {
	const p = "application/grpc+"
	if len(ct) <= len(p) || !strings.EqualFold(ct[:len(p)], p) {
		return ""
	}
	c, _, _ := strings.Cut(ct[len(p):], ";")
	return strings.ToLower(strings.TrimSpace(c))
}

var errExpired = errors.New("duet: the call's deadline has passed")

// deadlineWriter stands between grpc-go's handler transport and the real
// ResponseWriter so that the deadline can end the response while grpc-go
// still holds the writer. grpc-go edits its own header map (shadow); it
// reaches the real one under mu, when grpc-go writes and when it is done.
type deadlineWriter struct {
	w       http.ResponseWriter
	shadow  http.Header // grpc-go's goroutine only
	mu      sync.Mutex
	wrote   bool // the real header is written
	expired bool
}

func (d *deadlineWriter) Header() http.Header { return d.shadow }

// commit copies the shadow header to the real one. Before the header is
// written that is the response header, less grpc-go's "Trailer"
// pre-declaration: a client that gives up at its deadline (the same
// instant as ours) would otherwise see declared trailers with no
// grpc-status and report that instead of DEADLINE_EXCEEDED. After it, the
// trailers grpc-go declared go out as undeclared ones (http.TrailerPrefix).
func (d *deadlineWriter) commit() {
	h := d.w.Header()
	if !d.wrote {
		for k, v := range d.shadow {
			if k != "Trailer" {
				h[k] = v
			}
		}
		return
	}
	for _, names := range d.shadow["Trailer"] {
		for _, k := range strings.Split(names, ",") {
			k = http.CanonicalHeaderKey(strings.TrimSpace(k))
			if v, ok := d.shadow[k]; ok {
				h[http.TrailerPrefix+k] = v
			}
		}
	}
	for k, v := range d.shadow {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			h[k] = v
		}
	}
}

func (d *deadlineWriter) WriteHeader(code int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.expired {
		return
	}
	d.commit()
	d.wrote = true
	d.w.WriteHeader(code)
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.expired {
		return 0, errExpired
	}
	if !d.wrote {
		d.commit()
		d.wrote = true
	}
	return d.w.Write(p)
}

func (d *deadlineWriter) Flush() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.expired {
		return
	}
	if !d.wrote {
		d.commit()
		d.wrote = true
	}
	d.w.(http.Flusher).Flush()
}

// finish publishes the trailers grpc-go set after its last write. grpc-go
// has returned: nothing else touches shadow.
func (d *deadlineWriter) finish() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.commit()
}

// expire ends the call with DEADLINE_EXCEEDED, in the trailers grpc-go
// declared if it has written the header, else as a trailers-only response.
func (d *deadlineWriter) expire() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expired = true
	h := d.w.Header()
	if d.wrote {
		h.Set(http.TrailerPrefix+"Grpc-Status", "4") // DEADLINE_EXCEEDED
		h.Set(http.TrailerPrefix+"Grpc-Message", "deadline exceeded")
		return
	}
	h.Set("Content-Type", "application/grpc")
	h.Set("Grpc-Status", "4")
	h.Set("Grpc-Message", "deadline exceeded")
	d.w.WriteHeader(http.StatusOK)
}
