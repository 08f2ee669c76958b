package grpcx

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Header names that carry a deadline on HTTP requests.
const (
	// TimeoutHeader is gRPC's own header: up to eight digits and a unit,
	// H, M, S, m (milliseconds), u (microseconds) or n (nanoseconds), as
	// in "100m" or "5S". gRPC-Web clients send it too.
	TimeoutHeader = "Grpc-Timeout"
	// TimeoutMsHeader is a plain count of milliseconds, the header the
	// Connect protocol (connect-go, connect-es, vanguard) uses, so REST
	// clients of those ecosystems need nothing new.
	TimeoutMsHeader = "Connect-Timeout-Ms"
)

// HeaderTimeout reads a timeout from HTTP request headers: Grpc-Timeout
// first, then Connect-Timeout-Ms. ok is false when neither is present. A
// malformed value is an INVALID_ARGUMENT error with a BadRequest field
// violation naming the header, never silently ignored.
func HeaderTimeout(h http.Header) (d time.Duration, ok bool, err error) {
	// The names are canonical, as net/http stores them: indexing skips
	// Get's canonicalisation on every call.
	if v := first(h[TimeoutHeader]); v != "" {
		d, err := ParseTimeout(v)
		if err != nil {
			return 0, false, badHeader(TimeoutHeader, err.Error())
		}
		return d, true, nil
	}
	if v := first(h[TimeoutMsHeader]); v != "" {
		if len(v) > 10 {
			return 0, false, badHeader(TimeoutMsHeader, "at most 10 digits")
		}
		ms, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, false, badHeader(TimeoutMsHeader, "not a whole number of milliseconds")
		}
		return time.Duration(ms) * time.Millisecond, true, nil
	}
	return 0, false, nil
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

func badHeader(name, why string) error {
	st := status.New(codes.InvalidArgument, fmt.Sprintf("malformed %s header: %s", name, why))
	st, _ = st.WithDetails(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{
		Field: name, Reason: "MALFORMED_TIMEOUT", Description: why,
	}}})
	return st.Err()
}

// ParseTimeout parses a timeout in gRPC's wire format: one to eight digits
// followed by a unit (H, M, S, m, u, n).
func ParseTimeout(s string) (time.Duration, error) {
	if len(s) < 2 {
		return 0, fmt.Errorf("timeout %q is too short", s)
	}
	digits, unit := s[:len(s)-1], s[len(s)-1]
	if len(digits) > 8 {
		return 0, fmt.Errorf("timeout %q has more than 8 digits", s)
	}
	var n int64
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("timeout %q is not digits and a unit", s)
		}
		n = n*10 + int64(c-'0')
	}
	var per time.Duration
	switch unit {
	case 'H':
		per = time.Hour
	case 'M':
		per = time.Minute
	case 'S':
		per = time.Second
	case 'm':
		per = time.Millisecond
	case 'u':
		per = time.Microsecond
	case 'n':
		per = time.Nanosecond
	default:
		return 0, fmt.Errorf("timeout %q has unknown unit %q", s, unit)
	}
	if n > math.MaxInt64/int64(per) {
		return math.MaxInt64, nil
	}
	return time.Duration(n) * per, nil
}

// EncodeTimeout formats d in gRPC's wire format with the finest unit that
// fits in eight digits, rounding up so a deadline is never shortened by the
// encoding. Non-positive durations encode as "0n".
func EncodeTimeout(d time.Duration) string {
	if d <= 0 {
		return "0n"
	}
	const max = 99_999_999
	for _, u := range []struct {
		per  time.Duration
		unit string
	}{{time.Nanosecond, "n"}, {time.Microsecond, "u"}, {time.Millisecond, "m"}, {time.Second, "S"}, {time.Minute, "M"}, {time.Hour, "H"}} {
		n := (d + u.per - 1) / u.per
		if n <= max {
			return strconv.FormatInt(int64(n), 10) + u.unit
		}
	}
	return strconv.Itoa(max) + "H"
}
