package duet

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/duetrpc/duet/internal/testpb"
)

// FuzzGRPCWebRequest: whatever body a client sends, the gRPC-Web handler
// answers 200 with a response that ends in exactly one trailer frame
// carrying a grpc-status, and never panics.
func FuzzGRPCWebRequest(f *testing.F) {
	f.Add(false, []byte{0, 0, 0, 0, 4, 10, 2, 'i', 'd'})
	f.Add(false, []byte{0, 0, 0, 0, 0})
	f.Add(false, []byte{0x80, 0, 0, 0, 0})
	f.Add(false, []byte{1, 0, 0, 0, 1, 0})
	f.Add(false, []byte{0, 0xff, 0xff, 0xff, 0xff})
	f.Add(true, []byte("AAAAAAQKAmlk"))
	f.Add(true, []byte("AAAAAA==BAoCaWQ="))
	f.Add(true, []byte("===="))
	web := &grpcWeb{methods: map[string]*webMethod{}, maxMsg: 1 << 10}
	web.register(&testpb.Kitchens_ServiceDesc, testpb.UnimplementedKitchensServer{})
	f.Fuzz(func(t *testing.T, text bool, body []byte) {
		ct := "application/grpc-web"
		if text {
			ct = "application/grpc-web-text"
		}
		for _, method := range []string{"GetKitchen", "Tail"} {
			req := httptest.NewRequest(http.MethodPost, "/duet.test.v1.Kitchens/"+method, bytes.NewReader(body))
			req.Header.Set("Content-Type", ct)
			rec := httptest.NewRecorder()
			web.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("HTTP %d", rec.Code)
			}
			out := rec.Body.Bytes()
			if text {
				var err error
				if out, err = decodeChunks(out); err != nil {
					t.Fatalf("response is not base64: %v", err)
				}
			}
			var last byte
			for len(out) > 0 {
				if len(out) < 5 {
					t.Fatalf("truncated frame header")
				}
				n := int(binary.BigEndian.Uint32(out[1:5]))
				if 5+n > len(out) {
					t.Fatalf("truncated frame")
				}
				if last == frameTrailer {
					t.Fatalf("a frame after the trailer frame")
				}
				last = out[0]
				if last == frameTrailer && !bytes.HasPrefix(out[5:5+n], []byte("grpc-status: ")) {
					t.Fatalf("trailer frame without grpc-status: %q", out[5:5+n])
				}
				out = out[5+n:]
			}
			if last != frameTrailer {
				t.Fatalf("no trailer frame")
			}
		}
	})
}
