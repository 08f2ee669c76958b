package hateoas_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/duetrpc/duet/hateoas"
	"github.com/duetrpc/duet/internal/testpb"
	"github.com/duetrpc/duet/rest"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

var links = []hateoas.Link{
	{Rel: "self", Href: "/v1/users/42"},
	{Rel: "orders", Href: "/v1/users/42/orders", Title: "Orders"},
	{Rel: "delete", Href: "/v1/users/42", Method: "DELETE"},
	{Rel: "item", Href: "/a"},
	{Rel: "item", Href: "/b", Type: "application/json"},
	{Rel: "search", Href: "/v1/users{?q}", Templated: true},
}

func TestRender(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		style hateoas.Style
		want  string
	}{
		{"array", `{"id":"42"}`, hateoas.Array, `{"id":"42","links":[{"rel":"self","href":"/v1/users/42"},{"rel":"orders","href":"/v1/users/42/orders","title":"Orders"},{"rel":"delete","href":"/v1/users/42","method":"DELETE"},{"rel":"item","href":"/a"},{"rel":"item","href":"/b","type":"application/json"},{"rel":"search","href":"/v1/users{?q}","templated":true}]}`},
		{"HAL", `{"id":"42"}`, hateoas.HAL, `{"id":"42","_links":{"self":{"href":"/v1/users/42"},"orders":{"href":"/v1/users/42/orders","title":"Orders"},"delete":{"href":"/v1/users/42","method":"DELETE"},"item":[{"href":"/a"},{"href":"/b","type":"application/json"}],"search":{"href":"/v1/users{?q}","templated":true}}}`},
		{"empty object", ` { } `, hateoas.Array, `{"links":[{"rel":"self","href":"/v1/users/42"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := links
			if tt.name == "empty object" {
				in = links[:1]
			}
			got, err := hateoas.Render([]byte(tt.body), in, tt.style)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if !json.Valid(got) {
				t.Error("not JSON")
			}
		})
	}
	if _, err := hateoas.Render([]byte(`[1]`), links, hateoas.Array); err == nil {
		t.Error("Render of an array: no error")
	}
	emb, err := hateoas.Embed([]byte(`{"id":"42"}`), map[string][]json.RawMessage{"orders": {json.RawMessage(`{"id":"o1"}`)}})
	if err != nil || string(emb) != `{"id":"42","_embedded":{"orders":[{"id":"o1"}]}}` {
		t.Errorf("Embed = %s, %v", emb, err)
	}
}

func TestLinkHeader(t *testing.T) {
	h := hateoas.Header([]hateoas.Link{{Rel: "next", Href: "/v1/users?page_token=abc"}, {Rel: "first", Href: "/v1/users", Title: `say "hi"`}})
	if want := `</v1/users?page_token=abc>; rel="next", </v1/users>; rel="first"; title="say \"hi\""`; h != want {
		t.Errorf("Header = %s\nwant     %s", h, want)
	}
	tests := []struct {
		in      string
		want    []hateoas.Link
		wantErr bool
	}{
		{h, []hateoas.Link{{Rel: "next", Href: "/v1/users?page_token=abc"}, {Rel: "first", Href: "/v1/users", Title: `say "hi"`}}, false},
		{`<https://x/2>; rel="next last"; type=text/html`, []hateoas.Link{{Rel: "next", Href: "https://x/2", Type: "text/html"}, {Rel: "last", Href: "https://x/2", Type: "text/html"}}, false},
		{`<a>;rel=prev , <b>; REL="next"; rel="ignored"`, []hateoas.Link{{Rel: "prev", Href: "a"}, {Rel: "next", Href: "b"}}, false},
		{``, nil, false},
		{`<a>`, nil, true},
		{`a; rel=x`, nil, true},
		{`<a; rel=x`, nil, true},
		{`<a>; rel="x`, nil, true},
		{`<a>; rel=x <b>`, nil, true},
	}
	for _, tt := range tests {
		got, err := hateoas.ParseHeader(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseHeader(%q) error = %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseHeader(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func FuzzParseHeader(f *testing.F) {
	for _, s := range []string{`<a>; rel="next"`, `<a>;rel=x, <b>; title="\"q\""`, `<`, `"`, `<a>; rel`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		links, err := hateoas.ParseHeader(s)
		if err != nil {
			return
		}
		// What parses re-formats and parses to the same links, when hrefs
		// have no '>' of their own.
		again, err := hateoas.ParseHeader(hateoas.Header(links))
		if err == nil && len(again) != len(links) {
			t.Fatalf("%q: %d links, re-parsed %d", s, len(links), len(again))
		}
	})
}

// TestReverseRoutingRoutesBack builds a link for every rule form of the
// rest test proto and routes it through the rest handler: it reaches the
// same method, which sees the same fields.
func TestReverseRoutingRoutesBack(t *testing.T) {
	h := rest.NewHandler(rest.WithoutSelfLinks())
	testpb.RegisterKitchensServer(h, echoKitchens{})
	svc := testpb.File_internal_testpb_test_proto.Services().ByName("Kitchens")
	tests := []struct {
		method string
		msg    proto.Message
		want   string
		body   string // what the echo answers when the fields arrived intact
	}{
		{"GetKitchen", &testpb.GetKitchenRequest{Id: "a/b c"}, "/v1/kitchens/a%2Fb%20c", `"id":"a/b c"`},
		{"DeactivateKitchen", &testpb.GetKitchenRequest{Id: "k:1"}, "/v1/kitchens/k%3A1:deactivate", `"id":"k:1"`},
		{"UpdateKitchen", &testpb.UpdateKitchenRequest{Kitchen: &testpb.Kitchen{Id: "k1"}}, "/v1/kitchens/k1", `"id":"k1"`},
		{"GetBook", &testpb.BookRequest{Name: "shelves/s 1/books/b"}, "/v1/shelves/s%201/books/b", `"name":"shelves/s 1/books/b"`},
		{"GetFile", &testpb.FileRequest{Path: "a/b/c.txt"}, "/v1/files/a/b/c.txt", `a/b/c.txt`},
		{"Echo", &testpb.Kitchen{Id: "e"}, "/v1/echo/e", `"id":"e"`},
		{"GetChild", &testpb.Nested{S: "é"}, "/v1/children/%C3%A9", `"s":"é"`},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			md := svc.Methods().ByName(protoreflect.Name(tt.method))
			route, err := hateoas.RouteOf(md)
			if err != nil {
				t.Fatal(err)
			}
			l := route.Link("x", tt.msg)
			if l.Href != tt.want || l.Templated {
				t.Fatalf("href = %q (templated %v), want %q", l.Href, l.Templated, tt.want)
			}
			method := l.Method
			if method == "" {
				method = "GET"
			}
			var body io.Reader
			if method != "GET" {
				body = strings.NewReader("{}")
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(method, l.Href, body))
			if rec.Code != 200 {
				t.Fatalf("%s %s: %d %s", method, l.Href, rec.Code, rec.Body)
			}
			if got := rec.Header().Get("Grpc-Metadata-Method"); got != tt.method {
				t.Errorf("routed to %q", got)
			}
			var compact bytes.Buffer
			if json.Compact(&compact, rec.Body.Bytes()) != nil {
				compact.Write(rec.Body.Bytes())
			}
			if !strings.Contains(compact.String(), tt.body) {
				t.Errorf("the handler saw %s, want %s", compact.String(), tt.body)
			}
		})
	}
	// An unset field makes a template.
	route, _ := hateoas.NewRoute("GET", "/v1/{name=shelves/*/books/*}/pages/{page}")
	l := route.Link("page", &testpb.BookRequest{Name: "shelves/1/books/2"})
	if l.Href != "/v1/shelves/1/books/2/pages/{page}" || !l.Templated {
		t.Errorf("templated link = %+v", l)
	}
}

func BenchmarkRenderList20(b *testing.B) {
	items := make([][]byte, 20)
	for i := range items {
		items[i] = []byte(fmt.Sprintf(`{"id":"%d","name":"user %d","email":"u%d@example.com"}`, i, i, i))
	}
	route, _ := hateoas.NewRoute("GET", "/v1/users/{id}")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for j, it := range items {
			l := route.Link("self", &testpb.GetKitchenRequest{Id: fmt.Sprint(j)})
			if _, err := hateoas.Render(it, []hateoas.Link{l, {Rel: "orders", Href: l.Href + "/orders"}}, hateoas.Array); err != nil {
				b.Fatal(err)
			}
		}
	}
}
