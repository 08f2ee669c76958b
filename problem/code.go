package problem

import (
	"net/http"

	"google.golang.org/grpc/codes"
)

// HTTPStatus returns the HTTP status code for a gRPC code, as
// google/rpc/code.proto defines it: FAILED_PRECONDITION and OUT_OF_RANGE are
// 400, CANCELLED is 499 (the de facto "client closed request"), UNKNOWN,
// INTERNAL and DATA_LOSS are 500. Codes outside the table are 500.
func HTTPStatus(c codes.Code) int {
	switch c {
	case codes.OK:
		return http.StatusOK
	case codes.Canceled:
		return 499
	case codes.InvalidArgument, codes.FailedPrecondition, codes.OutOfRange:
		return http.StatusBadRequest
	case codes.DeadlineExceeded:
		return http.StatusGatewayTimeout
	case codes.NotFound:
		return http.StatusNotFound
	case codes.AlreadyExists, codes.Aborted:
		return http.StatusConflict
	case codes.PermissionDenied:
		return http.StatusForbidden
	case codes.ResourceExhausted:
		return http.StatusTooManyRequests
	case codes.Unimplemented:
		return http.StatusNotImplemented
	case codes.Unavailable:
		return http.StatusServiceUnavailable
	case codes.Unauthenticated:
		return http.StatusUnauthorized
	}
	return http.StatusInternalServerError
}

// Code returns the gRPC code that best means what an HTTP status means, for
// problems from servers that carry no gRPC code. It is the semantic inverse
// of [HTTPStatus]: where one status stands for several codes it picks the
// general one (400 → INVALID_ARGUMENT, 409 → ABORTED, 500 → INTERNAL).
// Problems written by this package carry the exact code in their "code"
// member, which [Problem.GRPCStatus] prefers.
//
// This is not the table for gRPC responses that arrive without a
// grpc-status trailer; that one is [TransportCode].
func Code(httpStatus int) codes.Code {
	switch httpStatus {
	case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusUnsupportedMediaType, http.StatusNotAcceptable:
		return codes.InvalidArgument
	case http.StatusUnauthorized:
		return codes.Unauthenticated
	case http.StatusForbidden:
		return codes.PermissionDenied
	case http.StatusNotFound, http.StatusGone:
		return codes.NotFound
	case http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return codes.Unimplemented
	case http.StatusRequestTimeout, http.StatusGatewayTimeout:
		return codes.DeadlineExceeded
	case http.StatusConflict:
		return codes.Aborted
	case http.StatusPreconditionFailed, http.StatusPreconditionRequired:
		return codes.FailedPrecondition
	case http.StatusRequestedRangeNotSatisfiable:
		return codes.OutOfRange
	case http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
		return codes.ResourceExhausted
	case 499:
		return codes.Canceled
	case http.StatusInternalServerError:
		return codes.Internal
	case http.StatusServiceUnavailable, http.StatusBadGateway:
		return codes.Unavailable
	}
	switch {
	case httpStatus >= 200 && httpStatus < 300:
		return codes.OK
	case httpStatus >= 500 && httpStatus < 600:
		return codes.Internal
	}
	return codes.Unknown
}

// TransportCode is gRPC's own mapping for a response to a gRPC request that
// arrived with an HTTP status but without a grpc-status (grpc/grpc
// doc/http-grpc-status-mapping.md): a proxy or load balancer answered, not a
// gRPC server. 400 is INTERNAL there, 404 UNIMPLEMENTED and 429, 502, 503
// and 504 UNAVAILABLE, because they say something about the transport, not
// the call. Use [Code] for problems from REST servers.
func TransportCode(httpStatus int) codes.Code {
	switch httpStatus {
	case http.StatusBadRequest:
		return codes.Internal
	case http.StatusUnauthorized:
		return codes.Unauthenticated
	case http.StatusForbidden:
		return codes.PermissionDenied
	case http.StatusNotFound:
		return codes.Unimplemented
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return codes.Unavailable
	}
	return codes.Unknown
}
