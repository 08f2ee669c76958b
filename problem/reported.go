package problem

import (
	"google.golang.org/grpc/status"
)

// Reported returns err marked as reported to the operator (logged, for
// example by grpcx's Reporter), so that a [Writer] that hides its message
// from the client says the error was logged; an unmarked error's problem
// claims no such thing. The result has err's text and gRPC status (as
// [From] maps it: a plain error is INTERNAL) and unwraps to err. grpcx's chain and duet's
// protocols mark what they report; a nil err stays nil.
func Reported(err error) error {
	if err == nil {
		return nil
	}
	return &reportedError{err}
}

type reportedError struct{ err error }

func (e *reportedError) Error() string { return e.err.Error() }
func (e *reportedError) Unwrap() error { return e.err }
func (e *reportedError) GRPCStatus() *status.Status {
	if st, ok := status.FromError(e.err); ok {
		return st
	}
	return From(e.err).GRPCStatus() // plain errors INTERNAL, context errors theirs
}

// reported reports whether err, or an error it wraps, was marked by
// [Reported]. It walks the chain by hand: errors.As would allocate.
func reported(err error) bool {
	for ; err != nil; err = unwrap(err) {
		if _, ok := err.(*reportedError); ok {
			return true
		}
	}
	return false
}

func unwrap(err error) error {
	u, ok := err.(interface{ Unwrap() error })
	if !ok {
		return nil
	}
	return u.Unwrap()
}
