package rest_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/duetrpc/duet/hateoas"
	"github.com/duetrpc/duet/internal/testpb"
	"github.com/duetrpc/duet/rest"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
)

func kitchenLinks(_ context.Context, m proto.Message) []hateoas.Link {
	k := m.(*testpb.Kitchen)
	return []hateoas.Link{{Rel: "deactivate", Href: "/v1/kitchens/" + url.PathEscape(k.Id) + ":deactivate", Method: "POST"}}
}

func TestLinks(t *testing.T) {
	for _, style := range []hateoas.Style{hateoas.Array, hateoas.HAL} {
		h := rest.NewHandler(rest.WithLinks(&testpb.Kitchen{}, kitchenLinks), rest.WithLinkStyle(style))
		testpb.RegisterKitchensServer(h, kitchens{})
		srv := serve(t, h)

		one := call(t, srv, "GET", "/v1/kitchens/a%2Fb", "")
		got := jsonOf(t, one.body).(map[string]any)
		var want any
		if style == hateoas.Array {
			want = []any{
				map[string]any{"rel": "self", "href": "/v1/kitchens/a%2Fb"},
				map[string]any{"rel": "deactivate", "href": "/v1/kitchens/a%2Fb:deactivate", "method": "POST"},
			}
			if diff := cmp.Diff(want, got["links"]); diff != "" {
				t.Errorf("links (-want +got):\n%s", diff)
			}
		} else {
			want = map[string]any{
				"self":       map[string]any{"href": "/v1/kitchens/a%2Fb"},
				"deactivate": map[string]any{"href": "/v1/kitchens/a%2Fb:deactivate", "method": "POST"},
			}
			if diff := cmp.Diff(want, got["_links"]); diff != "" {
				t.Errorf("HAL links (-want +got):\n%s", diff)
			}
		}
		// The self link routes back to the same resource.
		back := call(t, srv, "GET", "/v1/kitchens/a%2Fb", "")
		if jsonOf(t, back.body).(map[string]any)["id"] != "a/b" {
			t.Errorf("self link does not route back: %s", back.body)
		}
	}

	h := rest.NewHandler(rest.WithLinks(&testpb.Kitchen{}, kitchenLinks))
	testpb.RegisterKitchensServer(h, kitchens{})
	srv := serve(t, h)
	list := call(t, srv, "GET", "/v1/kitchens?page_size=2&filter=big&page_token=abc", "")
	body := jsonOf(t, list.body).(map[string]any)
	items := body["kitchens"].([]any)
	for _, it := range items {
		links := it.(map[string]any)["links"].([]any)
		if len(links) != 2 {
			t.Errorf("list element links = %v", links)
		}
	}
	wantPage := []any{
		map[string]any{"rel": "next", "href": "/v1/kitchens?filter=big&page_size=2&page_token=next"},
		map[string]any{"rel": "first", "href": "/v1/kitchens?filter=big&page_size=2"},
	}
	if diff := cmp.Diff(wantPage, body["links"]); diff != "" {
		t.Errorf("list links (-want +got):\n%s", diff)
	}
	parsed, err := hateoas.ParseHeader(list.header.Get("Link"))
	if err != nil || len(parsed) != 2 || parsed[0].Rel != "next" {
		t.Errorf("Link header %q: %v %v", list.header.Get("Link"), parsed, err)
	}
	// Following next keeps the query: the handler sees the same filter.
	next := call(t, srv, http.MethodGet, parsed[0].Href, "")
	if k := jsonOf(t, next.body).(map[string]any)["kitchens"].([]any); k[0].(map[string]any)["name"] != "big" {
		t.Errorf("next page lost the filter: %s", next.body)
	}
}

// TestNoHypermediaByDefault: a plain handler's bodies are grpc-gateway's,
// and List navigation travels in the Link header only.
// A message with a field named like the links member keeps its own value:
// the JSON object never gets the member twice, and a message without such
// a field in the same response still gets links.
func TestOwnLinksFieldWins(t *testing.T) {
	bookLinks := func(context.Context, proto.Message) []hateoas.Link {
		return []hateoas.Link{{Rel: "injected", Href: "/x"}}
	}
	for _, tt := range []struct {
		style  hateoas.Style
		member string
	}{
		{hateoas.Array, "links"},
		{hateoas.HAL, "_links"},
	} {
		h := rest.NewHandler(rest.WithLinks(&testpb.Book{}, bookLinks), rest.WithLinks(&testpb.Kitchen{}, kitchenLinks), rest.WithLinkStyle(tt.style))
		testpb.RegisterKitchensServer(h, kitchens{})
		srv := serve(t, h)

		book := call(t, srv, "GET", "/v1/shelves/1/books/2", "")
		if n := strings.Count(string(book.body), `"links"`); n != 1 {
			t.Errorf("%s: book body has %d links members: %s", tt.member, n, book.body)
		}
		got := jsonOf(t, book.body).(map[string]any)
		if diff := cmp.Diff([]any{"its own"}, got["links"]); diff != "" {
			t.Errorf("%s: the book's own links field (-want +got):\n%s", tt.member, diff)
		}
		if tt.style == hateoas.HAL {
			if _, ok := got["_links"]; !ok {
				t.Errorf("HAL: a book's own \"links\" field does not clash with _links, which should be injected: %s", book.body)
			}
		}
		kitchen := jsonOf(t, call(t, srv, "GET", "/v1/kitchens/k", "").body).(map[string]any)
		if _, ok := kitchen[tt.member]; !ok {
			t.Errorf("%s: kitchen lost its injected links", tt.member)
		}
	}
}

func TestNoHypermediaByDefault(t *testing.T) {
	h := rest.NewHandler()
	testpb.RegisterKitchensServer(h, kitchens{})
	srv := serve(t, h)
	one := call(t, srv, "GET", "/v1/kitchens/1", "")
	if _, has := jsonOf(t, one.body).(map[string]any)["links"]; has {
		t.Errorf("default body has links: %s", one.body)
	}
	list := call(t, srv, "GET", "/v1/kitchens?page_size=1", "")
	if _, has := jsonOf(t, list.body).(map[string]any)["links"]; has {
		t.Errorf("default list body has links: %s", list.body)
	}
	if got := list.header.Get("Link"); got != `</v1/kitchens?page_size=1&page_token=next>; rel="next", </v1/kitchens?page_size=1>; rel="first"` {
		t.Errorf("Link = %q", got)
	}
	self := rest.NewHandler(rest.WithSelfLinks())
	testpb.RegisterKitchensServer(self, kitchens{})
	got := call(t, serve(t, self), "GET", "/v1/kitchens/1", "")
	if diff := cmp.Diff([]any{map[string]any{"rel": "self", "href": "/v1/kitchens/1"}}, jsonOf(t, got.body).(map[string]any)["links"]); diff != "" {
		t.Errorf("WithSelfLinks (-want +got):\n%s", diff)
	}
}
