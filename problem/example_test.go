package problem_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/duetrpc/duet/problem"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func ExampleWrite() {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, r, problem.InvalidArgument("invalid user",
			problem.Violation{Field: "email", Reason: "REQUIRED", Description: "email is required"}))
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/v1/users", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	fmt.Print(rec.Body.String())
	// Output:
	// 400 application/problem+json
	// {"type":"about:blank","title":"Bad Request","status":400,"detail":"invalid user","code":"INVALID_ARGUMENT","errors":[{"code":"REQUIRED","field":"email","message":"email is required"}]}
}

func ExampleWrite_internalError() {
	rec := httptest.NewRecorder()
	problem.Write(rec, nil, errors.New("dial tcp 10.0.0.7:5432: connection refused"))
	fmt.Print(rec.Body.String())
	// Output:
	// {"type":"about:blank","title":"Internal Server Error","status":500,"detail":"The server could not complete the request.","code":"INTERNAL"}
}

func ExampleFromStatus() {
	st := status.New(codes.NotFound, "user 42 not found")
	b, _ := json.Marshal(problem.FromStatus(st))
	fmt.Println(string(b))
	// Output:
	// {"type":"about:blank","title":"Not Found","status":404,"detail":"user 42 not found","code":"NOT_FOUND"}
}

func ExampleProblem_GRPCStatus() {
	// A gRPC handler may return a *Problem: grpc-go sends its status.
	var err error = problem.NotFound("user", "users/42")
	st, _ := status.FromError(err)
	fmt.Println(st.Code(), st.Message(), len(st.Details()))
	// Output:
	// NotFound user users/42 not found 1
}

func ExampleParse() {
	resp := &http.Response{
		StatusCode: 409,
		Header:     http.Header{"Content-Type": {"application/problem+json"}},
		Body:       io.NopCloser(strings.NewReader(`{"title":"Conflict","status":409,"detail":"email taken","code":"ALREADY_EXISTS"}`)),
	}
	p, err := problem.Parse(resp)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Detail, p.GRPCStatus().Code())
	// Output:
	// email taken AlreadyExists
}

func ExampleHTTPStatus() {
	fmt.Println(problem.HTTPStatus(codes.FailedPrecondition), problem.HTTPStatus(codes.Canceled))
	// Output:
	// 400 499
}

func ExampleCode() {
	fmt.Println(problem.Code(409), problem.Code(429), problem.Code(504))
	// Output:
	// Aborted ResourceExhausted DeadlineExceeded
}

func ExampleTransportCode() {
	// A load balancer's 503 to a gRPC request, without grpc-status.
	fmt.Println(problem.TransportCode(503), problem.TransportCode(404))
	// Output:
	// Unavailable Unimplemented
}

func ExampleFrom() {
	p := problem.From(fmt.Errorf("loading: %w", problem.Conflict("stale ETag")))
	fmt.Println(p.Status, p.Detail)
	// Output:
	// 409 stale ETag
}

func ExampleWriter_Problem() {
	// The problem a Server-Sent Events stream would send as its error event.
	p := problem.Writer{}.Problem(nil, problem.RateLimited("slow down", 2*time.Second, ""))
	b, _ := json.Marshal(p)
	fmt.Println(string(b))
	// Output:
	// {"type":"about:blank","title":"Too Many Requests","status":429,"detail":"slow down","code":"RESOURCE_EXHAUSTED","retry_delay":"2s"}
}

func ExampleNew() {
	p := problem.New(codes.PermissionDenied, "not your order")
	fmt.Println(p.Status, p.Title)
	// Output:
	// 403 Forbidden
}

func ExampleNotFound() {
	b, _ := json.Marshal(problem.NotFound("user", "users/42"))
	fmt.Println(string(b))
	// Output:
	// {"type":"about:blank","title":"Not Found","status":404,"detail":"user users/42 not found","code":"NOT_FOUND","resource_info":{"resource_name":"users/42","resource_type":"user"}}
}

func ExampleAlreadyExists() {
	p := problem.AlreadyExists("user", "ada@example.com", "email already registered")
	fmt.Println(p.Status, p.GRPCStatus().Code())
	// Output:
	// 409 AlreadyExists
}

