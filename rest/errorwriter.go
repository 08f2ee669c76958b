package rest

import (
	"net/http"

	"github.com/duetrpc/duet/problem"
	"google.golang.org/grpc/status"
)

// ErrorWriter shapes the problem a REST error response carries, for
// problem types of the service's own (a "type" URI with documentation
// behind it) and extra members. st is the error as the call ended, with
// its full message and details, whatever produced it: the method, an
// interceptor, or routing and binding (404, 405, 406, 400 naming a
// field). p is the problem the Handler would write: already redacted
// (the message of INTERNAL, UNKNOWN and DATA_LOSS errors replaced, unless
// [WithDebugErrors]) and localized. Change p and return it, or return a
// problem of your own; nil writes p. Put nothing from st's message in the
// problem that p left out: it can carry secrets.
//
// The returned problem is written as it is: its Status is the response's
// status (500 when 0); with [WithStatusErrors] it is written as a
// google.rpc.Status, from its "code" member and detail. It also shapes the
// final "error" event or line of a stream.
type ErrorWriter func(r *http.Request, st *status.Status, p *problem.Problem) *problem.Problem

// WithErrorWriter sets the [ErrorWriter] every REST problem response goes
// through, as connect-go's and grpc-gateway's error handlers do.
func WithErrorWriter(f ErrorWriter) Option {
	return optionFunc(func(c *config) { c.errorWriter = f })
}

// problem is the problem the Handler writes for err: redacted, localized,
// then shaped by the ErrorWriter, if any.
func (h *Handler) problem(r *http.Request, err error) *problem.Problem {
	p := problem.Writer{Debug: h.cfg.debug}.Problem(r, err)
	if h.cfg.errorWriter == nil {
		return p
	}
	q := h.cfg.errorWriter(r, problem.From(err).GRPCStatus(), p)
	if q == nil {
		return p
	}
	if q.Status == 0 {
		q.Status = http.StatusInternalServerError
	}
	return q
}

// writtenAsIs writes p, an already finished problem, without redacting
// or localizing it again.
var writtenAsIs = problem.Writer{Debug: true}
