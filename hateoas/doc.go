// Package hateoas builds hypermedia links and renders them: as HAL
// (_links, _embedded), as the links array of {rel, href, method} that the
// article this SDK started from uses, and as RFC 8288 Link headers.
//
// Links to a method's route are built by reverse routing ([RouteOf],
// [Route.Link]): the method's google.api.http path template is expanded
// with a message's fields, percent-encoded exactly as the rest transcoder
// decodes them, so a link can never point where the server does not route.
// A field that is unset leaves an RFC 6570 {field} expression and marks
// the link templated.
//
// The package needs no protobuf service for its renderers and headers: a
// plain net/http handler can use [Render], [Header] and [ParseHeader]. The
// rest package injects links into REST responses (rest.WithLinks), never
// into gRPC ones.
package hateoas
