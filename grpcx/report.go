package grpcx

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Log is the default [Reporter]: it logs err at level Error through
// log/slog's default logger (slog.SetDefault chooses where that goes),
// with the method, the gRPC code the error has or is given, and, for a
// panic, the value and the stack.
func Log(ctx context.Context, fullMethod string, err error) {
	code := codes.Internal
	if st, ok := status.FromError(err); ok {
		code = st.Code()
	}
	var pe *PanicError
	if errors.As(err, &pe) {
		slog.ErrorContext(ctx, "handler panicked", "method", fullMethod, "code", code.String(), "error", err, "stack", string(pe.Stack))
		return
	}
	slog.ErrorContext(ctx, "call failed", "method", fullMethod, "code", code.String(), "error", err)
}
