package rest

import "net/http"

// Routes reports whether one of h's routes serves the path of r, with r's
// method or another. A server that speaks other protocols on the same port
// asks it before it gives a path to one of them: duet.Server gives a gRPC
// method's own path (/pkg.Service/Method) to the Connect protocol only when
// no REST rule is bound to it.
func (h *Handler) Routes(r *http.Request) bool {
	var buf [10]string
	rt, _, allowed := h.match(buf[:0], r.URL.EscapedPath(), r.Method)
	return rt != nil || len(allowed) > 0
}