func ExampleFailedPrecondition() {
	p := problem.FailedPrecondition("account is frozen", problem.Precondition{Type: "STATE", Subject: "accounts/7", Description: "unfreeze first"})
	fmt.Println(p.Status, p.Extensions["code"])
	// Output:
	// 400 FAILED_PRECONDITION
}

func ExampleRateLimited() {
	rec := httptest.NewRecorder()
	problem.Write(rec, nil, problem.RateLimited("slow down", 1500*time.Millisecond, "user:42"))
	fmt.Println(rec.Code, rec.Header().Get("Retry-After"))
	// Output:
	// 429 2
}

func ExampleCodeName() {
	fmt.Println(problem.CodeName(codes.Canceled))
	c, ok := problem.ParseCode("NOT_FOUND")
	fmt.Println(c, ok)
	// Output:
	// CANCELLED
	// NotFound true
}

func ExampleParseCode() {
	c, ok := problem.ParseCode("FAILED_PRECONDITION")
	fmt.Println(c, ok)
	_, ok = problem.ParseCode("NO_SUCH_CODE")
	fmt.Println(ok)
	// Output:
	// FailedPrecondition true
	// false
}

func ExampleInvalidArgument() {
	p := problem.InvalidArgument("invalid book",
		problem.Violation{Field: "title", Reason: "REQUIRED", Description: "title is required"},
		problem.Violation{Field: "isbn", Reason: "FORMAT", Description: "isbn must have 13 digits"})
	b, _ := json.Marshal(p)
	fmt.Println(string(b))
	// Output:
	// {"type":"about:blank","title":"Bad Request","status":400,"detail":"invalid book","code":"INVALID_ARGUMENT","errors":[{"code":"REQUIRED","field":"title","message":"title is required"},{"code":"FORMAT","field":"isbn","message":"isbn must have 13 digits"}]}
}

func ExampleConflict() {
	p := problem.Conflict("the book was changed by someone else")
	fmt.Println(p.Status, p.GRPCStatusCode())
	// Output:
	// 409 Aborted
}

func ExampleWriter_Write() {
	// A development server shows internal messages; production uses Write.
	dev := problem.Writer{Debug: true}
	rec := httptest.NewRecorder()
	dev.Write(rec, nil, status.Error(codes.Internal, "nil pointer in handler"))
	fmt.Print(rec.Body.String())
	// Output:
	// {"type":"about:blank","title":"Internal Server Error","status":500,"detail":"nil pointer in handler","code":"INTERNAL"}
}

func ExampleProblem_GRPCStatusCode() {
	// A problem from a server that knows nothing of gRPC.
	p := &problem.Problem{Title: "Service Unavailable", Status: 503}
	fmt.Println(p.GRPCStatusCode())
	// Output:
	// Unavailable
}

func ExampleProblem_Error() {
	var err error = problem.NotFound("shelf", "shelves/3")
	fmt.Println(err)
	// Output:
	// Not Found: shelf shelves/3 not found
}

func ExampleProblem_MarshalJSON() {
	p := &problem.Problem{
		Type:       "https://example.com/probs/out-of-credit",
		Title:      "You do not have enough credit.",
		Status:     403,
		Extensions: map[string]any{"balance": 30},
	}
	b, _ := json.Marshal(p)
	fmt.Println(string(b))
	// Output:
	// {"type":"https://example.com/probs/out-of-credit","title":"You do not have enough credit.","status":403,"balance":30}
}

func ExampleProblem_UnmarshalJSON() {
	// RFC 9457's own example: members it does not define stay as extensions.
	body := `{"type":"https://example.com/probs/out-of-credit","title":"You do not have enough credit.",
"detail":"Your current balance is 30, but that costs 50.","instance":"/account/12345/msgs/abc",
"balance":30,"accounts":["/account/12345","/account/67890"]}`
	var p problem.Problem
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Instance, p.Extensions["balance"], p.Extensions["accounts"])
	// Output:
	// /account/12345/msgs/abc 30 [/account/12345 /account/67890]
}
