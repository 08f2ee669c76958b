package duet

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// CORS is the cross-origin policy for browsers calling REST and gRPC-Web.
type CORS struct {
	// Origins allowed: an exact origin such as "https://app.example.com",
	// a pattern such as "https://*.example.com" (any subdomain, at a
	// label boundary, with that scheme and port; not example.com itself),
	// or "*" for any origin. "*" together with Credentials is refused
	// when the server is built: it would let every web site read
	// responses with its visitors' cookies.
	Origins []string
	// Headers requests may send besides the CORS-safelisted ones; the
	// gRPC-Web headers and Content-Type, Authorization, If-Match and
	// If-None-Match are always allowed. A preflight asking for another
	// header is answered 403.
	Headers []string
	// ExposeHeaders responses may show scripts besides grpc-status,
	// grpc-message and grpc-status-details-bin, such as "Location".
	ExposeHeaders []string
	// Credentials allows cookies and HTTP authentication.
	Credentials bool
	// MaxAge is how long browsers may cache a preflight; default 10m.
	MaxAge time.Duration
}

var corsAlwaysAllowed = []string{"Content-Type", "Authorization", "X-Grpc-Web", "X-User-Agent", "Grpc-Timeout", "Connect-Timeout-Ms", "If-None-Match", "If-Match"}
var corsAlwaysExposed = []string{"Grpc-Status", "Grpc-Message", "Grpc-Status-Details-Bin", "Location", "ETag", "Retry-After"}

// corsSafelisted request headers need no permission (Fetch standard).
var corsSafelisted = []string{"Accept", "Accept-Language", "Content-Language"}

const corsMethods = "GET, HEAD, POST, PUT, PATCH, DELETE"

// corsPolicy is a CORS compiled when the server is built.
type corsPolicy struct {
	CORS
	any      bool
	exact    map[string]bool // lower-case origins
	patterns []originPattern
	headers  map[string]bool // lower-case names a request may send
}

// originPattern is "scheme://*.suffix[:port]".
type originPattern struct{ scheme, suffix, port string }

// compile checks the policy and prepares it; it panics on a policy that
// is a mistake, as http.ServeMux does on a bad pattern.
func (c CORS) compile() *corsPolicy {
	p := &corsPolicy{CORS: c, exact: map[string]bool{}, headers: map[string]bool{}}
	for _, o := range c.Origins {
		o = strings.ToLower(strings.TrimSpace(o))
		switch {
		case o == "*":
			if c.Credentials {
				panic(`duet: CORS Origins "*" with Credentials would let any web site read responses with its visitors' cookies; list the origins`)
			}
			p.any = true
		case strings.Contains(o, "*"):
			scheme, rest, ok := strings.Cut(o, "://*.")
			if !ok || scheme == "" || rest == "" || strings.Contains(rest, "*") || strings.Contains(rest, "/") {
				panic("duet: CORS origin pattern " + strconv.Quote(o) + ` must look like "https://*.example.com" or "https://*.example.com:8443"`)
			}
			host, port, _ := strings.Cut(rest, ":")
			p.patterns = append(p.patterns, originPattern{scheme: scheme, suffix: "." + host, port: port})
		default:
			p.exact[o] = true
		}
	}
	for _, hs := range [][]string{corsAlwaysAllowed, corsSafelisted, c.Headers} {
		for _, h := range hs {
			p.headers[strings.ToLower(h)] = true
		}
	}
	return p
}

// allowOrigin decides an Origin header, which browsers send lower-case
// ("null" for opaque origins, which no entry but "*" admits).
func (p *corsPolicy) allowOrigin(origin string) (string, bool) {
	lo := strings.ToLower(origin)
	if p.exact[lo] {
		return origin, true
	}
	if scheme, hostport, ok := strings.Cut(lo, "://"); ok && !strings.ContainsAny(hostport, "/?#@") {
		host, port, _ := strings.Cut(hostport, ":")
		for _, pt := range p.patterns {
			if scheme == pt.scheme && port == pt.port && len(host) > len(pt.suffix) && strings.HasSuffix(host, pt.suffix) {
				return origin, true
			}
		}
	}
	if p.any {
		return "*", true
	}
	return "", false
}

// allowPreflight reports whether the method and headers a preflight asks
// for are allowed.
func (p *corsPolicy) allowPreflight(r *http.Request) bool {
	switch r.Header.Get("Access-Control-Request-Method") {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return false
	}
	for _, v := range r.Header.Values("Access-Control-Request-Headers") {
		for _, h := range strings.Split(v, ",") {
			if h = strings.ToLower(strings.TrimSpace(h)); h != "" && !p.headers[h] {
				return false
			}
		}
	}
	return true
}

// handle answers preflights and decorates responses; it reports whether
// the request was a preflight it answered.
func (p *corsPolicy) handle(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	allowed, ok := p.allowOrigin(origin)
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
	if preflight && !p.allowPreflight(r) {
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
		w.WriteHeader(http.StatusForbidden)
		return true
	}
	h.Set("Access-Control-Allow-Origin", allowed)
	if p.Credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if !preflight {
		h.Set("Access-Control-Expose-Headers", strings.Join(append(append([]string{}, corsAlwaysExposed...), p.ExposeHeaders...), ", "))
		return false
	}
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	h.Set("Access-Control-Allow-Methods", corsMethods)
	h.Set("Access-Control-Allow-Headers", strings.Join(append(append([]string{}, corsAlwaysAllowed...), p.Headers...), ", "))
	maxAge := p.MaxAge
	if maxAge == 0 {
		maxAge = 10 * time.Minute
	}
	h.Set("Access-Control-Max-Age", strconv.Itoa(int(maxAge.Seconds())))
	w.WriteHeader(http.StatusNoContent)
	return true
}
