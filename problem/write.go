package problem

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// From converts any error to a problem: a *Problem (also wrapped) as it is;
// anything with a GRPCStatus method (also wrapped) through [FromStatus];
// context.DeadlineExceeded as 504 DEADLINE_EXCEEDED; context.Canceled as 499
// CANCELLED; everything else as 500 INTERNAL carrying err's text as its
// detail. From does not redact: use a [Writer] (or [Write]) to put a problem
// on the wire. A nil error yields nil.
func From(err error) *Problem {
	p, _ := from(err)
	return p
}

// from is From, also saying whether the problem is new (built from a
// status) rather than one that err holds, which its owner may reuse.
func from(err error) (p *Problem, fresh bool) {
	if err == nil {
		return nil, false
	}
	if errors.As(err, &p) {
		return p, false
	}
	var gs interface{ GRPCStatus() *status.Status }
	if errors.As(err, &gs) {
		if st := gs.GRPCStatus(); st != nil && st.Code() != codes.OK {
			return FromStatus(st), true
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return FromStatus(status.New(codes.DeadlineExceeded, err.Error())), true
	case errors.Is(err, context.Canceled):
		return FromStatus(status.New(codes.Canceled, err.Error())), true
	}
	return FromStatus(status.New(codes.Internal, err.Error())), true
}

// Writer writes errors as problems. Its zero value is what [Write] uses:
// redacting, for production.
type Writer struct {
	// Debug puts everything on the wire: the messages of UNKNOWN, INTERNAL
	// and DATA_LOSS errors and DebugInfo details. Never set it in
	// production; internal messages can carry secrets.
	Debug bool
}

// redactedDetail replaces the message of errors whose text was not meant
// for clients; loggedDetail, of those marked [Reported], says so.
const (
	redactedDetail = "The server could not complete the request."
	loggedDetail   = "The server could not complete the request. The error was logged."
)

// Write writes err to w as an application/problem+json response, using the
// zero [Writer]. See [Writer.Write].
func Write(w http.ResponseWriter, r *http.Request, err error) {
	Writer{}.Write(w, r, err)
}

// Write writes err to w as an application/problem+json response with the
// problem's HTTP status. It sets Retry-After from a RetryInfo detail and,
// when a LocalizedMessage detail matches the request's Accept-Language, uses
// that message as the detail and sets Content-Language. r may be nil.
func (wr Writer) Write(w http.ResponseWriter, r *http.Request, err error) {
	p := wr.Problem(r, err)
	if p == nil {
		p = From(errors.New("nil error written as a problem"))
		if !wr.Debug {
			p.Detail = redactedDetail
		}
	}
	// appendJSON directly: json.Marshal would only copy and re-check it.
	body, mErr := p.appendJSON(make([]byte, 0, 256))
	if mErr != nil { // only non-JSON values placed in Extensions by hand
		body = []byte(`{"type":"about:blank","title":"Internal Server Error","status":500,"code":"INTERNAL"}`)
		p.Status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", MediaType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	if s, ok := p.Extensions[memberRetryDelay].(string); ok {
		if d, err := time.ParseDuration(s); err == nil && d > 0 {
			h.Set("Retry-After", strconv.FormatInt(int64(math.Ceil(d.Seconds())), 10))
		}
	}
	if lm, ok := p.Extensions[memberLocalizedMsg].(map[string]any); ok && p.Extensions[memberMessage] != nil {
		if loc, _ := lm["locale"].(string); loc != "" {
			h.Set("Content-Language", loc)
		}
	}
	w.WriteHeader(p.statusOr500())
	_, _ = w.Write(append(body, '\n'))
}

// Problem returns the problem that [Writer.Write] would send for err, after
// redaction and localization, without writing it: for transports that embed
// a problem in a stream, such as a Server-Sent Events error event. r may be
// nil. The result is a new value; err's own problem is not modified.
func (wr Writer) Problem(r *http.Request, err error) *Problem {
	src, fresh := from(err)
	if src == nil {
		return nil
	}
	p := src
	if !fresh { // err's own problem: change a copy
		cp := *src
		cp.Extensions = make(map[string]any, len(src.Extensions))
		for k, v := range src.Extensions {
			cp.Extensions[k] = v
		}
		p = &cp
	}
	if p.Status == 0 {
		p.Status = http.StatusInternalServerError
	}
	if !wr.Debug {
		delete(p.Extensions, memberDebugInfo)
		c := p.GRPCStatusCode()
		if c == codes.Unknown || c == codes.Internal || c == codes.DataLoss {
			p.Detail = redactedDetail
			if reported(err) {
				p.Detail = loggedDetail
			}
			delete(p.Extensions, memberMessage)
		}
	}
	if r != nil {
		p.localize(r.Header.Get("Accept-Language"))
	}
	return p
}

// GRPCStatusCode returns the gRPC code of the problem, as
// [Problem.GRPCStatus] would, without building the status.
func (p *Problem) GRPCStatusCode() codes.Code {
	if name, ok := p.Extensions[memberCode].(string); ok {
		if c, ok := ParseCode(name); ok {
			return c
		}
	}
	return Code(p.statusOr500())
}

// localize swaps in a LocalizedMessage that matches acceptLanguage (RFC
// 4647 basic filtering, highest quality first), keeping the original
// message in the grpc_message member so the status round trip stays exact.
func (p *Problem) localize(acceptLanguage string) {
	lm, ok := p.Extensions[memberLocalizedMsg].(map[string]any)
	if !ok || acceptLanguage == "" {
		return
	}
	locale, _ := lm["locale"].(string)
	msg, _ := lm["message"].(string)
	if locale == "" || msg == "" || !acceptsLanguage(acceptLanguage, locale) {
		return
	}
	if msg != p.Detail {
		if _, kept := p.Extensions[memberMessage]; !kept {
			p.Extensions[memberMessage] = p.Detail
		}
		p.Detail = msg
	} else {
		p.Extensions[memberMessage] = p.Detail
	}
}

// acceptsLanguage reports whether an Accept-Language header admits tag.
func acceptsLanguage(header, tag string) bool {
	tag = strings.ToLower(tag)
	for _, part := range strings.Split(header, ",") {
		rng, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		rng = strings.ToLower(strings.TrimSpace(rng))
		if q, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
				continue
			}
		}
		if rng == "" || rng == "*" {
			continue // a wildcard asks for nothing in particular
		}
		if rng == tag || strings.HasPrefix(tag, rng+"-") {
			return true
		}
	}
	return false
}
