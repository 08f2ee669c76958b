package duet

import (
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/duetrpc/duet/internal/testpb"
	"github.com/duetrpc/duet/rest"
	"google.golang.org/protobuf/encoding/protojson"
)

// TestProtojsonFallbackOnEveryProtocol: rest.WithProtojson (or marshal
// options only protojson implements) makes REST, gRPC-Web and Connect
// all hand JSON to protojson; without it all three use the plans.
func TestProtojsonFallbackOnEveryProtocol(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []Option
		want bool
	}{
		{"default", nil, false},
		{"WithProtojson", []Option{WithRESTOptions(rest.WithProtojson())}, true},
		{"Multiline", []Option{WithRESTOptions(rest.WithMarshalOptions(protojson.MarshalOptions{Multiline: true}))}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewServer(tc.opts...)
			testpb.RegisterKitchensServer(s, hostileKitchens{})
			got := map[string]bool{
				"REST":     s.rest.Protojson(),
				"gRPC-Web": s.web.json.codec.Protojson(),
				"Connect":  s.conn.json.Protojson(),
			}
			for proto, p := range got {
				if p != tc.want {
					t.Errorf("%s uses protojson: %v, want %v", proto, p, tc.want)
				}
			}
			// And every protocol still answers JSON through it.
			const body = `{"id":"k1","name":"Blue"}`
			for proto, req := range map[string]*http.Request{
				"REST":     httptest.NewRequest("POST", "/v1/echo", strings.NewReader(body)),
				"gRPC-Web": webJSONRequest(body),
				"Connect":  httptest.NewRequest("POST", "/duet.test.v1.Kitchens/Echo", strings.NewReader(body)),
			} {
				if req.Header.Get("Content-Type") == "" {
					req.Header.Set("Content-Type", "application/json")
				}
				if proto == "Connect" {
					req.Header.Set("Connect-Protocol-Version", "1")
				}
				rec := httptest.NewRecorder()
				s.ServeHTTP(rec, req)
				out := rec.Body.String()
				if proto == "gRPC-Web" {
					b, _ := base64.StdEncoding.DecodeString(out)
					if len(b) > 5 {
						b = b[5 : 5+binary.BigEndian.Uint32(b[1:5])]
					}
					out = string(b)
				}
				if rec.Code != http.StatusOK || !strings.Contains(out, `"k1"`) || !strings.Contains(out, `"Blue"`) {
					t.Errorf("%s: %d %q, want 200 echoing k1 and Blue", proto, rec.Code, out)
				}
			}
		})
	}
}

// webJSONRequest is a gRPC-Web text (+json) unary request carrying body.
func webJSONRequest(body string) *http.Request {
	frame := make([]byte, 5, 5+len(body))
	binary.BigEndian.PutUint32(frame[1:], uint32(len(body)))
	frame = append(frame, body...)
	r := httptest.NewRequest("POST", "/duet.test.v1.Kitchens/Echo", strings.NewReader(base64.StdEncoding.EncodeToString(frame)))
	r.Header.Set("Content-Type", "application/grpc-web-text+json")
	return r
}
