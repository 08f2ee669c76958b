package hateoas_test

import (
	"encoding/json"
	"fmt"

	"github.com/duetrpc/duet/hateoas"
	"github.com/duetrpc/duet/internal/testpb"
)

func ExampleRender() {
	body := []byte(`{"id":"42","name":"Ada"}`)
	out, _ := hateoas.Render(body, []hateoas.Link{
		{Rel: "self", Href: "/v1/users/42"},
		{Rel: "delete", Href: "/v1/users/42", Method: "DELETE"},
	}, hateoas.Array)
	fmt.Println(string(out))
	hal, _ := hateoas.Render(body, []hateoas.Link{{Rel: "self", Href: "/v1/users/42"}}, hateoas.HAL)
	fmt.Println(string(hal))
	// Output:
	// {"id":"42","name":"Ada","links":[{"rel":"self","href":"/v1/users/42"},{"rel":"delete","href":"/v1/users/42","method":"DELETE"}]}
	// {"id":"42","name":"Ada","_links":{"self":{"href":"/v1/users/42"}}}
}

func ExampleHeader() {
	fmt.Println(hateoas.Header([]hateoas.Link{{Rel: "next", Href: "/v1/users?page_token=abc"}}))
	// Output: </v1/users?page_token=abc>; rel="next"
}

func ExampleParseHeader() {
	links, err := hateoas.ParseHeader(`</v1/users?page_token=abc>; rel="next", </v1/users>; rel="first"`)
	fmt.Println(links[0].Rel, links[0].Href, links[1].Rel, err)
	// Output: next /v1/users?page_token=abc first <nil>
}

func ExampleRoute_Link() {
	route, _ := hateoas.NewRoute("GET", "/v1/{name=shelves/*/books/*}")
	fmt.Println(route.Link("self", &testpb.BookRequest{Name: "shelves/1/books/a b"}).Href)
	fmt.Printf("%+v\n", route.Link("self", &testpb.BookRequest{}))
	// Output:
	// /v1/shelves/1/books/a%20b
	// {Rel:self Href:/v1/{name} Method: Title: Type: Templated:true}
}

func ExampleRouteOf() {
	md := testpb.File_internal_testpb_test_proto.Services().ByName("Kitchens").Methods().ByName("DeactivateKitchen")
	route, _ := hateoas.RouteOf(md)
	fmt.Printf("%+v\n", route.Link("deactivate", &testpb.GetKitchenRequest{Id: "k1"}))
	// Output: {Rel:deactivate Href:/v1/kitchens/k1:deactivate Method:POST Title: Type: Templated:false}
}

func ExampleEmbed() {
	out, _ := hateoas.Embed([]byte(`{"id":"42"}`), map[string][]json.RawMessage{
		"orders": {json.RawMessage(`{"id":"o1","_links":{"self":{"href":"/v1/orders/o1"}}}`)},
	})
	fmt.Println(string(out))
	// Output: {"id":"42","_embedded":{"orders":[{"id":"o1","_links":{"self":{"href":"/v1/orders/o1"}}}]}}
}
