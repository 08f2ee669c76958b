package rest_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestGatewayCompatibleJSON pins the success body of a message with every
// field kind, unpopulated and populated, to what grpc-gateway v2's default
// marshaler (protojson with EmitUnpopulated) produces: lowerCamel names,
// json_name honoured, 64-bit integers as strings, enums by name, bytes in
// base64, well-known types in their JSON forms, unset messages and
// wrappers as null, empty lists and maps present. Compared as JSON values,
// not bytes, since protojson varies its whitespace on purpose.
func TestGatewayCompatibleJSON(t *testing.T) {
	srv := serve(t, newHandler(t))
	tests := []struct {
		name, method, path, body, want string
	}{
		{"unpopulated", "GET", "/v1/echo/k1", "", `{
			"id":"k1","name":"","i32":0,"i64":"0","u32":0,"u64":"0","s32":0,"s64":"0",
			"f32":0,"f64":"0","sf32":0,"sf64":"0","fl":0,"db":0,"flag":false,"data":"",
			"color":"COLOR_UNSPECIFIED","tags":[],"nums":[],"colors":[],"nested":null,"items":[],
			"labels":{},"byId":{},"ts":null,"dur":null,"mask":null,"sv":null,"i64v":null,"bv":null,
			"st":null,"val":null,"customJson":"","old":""}`},
		{"populated", "POST", "/v1/echo", `{
			"id":"k2","i64":"-9007199254740993","u64":18446744073709551615,"fl":1.5,"db":"NaN",
			"data":"AQI=","color":2,"colors":["RED",2],"nested":{"s":"x","child":{"i":3}},
			"labels":{"a":"b"},"byId":{"7":{"s":"seven"}},"ts":"2026-11-25T08:00:00.5Z",
			"dur":"1.5s","mask":"fooBar,baz","sv":"s","i64v":"5","bv":false,
			"st":{"k":[1,"two",null]},"val":{"x":true},"opt":"","bNum":0,"customJson":"c"}`, `{
			"id":"k2","name":"","i32":0,"i64":"-9007199254740993","u32":0,"u64":"18446744073709551615",
			"s32":0,"s64":"0","f32":0,"f64":"0","sf32":0,"sf64":"0","fl":1.5,"db":"NaN","flag":false,
			"data":"AQI=","color":"GREEN","tags":[],"nums":[],"colors":["RED","GREEN"],
			"nested":{"s":"x","i":0,"child":{"s":"","i":3,"child":null}},"items":[],
			"labels":{"a":"b"},"byId":{"7":{"s":"seven","i":0,"child":null}},
			"ts":"2026-11-25T08:00:00.500Z","dur":"1.500s","mask":"fooBar,baz","sv":"s","i64v":"5",
			"bv":false,"st":{"k":[1,"two",null]},"val":{"x":true},"opt":"","bNum":0,
			"customJson":"c","old":""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := call(t, srv, tt.method, tt.path, tt.body)
			if resp.status != http.StatusOK {
				t.Fatalf("status %d: %s", resp.status, resp.body)
			}
			var got, want any
			if err := json.Unmarshal(resp.body, &got); err != nil {
				t.Fatalf("body %s: %v", resp.body, err)
			}
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("body (-gateway +got):\n%s", diff)
			}
		})
	}
}
