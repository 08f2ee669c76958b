package rest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/duetrpc/duet/internal/testpb"
	"github.com/duetrpc/duet/rest"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// TestCheckMethods: an option naming a method that no registered service
// has is an error from CheckMethods, and ServeHTTP panics with it on every
// request; names of registered methods (of any service) pass.
func TestCheckMethods(t *testing.T) {
	getRule := &annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: "/norule"}}
	for _, tt := range []struct {
		name    string
		opt     rest.Option
		wantErr string // "" for none
	}{
		{"rule, known", rest.WithRule("/duet.test.v1.Kitchens/NoRule", getRule), ""},
		{"cache control, known", rest.WithCacheControl("/duet.test.v1.Kitchens/NoRule", "max-age=60"), ""},
		{"cache control, second service", rest.WithCacheControl("/grpc.health.v1.Health/Check", "no-store"), ""},
		{"rule, misspelt", rest.WithRule("/duet.test.v1.Kitchens/NoRuel", getRule), `WithRule("/duet.test.v1.Kitchens/NoRuel")`},
		{"rule, no leading slash", rest.WithRule("duet.test.v1.Kitchens/NoRule", getRule), `WithRule("duet.test.v1.Kitchens/NoRule")`},
		{"cache control, unknown service", rest.WithCacheControl("/duet.test.v1.Kitchen/GetKitchen", "max-age=60"), `WithCacheControl("/duet.test.v1.Kitchen/GetKitchen")`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := rest.NewHandler(tt.opt)
			testpb.RegisterKitchensServer(h, kitchens{})
			healthpb.RegisterHealthServer(h, health.NewServer())
			err := h.CheckMethods()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckMethods: %v, want nil", err)
				}
				serveMissing(t, h) // must not panic
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "no registered service has") {
				t.Fatalf("CheckMethods: %v, want an error naming %s", err, tt.wantErr)
			}
			for i := 0; i < 2; i++ { // every request, not only the first
				func() {
					defer func() {
						v := recover()
						if s, _ := v.(string); !strings.Contains(s, tt.wantErr) {
							t.Errorf("request %d: panic %v, want one naming %s", i, v, tt.wantErr)
						}
					}()
					serveMissing(t, h)
				}()
			}
		})
	}
}

func serveMissing(t *testing.T, h http.Handler) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/nothing-here", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("GET /nothing-here: %d, want 404", rec.Code)
	}
}
