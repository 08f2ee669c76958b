package duet

import (
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/duetrpc/duet/internal/pbjson"
)

// webContentType is what a gRPC-Web request's Content-Type selects: the
// mode (binary or base64 text) and the codec (proto or JSON).
type webContentType struct {
	text bool
	json bool
	// response is the Content-Type of the response: the request's media
	// type, so that a client finds the mode and codec it asked for.
	response string
}

const (
	webBinary = "application/grpc-web"
	webText   = "application/grpc-web-text"
)

// isGRPCWeb reports whether a request's Content-Type is gRPC-Web's (any
// codec, supported or not: the gRPC-Web handler answers the unsupported
// ones with a gRPC status a gRPC-Web client can read).
func isGRPCWeb(contentType string) bool {
	return len(contentType) >= len(webBinary) && strings.EqualFold(contentType[:len(webBinary)], webBinary)
}

// parseWebContentType reads application/grpc-web[-text][+proto|+json]
// (parameters ignored, case-insensitive). ok is false for another codec.
func parseWebContentType(ct string) (wct webContentType, ok bool) {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	rest, text := strings.CutPrefix(mt, webText)
	if !text {
		var isWeb bool
		if rest, isWeb = strings.CutPrefix(mt, webBinary); !isWeb {
			return webContentType{response: webBinary + "+proto"}, false
		}
	}
	wct.text = text
	switch rest {
	case "", "+proto":
	case "+json":
		wct.json = true
	default:
		wct.response = webBinary + "+proto"
		if text {
			wct.response = webText + "+proto"
		}
		return wct, false
	}
	wct.response = mt
	return wct, true
}

// webCodec turns messages into payloads and back: binary protobuf or
// JSON, which pbjson writes and reads as protojson does with the REST
// transcoder's options.
type webCodec struct {
	json  bool
	codec *pbjson.Codec
}

// appendMessage appends m's encoding to b.
func (c *webCodec) appendMessage(b []byte, m any) ([]byte, error) {
	msg, ok := m.(proto.Message)
	if !ok {
		return b, status.Errorf(codes.Internal, "grpc-web: %T is not a proto message", m)
	}
	var err error
	if c.json {
		b, err = c.codec.MarshalAppend(b, msg)
	} else {
		b, err = proto.MarshalOptions{}.MarshalAppend(b, msg)
	}
	if err != nil {
		return b, status.Errorf(codes.Internal, "grpc-web: encoding the response: %v", err)
	}
	return b, nil
}

// readMessage decodes a request payload into m. A payload that does not
// parse is INTERNAL, as the gRPC status-code document lists "error parsing
// request proto"; it is not the application's INVALID_ARGUMENT.
func (c *webCodec) readMessage(b []byte, m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return status.Errorf(codes.Internal, "grpc-web: %T is not a proto message", m)
	}
	var err error
	if c.json {
		err = c.codec.Unmarshal(b, msg)
	} else {
		err = proto.Unmarshal(b, msg)
	}
	if err != nil {
		return status.Errorf(codes.Internal, "grpc-web: parsing the request message: %v", err)
	}
	return nil
}
