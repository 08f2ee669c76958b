package duet

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// CORS is the cross-origin policy for browsers calling REST and gRPC-Web.
type CORS struct {
	// Origins allowed, such as "https://app.example.com"; "*" allows any
	// (and then credentials are not allowed).
	Origins []string
	// Headers requests may send besides the CORS-safelisted ones; the
	// gRPC-Web headers and Content-Type, Authorization are always allowed.
	Headers []string
	// ExposeHeaders responses may show scripts besides grpc-status,
	// grpc-message and grpc-status-details-bin, such as "Location".
	ExposeHeaders []string
	// Credentials allows cookies and HTTP authentication.
	Credentials bool
	// MaxAge is how long browsers may cache a preflight; default 10m.
	MaxAge time.Duration
}

var corsAlwaysAllowed = []string{"Content-Type", "Authorization", "X-Grpc-Web", "X-User-Agent", "Grpc-Timeout", "Connect-Timeout-Ms", "If-None-Match"}
var corsAlwaysExposed = []string{"Grpc-Status", "Grpc-Message", "Grpc-Status-Details-Bin", "Location", "ETag", "Retry-After"}

func (c *CORS) allowOrigin(origin string) (string, bool) {
	for _, o := range c.Origins {
		if o == "*" {
			if c.Credentials {
				return origin, true
			}
			return "*", true
		}
		if strings.EqualFold(o, origin) {
			return origin, true
		}
	}
	return "", false
}

// handle answers preflights and decorates responses; it reports whether
// the request was a preflight it answered.
func (c *CORS) handle(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	allowed, ok := c.allowOrigin(origin)
	h := w.Header()
	h.Add("Vary", "Origin")
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	if !ok {
		if preflight {
			w.WriteHeader(http.StatusForbidden)
			return true
		}
		return false
	}
	h.Set("Access-Control-Allow-Origin", allowed)
	if c.Credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if !preflight {
		h.Set("Access-Control-Expose-Headers", strings.Join(append(append([]string{}, corsAlwaysExposed...), c.ExposeHeaders...), ", "))
		return false
	}
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE")
	h.Set("Access-Control-Allow-Headers", strings.Join(append(append([]string{}, corsAlwaysAllowed...), c.Headers...), ", "))
	maxAge := c.MaxAge
	if maxAge == 0 {
		maxAge = 10 * time.Minute
	}
	h.Set("Access-Control-Max-Age", strconv.Itoa(int(maxAge.Seconds())))
	w.WriteHeader(http.StatusNoContent)
	return true
}
