package rest

import (
	"context"
	"log/slog"
)

// skip decides what happens to a binding that cannot be served: by default
// it is left out and reported, so that a proto grpc-gateway accepts still
// registers and every other binding works; with [WithStrictRules] the error
// is returned, and RegisterService panics with it.
func (h *Handler) skip(m *method, err error) error {
	if h.cfg.strictRules {
		return err
	}
	h.skipped = append(h.skipped, err)
	h.report(context.Background(), slog.LevelWarn, m.fullName, "binding skipped", err)
	return nil
}

// Skipped returns the bindings RegisterService left out because they
// cannot be served (a path variable naming a message field, two bindings
// with the same method and path, a malformed template), one error each,
// in registration order. Check it at start-up, or use [WithStrictRules].
func (h *Handler) Skipped() []error {
	return append([]error(nil), h.skipped...)
}

// report is the transcoder's one way to tell the operator about something
// no client can be told: a skipped binding, a recovered panic. It logs
// through slog's default logger until the shared call layer's reporter
// takes over.
func (h *Handler) report(ctx context.Context, level slog.Level, method, what string, err error) {
	slog.Default().Log(ctx, level, "rest: "+what, "method", method, "error", err)
}
