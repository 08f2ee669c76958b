package duet

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// The Connect protocol's wire format (connectrpc.com/docs/protocol): media
// types, the JSON error body with its HTTP status, and the end-of-stream
// message that closes a streaming response.

const (
	connectUnaryProto  = "application/proto"
	connectUnaryJSON   = "application/json"
	connectStreamPrefx = "application/connect+"
	// connectVersionHeader must be "1" when present.
	connectVersionHeader = "Connect-Protocol-Version"
	// connectEndStream flags the envelope that ends a streaming response:
	// a JSON object with the error, if any, and the trailers. Bit 0 marks
	// a compressed payload, as in gRPC.
	connectEndStream = 0x02
)

// connectContentType is what a Connect request's Content-Type selects.
type connectContentType struct {
	stream bool // application/connect+codec
	json   bool
}

// parseConnectContentType reads application/proto, application/json (with
// an optional charset=utf-8), application/connect+proto and
// application/connect+json, case-insensitive. ok is false for any other
// media type or codec.
func parseConnectContentType(ct string) (c connectContentType, ok bool) {
	mt, params, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if rest, found := strings.CutPrefix(mt, connectStreamPrefx); found {
		c.stream = true
		mt = "application/" + rest
	}
	switch mt {
	case connectUnaryProto:
	case connectUnaryJSON:
		c.json = true
		if cs := charset(params); cs != "" && cs != "utf-8" {
			return c, false
		}
	default:
		return c, false
	}
	return c, true
}

// charset returns the lower-cased charset parameter of a media type's
// parameters, "" when absent.
func charset(params string) string {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), "charset") {
			return strings.ToLower(strings.Trim(strings.TrimSpace(v), `"`))
		}
	}
	return ""
}

// connectCodeNames are the Connect spellings of the gRPC codes.
var connectCodeNames = [...]string{
	codes.Canceled:           "canceled",
	codes.Unknown:            "unknown",
	codes.InvalidArgument:    "invalid_argument",
	codes.DeadlineExceeded:   "deadline_exceeded",
	codes.NotFound:           "not_found",
	codes.AlreadyExists:      "already_exists",
	codes.PermissionDenied:   "permission_denied",
	codes.ResourceExhausted:  "resource_exhausted",
	codes.FailedPrecondition: "failed_precondition",
	codes.Aborted:            "aborted",
	codes.OutOfRange:         "out_of_range",
	codes.Unimplemented:      "unimplemented",
	codes.Internal:           "internal",
	codes.Unavailable:        "unavailable",
	codes.DataLoss:           "data_loss",
	codes.Unauthenticated:    "unauthenticated",
}

// connectHTTPStatus is the HTTP status of a unary Connect error, from the
// table in the protocol's "Error Codes" section.
var connectHTTPStatus = [...]int{
	codes.Canceled:           499,
	codes.Unknown:            http.StatusInternalServerError,
	codes.InvalidArgument:    http.StatusBadRequest,
	codes.DeadlineExceeded:   http.StatusGatewayTimeout,
	codes.NotFound:           http.StatusNotFound,
	codes.AlreadyExists:      http.StatusConflict,
	codes.PermissionDenied:   http.StatusForbidden,
	codes.ResourceExhausted:  http.StatusTooManyRequests,
	codes.FailedPrecondition: http.StatusBadRequest,
	codes.Aborted:            http.StatusConflict,
	codes.OutOfRange:         http.StatusBadRequest,
	codes.Unimplemented:      http.StatusNotImplemented,
	codes.Internal:           http.StatusInternalServerError,
	codes.Unavailable:        http.StatusServiceUnavailable,
	codes.DataLoss:           http.StatusInternalServerError,
	codes.Unauthenticated:    http.StatusUnauthorized,
}

// connectCode returns the Connect name and unary HTTP status of c; a code
// outside gRPC's sixteen is unknown.
func connectCode(c codes.Code) (string, int) {
	if c == codes.OK || int(c) >= len(connectCodeNames) {
		c = codes.Unknown
	}
	return connectCodeNames[c], connectHTTPStatus[c]
}

// connectError is the JSON error object of the protocol.
type connectError struct {
	Code    string          `json:"code"`
	Message string          `json:"message,omitempty"`
	Details []connectDetail `json:"details,omitempty"`
}

// connectDetail is one error detail: the fully-qualified message name and
// its binary encoding, base64 without padding.
type connectDetail struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// newConnectError converts a status; ok is never an error object.
func newConnectError(st *status.Status) *connectError {
	name, _ := connectCode(st.Code())
	e := &connectError{Code: name, Message: st.Message()}
	for _, d := range st.Proto().GetDetails() {
		url := d.GetTypeUrl()
		e.Details = append(e.Details, connectDetail{
			Type:  url[strings.LastIndexByte(url, '/')+1:],
			Value: base64.RawStdEncoding.EncodeToString(d.GetValue()),
		})
	}
	return e
}

// connectEnd is the end-of-stream message's JSON.
type connectEnd struct {
	Error    *connectError       `json:"error,omitempty"`
	Metadata map[string][]string `json:"metadata,omitempty"`
}

// appendConnectEnd appends the end-of-stream message of a call that ended
// with err (nil for OK) and trailer.
func appendConnectEnd(b []byte, err error, trailer metadata.MD) []byte {
	var end connectEnd
	if err != nil {
		end.Error = newConnectError(status.Convert(err))
	}
	for k, vs := range trailer {
		if reservedConnectKey(k) {
			continue
		}
		if end.Metadata == nil {
			end.Metadata = map[string][]string{}
		}
		for _, v := range vs {
			end.Metadata[k] = append(end.Metadata[k], encodeMetadataValue(k, v))
		}
	}
	out, mErr := json.Marshal(end)
	if mErr != nil { // strings and slices only: cannot happen
		return append(b, `{"error":{"code":"internal"}}`...)
	}
	return append(b, out...)
}

// reservedConnectKey reports whether a metadata key is one the protocol
// itself uses, which a handler cannot send as a header or trailer.
func reservedConnectKey(k string) bool {
	return strings.HasPrefix(k, ":") || strings.HasPrefix(k, "connect-") || strings.HasPrefix(k, "grpc-") ||
		k == "content-type" || k == "content-length" || k == "content-encoding" || k == "accept-encoding" ||
		k == "transfer-encoding" || k == "te" || k == "trailer" || k == "connection"
}

// addConnectMetadata adds md to h as headers, each name prefixed with
// prefix ("trailer-" for a unary response's trailers), binary values in
// base64. Names stay lower-case, as metadata keys are: HTTP field names
// are case-insensitive, and canonicalizing would cost an allocation per
// key on every call.
func addConnectMetadata(h http.Header, prefix string, md metadata.MD) {
	for k, vs := range md {
		if reservedConnectKey(k) {
			continue
		}
		name := k
		if prefix != "" {
			name = prefix + k
		}
		if !strings.HasSuffix(k, "-bin") {
			if h[name] == nil {
				h[name] = vs // shared: net/http only reads it
			} else {
				h[name] = append(h[name], vs...)
			}
			continue
		}
		for _, v := range vs {
			h[name] = append(h[name], encodeMetadataValue(k, v))
		}
	}
}
