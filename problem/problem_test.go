package problem

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func mustAny(t testing.TB, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// roundTrip is the path a status takes to a REST client and back.
func roundTrip(t *testing.T, st *status.Status) *status.Status {
	t.Helper()
	b, err := json.Marshal(FromStatus(st))
	if err != nil {
		t.Fatal(err)
	}
	var p Problem
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	return p.GRPCStatus()
}

func TestRoundTripEveryDetail(t *testing.T) {
	lm := &errdetails.LocalizedMessage{Locale: "fr-CH", Message: "Adresse invalide"}
	tests := []struct {
		name    string
		code    codes.Code
		msg     string
		details []proto.Message
	}{
		{"no details", codes.NotFound, "user 42 not found", nil},
		{"empty message", codes.PermissionDenied, "", nil},
		{"ErrorInfo", codes.PermissionDenied, "denied", []proto.Message{&errdetails.ErrorInfo{Reason: "API_DISABLED", Domain: "example.com", Metadata: map[string]string{"service": "users", "n": "1"}}}},
		{"ErrorInfo without metadata", codes.Unauthenticated, "who", []proto.Message{&errdetails.ErrorInfo{Reason: "TOKEN_EXPIRED"}}},
		{"BadRequest all fields", codes.InvalidArgument, "bad", []proto.Message{&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
			{Field: "email", Description: "email is required", Reason: "REQUIRED", LocalizedMessage: lm},
			{Field: "address.zip", Description: "not a zip code"},
		}}}},
		{"RetryInfo", codes.ResourceExhausted, "slow down", []proto.Message{&errdetails.RetryInfo{RetryDelay: &durationpb.Duration{Seconds: 1, Nanos: 500_000_000}}}},
		{"DebugInfo", codes.Internal, "boom", []proto.Message{&errdetails.DebugInfo{StackEntries: []string{"a.go:1", "b.go:2"}, Detail: "nil map"}}},
		{"QuotaFailure", codes.ResourceExhausted, "quota", []proto.Message{&errdetails.QuotaFailure{Violations: []*errdetails.QuotaFailure_Violation{{Subject: "project:1", Description: "daily limit", ApiService: "users.example.com", QuotaMetric: "reads", QuotaId: "ReadsPerDay", QuotaDimensions: map[string]string{"region": "eu"}, QuotaValue: 100, FutureQuotaValue: proto.Int64(200)}}}}},
		{"PreconditionFailure", codes.FailedPrecondition, "tos", []proto.Message{&errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{{Type: "TOS", Subject: "example.com", Description: "accept the terms"}}}}},
		{"RequestInfo", codes.Unavailable, "try later", []proto.Message{&errdetails.RequestInfo{RequestId: "req-1", ServingData: "trace=abc"}}},
		{"ResourceInfo", codes.NotFound, "gone", []proto.Message{&errdetails.ResourceInfo{ResourceType: "user", ResourceName: "users/42", Owner: "team", Description: "no such user"}}},
		{"Help", codes.FailedPrecondition, "see docs", []proto.Message{&errdetails.Help{Links: []*errdetails.Help_Link{{Description: "docs", Url: "https://example.com/docs"}}}}},
		{"LocalizedMessage", codes.InvalidArgument, "invalid address", []proto.Message{lm}},
		{"unknown detail type", codes.Aborted, "conflict", []proto.Message{timestamppb.New(time.Unix(1700000000, 5))}},
		{"two of a kind", codes.NotFound, "both", []proto.Message{
			&errdetails.ErrorInfo{Reason: "A", Domain: "x"}, // first ErrorInfo is rendered, the second travels raw
			&errdetails.ResourceInfo{ResourceType: "a"}, &errdetails.ResourceInfo{ResourceType: "b"},
			&errdetails.ErrorInfo{Reason: "B", Domain: "y"},
		}},
		{"all standard details", codes.Aborted, "everything", []proto.Message{
			&errdetails.ErrorInfo{Reason: "R", Domain: "d"},
			&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "f", Description: "d"}}},
			&errdetails.RetryInfo{RetryDelay: durationpb.New(3 * time.Second)},
			&errdetails.RequestInfo{RequestId: "id"},
			&errdetails.DebugInfo{Detail: "x"},
			&errdetails.QuotaFailure{Violations: []*errdetails.QuotaFailure_Violation{{Subject: "s"}}},
			&errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{{Type: "t"}}},
			&errdetails.ResourceInfo{ResourceName: "n"},
			&errdetails.Help{Links: []*errdetails.Help_Link{{Url: "u"}}},
			&errdetails.LocalizedMessage{Locale: "de", Message: "m"},
		}},
		{"non-standard code", codes.Code(42), "future", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := &spb.Status{Code: int32(tt.code), Message: tt.msg}
			for _, d := range tt.details {
				sp.Details = append(sp.Details, mustAny(t, d))
			}
			got := roundTrip(t, status.FromProto(sp)).Proto()
			// Details come back grouped by kind (documented); compare as a set.
			sortDetails := protocmp.SortRepeated(func(a, b *anypb.Any) bool {
				if a.TypeUrl != b.TypeUrl {
					return a.TypeUrl < b.TypeUrl
				}
				return string(a.Value) < string(b.Value)
			})
			if diff := cmp.Diff(sp, got, protocmp.Transform(), sortDetails); diff != "" {
				t.Errorf("status after the JSON round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadableMembers(t *testing.T) {
	st, _ := status.New(codes.InvalidArgument, "invalid user").WithDetails(
		&errdetails.ErrorInfo{Reason: "INVALID_USER", Domain: "users.example.com"},
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "email", Reason: "REQUIRED", Description: "email is required"}}},
		&errdetails.RetryInfo{RetryDelay: durationpb.New(1500 * time.Millisecond)},
		&errdetails.RequestInfo{RequestId: "r-1"},
	)
	b, err := json.Marshal(FromStatus(st))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"type":        "https://users.example.com/errors/INVALID_USER",
		"title":       "Bad Request",
		"status":      float64(400),
		"detail":      "invalid user",
		"code":        "INVALID_ARGUMENT",
		"reason":      "INVALID_USER",
		"domain":      "users.example.com",
		"errors":      []any{map[string]any{"field": "email", "code": "REQUIRED", "message": "email is required"}},
		"retry_delay": "1.500s",
		"request_id":  "r-1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problem JSON (-want +got):\n%s", diff)
	}
}

