package rest_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/duetrpc/duet/grpcx"
	"github.com/duetrpc/duet/internal/testpb"
	"github.com/duetrpc/duet/rest"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc"
)

// One implementation, registered on a grpc.Server and a rest.Handler, with
// the same interceptor chain.
func Example() {
	chain := grpcx.Server{}
	impl := kitchens{}

	grpcServer := grpc.NewServer(chain.Options()...)
	testpb.RegisterKitchensServer(grpcServer, impl)
	lis, _ := net.Listen("tcp", "127.0.0.1:0")
	go grpcServer.Serve(lis)
	defer grpcServer.Stop()

	h := rest.NewHandler(rest.WithUnaryInterceptor(chain.UnaryInterceptors()...))
	testpb.RegisterKitchensServer(h, impl)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("DELETE", "/v1/kitchens/42", nil))
	fmt.Println(rec.Code)
	// Output: 204
}

func ExampleNewHandler() {
	h := rest.NewHandler(rest.WithMaxBodyBytes(1 << 20))
	testpb.RegisterKitchensServer(h, kitchens{})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/nowhere", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	// Output: 404 application/problem+json
}

func ExampleWithRule() {
	// Plain has no google.api.http annotations: give its rule in Go.
	h := rest.NewHandler(rest.WithRule("/duet.test.v1.Plain/Say",
		&annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: "/v1/say/{s}"}}))
	testpb.RegisterPlainServer(h, plain{})
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/v1/say/hello")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output: 200
}

func ExampleHandler_OpenAPI() {
	h := rest.NewHandler()
	testpb.RegisterKitchensServer(h, kitchens{})
	doc, err := h.OpenAPI(rest.OpenAPIOptions{Title: "Kitchens", Version: "1.0.0", Bearer: true})
	fmt.Println(err == nil, len(doc) > 1000)
	// Output: true true
}

func ExampleHandler_OpenAPIHandler() {
	h := rest.NewHandler()
	testpb.RegisterKitchensServer(h, kitchens{})
	mux := http.NewServeMux()
	mux.Handle("/openapi.json", h.OpenAPIHandler(rest.OpenAPIOptions{Title: "Kitchens"}))
	mux.Handle("/", h)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.json", nil))
	b, _ := io.ReadAll(rec.Body)
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"), strings.Contains(string(b), `"openapi": "3.1.0"`))
	// Output: 200 application/json true
}

func ExampleWithUnaryInterceptor() {
	logCalls := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
		fmt.Println("call", info.FullMethod)
		return next(ctx, req)
	}
	h := rest.NewHandler(rest.WithUnaryInterceptor(logCalls))
	testpb.RegisterKitchensServer(h, kitchens{})
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/v1/kitchens/1", nil))
	// Output: call /duet.test.v1.Kitchens/GetKitchen
}

// A binding that cannot be served is left out, reported, and listed by
// Skipped; the service's other bindings serve. WithStrictRules would make
// RegisterService panic instead.
func ExampleHandler_Skipped() {
	h := rest.NewHandler(rest.WithRule("/duet.test.v1.Plain/Say",
		// child is a message: a path has no form for it.
		&annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: "/v1/say/{child}"},
			AdditionalBindings: []*annotations.HttpRule{{Pattern: &annotations.HttpRule_Get{Get: "/v1/say/{s}"}}}}))
	testpb.RegisterPlainServer(h, plain{})
	for _, err := range h.Skipped() {
		fmt.Println(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/say/hi", nil))
	fmt.Println(rec.Code)
	// Output:
	// /duet.test.v1.Plain/Say GET /v1/say/{child}: path variable child must be a scalar field
	// 200
}
