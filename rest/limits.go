package rest

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/duetrpc/duet/internal/budget"
	"github.com/duetrpc/duet/internal/deadline"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Defaults of the limits and timeouts below; the README's "Operating
// duet" lists them all.
const (
	// DefaultBodyBudget is the bytes that all the request bodies a
	// Handler is reading may hold in memory at once.
	DefaultBodyBudget = 64 << 20
	// DefaultBodyTimeout is how long a unary request body, or one message
	// (or 64 KiB chunk) of a client stream, may take to arrive.
	DefaultBodyTimeout = 60 * time.Second
	// DefaultWriteTimeout is how long writing a unary response, or one
	// message of a server stream, may take.
	DefaultWriteTimeout = 30 * time.Second
)

// WithBodyBudget bounds the bytes that the request bodies being read
// hold in memory at once, together (default [DefaultBodyBudget]). Bodies
// grow only as their bytes arrive, never from a declared Content-Length;
// a body that would take the total past n is refused with 503 and
// code RESOURCE_EXHAUSTED, so that many concurrent slow bodies cannot
// grow the heap. Zero or less means no bound. Inside a duet.Server the
// server's budget, shared with gRPC-Web, applies unless this is given.
func WithBodyBudget(n int64) Option {
	return optionFunc(func(c *config) { c.budget, c.budgetSet = budget.New(n), true })
}

// WithBodyTimeout sets how long a unary request body may take to arrive
// in full, and how long each message (or 64 KiB HttpBody chunk) of a
// client stream may take (default [DefaultBodyTimeout]); a slower body is
// answered 408. Bidirectional streams have no such bound, since their
// clients may rightly be silent. A request answered before its body was
// read in full (refused, or too slow) has its HTTP/1.1 connection
// closed after the answer; what is left of the body, which net/http
// reads first (up to 256 KiB), gets this long again to arrive. Zero
// means no bound.
func WithBodyTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.bodyTimeout = d })
}

// WithWriteTimeout sets how long writing a unary response, or one
// message (event, line or HttpBody chunk) of a server stream, may take
// (default [DefaultWriteTimeout]). A client that stops reading is
// dropped when it passes: the connection (HTTP/1.1) or the stream
// (HTTP/2) is reset and the handler's next send fails. Zero means no
// bound.
func WithWriteTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.writeTimeout = d })
}

// budgetFor is the budget a request's body draws on: the handler's own
// when configured, else the one a duet.Server put in the request's
// context, else the default.
func (h *Handler) budgetFor(ctx context.Context) *budget.Bytes {
	if !h.cfg.budgetSet {
		if b := budget.FromContext(ctx); b != nil {
			return b
		}
	}
	return h.cfg.budget
}

// readAll reads a request body within the per-body limit, the shared
// budget and the body timeout. held is what the body took from budget b,
// to give back when the call is done with the bytes.
func (h *Handler) readAll(w http.ResponseWriter, r *http.Request, b *budget.Bytes) (body []byte, held int64, err error) {
	if d := h.cfg.bodyTimeout; d > 0 && deadline.ReadSupported(w) {
		rc := http.NewResponseController(w)
		if rc.SetReadDeadline(time.Now().Add(d)) == nil {
			// Cleared once read: on HTTP/1.1 the deadline is the
			// connection's, and would otherwise end a handler that
			// runs longer than it. Not when the body failed: closeAfter
			// has set the one that bounds what net/http still reads.
			defer func() {
				if err == nil {
					_ = rc.SetReadDeadline(time.Time{})
				}
			}()
		}
	}
	body, held, err = budget.Read(r.Body, h.cfg.maxBody, r.ContentLength, b)
	if err != nil {
		return nil, held, h.bodyError(w, r, err)
	}
	return body, held, nil
}

// bodyError turns a failure to read a request body into the problem the
// client gets.
func (h *Handler) bodyError(w http.ResponseWriter, r *http.Request, err error) error {
	h.closeAfter(w, r)
	switch {
	case errors.Is(err, budget.ErrTooLarge):
		return tooLarge(h.cfg.maxBody)
	case errors.Is(err, budget.ErrExhausted):
		w.Header().Set("Retry-After", "1")
		return httpProblem(http.StatusServiceUnavailable, codes.ResourceExhausted,
			"the server is reading too many request bodies at once; retry shortly")
	case errors.Is(err, os.ErrDeadlineExceeded):
		return httpProblem(http.StatusRequestTimeout, codes.DeadlineExceeded,
			"the request body did not arrive within "+h.cfg.bodyTimeout.String())
	case r.Context().Err() != nil:
		return bodyCanceled(err)
	}
	// Malformed framing (a bad chunk size, a body shorter than its
	// Content-Length): the client's fault, not a cancellation.
	return httpProblem(http.StatusBadRequest, codes.InvalidArgument, "malformed request body: "+err.Error())
}

// writeResponse writes a unary response's head and body within the
// write timeout. Content-Length is set so that the flush that bounds the
// write does not turn the response chunked.
func (h *Handler) writeResponse(w http.ResponseWriter, r *http.Request, httpStatus int, body []byte) {
	if r.Method == http.MethodHead {
		w.WriteHeader(httpStatus)
		return
	}
	d := h.cfg.writeTimeout
	if d <= 0 || !deadline.Supported(w) {
		w.WriteHeader(httpStatus)
		_, _ = w.Write(body)
		return
	}
	w.Header()["Content-Length"] = []string{strconv.Itoa(len(body))}
	rc := http.NewResponseController(w)
	armed := rc.SetWriteDeadline(time.Now().Add(d)) == nil
	w.WriteHeader(httpStatus)
	_, _ = w.Write(body)
	if armed {
		_ = rc.Flush()
		_ = rc.SetWriteDeadline(time.Time{})
	}
}

// writeMessage writes one message of a stream and flushes it, within
// the write timeout.
func (h *Handler) writeMessage(w http.ResponseWriter, rc *http.ResponseController, frame []byte) error {
	return deadline.Write(w, rc, h.cfg.writeTimeout, frame)
}

// readDeadline bounds one read of a client stream's body; the returned
// function clears it.
func (h *Handler) readDeadline(rc *http.ResponseController) func() {
	d := h.cfg.bodyTimeout
	if d <= 0 || rc.SetReadDeadline(time.Now().Add(d)) != nil {
		return func() {}
	}
	return func() { _ = rc.SetReadDeadline(time.Time{}) }
}

// bodyCanceled is the error of a body cut short by a client that went
// away; nobody reads the answer.
func bodyCanceled(err error) error {
	return status.Error(codes.Canceled, "reading the request body: "+err.Error())
}

// closeAfter makes an HTTP/1.1 response that is answered before its
// request body was read in full close the connection. Once the handler
// returns, net/http still reads up to 256 KiB of the unread body (so
// that a client that sends its whole body before it reads gets the
// answer rather than a reset): that read is bounded by the body
// timeout, as the body's was, so that a client that stops sending is
// not waited for forever.
func (h *Handler) closeAfter(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor != 1 {
		return
	}
	w.Header().Set("Connection", "close")
	if d := h.cfg.bodyTimeout; d > 0 {
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(d))
	}
}