func TestJSONMembers(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Problem
	}{
		{"plain RFC 7807 body", `{"type":"https://example.com/probs/out-of-credit","title":"You do not have enough credit.","status":403,"detail":"Your current balance is 30, but that costs 50.","instance":"/account/12345/msgs/abc","balance":30,"accounts":["/account/12345","/account/67890"]}`,
			Problem{Type: "https://example.com/probs/out-of-credit", Title: "You do not have enough credit.", Status: 403, Detail: "Your current balance is 30, but that costs 50.", Instance: "/account/12345/msgs/abc",
				Extensions: map[string]any{"balance": float64(30), "accounts": []any{"/account/12345", "/account/67890"}}}},
		{"about:blank is the default type", `{"type":"about:blank","status":404}`, Problem{Status: 404}},
		{"members of the wrong type are ignored", `{"type":1,"title":["x"],"status":"404","detail":null}`, Problem{}},
		{"status out of range is ignored", `{"status":99999}`, Problem{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Problem
			if err := json.Unmarshal([]byte(tt.in), &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			// and back: unknown members survive a re-marshal
			b, _ := json.Marshal(&got)
			var again Problem
			if err := json.Unmarshal(b, &again); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, again); diff != "" {
				t.Errorf("re-marshal lost members (-first +second):\n%s", diff)
			}
		})
	}
	for _, bad := range []string{`[]`, `null`, `"x"`, `{`, `{"a":1} {"b":2}`} {
		var p Problem
		if err := json.Unmarshal([]byte(bad), &p); err == nil {
			t.Errorf("Unmarshal(%s) = nil error, want one", bad)
		}
	}
}

