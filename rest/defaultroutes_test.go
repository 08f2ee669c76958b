package rest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/duetrpc/duet/internal/testpb"
	"github.com/duetrpc/duet/rest"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// TestDefaultRoutes: a method without a rule is served only with
// WithDefaultRoutes, and a grpc.* service (health) never is.
func TestDefaultRoutes(t *testing.T) {
	for _, tt := range []struct {
		name       string
		opts       []rest.Option
		path       string
		wantStatus int
	}{
		{"off by default", nil, "/duet.test.v1.Kitchens/NoRule", http.StatusNotFound},
		{"opted in", []rest.Option{rest.WithDefaultRoutes()}, "/duet.test.v1.Kitchens/NoRule", http.StatusOK},
		{"never for grpc.* services", []rest.Option{rest.WithDefaultRoutes()}, "/grpc.health.v1.Health/Check", http.StatusNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := rest.NewHandler(tt.opts...)
			testpb.RegisterKitchensServer(h, kitchens{})
			healthpb.RegisterHealthServer(h, health.NewServer())
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, tt.path, strings.NewReader(`{}`)))
			if rec.Code != tt.wantStatus {
				t.Errorf("POST %s: %d, want %d", tt.path, rec.Code, tt.wantStatus)
			}
		})
	}
}
