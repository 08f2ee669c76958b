package duet

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/duetrpc/duet/internal/budget"
	"github.com/duetrpc/duet/internal/deadline"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/status"
)

// gRPC-Web frames (grpc/grpc doc/PROTOCOL-WEB.md) are gRPC's length-prefixed
// messages: a flags byte, a 4-byte big-endian length, the payload. Bit 0 of
// the flags marks a compressed payload, bit 7 the trailer frame that ends a
// response.
const (
	frameData       = 0x00
	frameCompressed = 0x01
	frameTrailer    = 0x80
	frameHeaderLen  = 5
)

// webFrameReader reads the request messages of one gRPC-Web call, one frame
// at a time as the body arrives, so that a client or bidirectional stream
// is handled message by message and memory is bounded by the message size
// limit, never by the number of frames. Each message grows only as its
// bytes arrive and draws on the server's body budget until the next one
// is read (or release); a small buffer (keepBuffer) is kept, with its
// share of the budget, for the call's next messages. With a read deadline set, a message, once its first
// byte has arrived, must arrive whole within the body timeout; the wait
// between messages of a stream is the client's.
type webFrameReader struct {
	body   io.Reader           // the request body, base64-decoded in text mode
	max    int                 // largest message, before and after decompression
	decomp encoding.Compressor // the request's grpc-encoding; nil for identity
	budget *budget.Bytes
	held   int64  // taken from budget for the current message
	buf    []byte // kept for the next messages, at most keepBuffer
	kept   int64  // taken from budget for buf
	// deadline sets the body's read deadline (http.ResponseController's);
	// nil, or timeout 0, for none.
	deadline func(time.Time) error
	timeout  time.Duration
	hdr      [frameHeaderLen]byte
	// protocol prefixes error messages: "grpc-web" when empty; Connect's
	// streams use the same frames.
	protocol string
}

// errorf returns a status whose message names the protocol.
func (fr *webFrameReader) errorf(c codes.Code, format string, args ...any) error {
	p := fr.protocol
	if p == "" {
		p = "grpc-web"
	}
	return status.Errorf(c, p+": "+format, args...)
}

// single reads the request of a unary or server-streaming call, which
// must be exactly one message: none or several is a cardinality violation,
// UNIMPLEMENTED in the gRPC status-code document (Connect's streams follow
// it too). The message is copied out of the reader's buffer.
func (fr *webFrameReader) single() ([]byte, error) {
	payload, err := fr.next()
	if err == io.EOF {
		return nil, fr.errorf(codes.Unimplemented, "no request message for a method that takes one")
	}
	if err != nil {
		return nil, err
	}
	msg := bytes.Clone(payload)
	switch _, err := fr.next(); err {
	case io.EOF:
		return msg, nil
	case nil:
		return nil, fr.errorf(codes.Unimplemented, "more than one request message for a method that takes one")
	default:
		return nil, err
	}
}

// newWebFrameReader reads frames from body; text selects base64 mode.
func newWebFrameReader(body io.Reader, text bool, max int, decomp encoding.Compressor) *webFrameReader {
	if text {
		body = newWebTextReader(body)
	}
	return &webFrameReader{body: body, max: max, decomp: decomp}
}

// next returns the next request message's payload, decompressed. The slice
// is valid until the following call. At the end of a well-formed body it
// returns io.EOF; any other error is a gRPC status whose code is the one
// the gRPC status-code and compression documents give the violation.
func (fr *webFrameReader) next() ([]byte, error) {
	fr.release()
	n, err := io.ReadFull(fr.body, fr.hdr[:1])
	if n == 1 {
		if fr.deadline != nil && fr.timeout > 0 && fr.deadline(time.Now().Add(fr.timeout)) == nil {
			defer func() { _ = fr.deadline(time.Time{}) }()
		}
		n, err = io.ReadFull(fr.body, fr.hdr[1:])
		n++
	}
	switch {
	case n == 0 && err == io.EOF:
		return nil, io.EOF
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return nil, fr.errorf(codes.Internal, "the request ends inside a message prefix (%d of 5 bytes)", n)
	case err != nil:
		return nil, fr.readError(err)
	}
	flags, size := fr.hdr[0], binary.BigEndian.Uint32(fr.hdr[1:])
	switch flags {
	case frameData:
	case frameCompressed:
		if fr.decomp == nil {
			return nil, fr.errorf(codes.Internal, "a compressed message without an encoding naming its compression")
		}
	default:
		return nil, fr.errorf(codes.Internal, "a request frame with flags 0x%02x; only 0x00 and 0x01 are data", flags)
	}
	if uint64(size) > uint64(fr.max) {
		return nil, fr.errorf(codes.ResourceExhausted, "a request message of %d bytes exceeds the limit of %d", size, fr.max)
	}
	var payload []byte
	if int(size) <= cap(fr.buf) {
		// The kept buffer holds it: no allocation, no new budget.
		payload = fr.buf[:size]
		if n, err := io.ReadFull(fr.body, payload); err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, fr.errorf(codes.Internal, "the request ends inside a message (%d of %d bytes)", n, size)
		} else if err != nil {
			return nil, fr.readError(err)
		}
	} else {
		if payload, err = fr.read(io.LimitReader(fr.body, int64(size)), int64(size), int64(size)); err != nil {
			return nil, err
		}
		if len(payload) < int(size) {
			return nil, fr.errorf(codes.Internal, "the request ends inside a message (%d of %d bytes)", len(payload), size)
		}
		if cap(payload) <= keepBuffer {
			fr.budget.Give(fr.kept)
			fr.buf, fr.kept, fr.held = payload[:0], fr.held, 0
		}
	}
	if flags == frameCompressed {
		return fr.decompress(payload)
	}
	return payload, nil
}