func TestHTTPStatusTable(t *testing.T) {
	want := map[codes.Code]int{
		codes.OK: 200, codes.Canceled: 499, codes.Unknown: 500, codes.InvalidArgument: 400,
		codes.DeadlineExceeded: 504, codes.NotFound: 404, codes.AlreadyExists: 409,
		codes.PermissionDenied: 403, codes.ResourceExhausted: 429, codes.FailedPrecondition: 400,
		codes.Aborted: 409, codes.OutOfRange: 400, codes.Unimplemented: 501, codes.Internal: 500,
		codes.Unavailable: 503, codes.DataLoss: 500, codes.Unauthenticated: 401, codes.Code(99): 500,
	}
	for c, w := range want {
		if got := HTTPStatus(c); got != w {
			t.Errorf("HTTPStatus(%v) = %d, want %d", c, got, w)
		}
	}
}

func TestCodeTable(t *testing.T) {
	want := map[int]codes.Code{
		200: codes.OK, 204: codes.OK, 400: codes.InvalidArgument, 401: codes.Unauthenticated,
		403: codes.PermissionDenied, 404: codes.NotFound, 405: codes.Unimplemented, 408: codes.DeadlineExceeded,
		409: codes.Aborted, 410: codes.NotFound, 412: codes.FailedPrecondition, 413: codes.ResourceExhausted,
		416: codes.OutOfRange, 418: codes.Unknown, 422: codes.InvalidArgument, 429: codes.ResourceExhausted,
		499: codes.Canceled, 500: codes.Internal, 501: codes.Unimplemented, 502: codes.Unavailable,
		503: codes.Unavailable, 504: codes.DeadlineExceeded, 507: codes.Internal, 302: codes.Unknown,
	}
	for s, w := range want {
		if got := Code(s); got != w {
			t.Errorf("Code(%d) = %v, want %v", s, got, w)
		}
	}
	// Code inverts HTTPStatus for every code that owns its status alone.
	for c := codes.OK; c <= codes.Unauthenticated; c++ {
		switch c {
		case codes.Unknown, codes.FailedPrecondition, codes.OutOfRange, codes.AlreadyExists, codes.DataLoss:
			continue // share a status with a more general code
		}
		if got := Code(HTTPStatus(c)); got != c {
			t.Errorf("Code(HTTPStatus(%v)) = %v", c, got)
		}
	}
	transport := map[int]codes.Code{400: codes.Internal, 401: codes.Unauthenticated, 403: codes.PermissionDenied,
		404: codes.Unimplemented, 429: codes.Unavailable, 502: codes.Unavailable, 503: codes.Unavailable, 504: codes.Unavailable, 500: codes.Unknown}
	for s, w := range transport {
		if got := TransportCode(s); got != w {
			t.Errorf("TransportCode(%d) = %v, want %v", s, got, w)
		}
	}
}

func TestProblemIsAGRPCError(t *testing.T) {
	var err error = fmt.Errorf("loading: %w", NotFound("user", "users/7"))
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.NotFound {
		t.Fatalf("status.FromError = %v, %v; want NOT_FOUND", st, ok)
	}
	if len(st.Details()) != 1 {
		t.Fatalf("details = %v, want the ResourceInfo", st.Details())
	}
}

type grpcErr struct{ st *status.Status }

func (e grpcErr) Error() string              { return e.st.Message() }
func (e grpcErr) GRPCStatus() *status.Status { return e.st }

