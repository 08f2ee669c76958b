package duet

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/iotest"

	"github.com/duetrpc/duet/internal/call"
	"github.com/duetrpc/duet/internal/pbjson"
	"github.com/duetrpc/duet/internal/testpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
)

// gzipFrame returns payload as one compressed gRPC frame.
func gzipFrame(tb testing.TB, payload []byte) []byte {
	var z bytes.Buffer
	zw, err := encoding.GetCompressor("gzip").Compress(&z)
	if err != nil {
		tb.Fatal(err)
	}
	zw.Write(payload)
	zw.Close()
	return appendFrame(nil, frameCompressed, z.Bytes())
}

// FuzzWebFrameReader: whatever body a client sends, binary or text,
// compressed or not, the frame reader returns messages within the limit
// and then io.EOF or one error whose code is a protocol violation's
// (INTERNAL) or the limit's (RESOURCE_EXHAUSTED); it never panics or loops.
func FuzzWebFrameReader(f *testing.F) {
	const max = 1 << 10
	msg := []byte{10, 2, 'i', 'd'}
	plain := appendFrame(nil, frameData, msg)
	zipped := gzipFrame(f, msg)
	bomb := gzipFrame(f, make([]byte, 64<<10))
	b64 := base64.StdEncoding.EncodeToString
	for _, body := range [][]byte{
		plain, append(append([]byte{}, plain...), plain...), zipped, bomb, plain[:3], plain[:7],
		{0x80, 0, 0, 0, 0}, {1, 0, 0, 0, 1, 0}, {0, 0xff, 0xff, 0xff, 0xff},
		appendFrame(nil, frameCompressed, []byte("not gzip")),
	} {
		f.Add(false, false, body)
		f.Add(false, true, body)
		f.Add(true, true, []byte(b64(body)))
		f.Add(true, false, []byte(b64(body[:len(body)/2])+b64(body[len(body)/2:])))
	}
	f.Add(true, false, []byte("AAAAAA==\r\nBAoCaWQ="))
	f.Add(true, false, []byte("AAAAAAQKAmlk"))
	f.Add(true, false, []byte("===="))
	f.Add(true, false, []byte("A"))
	f.Fuzz(func(t *testing.T, text, compressed bool, body []byte) {
		var decomp encoding.Compressor
		if compressed {
			decomp = encoding.GetCompressor("gzip")
		}
		fr := newWebFrameReader(bytes.NewReader(body), text, max, decomp)
		for i := 0; ; i++ {
			if i > len(body) {
				t.Fatalf("%d messages from a %d-byte body", i, len(body))
			}
			payload, err := fr.next()
			if err == io.EOF {
				return
			}
			if err != nil {
				if c := status.Code(err); c != codes.Internal && c != codes.ResourceExhausted {
					t.Fatalf("error %v, want INTERNAL or RESOURCE_EXHAUSTED", err)
				}
				return
			}
			if len(payload) > max {
				t.Fatalf("a %d-byte message over the %d limit", len(payload), max)
			}
		}
	})
}

// FuzzWebFrameRoundTrip: what the frame writer writes, in any mode and
// compression, the frame reader reads back unchanged.
func FuzzWebFrameRoundTrip(f *testing.F) {
	f.Add([]byte{}, uint8(1), false, false)
	f.Add([]byte("hello"), uint8(3), true, false)
	f.Add(bytes.Repeat([]byte("ab"), 300), uint8(2), true, true)
	f.Add([]byte{0, 1, 2, 0xff}, uint8(5), false, true)
	f.Fuzz(func(t *testing.T, payload []byte, n uint8, text, compressed bool) {
		var comp encoding.Compressor
		if compressed {
			comp = encoding.GetCompressor("gzip")
		}
		var out bytes.Buffer
		fw := webFrameWriter{w: &out, text: text, comp: comp}
		for i := 0; i < int(n%8); i++ {
			if err := fw.message(payload); err != nil {
				t.Fatal(err)
			}
		}
		limit := len(payload)
		if compressed {
			limit += limit/100 + 64 // room for gzip's framing of incompressible bytes
		}
		fr := newWebFrameReader(&out, text, limit, comp)
		for i := 0; i < int(n%8); i++ {
			got, err := fr.next()
			if err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			if !bytes.Equal(got, payload) {
				t.Fatalf("message %d: %q, want %q", i, got, payload)
			}
		}
		if _, err := fr.next(); err != io.EOF {
			t.Fatalf("after the messages: %v, want io.EOF", err)
		}
	})
}

