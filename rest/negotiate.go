package rest

import (
	"mime"
	"strconv"
	"strings"
)

// What routes can answer with, in the server's order of preference.
var (
	// A unary JSON method.
	jsonOffers = []string{"application/json"}
	// A server-streaming method: NDJSON unless Server-Sent Events are
	// preferred; application/json (what grpc-gateway clients send) gets
	// NDJSON, as grpc-gateway's newline-delimited stream is.
	streamOffers = []string{"application/x-ndjson", "text/event-stream", "application/json"}
)

// offersFor is what rt can answer with; nil means any type (a method
// returning google.api.HttpBody chooses its own, checked once known).
func offersFor(rt *route) []string {
	switch {
	case rt.m.httpBodyOut:
		return nil
	case rt.m.streaming != nil && rt.m.streaming.ServerStreams:
		return streamOffers
	}
	return jsonOffers
}

// negotiate returns the index in offers of the media type the Accept
// header prefers, or -1 when it admits none (RFC 9110 §12.5.1): each
// offer takes the quality of the most specific media range that matches
// it (type/subtype over type/* over */*); the highest quality wins, then
// the offer matched by the more specific range, then the server's order.
// Types compare case-insensitively; a quality of 0 means "not
// acceptable". An empty header accepts anything, and nil offers (any
// type) are accepted by any header.
func negotiate(accept string, offers []string) int {
	if accept == "" || offers == nil {
		return 0
	}
	for i, o := range offers { // the common case, without parsing
		if accept == o {
			return i
		}
	}
	ranges := parseAccept(accept)
	best, bestQ, bestSpec := -1, 0.0, -1
	for i, o := range offers {
		q, spec := match(ranges, o)
		if q > bestQ || (q == bestQ && q > 0 && spec > bestSpec) {
			best, bestQ, bestSpec = i, q, spec
		}
	}
	return best
}

// mediaRange is one element of an Accept header.
type mediaRange struct {
	typ, sub string // "*" for a wildcard
	q        float64
}

// parseAccept reads an Accept header with mime.ParseMediaType, element by
// element; a malformed element is skipped, as if absent.
func parseAccept(accept string) []mediaRange {
	var out []mediaRange
	for _, part := range strings.Split(accept, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if part == "*" || strings.HasPrefix(part, "*;") {
			part = "*/*" + part[1:] // a bare "*", as some clients send
		}
		mt, params, err := mime.ParseMediaType(part)
		if err != nil {
			continue
		}
		typ, sub, ok := strings.Cut(mt, "/")
		if !ok || typ == "" || sub == "" || (typ == "*" && sub != "*") {
			continue
		}
		q := 1.0
		if s, ok := params["q"]; ok {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		out = append(out, mediaRange{typ: typ, sub: sub, q: q})
	}
	return out
}

// match is the quality the most specific range matching offer gives it,
// and that range's specificity (2 exact, 1 type/*, 0 */*; -1 none).
func match(ranges []mediaRange, offer string) (q float64, spec int) {
	typ, sub, _ := strings.Cut(offer, "/")
	spec = -1
	for _, r := range ranges {
		s := -1
		switch {
		case r.typ == typ && r.sub == sub:
			s = 2
		case r.typ == typ && r.sub == "*":
			s = 1
		case r.typ == "*":
			s = 0
		}
		if s > spec {
			q, spec = r.q, s
		}
	}
	return q, spec
}