func TestWrite(t *testing.T) {
	internalWithDebug, _ := status.New(codes.Internal, "db password is hunter2").WithDetails(&errdetails.DebugInfo{Detail: "stack"})
	localized, _ := status.New(codes.InvalidArgument, "bad address").WithDetails(&errdetails.LocalizedMessage{Locale: "fr", Message: "adresse invalide"})
	tests := []struct {
		name       string
		err        error
		debug      bool
		accept     string
		wantStatus int
		wantHeader map[string]string
		want       map[string]any
	}{
		{"problem", InvalidArgument("invalid user", Violation{"email", "REQUIRED", "email is required"}), false, "", 400, nil,
			map[string]any{"type": "about:blank", "title": "Bad Request", "status": 400.0, "detail": "invalid user", "code": "INVALID_ARGUMENT",
				"errors": []any{map[string]any{"field": "email", "code": "REQUIRED", "message": "email is required"}}}},
		{"wrapped GRPCStatus error", fmt.Errorf("x: %w", grpcErr{status.New(codes.NotFound, "nope")}), false, "", 404, nil,
			map[string]any{"type": "about:blank", "title": "Not Found", "status": 404.0, "detail": "nope", "code": "NOT_FOUND"}},
		{"deadline", fmt.Errorf("calling db: %w", context.DeadlineExceeded), false, "", 504, nil,
			map[string]any{"type": "about:blank", "title": "Gateway Timeout", "status": 504.0, "detail": "calling db: context deadline exceeded", "code": "DEADLINE_EXCEEDED"}},
		{"canceled", context.Canceled, false, "", 499, nil,
			map[string]any{"type": "about:blank", "title": "Client Closed Request", "status": 499.0, "detail": "context canceled", "code": "CANCELLED"}},
		{"plain error says nothing", errors.New("open /etc/secret: permission denied"), false, "", 500, nil,
			map[string]any{"type": "about:blank", "title": "Internal Server Error", "status": 500.0, "detail": redactedDetail, "code": "INTERNAL"}},
		{"internal status is redacted with its DebugInfo", internalWithDebug.Err(), false, "", 500, nil,
			map[string]any{"type": "about:blank", "title": "Internal Server Error", "status": 500.0, "detail": redactedDetail, "code": "INTERNAL"}},
		{"reported error says it was logged", Reported(internalWithDebug.Err()), false, "", 500, nil,
			map[string]any{"type": "about:blank", "title": "Internal Server Error", "status": 500.0, "detail": loggedDetail, "code": "INTERNAL"}},
		{"reported, wrapped", fmt.Errorf("x: %w", Reported(errors.New("secret"))), false, "", 500, nil,
			map[string]any{"type": "about:blank", "title": "Internal Server Error", "status": 500.0, "detail": loggedDetail, "code": "INTERNAL"}},
		{"reported keeps a client's status", Reported(status.Error(codes.NotFound, "nope")), false, "", 404, nil,
			map[string]any{"type": "about:blank", "title": "Not Found", "status": 404.0, "detail": "nope", "code": "NOT_FOUND"}},
		{"debug shows everything", internalWithDebug.Err(), true, "", 500, nil,
			map[string]any{"type": "about:blank", "title": "Internal Server Error", "status": 500.0, "detail": "db password is hunter2", "code": "INTERNAL", "debug_info": map[string]any{"detail": "stack"}}},
		{"retry after", RateLimited("slow down", 1500*time.Millisecond, ""), false, "", 429, map[string]string{"Retry-After": "2"},
			map[string]any{"type": "about:blank", "title": "Too Many Requests", "status": 429.0, "detail": "slow down", "code": "RESOURCE_EXHAUSTED", "retry_delay": "1.500s"}},
		{"localized for the client", localized.Err(), false, "de;q=0.9, fr-CH, fr;q=0.8", 400, map[string]string{"Content-Language": "fr"},
			map[string]any{"type": "about:blank", "title": "Bad Request", "status": 400.0, "detail": "adresse invalide", "grpc_message": "bad address", "code": "INVALID_ARGUMENT",
				"localized_message": map[string]any{"locale": "fr", "message": "adresse invalide"}}},
		{"not localized when not accepted", localized.Err(), false, "de, *;q=0.1", 400, map[string]string{"Content-Language": ""},
			map[string]any{"type": "about:blank", "title": "Bad Request", "status": 400.0, "detail": "bad address", "code": "INVALID_ARGUMENT",
				"localized_message": map[string]any{"locale": "fr", "message": "adresse invalide"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/v1/users/1", nil)
			if tt.accept != "" {
				r.Header.Set("Accept-Language", tt.accept)
			}
			w := httptest.NewRecorder()
			Writer{Debug: tt.debug}.Write(w, r, tt.err)
			if w.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", w.Code, tt.wantStatus)
			}
			if ct := w.Header().Get("Content-Type"); ct != MediaType {
				t.Errorf("Content-Type = %q", ct)
			}
			for k, v := range tt.wantHeader {
				if got := w.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			var got map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			// Whatever Write sends, a client restores the same code.
			p, err := Parse(w.Result())
			if err != nil {
				t.Fatal(err)
			}
			if got, want := p.GRPCStatus().Code(), From(tt.err).GRPCStatus().Code(); got != want {
				t.Errorf("client sees code %v, want %v", got, want)
			}
		})
	}
}

func TestWriteLocalizedRoundTripKeepsMessage(t *testing.T) {
	st, _ := status.New(codes.InvalidArgument, "bad address").WithDetails(&errdetails.LocalizedMessage{Locale: "fr", Message: "adresse invalide"})
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Accept-Language", "fr")
	w := httptest.NewRecorder()
	Write(w, r, st.Err())
	p, err := Parse(w.Result())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(st.Proto(), p.GRPCStatus().Proto(), protocmp.Transform()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParse(t *testing.T) {
	resp := func(status int, ct, body string) *http.Response {
		h := http.Header{}
		if ct != "" {
			h.Set("Content-Type", ct)
		}
		return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body))}
	}
	tests := []struct {
		name     string
		resp     *http.Response
		want     *Problem
		wantErr  string
		wantCode codes.Code
	}{
		{"RFC 7807 body from another server", resp(403, "application/problem+json; charset=utf-8", `{"type":"https://example.com/probs/out-of-credit","title":"You do not have enough credit.","detail":"Your current balance is 30","balance":30}`),
			&Problem{Type: "https://example.com/probs/out-of-credit", Title: "You do not have enough credit.", Status: 403, Detail: "Your current balance is 30", Extensions: map[string]any{"balance": 30.0}}, "", codes.PermissionDenied},
		{"unlabelled JSON problem", resp(409, "application/json", `{"title":"Conflict","status":409}`), &Problem{Title: "Conflict", Status: 409}, "", codes.Aborted},
		{"title only becomes the message", resp(404, "application/problem+json", `{"title":"No such user"}`), &Problem{Title: "No such user", Status: 404}, "", codes.NotFound},
		{"HTML error page", resp(502, "text/html", `<html>Bad Gateway</html>`), nil, `problem: 502 response has content type "text/html"`, 0},
		{"no content type", resp(500, "", `oops`), nil, "problem: 500 response has content type", 0},
		{"malformed JSON", resp(400, "application/problem+json", `{"title":`), nil, "problem: 400 response is not a problem object", 0},
		{"JSON array", resp(400, "application/problem+json", `[1,2]`), nil, "problem: 400 response is not a problem object", 0},
		{"too large", resp(400, "application/problem+json", `{"detail":"`+strings.Repeat("x", maxParseBytes)+`"}`), nil, "exceeds", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.resp)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if c := got.GRPCStatus().Code(); c != tt.wantCode {
				t.Errorf("code = %v, want %v", c, tt.wantCode)
			}
		})
	}
	if _, err := Parse(nil); err == nil {
		t.Error("Parse(nil) = nil error")
	}
}

