package rest_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/duetrpc/duet/grpcx"
	"github.com/duetrpc/duet/internal/testpb"
	"github.com/duetrpc/duet/rest"
)

// TestLoggedOnlyWhenReported: a redacted REST problem says "The error was
// logged." only when something reported it: grpcx's chain (any Reporter)
// or the call layer's own panic recovery; a Handler without a reporting
// chain claims nothing for a handler's error.
func TestLoggedOnlyWhenReported(t *testing.T) {
	var reports []string
	chain := grpcx.Server{Report: func(_ context.Context, method string, err error) { reports = append(reports, method) }}
	withChain := []rest.Option{rest.WithUnaryInterceptor(chain.UnaryInterceptors()...)}
	for _, tt := range []struct {
		name        string
		opts        []rest.Option
		body        string
		wantLogged  bool
		wantReports int
	}{
		{"no chain, internal status", nil, `{"code":13,"message":"db password=x"}`, false, 0},
		{"no chain, plain error", nil, `{"code":2,"message":"plain"}`, false, 0},
		{"no chain, panic: the call layer reports it", nil, `{"code":13,"message":"panic"}`, true, 0},
		{"grpcx chain, internal status", withChain, `{"code":13,"message":"db password=x"}`, true, 1},
		{"grpcx chain, plain error", withChain, `{"code":2,"message":"plain"}`, true, 1},
		{"grpcx chain, panic", withChain, `{"code":13,"message":"panic"}`, true, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			reports = nil
			old := slog.Default()
			slog.SetDefault(slog.New(slog.NewTextHandler(&strings.Builder{}, nil))) // the call layer's panic report
			defer slog.SetDefault(old)
			h := rest.NewHandler(tt.opts...)
			testpb.RegisterKitchensServer(h, kitchens{})
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "/v1/fail", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusInternalServerError {
				t.Fatalf("status %d, want 500; body %s", rec.Code, rec.Body)
			}
			body := rec.Body.String()
			if strings.Contains(body, "password") || strings.Contains(body, "secret") {
				t.Errorf("body leaks the internal message: %s", body)
			}
			if got := strings.Contains(body, "was logged"); got != tt.wantLogged {
				t.Errorf("body %s: says logged = %v, want %v", body, got, tt.wantLogged)
			}
			if !strings.Contains(body, "The server could not complete the request.") {
				t.Errorf("body %s: want the redacted detail", body)
			}
			if len(reports) != tt.wantReports {
				t.Errorf("Reporter called %d times, want %d", len(reports), tt.wantReports)
			}
		})
	}
}
