package rest_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/duetrpc/duet/internal/testpb"
	"github.com/duetrpc/duet/problem"
	"github.com/duetrpc/duet/rest"
	"google.golang.org/protobuf/encoding/protojson"
)

// handWritten is what a careful engineer writes by hand for the same four
// routes: a ServeMux, protojson, direct calls on the implementation.
func handWritten(impl kitchens) http.Handler {
	mo := protojson.MarshalOptions{EmitUnpopulated: true}
	write := func(w http.ResponseWriter, status int, b []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(b)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/kitchens/{id}", func(w http.ResponseWriter, r *http.Request) {
		k, err := impl.GetKitchen(r.Context(), &testpb.GetKitchenRequest{Id: r.PathValue("id")})
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		b, _ := mo.Marshal(k)
		write(w, 200, b)
	})
	mux.HandleFunc("GET /v1/kitchens", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("page_size"))
		resp, _ := impl.ListKitchens(r.Context(), &testpb.ListKitchensRequest{PageSize: int32(n), Filter: r.URL.Query().Get("filter")})
		b, _ := mo.Marshal(resp)
		write(w, 200, b)
	})
	mux.HandleFunc("POST /v1/kitchens", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
		k := &testpb.Kitchen{}
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(body, k); err != nil {
			problem.Write(w, r, problem.InvalidArgument(err.Error()))
			return
		}
		k, _ = impl.CreateKitchen(r.Context(), &testpb.CreateKitchenRequest{Kitchen: k, KitchenId: r.URL.Query().Get("kitchen_id")})
		b, _ := mo.Marshal(k)
		w.Header().Set("Location", "/v1/kitchens/"+k.Id)
		write(w, 201, b)
	})
	return mux
}

var benchRequests = []struct {
	name, method, target, body string
	want                       int
}{
	{"GetOne", "GET", "/v1/kitchens/42", "", 200},
	{"List20", "GET", "/v1/kitchens?page_size=20&filter=big", "", 200},
	{"Create", "POST", "/v1/kitchens?kitchen_id=k1", `{"name":"new","i32":5,"tags":["a","b"],"nested":{"s":"x"}}`, 201},
	{"NotFound", "GET", "/v1/kitchens/missing", "", 404},
}

// BenchmarkTranscoder compares rest.Handler with the hand-written handler
// on the same requests, in process. "duet" is the default handler, which
// does the hand-written one's work plus an ETag and a Link header on lists;
// "duet-selflinks" also renders self and page links into the bodies;
// "duet-protojson" is duet with protojson instead of its own JSON codec. The
// peers (grpc-gateway, vanguard) are compared in the bench module.
func BenchmarkTranscoder(b *testing.B) {
	handlers := []struct {
		name string
		h    http.Handler
	}{
		{"duet", func() http.Handler {
			h := rest.NewHandler()
			testpb.RegisterKitchensServer(h, kitchens{})
			return h
		}()},
		{"duet-selflinks", func() http.Handler {
			h := rest.NewHandler(rest.WithSelfLinks())
			testpb.RegisterKitchensServer(h, kitchens{})
			return h
		}()},
		{"duet-protojson", func() http.Handler {
			h := rest.NewHandler(rest.WithProtojson())
			testpb.RegisterKitchensServer(h, kitchens{})
			return h
		}()},
		{"handwritten", handWritten(kitchens{})},
	}
	for _, rq := range benchRequests {
		for _, hc := range handlers {
			b.Run(rq.name+"/"+hc.name, func(b *testing.B) {
				req := httptest.NewRequest(rq.method, rq.target, nil)
				rec := httptest.NewRecorder()
				hc.h.ServeHTTP(rec, withBody(req, rq.body))
				if rec.Code != rq.want {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					rec := httptest.NewRecorder()
					hc.h.ServeHTTP(rec, withBody(req, rq.body))
				}
			})
		}
	}
}

func withBody(r *http.Request, body string) *http.Request {
	if body == "" {
		return r
	}
	r2 := r.WithContext(context.Background())
	r2.Body = io.NopCloser(strings.NewReader(body))
	r2.ContentLength = int64(len(body))
	r2.Header = http.Header{"Content-Type": {"application/json"}}
	return r2
}
