package problem

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

func threeDetails(b *testing.B) *status.Status {
	st, err := status.New(codes.InvalidArgument, "invalid user").WithDetails(
		&errdetails.ErrorInfo{Reason: "INVALID_USER", Domain: "users.example.com", Metadata: map[string]string{"id": "42"}},
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
			{Field: "email", Reason: "REQUIRED", Description: "email is required"},
			{Field: "name", Reason: "TOO_LONG", Description: "name is too long"},
		}},
		&errdetails.RetryInfo{RetryDelay: durationpb.New(2 * time.Second)},
	)
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// BenchmarkFromStatusMarshal is the server side: status → problem JSON.
func BenchmarkFromStatusMarshal(b *testing.B) {
	st := threeDetails(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := json.Marshal(FromStatus(st)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnmarshalGRPCStatus is the client side: problem JSON → status.
func BenchmarkUnmarshalGRPCStatus(b *testing.B) {
	body, err := json.Marshal(FromStatus(threeDetails(b)))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var p Problem
		if err := json.Unmarshal(body, &p); err != nil {
			b.Fatal(err)
		}
		if len(p.GRPCStatus().Details()) != 3 {
			b.Fatal("lost details")
		}
	}
}

// discard is a ResponseWriter that keeps nothing, so the benchmark measures
// Write and not a recorder.
type discard struct{ h http.Header }

func (d discard) Header() http.Header       { return d.h }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

// BenchmarkWriteNoDetails is the common case on a REST server: a status
// error without details written as a problem response.
func BenchmarkWriteNoDetails(b *testing.B) {
	err := status.Error(codes.NotFound, "user 42 not found")
	r := httptest.NewRequest("GET", "/v1/users/42", nil)
	w := discard{h: http.Header{}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Write(w, r, err)
	}
}