// FuzzGRPCWebRequest: whatever body a client sends, to a unary, a server-
// and a client-streaming method, binary or text, compressed or not, the
// gRPC-Web handler answers 200 with a response that ends in exactly one
// trailer frame carrying a grpc-status, and never panics.
func FuzzGRPCWebRequest(f *testing.F) {
	f.Add(false, false, []byte{0, 0, 0, 0, 4, 10, 2, 'i', 'd'})
	f.Add(false, false, []byte{0, 0, 0, 0, 0})
	f.Add(false, false, []byte{0x80, 0, 0, 0, 0})
	f.Add(false, true, gzipFrame(f, []byte{10, 2, 'i', 'd'}))
	f.Add(false, false, []byte{0, 0xff, 0xff, 0xff, 0xff})
	f.Add(true, false, []byte("AAAAAAQKAmlk"))
	f.Add(true, false, []byte("AAAAAA==BAoCaWQ="))
	f.Add(true, false, []byte("===="))
	web := newGRPCWeb(call.New(call.Config{}), 1<<10, pbjson.New(protojson.MarshalOptions{}, protojson.UnmarshalOptions{}))
	web.register(&testpb.Kitchens_ServiceDesc, testpb.UnimplementedKitchensServer{})
	f.Fuzz(func(t *testing.T, text, compressed bool, body []byte) {
		ct := "application/grpc-web"
		if text {
			ct = "application/grpc-web-text"
		}
		for _, method := range []string{"GetKitchen", "Tail", "Collect"} {
			req := httptest.NewRequest(http.MethodPost, "/duet.test.v1.Kitchens/"+method, bytes.NewReader(body))
			req.Header.Set("Content-Type", ct)
			if compressed {
				req.Header.Set("Grpc-Encoding", "gzip")
			}
			rec := httptest.NewRecorder()
			web.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("HTTP %d", rec.Code)
			}
			var out []byte = rec.Body.Bytes()
			if text {
				var err error
				if out, err = io.ReadAll(newWebTextReader(rec.Body)); err != nil {
					t.Fatalf("response is not base64: %v", err)
				}
			}
			var last byte
			for len(out) > 0 {
				if len(out) < 5 {
					t.Fatalf("truncated frame header")
				}
				n := int(binary.BigEndian.Uint32(out[1:5]))
				if 5+n > len(out) {
					t.Fatalf("truncated frame")
				}
				if last == frameTrailer {
					t.Fatalf("a frame after the trailer frame")
				}
				last = out[0]
				if last == frameTrailer && !bytes.HasPrefix(out[5:5+n], []byte("grpc-status: ")) {
					t.Fatalf("trailer frame without grpc-status: %q", out[5:5+n])
				}
				if bytes.Contains(out[5:5+n], []byte("grpc-status: 3\r\n")) {
					t.Fatalf("INVALID_ARGUMENT for a protocol violation: %q", out[5:5+n])
				}
				out = out[5+n:]
			}
			if last != frameTrailer {
				t.Fatalf("no trailer frame")
			}
		}
	})
}

// FuzzWebTextReader: the streaming text-mode decoder, fed any bytes in any
// read sizes, decodes exactly what decoding each separately padded chunk
// of the whole body at once decodes, and fails only where that fails
// (besides accepting an unpadded last chunk).
func FuzzWebTextReader(f *testing.F) {
	f.Add([]byte("AAAAAAQKAmlk"), false)
	f.Add([]byte("AAAAAA==BAoCaWQ="), true)
	f.Add([]byte("AA==\r\nAAA=AAAA"), true)
	f.Add([]byte("===="), false)
	f.Add([]byte("QUJD"), true)
	f.Fuzz(func(t *testing.T, body []byte, oneByte bool) {
		var src io.Reader = bytes.NewReader(body)
		if oneByte {
			src = iotest.OneByteReader(src)
		}
		got, err := io.ReadAll(newWebTextReader(src))
		want, werr := decodeChunksAtOnce(body)
		if werr == nil {
			if err != nil {
				t.Fatalf("%q: %v, want %x", body, err, want)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%q: %x, want %x", body, got, want)
			}
		}
	})
}

// decodeChunksAtOnce is the reference: whitespace removed, the body split
// after each run of padding, each chunk decoded with padding required.
func decodeChunksAtOnce(b []byte) ([]byte, error) {
	b = bytes.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, b)
	var out []byte
	for len(b) > 0 {
		end := bytes.IndexByte(b, '=')
		if end < 0 {
			end = len(b)
		}
		for end < len(b) && b[end] == '=' {
			end++
		}
		d, err := base64.StdEncoding.DecodeString(string(b[:end]))
		if err != nil {
			return nil, err
		}
		out = append(out, d...)
		b = b[end:]
	}
	return out, nil
}
