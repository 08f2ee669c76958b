// Package deadline bounds the writes of a response one message at a
// time, so that a client that stops reading is dropped without a
// deadline on the whole response, which a long stream would pass.
package deadline

import (
	"io"
	"net/http"
	"time"
)

// Write writes one message (an SSE event, an NDJSON line, a gRPC-Web
// frame) and flushes it, within d. The deadline is cleared afterwards:
// an idle stream is not a slow reader, and on HTTP/1.1 the deadline is
// the connection's, which the next request would otherwise inherit.
// d <= 0 means no bound; without rc (tests writing to a buffer) Write
// only writes.
func Write(w io.Writer, rc *http.ResponseController, d time.Duration, msg []byte) error {
	if rc == nil {
		_, err := w.Write(msg)
		return err
	}
	armed := d > 0 && rc.SetWriteDeadline(time.Now().Add(d)) == nil
	_, err := w.Write(msg)
	if err == nil {
		err = rc.Flush()
	}
	if armed {
		_ = rc.SetWriteDeadline(time.Time{})
	}
	return err
}

// Supported reports whether w, or a writer it unwraps to, can take a
// write deadline, as [http.ResponseController.SetWriteDeadline] looks
// for one. A writer that cannot (a recorder, a middleware's wrapper
// without Unwrap) costs SetWriteDeadline an error built with fmt on every
// call; asking first keeps that off the path of every response.
func Supported(w http.ResponseWriter) bool {
	return has[interface{ SetWriteDeadline(time.Time) error }](w)
}

// ReadSupported is [Supported] for read deadlines: whether w, or a writer
// it unwraps to, has SetReadDeadline.
func ReadSupported(w http.ResponseWriter) bool {
	return has[interface{ SetReadDeadline(time.Time) error }](w)
}

// has reports whether w, or a writer it unwraps to, implements M: the
// search http.ResponseController makes.
func has[M any](w http.ResponseWriter) bool {
	for {
		switch t := w.(type) {
		case M:
			return true
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return false
		}
	}
}