// read reads r to its end, within limit and the body budget; hint is the
// length expected, 0 if unknown.
func (fr *webFrameReader) read(r io.Reader, limit, hint int64) ([]byte, error) {
	b, held, err := budget.Read(r, limit, hint, fr.budget)
	fr.held += held
	if err != nil {
		return nil, fr.readError(err)
	}
	return b, nil
}

// keepBuffer is the largest buffer a call keeps between its messages, with
// its share of the body budget; larger messages give theirs back as soon
// as they are decoded, so that an idle stream holds little.
const keepBuffer = 32 << 10

// release gives back to the budget what the current message holds.
func (fr *webFrameReader) release() {
	fr.budget.Give(fr.held)
	fr.held = 0
}

// close gives back everything, the kept buffer too, when the call ends.
func (fr *webFrameReader) close() {
	fr.release()
	fr.budget.Give(fr.kept)
	fr.buf, fr.kept = nil, 0
}

// decompress inflates a compressed payload, stopping one byte past the
// limit so that a small message that inflates enormously (a zip bomb)
// costs at most the limit in memory.
func (fr *webFrameReader) decompress(compressed []byte) ([]byte, error) {
	r, err := fr.decomp.Decompress(bytes.NewReader(compressed))
	if err != nil {
		return nil, fr.errorf(codes.Internal, "decompressing a %s request message: %v", fr.decomp.Name(), err)
	}
	b, held, err := budget.Read(r, int64(fr.max), 0, fr.budget)
	fr.held += held
	switch {
	case errors.Is(err, budget.ErrTooLarge):
		return nil, fr.errorf(codes.ResourceExhausted, "a request message decompresses to more than the limit of %d bytes", fr.max)
	case errors.Is(err, budget.ErrExhausted):
		return nil, fr.readError(err)
	case err != nil:
		return nil, fr.errorf(codes.Internal, "decompressing a %s request message: %v", fr.decomp.Name(), err)
	}
	return b, nil
}

// readError is the status of a body that could not be read.
func (fr *webFrameReader) readError(err error) error {
	if errors.Is(err, errWebText) {
		return status.Error(codes.Internal, err.Error())
	}
	p := fr.protocol
	if p == "" {
		p = "grpc-web"
	}
	return bodyReadError(p, err, fr.max, fr.timeout)
}

// bodyReadError is the status of a request body that gRPC-Web or Connect
// could not read: the server-wide budget or the message limit
// (RESOURCE_EXHAUSTED), the body timeout (DEADLINE_EXCEEDED), or the
// client going away (CANCELLED). Its message starts with protocol.
func bodyReadError(protocol string, err error, max int, timeout time.Duration) error {
	switch {
	case errors.Is(err, budget.ErrExhausted):
		return status.Error(codes.ResourceExhausted, protocol+": the server is reading too many requests at once; retry shortly")
	case errors.Is(err, budget.ErrTooLarge):
		return status.Errorf(codes.ResourceExhausted, "%s: a request message exceeds the limit of %d bytes", protocol, max)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return status.Errorf(codes.DeadlineExceeded, "%s: a request message did not arrive within %v", protocol, timeout)
	}
	return status.Errorf(codes.Canceled, "%s: reading the request: %v", protocol, err)
}

// webFrameWriter writes the response frames of one gRPC-Web call: each
// message compressed when the call negotiated it, base64 in text mode (one
// padded chunk per frame, as gRPC-Web clients expect), written and flushed
// at once so that a streamed message reaches the client when it is sent.
// Every byte goes through write, which bounds each frame by the write
// timeout. A webFrameWriter is not safe for concurrent use.
type webFrameWriter struct {
	w       io.Writer
	rc      *http.ResponseController // flushes and sets write deadlines; nil for none
	timeout time.Duration
	text    bool
	comp    encoding.Compressor // nil for identity
	frame   []byte              // the frame being written, reused
	zbuf    bytes.Buffer        // a compressed payload, reused
	b64     []byte              // its base64, reused
}

// message writes one data frame; payload is the encoded message, which is
// compressed here when the call's response compression says so.
func (fw *webFrameWriter) message(payload []byte) error {
	flags := byte(frameData)
	if fw.comp != nil {
		fw.zbuf.Reset()
		zw, err := fw.comp.Compress(&fw.zbuf)
		if err == nil {
			_, err = zw.Write(payload)
			if cerr := zw.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			return status.Errorf(codes.Internal, "compressing a response message with %s: %v", fw.comp.Name(), err)
		}
		flags, payload = frameCompressed, fw.zbuf.Bytes()
	}
	return fw.write(flags, payload)
}

// trailer writes the trailer frame, never compressed.
func (fw *webFrameWriter) trailer(block []byte) error {
	return fw.write(frameTrailer, block)
}

func (fw *webFrameWriter) write(flags byte, payload []byte) error {
	fw.frame = appendFrame(fw.frame[:0], flags, payload)
	out := fw.frame
	if fw.text {
		n := base64.StdEncoding.EncodedLen(len(out))
		if cap(fw.b64) < n {
			fw.b64 = make([]byte, n)
		}
		fw.b64 = fw.b64[:n]
		base64.StdEncoding.Encode(fw.b64, out)
		out = fw.b64
	}
	return deadline.Write(fw.w, fw.rc, fw.timeout, out)
}

// appendFrame appends one frame of payload to b.
func appendFrame(b []byte, flags byte, payload []byte) []byte {
	b = append(b, flags, 0, 0, 0, 0)
	binary.BigEndian.PutUint32(b[len(b)-4:], uint32(len(payload)))
	return append(b, payload...)
}
