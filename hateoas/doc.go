// Package hateoas builds hypermedia links and renders them: as HAL
// (_links, _embedded; draft-kelly-json-hal,
// https://datatracker.ietf.org/doc/html/draft-kelly-json-hal), as a
// "links" array of {rel, href, method} objects, and as RFC 8288 Link
// headers (https://www.rfc-editor.org/rfc/rfc8288).
//
// Links are how a REST API meets the hypermedia constraint of REST
// ("hypermedia as the engine of application state", Fielding's
// dissertation, section 5.1.5,
// https://ics.uci.edu/~fielding/pubs/dissertation/rest_arch_style.htm):
// a response names the actions and resources a client may follow next, so
// the client follows links instead of building URLs. Relation names follow
// RFC 8288 (self, next, first, …) or are the API's own (update, orders).
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
