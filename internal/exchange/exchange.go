// Package exchange records HTTP exchanges made by tests so that they can be
// checked against the OpenAPI document afterwards by tools/openapicheck, an
// independent validator that the root module must not depend on.
package exchange

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
)

// Env names the environment variable that turns recording on: the path of
// the JSON-lines file to append exchanges to.
const Env = "DUET_EXCHANGES"

// Record is one recorded request and its response.
type Record struct {
	Method         string      `json:"method"`
	URL            string      `json:"url"`
	RequestHeader  http.Header `json:"request_header"`
	RequestBody    []byte      `json:"request_body"`
	Status         int         `json:"status"`
	ResponseHeader http.Header `json:"response_header"`
	ResponseBody   []byte      `json:"response_body"`
}

// Transport wraps base (nil means http.DefaultTransport) so that each
// exchange is appended to the file named by $DUET_EXCHANGES. Without that
// variable it returns base unchanged. Only JSON responses up to 1 MiB are
// recorded; streams (SSE, NDJSON), raw bodies and pages pass through
// untouched, because recording them would buffer what the test means to
// stream.
func Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	path := os.Getenv(Env)
	if path == "" {
		return base
	}
	return &recorder{base: base, path: path}
}

const maxBody = 1 << 20

type recorder struct {
	base http.RoundTripper
	path string
	mu   sync.Mutex
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	// A body of unknown length (ContentLength -1, or 0 with a body that is
	// not http.NoBody) is a stream: pass it through unrecorded.
	known := req.ContentLength > 0 || req.Body == nil || req.Body == http.NoBody
	if req.Body != nil && known && req.ContentLength <= maxBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		reqBody = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	} else if req.Body != nil {
		return r.base.RoundTrip(req) // streamed upload: not recorded
	}
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	ct := resp.Header.Get("Content-Type")
	// Only JSON documents are recorded: streams would be buffered, and
	// pages or raw bodies served beside the API are not in its document.
	if !strings.Contains(ct, "json") || strings.HasPrefix(ct, "application/x-ndjson") || resp.ContentLength > maxBody {
		return resp, nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	rec := Record{
		Method: req.Method, URL: req.URL.String(), RequestHeader: req.Header, RequestBody: reqBody,
		Status: resp.StatusCode, ResponseHeader: resp.Header, ResponseBody: body,
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	f, err := os.OpenFile(r.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	_, err = f.Write(append(line, '\n'))
	return resp, err
}
