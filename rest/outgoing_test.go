package rest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/duetrpc/duet/internal/testpb"
	"github.com/duetrpc/duet/rest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

type cookieKitchens struct{ kitchens }

func (cookieKitchens) GetKitchen(ctx context.Context, r *testpb.GetKitchenRequest) (*testpb.Kitchen, error) {
	_ = grpc.SetHeader(ctx, metadata.Pairs("set-cookie", "s=1; HttpOnly", "x-request-id", "r1", "x-other", "o"))
	return &testpb.Kitchen{Id: r.Id}, nil
}

// TestOutgoingHeaders: header metadata named with WithOutgoingHeaders
// goes out as plain headers; the rest keeps the Grpc-Metadata- prefix.
func TestOutgoingHeaders(t *testing.T) {
	h := rest.NewHandler(rest.WithOutgoingHeaders("Set-Cookie", "x-request-id"))
	testpb.RegisterKitchensServer(h, cookieKitchens{})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/kitchens/1", nil))
	for k, want := range map[string]string{
		"Set-Cookie": "s=1; HttpOnly", "X-Request-Id": "r1", "Grpc-Metadata-X-Other": "o",
		"Grpc-Metadata-Set-Cookie": "", "X-Other": "",
	} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
}
