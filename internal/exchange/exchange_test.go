package exchange

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTransportRecordsJSONAndSkipsStreams(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/sse" {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: {}\n\n")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	path := filepath.Join(t.TempDir(), "ex.jsonl")
	t.Setenv(Env, path)
	client := &http.Client{Transport: Transport(nil)}
	for _, p := range []string{"/json", "/sse"} {
		resp, err := client.Post(srv.URL+p, "application/json", strings.NewReader(`{"a":1}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if len(body) == 0 {
			t.Fatalf("%s: the recorder consumed the body the caller should read", p)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	want := []Record{{Method: "POST", URL: srv.URL + "/json", RequestBody: []byte(`{"a":1}`), Status: 201, ResponseBody: []byte(`{"a":1}`)}}
	ignoreHeaders := cmp.FilterPath(func(p cmp.Path) bool { return strings.HasSuffix(p.String(), "Header") }, cmp.Ignore())
	if diff := cmp.Diff(want, got, ignoreHeaders); diff != "" {
		t.Errorf("recorded exchanges (-want +got):\n%s", diff)
	}
}

func TestTransportWithoutEnvIsBase(t *testing.T) {
	t.Setenv(Env, "")
	base := &http.Transport{}
	if Transport(base) != http.RoundTripper(base) {
		t.Error("Transport wrapped base although recording is off")
	}
}
