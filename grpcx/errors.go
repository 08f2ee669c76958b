package grpcx

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/duetrpc/duet/problem"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Reporter receives errors that must not reach the client: the original of
// every error mapped to INTERNAL, the message of INTERNAL, UNKNOWN and
// DATA_LOSS statuses before redaction, and, as a *PanicError, every
// recovered panic. Use it to log. It is called on the request's goroutine.
type Reporter func(ctx context.Context, fullMethod string, err error)

// PanicError is what a [Reporter] receives for a panicking handler.
type PanicError struct {
	// Value is what the handler passed to panic.
	Value any
	// Stack is the goroutine's stack at the panic.
	Stack []byte
}

// Error describes the panic with its value, for the report hook; it never
// reaches a client.
func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// internalMessage is all a client learns of an internal error.
const internalMessage = "internal error"

// Errors maps whatever handlers return to a proper status. Its zero value
// reports through [Log] and redacts internal messages.
type Errors struct {
	// Report receives the errors kept from the client. Nil is [Log].
	Report Reporter
	// Debug sends internal messages and DebugInfo details to clients.
	// Never set it in production.
	Debug bool
}

// toStatus is the mapping (errors it reports come back marked with
// problem.Reported, so that a REST problem says they were logged): errors with a GRPCStatus method (a
// *problem.Problem among them) keep their status; context errors become
// DEADLINE_EXCEEDED and CANCELLED; anything else becomes INTERNAL with a
// generic message. Wrapped errors are unwrapped with errors.As.
func (e Errors) toStatus(ctx context.Context, method string, err error) error {
	if err == nil {
		return nil
	}
	var gs interface{ GRPCStatus() *status.Status }
	if errors.As(err, &gs) {
		st := gs.GRPCStatus()
		if st == nil || st.Code() == codes.OK {
			e.report(ctx, method, err)
			return problem.Reported(status.Error(codes.Internal, internalMessage))
		}
		reported := false
		switch st.Code() {
		case codes.Internal, codes.Unknown, codes.DataLoss:
			e.report(ctx, method, err)
			if !e.Debug {
				return problem.Reported(status.Error(st.Code(), internalMessage))
			}
			reported = true
		}
		if !e.Debug {
			st = withoutDebugInfo(st)
		}
		if reported {
			return problem.Reported(st.Err())
		}
		return st.Err()
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "canceled")
	}
	e.report(ctx, method, err)
	if e.Debug {
		return problem.Reported(status.Error(codes.Internal, err.Error()))
	}
	return problem.Reported(status.Error(codes.Internal, internalMessage))
}

func (e Errors) report(ctx context.Context, method string, err error) {
	if e.Report != nil {
		e.Report(ctx, method, err)
		return
	}
	Log(ctx, method, err)
}

const debugInfoType = "type.googleapis.com/google.rpc.DebugInfo"

// withoutDebugInfo drops DebugInfo details, which describe the server's
// internals.
func withoutDebugInfo(st *status.Status) *status.Status {
	p := st.Proto()
	keep := p.Details[:0]
	dropped := false
	for _, d := range p.Details {
		if d.GetTypeUrl() == debugInfoType {
			dropped = true
			continue
		}
		keep = append(keep, d)
	}
	if !dropped {
		return st
	}
	return status.FromProto(&spb.Status{Code: p.Code, Message: p.Message, Details: keep})
}

// UnaryServerInterceptor returns the error-mapping interceptor for unary
// calls.
func (e Errors) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		if err != nil {
			return nil, e.toStatus(ctx, info.FullMethod, err)
		}
		return resp, nil
	}
}

// StreamServerInterceptor returns the error-mapping interceptor for
// streams.
func (e Errors) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return e.toStatus(ss.Context(), info.FullMethod, handler(srv, ss))
	}
}

// Recover turns a panicking handler into an INTERNAL status with nothing of
// the panic on the wire; the value and stack go to Report. The server keeps
// serving.
type Recover struct {
	// Report receives a *PanicError for every recovered panic. Nil is
	// [Log].
	Report Reporter
}

func (rc Recover) recovered(ctx context.Context, method string, v any) error {
	report := rc.Report
	if report == nil {
		report = Log
	}
	report(ctx, method, &PanicError{Value: v, Stack: debug.Stack()})
	return problem.Reported(status.Error(codes.Internal, internalMessage))
}

// UnaryServerInterceptor returns the recovery interceptor for unary calls.
func (rc Recover) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if v := recover(); v != nil {
				resp, err = nil, rc.recovered(ctx, info.FullMethod, v)
			}
		}()
		return handler(ctx, req)
	}
}

// StreamServerInterceptor returns the recovery interceptor for streams.
func (rc Recover) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		defer func() {
			if v := recover(); v != nil {
				err = rc.recovered(ss.Context(), info.FullMethod, v)
			}
		}()
		return handler(srv, ss)
	}
}