func TestConstructors(t *testing.T) {
	tests := []struct {
		name string
		p    *Problem
		want *spb.Status
	}{
		{"InvalidArgument", InvalidArgument("invalid", Violation{"email", "REQUIRED", "required"}), &spb.Status{Code: 3, Message: "invalid", Details: []*anypb.Any{mustAny(t, &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "email", Reason: "REQUIRED", Description: "required"}}})}}},
		{"NotFound", NotFound("user", "users/1"), &spb.Status{Code: 5, Message: "user users/1 not found", Details: []*anypb.Any{mustAny(t, &errdetails.ResourceInfo{ResourceType: "user", ResourceName: "users/1"})}}},
		{"AlreadyExists", AlreadyExists("user", "a@b.c", "email taken"), &spb.Status{Code: 6, Message: "email taken", Details: []*anypb.Any{mustAny(t, &errdetails.ResourceInfo{ResourceType: "user", ResourceName: "a@b.c", Description: "email taken"})}}},
		{"Conflict", Conflict("stale etag"), &spb.Status{Code: 10, Message: "stale etag"}},
		{"FailedPrecondition", FailedPrecondition("tos", Precondition{"TOS", "x", "accept"}), &spb.Status{Code: 9, Message: "tos", Details: []*anypb.Any{mustAny(t, &errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{{Type: "TOS", Subject: "x", Description: "accept"}}})}}},
		{"RateLimited", RateLimited("slow", 2*time.Second, "user:1"), &spb.Status{Code: 8, Message: "slow", Details: []*anypb.Any{
			mustAny(t, &errdetails.RetryInfo{RetryDelay: durationpb.New(2 * time.Second)}),
			mustAny(t, &errdetails.QuotaFailure{Violations: []*errdetails.QuotaFailure_Violation{{Subject: "user:1", Description: "slow"}}})}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.p.GRPCStatus().Proto(), protocmp.Transform()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{
		`{"type":"about:blank","status":400,"code":"INVALID_ARGUMENT","errors":[{"field":"a","code":"R","message":"m"}]}`,
		`{"retry_delay":"1.5s","request_id":"x","details":[{"@type":"type.googleapis.com/x","value":"AAE="}]}`,
		`{"resource_info":[{"resource_type":"a"},{"bad":1}],"quota_failure":{"violations":[{"quota_value":"1"}]}}`,
		`{"reason":"R","domain":"d","metadata":{"a":"b","c":1}}`, `[]`, `{"code":"CODE(77)"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Problem
		if err := json.Unmarshal(b, &p); err != nil {
			return
		}
		st := p.GRPCStatus() // must not panic
		_ = FromStatus(st)
		if _, err := json.Marshal(&p); err != nil {
			t.Fatalf("re-marshal: %v", err)
		}
		resp := &http.Response{StatusCode: 400, Header: http.Header{"Content-Type": {MediaType}}, Body: io.NopCloser(strings.NewReader(string(b)))}
		_, _ = Parse(resp)
	})
}

// The hand-written encoder for strings must write what encoding/json
// writes, or clients comparing bodies from different servers would differ.
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain ascii 123", `quote " and \ backslash`, "<script>&amp;", "tab\tnewline\n\x00",
		"héllo wörld", "line\u2028separator", "bad utf8 \xff\xfe", "emoji 🙂", "about:blank"} {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendString(nil, s); string(got) != string(want) {
			t.Errorf("appendString(%q) = %s, encoding/json writes %s", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", `book "shelves/1" not found`, `a\b`, "<&>", "\x00\n", "é", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Errorf("appendString(%q) = %s, encoding/json writes %s", s, got, want)
		}
	})
}

// Writing a handler's own problem redacts and localizes a copy: the
// handler may keep and reuse its value.
func TestWriteLeavesErrorsProblemAlone(t *testing.T) {
	p := &Problem{Title: "Internal Server Error", Status: 500, Detail: "db password is hunter2",
		Extensions: map[string]any{"code": "INTERNAL", "grpc_message": "db password is hunter2", "debug_info": map[string]any{"detail": "x"}}}
	before := *p
	before.Extensions = maps.Clone(p.Extensions)
	rec := httptest.NewRecorder()
	Write(rec, httptest.NewRequest("GET", "/", nil), fmt.Errorf("wrapped: %w", p))
	if strings.Contains(rec.Body.String(), "hunter2") {
		t.Errorf("secret on the wire: %s", rec.Body)
	}
	if diff := cmp.Diff(&before, p); diff != "" {
		t.Errorf("Write changed the error's problem (-before +after):\n%s", diff)
	}
}
