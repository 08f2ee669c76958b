package duet

import (
	"encoding/base64"
	"errors"
	"io"
)

// errWebText reports a gRPC-Web text request body that is not base64.
var errWebText = errors.New("grpc-web: the text-mode request is not valid base64")

// webTextReader decodes a gRPC-Web text (application/grpc-web-text) request
// body as it arrives. The body is base64 of the binary frames, which clients
// may send as several separately padded chunks ("AAA=BBBB", one per frame or
// per write), so padding may appear at the end of any 4-character quantum,
// not only at the end; whitespace between characters is skipped. Memory is
// one read buffer and its decoded output, whatever the body's length.
type webTextReader struct {
	src  io.Reader
	in   []byte // base64 characters read but not yet decoded (whitespace removed)
	out  []byte // decoded bytes not yet returned
	dec  []byte // backing array of out
	read [4096]byte
	err  error // from src, returned once in and out are drained
}

func newWebTextReader(src io.Reader) *webTextReader {
	return &webTextReader{src: src}
}

func (t *webTextReader) Read(p []byte) (int, error) {
	for len(t.out) == 0 {
		if t.err != nil {
			if t.err == io.EOF && len(t.in) > 0 {
				// An unpadded last chunk is allowed; a lone character is not.
				if err := t.decodeTail(); err != nil {
					t.err = err
					return 0, err
				}
				continue
			}
			return 0, t.err
		}
		n, err := t.src.Read(t.read[:])
		for _, c := range t.read[:n] {
			switch c {
			case ' ', '\t', '\r', '\n':
			default:
				t.in = append(t.in, c)
			}
		}
		if err != nil {
			t.err = err
		}
		if derr := t.decode(); derr != nil {
			t.err = derr
			return 0, derr
		}
	}
	n := copy(p, t.out)
	t.out = t.out[n:]
	return n, nil
}

// decode decodes every complete quantum in t.in, one padded chunk at a time.
func (t *webTextReader) decode() error {
	whole := len(t.in) / 4 * 4
	if whole == 0 {
		return nil
	}
	if need := base64.StdEncoding.DecodedLen(whole); cap(t.dec) < need {
		t.dec = make([]byte, need)
	}
	t.dec = t.dec[:cap(t.dec)]
	src, pos := t.in[:whole], 0
	for len(src) > 0 {
		// A chunk ends at the first quantum that holds padding.
		end := len(src)
		for i := 2; i < len(src); i += 4 {
			if src[i] == '=' || src[i+1] == '=' {
				end = i + 2
				break
			}
		}
		n, err := base64.StdEncoding.Decode(t.dec[pos:], src[:end])
		if err != nil {
			return errWebText
		}
		pos += n
		src = src[end:]
	}
	t.dec = t.dec[:pos]
	t.out = t.dec
	t.in = append(t.in[:0], t.in[whole:]...)
	return nil
}

// decodeTail decodes the 1–3 characters left at the end of the body.
func (t *webTextReader) decodeTail() error {
	if len(t.in) == 1 {
		return errWebText
	}
	buf := make([]byte, 2)
	n, err := base64.RawStdEncoding.Decode(buf, t.in)
	t.in = t.in[:0]
	if err != nil {
		return errWebText
	}
	t.out = buf[:n]
	return nil
}
