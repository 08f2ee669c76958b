package duet_test

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/duetrpc/duet"
	"github.com/duetrpc/duet/internal/testpb"
	"github.com/duetrpc/duet/problem"
	"github.com/duetrpc/duet/rest"
	"google.golang.org/grpc/status"
)

// TestServeChecksMethodNames: Serve and ServeGRPC panic, before serving,
// when a REST option names a method no registered service has.
func TestServeChecksMethodNames(t *testing.T) {
	for _, serve := range []struct {
		name string
		f    func(*duet.Server, net.Listener) error
	}{{"Serve", (*duet.Server).Serve}, {"ServeGRPC", (*duet.Server).ServeGRPC}} {
		t.Run(serve.name, func(t *testing.T) {
			srv := duet.NewServer(duet.WithRESTOptions(rest.WithCacheControl("/duet.test.v1.Kitchens/GetKitchn", "max-age=60")))
			testpb.RegisterKitchensServer(srv, kitchens{})
			lis, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer lis.Close()
			defer func() {
				v := recover()
				if s, _ := v.(string); !strings.Contains(s, `WithCacheControl("/duet.test.v1.Kitchens/GetKitchn")`) {
					t.Errorf("panic %v, want one naming the misspelt method", v)
				}
			}()
			_ = serve.f(srv, lis)
			t.Error("served despite a misspelt method name")
		})
	}
}

// TestErrorWriterAndLogged: duet.WithErrorWriter shapes REST problems on
// the one port, and the default chain, which reports internal errors
// through log/slog, makes the problem say so.
func TestErrorWriterAndLogged(t *testing.T) {
	f := start(t, duet.WithErrorWriter(func(r *http.Request, st *status.Status, p *problem.Problem) *problem.Problem {
		p.Type = "https://errors.example.com/" + st.Code().String()
		return p
	}))
	for _, tt := range []struct {
		path, wantType, wantDetail string
	}{
		{"/v1/kitchens/missing", "https://errors.example.com/NotFound", ""},
		{"/v1/kitchens/internal", "https://errors.example.com/Internal", "The server could not complete the request. The error was logged."},
	} {
		resp, err := http.Get("http://" + f.addr + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		var p problem.Problem
		err = json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if p.Type != tt.wantType || (tt.wantDetail != "" && p.Detail != tt.wantDetail) {
			t.Errorf("GET %s: type %q detail %q, want %q %q", tt.path, p.Type, p.Detail, tt.wantType, tt.wantDetail)
		}
	}
}
