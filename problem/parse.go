package problem

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
)

// maxParseBytes bounds how much of a response body Parse reads.
const maxParseBytes = 1 << 20

// Parse reads a problem from an HTTP response, for REST clients. It accepts
// application/problem+json and, from servers that do not label problems,
// application/json objects. A missing status member is taken from the
// response. Any other body (HTML error pages, plain text, malformed JSON)
// returns an error naming the status and content type; Parse never panics.
// It reads at most 1 MiB and does not close the body.
func Parse(resp *http.Response) (*Problem, error) {
	if resp == nil {
		return nil, fmt.Errorf("problem: nil response")
	}
	ct := resp.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != MediaType && mt != "application/json") {
		return nil, fmt.Errorf("problem: %d response has content type %q, not %s", resp.StatusCode, ct, MediaType)
	}
	if resp.Body == nil {
		return nil, fmt.Errorf("problem: %d response has no body", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxParseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("problem: reading %d response: %w", resp.StatusCode, err)
	}
	if len(b) > maxParseBytes {
		return nil, fmt.Errorf("problem: %d response body exceeds %d bytes", resp.StatusCode, maxParseBytes)
	}
	var p Problem
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("problem: %d response is not a problem object: %w", resp.StatusCode, err)
	}
	if p.Status == 0 {
		p.Status = resp.StatusCode
	}
	return &p, nil
}
