package rest

import (
	"github.com/duetrpc/duet/internal/call"
	"google.golang.org/grpc/metadata"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Conditional writes (RFC 9110 §13.1). A PUT, PATCH or DELETE that
// carries If-Match or If-None-Match is evaluated against the resource's
// current ETag, which is the ETag a GET of the same path answers: the
// method whose GET rule has the same path template is called first,
// through the same interceptors, and its response rendered as a GET
// would be. If-Match that names another ETag (or a resource that does
// not exist) and If-None-Match that matches (for "*": the resource
// exists, so a PUT that means to create must not replace) are answered
// 412 with code FAILED_PRECONDITION, and the write is not called. A
// write whose path no GET rule serves cannot be evaluated and is answered
// 412 as well, rather than performed unconditionally.
//
// The check and the write are two calls: a write that races another
// between them is not caught here. Services that need that guarantee
// compare a version inside the write as well.

// conditions caches, per write route, the GET route of the same path.
type conditions struct {
	once sync.Once
	get  map[*route]*route
}

func (h *Handler) getRouteFor(rt *route) *route {
	h.cond.once.Do(func() {
		h.cond.get = map[*route]*route{}
		gets := map[string]*route{}
		for _, r := range h.routes {
			if r.verb == http.MethodGet && r.m.unary != nil {
				gets[string(r.m.desc.Parent().FullName())+" "+r.tmpl.Shape()] = r
				gets[r.tmpl.Shape()] = r
			}
		}
		for _, r := range h.routes {
			switch r.verb {
			case http.MethodPut, http.MethodPatch, http.MethodDelete:
			default:
				continue
			}
			if g := gets[string(r.m.desc.Parent().FullName())+" "+r.tmpl.Shape()]; g != nil {
				h.cond.get[r] = g
			} else if g := gets[r.tmpl.Shape()]; g != nil {
				h.cond.get[r] = g
			}
		}
	})
	return h.cond.get[rt]
}

// precondition evaluates the request's conditions; a non-nil error is
// the answer to give instead of calling the method.
func (h *Handler) precondition(r *http.Request, rt *route, path reqPath) error {
	switch r.Method {
	case http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return nil
	}
	im, inm := r.Header.Get("If-Match"), r.Header.Get("If-None-Match")
	if im == "" && inm == "" {
		return nil
	}
	get := h.getRouteFor(rt)
	if get == nil {
		return preconditionFailed("the server cannot evaluate the conditions of " + r.Method + " " + r.URL.Path + ": no GET serves its current representation")
	}
	etag, exists, err := h.currentETag(r, get, path)
	if err != nil {
		return err
	}
	if im != "" {
		if !exists {
			return preconditionFailed("If-Match: the resource does not exist")
		}
		if im != "*" && !strongMatch(im, etag) {
			return preconditionFailed("If-Match: the resource has changed; its current ETag is " + etag)
		}
	}
	if inm != "" && exists && etagMatch(inm, etag) {
		if strings.TrimSpace(inm) == "*" {
			return preconditionFailed("If-None-Match: *: the resource already exists")
		}
		return preconditionFailed("If-None-Match: the resource's current ETag is " + etag)
	}
	return nil
}

// currentETag calls the GET method for the request's path, through the
// call layer like any call, and returns the ETag a GET would answer;
// exists is false when it answers NOT_FOUND.
func (h *Handler) currentETag(r *http.Request, get *route, path reqPath) (etag string, exists bool, err error) {
	c := &getCall{get: get, path: path}
	h.calls.Serve(&c.cs, r, get.m.call, c)
	if status.Code(c.err) == codes.NotFound {
		return "", false, nil
	}
	if c.err != nil {
		return "", false, c.err
	}
	// Render it exactly as a GET of the path would be, headers and all,
	// into a writer that keeps only the headers.
	gr := r.Clone(r.Context())
	gr.Method = http.MethodGet
	gr.URL = &url.URL{Path: r.URL.Path, RawPath: r.URL.RawPath}
	gr.Header.Del("If-None-Match")
	gr.Header.Del("If-Match")
	var hw headerWriter
	h.render(&hw, gr, get, c.resp, c.header, c.trailer)
	if hw.status != http.StatusOK {
		return "", false, status.Errorf(codes.Internal, "rendering the current representation: status %d", hw.status)
	}
	return hw.header.Get("Etag"), true, nil
}

// getCall is the call.Transport of the GET a precondition makes: the
// request from the path alone, the outcome kept.
type getCall struct {
	cs      call.Stream
	get     *route
	path    reqPath
	header  metadata.MD
	trailer metadata.MD
	resp    proto.Message
	err     error
}

func (c *getCall) RecvMsg(m proto.Message) error { return c.get.bindPath(m.ProtoReflect(), c.path) }
func (c *getCall) SendHeader(md metadata.MD) error {
	c.header = md
	return nil
}
func (c *getCall) SendMsg(m proto.Message) error {
	c.resp = m
	return nil
}
func (c *getCall) Finish(err error, trailer metadata.MD) {
	if err == nil && c.resp == nil {
		err = status.Error(codes.Internal, "the method returned without a response")
	}
	c.err, c.trailer = err, trailer
}

// headerWriter is a ResponseWriter that keeps the head and drops the body.
type headerWriter struct {
	header http.Header
	status int
}

func (w *headerWriter) Header() http.Header {
	if w.header == nil {
		w.header = http.Header{}
	}
	return w.header
}

func (w *headerWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *headerWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(b), nil
}

func preconditionFailed(detail string) error {
	return httpProblem(http.StatusPreconditionFailed, codes.FailedPrecondition, detail)
}

// strongMatch is If-Match's strong comparison (RFC 9110 §8.8.3.2): a
// weak tag never matches.
func strongMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		if strings.TrimSpace(t) == etag {
			return true
		}
	}
	return false
}
