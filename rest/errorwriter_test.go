package rest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/duetrpc/duet/internal/testpb"
	"github.com/duetrpc/duet/problem"
	"github.com/duetrpc/duet/rest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A service's own problem types: a documented "type" URI per gRPC code and
// a member of its own, on every problem response, routing errors included.
func ExampleWithErrorWriter() {
	h := rest.NewHandler(rest.WithErrorWriter(func(r *http.Request, st *status.Status, p *problem.Problem) *problem.Problem {
		p.Type = "https://errors.example.com/" + strings.ToLower(st.Code().String())
		p.Extensions["request"] = r.Method + " " + r.URL.Path
		return p
	}))
	testpb.RegisterKitchensServer(h, kitchens{})

	for _, path := range []string{"/v1/kitchens/missing", "/v2/nowhere"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		var p problem.Problem
		_ = json.Unmarshal(rec.Body.Bytes(), &p)
		fmt.Println(rec.Code, p.Type, p.Extensions["request"])
	}
	// Output:
	// 404 https://errors.example.com/notfound GET /v1/kitchens/missing
	// 404 https://errors.example.com/notfound GET /v2/nowhere
}

// TestErrorWriter: every kind of REST error goes through the ErrorWriter,
// which sees the full status and the redacted problem, and what it returns
// is written as it is (problem or, with WithStatusErrors, google.rpc.Status).
func TestErrorWriter(t *testing.T) {
	type seen struct {
		code   codes.Code
		msg    string // the status's
		detail string // the problem's, before the writer
	}
	for _, tt := range []struct {
		name       string
		opts       []rest.Option
		method     string
		path       string
		body       string
		wantStatus int
		wantSeen   seen
		wantBody   string // a substring
	}{
		{"handler error", nil, http.MethodGet, "/v1/kitchens/missing", "", 404,
			seen{codes.NotFound, "kitchen kitchens/missing not found", "kitchen kitchens/missing not found"}, `"type":"https://e.example/NotFound"`},
		{"no route", nil, http.MethodGet, "/v2/nowhere", "", 404,
			seen{codes.NotFound, "no route for GET /v2/nowhere", "no route for GET /v2/nowhere"}, `"extra":"member"`},
		{"method not allowed", nil, http.MethodPatch, "/v1/fail", "", 405,
			seen{codes.Unimplemented, "", ""}, `"type":"https://e.example/Unimplemented"`},
		{"binding error", nil, http.MethodPost, "/v1/kitchens", "{not json", 400,
			seen{codes.InvalidArgument, "", ""}, `"type":"https://e.example/InvalidArgument"`},
		{"internal: redacted problem, full status", nil, http.MethodPost, "/v1/fail", `{"code":13,"message":"db password=x"}`, 500,
			seen{codes.Internal, "db password=x", "The server could not complete the request."}, `"extra":"member"`},
		{"status errors", []rest.Option{rest.WithStatusErrors()}, http.MethodGet, "/v1/kitchens/missing", "", 404,
			seen{codes.NotFound, "kitchen kitchens/missing not found", ""}, `"message":"rewritten"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got seen
			calls := 0
			h := rest.NewHandler(append(tt.opts, rest.WithErrorWriter(func(r *http.Request, st *status.Status, p *problem.Problem) *problem.Problem {
				calls++
				got = seen{st.Code(), st.Message(), p.Detail}
				p.Type = "https://e.example/" + st.Code().String()
				p.Extensions["extra"] = "member"
				p.Detail = "rewritten"
				return p
			}))...)
			testpb.RegisterKitchensServer(h, kitchens{})
			rec := httptest.NewRecorder()
			var body *strings.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req := httptest.NewRequest(tt.method, tt.path, nil)
			if body != nil {
				req = httptest.NewRequest(tt.method, tt.path, body)
				req.Header.Set("Content-Type", "application/json")
			}
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Errorf("status %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if calls != 1 {
				t.Fatalf("ErrorWriter called %d times, want 1", calls)
			}
			if got.code != tt.wantSeen.code {
				t.Errorf("ErrorWriter saw code %v, want %v", got.code, tt.wantSeen.code)
			}
			if tt.wantSeen.msg != "" && got.msg != tt.wantSeen.msg {
				t.Errorf("ErrorWriter saw message %q, want %q", got.msg, tt.wantSeen.msg)
			}
			if tt.wantSeen.detail != "" && got.detail != tt.wantSeen.detail {
				t.Errorf("ErrorWriter saw detail %q, want %q", got.detail, tt.wantSeen.detail)
			}
			if !strings.Contains(rec.Body.String(), tt.wantBody) || !strings.Contains(rec.Body.String(), "rewritten") {
				t.Errorf("body %s, want %s and the rewritten detail", rec.Body, tt.wantBody)
			}
		})
	}
}
