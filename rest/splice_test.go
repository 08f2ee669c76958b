package rest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// members lists the top-level members of obj as jsonMembers sees them.
func members(obj []byte) (map[string]string, []string, bool) {
	vals := map[string]string{}
	var order []string
	ok := jsonMembers(obj, func(name []byte, start, end int) bool {
		vals[string(name)] = string(obj[start:end])
		order = append(order, string(name))
		return true
	})
	return vals, order, ok
}

func TestJSONMembers(t *testing.T) {
	tests := []struct {
		in    string
		order []string
		vals  map[string]string
		ok    bool
	}{
		{`{}`, nil, map[string]string{}, true},
		{` { "a" : 1 , "b":"x\"}]," ,"c":[1,{"d":"]"}],"e":{"f":null}} `,
			[]string{"a", "b", "c", "e"},
			map[string]string{"a": "1", "b": `"x\"}],"`, "c": `[1,{"d":"]"}]`, "e": `{"f":null}`}, true},
		{`[1]`, nil, map[string]string{}, false},
		{`{"a":1`, []string{"a"}, map[string]string{"a": "1"}, false},
		{`{"a" 1}`, nil, map[string]string{}, false},
		{`{"a":"unterminated}`, nil, map[string]string{}, false},
	}
	for _, tt := range tests {
		vals, order, ok := members([]byte(tt.in))
		if ok != tt.ok {
			t.Errorf("jsonMembers(%s) ok = %v, want %v", tt.in, ok, tt.ok)
		}
		if diff := cmp.Diff(tt.order, order); diff != "" {
			t.Errorf("jsonMembers(%s) order (-want +got):\n%s", tt.in, diff)
		}
		if diff := cmp.Diff(tt.vals, vals); diff != "" {
			t.Errorf("jsonMembers(%s) values (-want +got):\n%s", tt.in, diff)
		}
	}
}

// FuzzJSONMembers checks the splicer against encoding/json: on any valid
// object it finds the same members with the same values, and on any input
// it neither panics nor loops.
func FuzzJSONMembers(f *testing.F) {
	f.Add(`{"a":1,"b":[{"c":"d"}],"e":"\\\""}`)
	f.Add(`{}`)
	f.Add(`{"x":{"y":[1,2,{"z":"}"}]}}`)
	f.Fuzz(func(t *testing.T, in string) {
		vals, _, ok := members([]byte(in))
		var want map[string]json.RawMessage
		if json.Unmarshal([]byte(in), &want) != nil || !ok {
			return
		}
		for k, v := range want {
			if _, plain := vals[k]; !plain {
				continue // escaped names are compared as written
			}
			var a, b any
			if json.Unmarshal(v, &a) != nil || json.Unmarshal([]byte(vals[k]), &b) != nil || !cmp.Equal(a, b) {
				t.Fatalf("member %q: got %s, want %s", k, vals[k], v)
			}
		}
		if len(vals) > len(want) && !strings.Contains(in, `\`) {
			// duplicate names collapse in both; more here means a bad split
			t.Fatalf("got members %v, want %v", vals, want)
		}
	})
}
