package duet

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// serveGet serves a unary call made with GET, which the protocol allows
// for methods with idempotency_level = NO_SIDE_EFFECTS so that browsers
// and CDNs can cache it: the request message is in the query, with
//
//	message      the encoded message (required)
//	encoding     its codec, proto or json (required)
//	base64=1     message is base64url (padding optional)
//	compression  message's compression, one of the registered compressors
//	connect=v1   the protocol version (optional)
//
// The response is a unary response, with no Cache-Control of its own:
// the handler sets one through its header metadata when it wants.
func (c *connectHandler) serveGet(w http.ResponseWriter, r *http.Request) {
	m := c.methods[r.URL.Path]
	if m == nil {
		writeConnectNotFound(w, r)
		return
	}
	if !m.get {
		w.Header().Set("Allow", http.MethodPost)
		writeConnectStatus(w, r, http.StatusMethodNotAllowed)
		return
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		c.unaryResponse(w, r, false).Finish(status.Errorf(codes.InvalidArgument, "connect: malformed query: %v", err), nil)
		return
	}
	var json bool
	switch q.Get("encoding") {
	case "proto":
	case "json":
		json = true
	default:
		writeConnectStatus(w, r, http.StatusUnsupportedMediaType)
		return
	}
	u := c.unaryResponse(w, r, json)
	if v := q.Get("connect"); v != "" && v != "v1" {
		u.fail(r, status.Errorf(codes.InvalidArgument, "connect: connect=%q is not supported; use v1", v))
		return
	}
	msg, ok := q["message"]
	if !ok {
		u.fail(r, status.Error(codes.InvalidArgument, "connect: a GET request needs the message query parameter"))
		return
	}
	b := []byte(msg[0])
	if q.Get("base64") == "1" {
		if b, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(msg[0], "=")); err != nil {
			u.fail(r, status.Errorf(codes.InvalidArgument, "connect: the message query parameter is not base64url: %v", err))
			return
		}
	}
	if len(b) > c.maxMsg {
		u.fail(r, status.Errorf(codes.ResourceExhausted, "connect: the request message exceeds the limit of %d bytes", c.maxMsg))
		return
	}
	decomp, ok := c.compressors.request(q.Get("compression"))
	if !ok {
		u.fail(r, status.Errorf(codes.Unimplemented, "connect: compression %q is not supported; supported: %s", q.Get("compression"), c.compressors.accept))
		return
	}
	if decomp != nil {
		var held int64
		b, held, err = c.inflate(decomp, b)
		defer c.budget.Give(held)
		if err != nil {
			u.fail(r, err)
			return
		}
	}
	u.req = b
	c.calls.Serve(&u.cs, r, m.Method, u)
}
