package call

import (
	"encoding/base64"
	"net/http"
	"strings"

	"google.golang.org/grpc/metadata"
)

// Headers is the allow-list that decides which request headers become
// incoming metadata (metadata.FromIncomingContext) on every protocol duet
// frames itself. Its zero value admits what [NewHeaders] admits with no
// names.
//
// Admitted by default:
//
//   - Authorization;
//   - the W3C trace context, Traceparent, Tracestate and Baggage, so that
//     tracing (otelgrpc among others) continues a client's trace;
//   - Grpc-Metadata-NAME, as NAME: grpc-gateway's convention for sending
//     any metadata over HTTP.
//
// Never admitted: hop-by-hop and framing headers (Connection, Host,
// Content-Length, TE, ...). Everything else, Cookie included, only when
// named. Values of keys ending in "-bin" are base64 on the wire and
// decoded here, as gRPC does; one that does not decode is dropped.
type Headers struct {
	names    map[string]bool
	prefixes []string
}

// defaultHeaders are admitted by every allow-list.
var defaultHeaders = []string{"authorization", "traceparent", "tracestate", "baggage"}

// metadataPrefix is the prefix that carries any metadata over HTTP; it is
// removed from the key.
const metadataPrefix = "grpc-metadata-"

// NewHeaders returns the default allow-list plus names, case-insensitive.
// A name ending in "*" admits every header it prefixes, as is.
func NewHeaders(names ...string) *Headers {
	h := &Headers{names: map[string]bool{}}
	for _, n := range defaultHeaders {
		h.names[n] = true
	}
	for _, n := range names {
		n = strings.ToLower(n)
		if p, ok := strings.CutSuffix(n, "*"); ok {
			h.prefixes = append(h.prefixes, p)
			continue
		}
		h.names[n] = true
	}
	return h
}

// Names returns the header names admitted besides the defaults'
// Grpc-Metadata- prefix, for documentation such as CORS preflight
// answers. Prefixes end in "*".
func (h *Headers) Names() []string {
	if h == nil || h.names == nil {
		return append([]string(nil), defaultHeaders...)
	}
	out := make([]string, 0, len(h.names)+len(h.prefixes))
	for n := range h.names {
		out = append(out, n)
	}
	for _, p := range h.prefixes {
		out = append(out, p+"*")
	}
	return out
}

// neverMetadata are the hop-by-hop and framing headers (RFC 9110 §7.6.1),
// which describe one connection, not the call.
var neverMetadata = map[string]bool{
	"connection": true, "keep-alive": true, "proxy-connection": true, "te": true,
	"trailer": true, "transfer-encoding": true, "upgrade": true, "proxy-authorization": true,
	"proxy-authenticate": true, "host": true, "content-length": true,
}

// Incoming returns the metadata for the admitted headers of h, or nil when
// none is admitted.
func (h *Headers) Incoming(hdr http.Header) metadata.MD {
	if h == nil || h.names == nil {
		h = defaultPolicy
	}
	var md metadata.MD
	var buf [64]byte
	for k, vs := range hdr {
		// Most headers are not admitted: decide on a lower-case copy in
		// buf before allocating one.
		if len(k) <= len(buf) {
			b := buf[:len(k)]
			for i := 0; i < len(k); i++ {
				c := k[i]
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				b[i] = c
			}
			if !h.admits(b) {
				continue
			}
		}
		key, ok := h.key(strings.ToLower(k))
		if !ok {
			continue
		}
		md = appendValues(md, key, vs)
	}
	return md
}

var defaultPolicy = NewHeaders()

// admits is key for a lower-case name held in a buffer, without converting
// it to a string.
func (h *Headers) admits(lower []byte) bool {
	if neverMetadata[string(lower)] {
		return false
	}
	if h.names[string(lower)] {
		return true
	}
	if len(lower) > len(metadataPrefix) && string(lower[:len(metadataPrefix)]) == metadataPrefix {
		return true
	}
	for _, p := range h.prefixes {
		if len(lower) > len(p) && string(lower[:len(p)]) == p {
			return true
		}
	}
	return false
}

// key returns the metadata key of an admitted lower-case header name.
func (h *Headers) key(lower string) (string, bool) {
	if neverMetadata[lower] {
		return "", false
	}
	if h.names[lower] {
		return lower, true
	}
	if k, ok := strings.CutPrefix(lower, metadataPrefix); ok && k != "" {
		return k, true
	}
	for _, p := range h.prefixes {
		if strings.HasPrefix(lower, p) && len(lower) > len(p) {
			return lower, true
		}
	}
	return "", false
}

// appendValues adds a header's values to md under key, decoding those of
// "-bin" keys and dropping the ones that do not decode.
func appendValues(md metadata.MD, key string, vs []string) metadata.MD {
	if md == nil {
		md = metadata.MD{}
	}
	if !strings.HasSuffix(key, "-bin") {
		md[key] = append(md[key], vs...)
		return md
	}
	for _, v := range vs {
		if b, err := decodeBinary(v); err == nil {
			md[key] = append(md[key], string(b))
		}
	}
	return md
}

// decodeBinary decodes a "-bin" value, padded or not, as gRPC accepts.
func decodeBinary(v string) ([]byte, error) {
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(v, "="))
}

// notGRPCMetadata are request headers of gRPC and gRPC-Web themselves, and
// those a browser adds to every fetch, which describe the request, not the
// call: [Headers.IncomingGRPC] never admits them.
var notGRPCMetadata = map[string]bool{
	"content-type": true, "grpc-timeout": true, "grpc-encoding": true, "grpc-accept-encoding": true,
	"x-grpc-web": true, "x-user-agent": true, "accept": true, "accept-encoding": true,
	"accept-language": true, "origin": true, "referer": true, "pragma": true, "cache-control": true,
	"sec-fetch-mode": true, "sec-fetch-site": true, "sec-fetch-dest": true, "cookie": true,
	// Connect's own (connectrpc.com/docs/protocol).
	"connect-protocol-version": true, "connect-timeout-ms": true, "content-encoding": true,
	"connect-content-encoding": true, "connect-accept-encoding": true,
}

// IncomingGRPC returns the metadata of a protocol whose metadata are its
// request headers, as gRPC's are: gRPC-Web (grpc/grpc doc/PROTOCOL-WEB.md)
// and Connect (connectrpc.com/docs/protocol, Custom-Metadata).
// Every header is admitted, as grpc-go admits them, except the hop-by-hop
// and framing ones, the protocol's own and the ones browsers add to every
// request; Cookie only when named, as everywhere. Grpc-Metadata-NAME is
// NAME, as on REST. Values of "-bin" keys are decoded.
func (h *Headers) IncomingGRPC(hdr http.Header) metadata.MD {
	if h == nil || h.names == nil {
		h = defaultPolicy
	}
	var md metadata.MD
	for k, vs := range hdr {
		key := strings.ToLower(k)
		if neverMetadata[key] || (notGRPCMetadata[key] && !h.names[key]) {
			continue
		}
		if k, ok := strings.CutPrefix(key, metadataPrefix); ok && k != "" {
			key = k // the convention works here too
		}
		md = appendValues(md, key, vs)
	}
	return md
}
