package problem

import (
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"
)

// New returns a problem for a gRPC code, a message and error details such as
// *errdetails.ErrorInfo. Details that are nil are skipped. Use it when none
// of the specific constructors fits.
func New(c codes.Code, msg string, details ...protoadapt.MessageV1) *Problem {
	st := status.New(c, msg)
	var ds []protoadapt.MessageV1
	for _, d := range details {
		if d != nil {
			ds = append(ds, d)
		}
	}
	if len(ds) > 0 {
		if withDetails, err := st.WithDetails(ds...); err == nil {
			st = withDetails
		}
	}
	return FromStatus(st)
}

// Violation is one invalid field of a request.
type Violation struct {
	// Field is the path of the field, such as "email" or "address.zip".
	Field string
	// Reason is a stable, machine-readable code, such as "REQUIRED"; it is
	// the "code" of the violation on REST.
	Reason string
	// Description says, for humans, what is wrong.
	Description string
}

// InvalidArgument returns a 400 INVALID_ARGUMENT problem with one BadRequest
// field violation per violation: on REST, the "errors" array of {field,
// code, message}.
func InvalidArgument(msg string, violations ...Violation) *Problem {
	if len(violations) == 0 {
		return New(codes.InvalidArgument, msg)
	}
	br := &errdetails.BadRequest{}
	for _, v := range violations {
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{
			Field: v.Field, Reason: v.Reason, Description: v.Description,
		})
	}
	return New(codes.InvalidArgument, msg, br)
}

// NotFound returns a 404 NOT_FOUND problem naming the missing resource with
// a ResourceInfo detail, for example NotFound("user", "users/42").
func NotFound(resourceType, resourceName string) *Problem {
	return New(codes.NotFound, resourceType+" "+resourceName+" not found",
		&errdetails.ResourceInfo{ResourceType: resourceType, ResourceName: resourceName})
}

// AlreadyExists returns a 409 ALREADY_EXISTS problem for a create that
// collides with an existing resource, with a ResourceInfo detail.
func AlreadyExists(resourceType, resourceName, msg string) *Problem {
	return New(codes.AlreadyExists, msg,
		&errdetails.ResourceInfo{ResourceType: resourceType, ResourceName: resourceName, Description: msg})
}

// Conflict returns a 409 ABORTED problem: a concurrency conflict, such as a
// stale ETag or a transaction abort, that the client may retry.
func Conflict(msg string) *Problem {
	return New(codes.Aborted, msg)
}

// Precondition is one failed precondition of a [FailedPrecondition]
// problem.
type Precondition struct {
	// Type is a service-specific category, such as "TOS".
	Type string
	// Subject is what failed, such as "google.com/cloud".
	Subject string
	// Description says, for humans, how to fix it.
	Description string
}

// FailedPrecondition returns a 400 FAILED_PRECONDITION problem: the system
// is not in a state the request needs, and retrying will not help until it
// is.
func FailedPrecondition(msg string, preconditions ...Precondition) *Problem {
	if len(preconditions) == 0 {
		return New(codes.FailedPrecondition, msg)
	}
	pf := &errdetails.PreconditionFailure{}
	for _, v := range preconditions {
		pf.Violations = append(pf.Violations, &errdetails.PreconditionFailure_Violation{
			Type: v.Type, Subject: v.Subject, Description: v.Description,
		})
	}
	return New(codes.FailedPrecondition, msg, pf)
}

// RateLimited returns a 429 RESOURCE_EXHAUSTED problem with a RetryInfo
// detail, which REST clients also see as a Retry-After header. subject
// names what ran out (such as "user:42") in a QuotaFailure detail; empty
// omits it.
func RateLimited(msg string, retryAfter time.Duration, subject string) *Problem {
	var qf *errdetails.QuotaFailure
	if subject != "" {
		qf = &errdetails.QuotaFailure{Violations: []*errdetails.QuotaFailure_Violation{{Subject: subject, Description: msg}}}
	}
	ri := &errdetails.RetryInfo{RetryDelay: durationpb.New(retryAfter)}
	if qf == nil {
		return New(codes.ResourceExhausted, msg, ri)
	}
	return New(codes.ResourceExhausted, msg, ri, qf)
}
