// Package problem implements RFC 9457 problem details for HTTP APIs
// (https://www.rfc-editor.org/rfc/rfc9457) and
// maps them, both ways and without loss, to gRPC statuses with the standard
// google.rpc error details.
//
// A *[Problem] is an error with a GRPCStatus method, so a gRPC handler can
// return one and grpc-go sends the matching status; [FromStatus] turns any
// status into a problem for a REST response; [Write] writes any Go error as
// application/problem+json; and [Parse] reads one back in a REST client.
// The package needs no protobuf service and works in a plain net/http
// server.
//
// # The JSON form
//
// Besides the RFC's type, title, status, detail and instance, a problem made
// from a gRPC status carries these extension members, written so that a
// REST client can use them without knowing protobuf:
//
//	code                  the gRPC code name, e.g. "FAILED_PRECONDITION" (400,
//	                      409 and 500 each stand for several codes)
//	reason, domain,       ErrorInfo; the type becomes
//	metadata              https://{domain}/errors/{reason}
//	errors                BadRequest: [{field, code, message, localized_message}]
//	retry_delay           RetryInfo, as a duration string ("1.500s"); Write
//	                      also sets Retry-After in whole seconds
//	request_id,           RequestInfo
//	serving_data
//	debug_info            DebugInfo (only with Writer.Debug)
//	quota_failure,        QuotaFailure, PreconditionFailure, ResourceInfo,
//	precondition_failure, Help and LocalizedMessage, each as the detail's
//	resource_info, help,  JSON with proto field names; an array when a status
//	localized_message     carries several of a kind
//	details               any other detail, and a second ErrorInfo,
//	                      BadRequest, RetryInfo or RequestInfo:
//	                      [{"@type": type URL, "value": base64}]
//	grpc_message          the status message, when Write replaced the detail
//	                      with a LocalizedMessage matching Accept-Language
//
// For example:
//
//	HTTP/1.1 400 Bad Request
//	Content-Type: application/problem+json
//	Retry-After: 2
//
//	{"type":"https://users.example.com/errors/INVALID_USER","title":"Bad Request",
//	 "status":400,"detail":"invalid user","code":"INVALID_ARGUMENT",
//	 "reason":"INVALID_USER","domain":"users.example.com",
//	 "errors":[{"field":"email","code":"REQUIRED","message":"email is required"}],
//	 "retry_delay":"1.500s"}
//
// [Problem.GRPCStatus] rebuilds the code, the message and every detail as
// proto.Equal values. The details come back grouped by kind (ErrorInfo,
// BadRequest, RetryInfo, RequestInfo, DebugInfo, QuotaFailure,
// PreconditionFailure, ResourceInfo, Help, LocalizedMessage, then the rest
// in their original order), which is the only thing the round trip does not
// keep.
//
// # What never leaves the process
//
// [Write] and [Writer.Problem] replace the message of UNKNOWN, INTERNAL and
// DATA_LOSS errors, and of any plain Go error, with a generic sentence, and
// drop DebugInfo, unless [Writer.Debug] is set: internal messages can carry
// secrets, paths and queries.
//
// # Performance
//
// go test -run '^$' -bench . -benchmem on a shared 2-core x86-64 VM (the
// median of five runs; the timings vary by ±20% there, the allocations do
// not):
//
//	BenchmarkFromStatusMarshal-2     90210   12235 ns/op   5338 B/op    85 allocs/op
//	BenchmarkUnmarshalGRPCStatus-2   66340   17487 ns/op   8104 B/op   161 allocs/op
//	BenchmarkWriteNoDetails-2       794449    1344 ns/op    840 B/op    10 allocs/op
//
// The first two use a status with three details (ErrorInfo, BadRequest with
// two violations, RetryInfo): server side status → problem JSON, client side
// problem JSON → status. The third is the common case on a REST server, a
// status error without details written by [Write]; it skips the detail
// conversion entirely, writes plain strings (quotes included) without
// reflection, and edits the problem it built in place rather than a copy.
package problem
