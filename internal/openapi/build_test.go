package openapi

import (
	"encoding/json"
	"os"
	"testing"

	"google.golang.org/grpc/health/grpc_health_v1"
)

func TestBuildHealth(t *testing.T) {
	sd := grpc_health_v1.File_grpc_health_v1_health_proto.Services().Get(0)
	ops := []Operation{
		{Method: sd.Methods().ByName("Check"), Verb: "POST", Path: "/grpc.health.v1.Health/Check", Body: "*"},
		{Method: sd.Methods().ByName("Check"), Verb: "GET", Path: "/v1/health/{service}", PathParams: []string{"service"}},
		{Method: sd.Methods().ByName("Watch"), Verb: "GET", Path: "/v1/health/{service}:watch", PathParams: []string{"service"}},
	}
	b, err := Build(ops, Options{Title: "t", Security: map[string]SecurityScheme{"bearer": {"type": "http", "scheme": "bearer"}}})
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if out := os.Getenv("OPENAPI_OUT"); out != "" {
		os.WriteFile(out, b, 0o644)
	}
}
