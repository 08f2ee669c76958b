package duet_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/duetrpc/duet"
	"github.com/duetrpc/duet/internal/testpb"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
)

// webClients are an HTTP/1.1 client and a cleartext HTTP/2 (prior
// knowledge) client, the two ways gRPC-Web reaches the one port.
func webClients(t testing.TB) map[string]*http.Client {
	h1 := &http.Transport{}
	h2 := &http.Transport{Protocols: new(http.Protocols)}
	h2.Protocols.SetUnencryptedHTTP2(true)
	t.Cleanup(h1.CloseIdleConnections)
	t.Cleanup(h2.CloseIdleConnections)
	return map[string]*http.Client{"HTTP/1.1": {Transport: h1}, "HTTP/2": {Transport: h2}}
}

// webFrames reads a gRPC-Web response body: its data frames (flags and
// payload) and its trailer block.
type webFrames struct {
	flags    []byte
	messages [][]byte
	trailer  map[string]string
}

func readWebFrames(t testing.TB, r io.Reader) webFrames {
	t.Helper()
	var out webFrames
	br := bufio.NewReader(r)
	for {
		hdr := make([]byte, 5)
		if _, err := io.ReadFull(br, hdr); err == io.EOF {
			return out
		} else if err != nil {
			t.Fatalf("reading a frame prefix: %v", err)
		}
		payload := make([]byte, binary.BigEndian.Uint32(hdr[1:]))
		if _, err := io.ReadFull(br, payload); err != nil {
			t.Fatalf("reading a frame: %v", err)
		}
		if hdr[0]&0x80 != 0 {
			if out.trailer != nil {
				t.Fatal("two trailer frames")
			}
			out.trailer = map[string]string{}
			for _, line := range strings.Split(strings.TrimSuffix(string(payload), "\r\n"), "\r\n") {
				k, v, _ := strings.Cut(line, ": ")
				out.trailer[k] = v
			}
			continue
		}
		if out.trailer != nil {
			t.Fatal("a data frame after the trailer frame")
		}
		out.flags = append(out.flags, hdr[0])
		out.messages = append(out.messages, payload)
	}
}

func nestedFrames(ss ...string) []byte {
	var b []byte
	for _, s := range ss {
		b = append(b, frame(0, &testpb.Nested{S: s})...)
	}
	return b
}

// TestGRPCWebClientAndBidiStreams: client-streaming and bidirectional
// methods over HTTP/1.1 (half duplex: the body is every request frame) and
// HTTP/2, binary and text.
func TestGRPCWebClientAndBidiStreams(t *testing.T) {
	f := start(t)
	for proto_, client := range webClients(t) {
		for _, text := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s text=%v", proto_, text), func(t *testing.T) {
				post := func(method string, body []byte) (*http.Response, webFrames) {
					ct := "application/grpc-web+proto"
					if text {
						ct, body = "application/grpc-web-text+proto", []byte(base64.StdEncoding.EncodeToString(body))
					}
					req, _ := http.NewRequest("POST", "http://"+f.addr+"/duet.test.v1.Kitchens/"+method, bytes.NewReader(body))
					req.Header.Set("Content-Type", ct)
					resp, err := client.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					defer resp.Body.Close()
					if !strings.HasPrefix(resp.Proto, proto_) {
						t.Fatalf("served over %s", resp.Proto)
					}
					var r io.Reader = resp.Body
					if text {
						raw, _ := io.ReadAll(resp.Body)
						dec, err := decodeConcat(raw)
						if err != nil {
							t.Fatalf("text response is not base64: %v", err)
						}
						r = bytes.NewReader(dec)
					}
					return resp, readWebFrames(t, r)
				}

				resp, got := post("Collect", nestedFrames("a", "b", "c"))
				if ct := resp.Header.Get("Content-Type"); (ct == "application/grpc-web-text+proto") != text {
					t.Errorf("Content-Type %q", ct)
				}
				var c testpb.Collected
				if len(got.messages) != 1 || proto.Unmarshal(got.messages[0], &c) != nil || got.trailer["grpc-status"] != "0" {
					t.Fatalf("client stream: %d messages, trailer %v", len(got.messages), got.trailer)
				}
				if diff := cmp.Diff(&testpb.Collected{S: []string{"a", "b", "c"}}, &c, protocmp.Transform()); diff != "" {
					t.Errorf("client stream (-want +got):\n%s", diff)
				}

				_, got = post("Collect", nil)
				if len(got.messages) != 1 || got.trailer["grpc-status"] != "0" {
					t.Errorf("empty client stream: %d messages, trailer %v", len(got.messages), got.trailer)
				}

				_, got = post("Chat", nestedFrames("x", "y"))
				var says []string
				for _, m := range got.messages {
					var n testpb.Nested
					if err := proto.Unmarshal(m, &n); err != nil {
						t.Fatal(err)
					}
					says = append(says, n.S)
				}
				if diff := cmp.Diff([]string{"X", "Y"}, says); diff != "" || got.trailer["grpc-status"] != "0" {
					t.Errorf("bidi stream, trailer %v (-want +got):\n%s", got.trailer, diff)
				}

				// A bad frame after good ones: the messages before it are
				// handled, then the call ends with the violation's code.
				_, got = post("Collect", append(nestedFrames("a"), 0, 0, 0))
				if got.trailer["grpc-status"] != "13" {
					t.Errorf("truncated second frame: trailer %v, want INTERNAL", got.trailer)
				}
			})
		}
	}
}

// TestGRPCWebFullDuplex: over HTTP/2 a bidirectional stream is handled as
// its frames arrive and each response message is flushed when sent: the
// client reads the answer to one message before it sends the next.
func TestGRPCWebFullDuplex(t *testing.T) {
	f := start(t)
	client := webClients(t)["HTTP/2"]
	for _, text := range []bool{false, true} {
		t.Run(fmt.Sprintf("text=%v", text), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			pr, pw := io.Pipe()
			req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+f.addr+"/duet.test.v1.Kitchens/Chat", pr)
			ct := "application/grpc-web+proto"
			if text {
				ct = "application/grpc-web-text+proto"
			}
			req.Header.Set("Content-Type", ct)
			send := func(s string) error {
				b := nestedFrames(s)
				if text {
					b = []byte(base64.StdEncoding.EncodeToString(b))
				}
				_, err := pw.Write(b)
				return err
			}
			go send("one") // the request's headers go out with its first bytes
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body io.Reader = resp.Body
			if text {
				body = &quadReader{r: resp.Body}
			}
			br := bufio.NewReader(body)
			recv := func() (flags byte, payload []byte) {
				t.Helper()
				hdr := make([]byte, 5)
				if _, err := io.ReadFull(br, hdr); err != nil {
					t.Fatalf("reading a response frame: %v", err)
				}
				payload = make([]byte, binary.BigEndian.Uint32(hdr[1:]))
				if _, err := io.ReadFull(br, payload); err != nil {
					t.Fatalf("reading a response frame: %v", err)
				}
				return hdr[0], payload
			}
			for i, s := range []string{"one", "two", "three"} {
				if i > 0 {
					if err := send(s); err != nil {
						t.Fatal(err)
					}
				}
				_, payload := recv()
				var n testpb.Nested
				if err := proto.Unmarshal(payload, &n); err != nil || n.S != strings.ToUpper(s) {
					t.Fatalf("answer to %q: %v %v", s, &n, err)
				}
			}
			pw.Close()
			flags, trailer := recv()
			if flags != 0x80 || !strings.HasPrefix(string(trailer), "grpc-status: 0\r\n") {
				t.Errorf("end: flags %#x, %q", flags, trailer)
			}
		})
	}
}

// quadReader decodes base64 four characters at a time, so that it reads a
// text-mode response (separately padded chunks) as it arrives.
type quadReader struct {
	r   io.Reader
	out []byte
}

func (q *quadReader) Read(p []byte) (int, error) {
	if len(q.out) == 0 {
		var in [4]byte
		if _, err := io.ReadFull(q.r, in[:]); err != nil {
			return 0, err
		}
		dec := make([]byte, 3)
		n, err := base64.StdEncoding.Decode(dec, in[:])
		if err != nil {
			return 0, err
		}
		q.out = dec[:n]
	}
	n := copy(p, q.out)
	q.out = q.out[n:]
	return n, nil
}

// TestGRPCWebCompression: gzip requests are read, responses are compressed
// for a client that asks, and the grpc-accept-encoding header names what
// the server reads.
func TestGRPCWebCompression(t *testing.T) {
	f := start(t)
	for name, client := range webClients(t) {
		t.Run(name, func(t *testing.T) {
			for _, c := range []struct {
				name, encoding, accept string
				body                   []byte
				wantCompressed         bool
			}{
				{"identity", "", "", nestedFrames("a", "b"), false},
				{"gzip request, gzip responses", "gzip", "", append(gzipFrame(t, nestedFrames("a")), gzipFrame(t, nestedFrames("b"))...), true},
				{"identity request, client accepts gzip", "", "gzip", nestedFrames("a", "b"), true},
				{"identity request, client accepts only unknown", "", "br-unknown, identity", nestedFrames("a", "b"), false},
			} {
				t.Run(c.name, func(t *testing.T) {
					req, _ := http.NewRequest("POST", "http://"+f.addr+"/duet.test.v1.Kitchens/Chat", bytes.NewReader(c.body))
					req.Header.Set("Content-Type", "application/grpc-web+proto")
					if c.encoding != "" {
						req.Header.Set("Grpc-Encoding", c.encoding)
					}
					if c.accept != "" {
						req.Header.Set("Grpc-Accept-Encoding", c.accept)
					}
					resp, err := client.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					defer resp.Body.Close()
					if !strings.Contains(resp.Header.Get("Grpc-Accept-Encoding"), "gzip") {
						t.Errorf("grpc-accept-encoding %q, want gzip listed", resp.Header.Get("Grpc-Accept-Encoding"))
					}
					got := readWebFrames(t, resp.Body)
					if got.trailer["grpc-status"] != "0" || len(got.messages) != 2 {
						t.Fatalf("%d messages, trailer %v", len(got.messages), got.trailer)
					}
					if enc := resp.Header.Get("Grpc-Encoding"); (enc == "gzip") != c.wantCompressed {
						t.Errorf("grpc-encoding %q", enc)
					}
					for i, m := range got.messages {
						if c.wantCompressed {
							if got.flags[i] != 1 {
								t.Fatalf("message %d not compressed", i)
							}
							zr, err := gzip.NewReader(bytes.NewReader(m))
							if err != nil {
								t.Fatal(err)
							}
							if m, err = io.ReadAll(zr); err != nil {
								t.Fatal(err)
							}
						}
						var n testpb.Nested
						if err := proto.Unmarshal(m, &n); err != nil || n.S != []string{"A", "B"}[i] {
							t.Errorf("message %d: %v %v", i, &n, err)
						}
					}
				})
			}
		})
	}
}

// TestGRPCWebZipBomb: a small compressed message that inflates past the
// limit is RESOURCE_EXHAUSTED, and inflating it costs the limit in memory,
// not its inflated size.
func TestGRPCWebZipBomb(t *testing.T) {
	const limit, inflated = 512 << 10, 32 << 20
	f := start(t, duet.WithMaxMessageBytes(limit))
	// gzip readers read concatenated members as one stream: one member of
	// 1 MiB of zeros, repeated, is a bomb built in no time.
	var member bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
	zw.Write(make([]byte, 1<<20))
	zw.Close()
	z := bytes.NewBuffer(bytes.Repeat(member.Bytes(), inflated>>20))
	body := append([]byte{1, 0, 0, 0, 0}, z.Bytes()...)
	binary.BigEndian.PutUint32(body[1:], uint32(z.Len()))

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tr, _ := rawWeb(t, f.addr, "/duet.test.v1.Kitchens/Collect", "application/grpc-web", body, http.Header{"Grpc-Encoding": {"gzip"}})
	runtime.ReadMemStats(&after)
	if tr["grpc-status"] != "8" {
		t.Errorf("trailers %v, want RESOURCE_EXHAUSTED", tr)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > inflated/4 {
		t.Errorf("the call allocated %d MiB for a %d MiB bomb under a %d KiB limit", alloc>>20, inflated>>20, limit>>10)
	}
}

// TestGRPCWebJSON: the +json codec reads and writes protojson, in binary
// and text mode, and the response's Content-Type is the request's.
func TestGRPCWebJSON(t *testing.T) {
	f := start(t)
	for _, ct := range []string{"application/grpc-web+json", "application/grpc-web-text+json"} {
		t.Run(ct, func(t *testing.T) {
			body := append(jsonFrame(`{"s": "a"}`), jsonFrame(`{"s": "b"}`)...)
			text := strings.Contains(ct, "-text")
			if text {
				body = []byte(base64.StdEncoding.EncodeToString(body))
			}
			req, _ := http.NewRequest("POST", "http://"+f.addr+"/duet.test.v1.Kitchens/Chat", bytes.NewReader(body))
			req.Header.Set("Content-Type", ct)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if got := resp.Header.Get("Content-Type"); got != ct {
				t.Errorf("Content-Type %q, want %q", got, ct)
			}
			var r io.Reader = resp.Body
			if text {
				r = &quadReader{r: resp.Body}
			}
			got := readWebFrames(t, r)
			if got.trailer["grpc-status"] != "0" || len(got.messages) != 2 {
				t.Fatalf("%d messages, trailer %v", len(got.messages), got.trailer)
			}
			for i, m := range got.messages {
				var n testpb.Nested
				if err := protojson.Unmarshal(m, &n); err != nil {
					t.Fatalf("message %d is not protojson: %v: %s", i, err, m)
				}
				if diff := cmp.Diff(&testpb.Nested{S: []string{"A", "B"}[i]}, &n, protocmp.Transform()); diff != "" {
					t.Errorf("message %d (-want +got):\n%s", i, diff)
				}
				// The REST side's options: unpopulated fields are written.
				if !strings.Contains(strings.ReplaceAll(string(m), " ", ""), `"i":0`) {
					t.Errorf("message %d %s: unpopulated fields are not written as on REST", i, m)
				}
			}
		})
	}
}

// maxDrain is net/http's (and duet's) bound on an unread body it discards.
const maxDrain = 256 << 10

// TestGRPCWebHTTP1Leftovers: over HTTP/1.1 a stream handler that ends
// before reading the whole body (here: its first message is over the
// limit) leaves the connection ready for the next call, whether the rest
// is small (read and discarded) or large (the connection is closed, and
// the client told so); the next calls on the same client succeed.
func TestGRPCWebHTTP1Leftovers(t *testing.T) {
	f := start(t, duet.WithMaxMessageBytes(1<<10))
	client := webClients(t)["HTTP/1.1"]
	tooBig := func(rest int) []byte {
		b := []byte{0, 0, 0, 8, 0} // a 2 KiB message, over the 1 KiB limit
		b = append(b, make([]byte, 2<<10)...)
		for len(b) < rest {
			b = append(b, nestedFrames("more")...)
		}
		return b
	}
	post := func(body []byte) webFrames {
		req, _ := http.NewRequest("POST", "http://"+f.addr+"/duet.test.v1.Kitchens/Collect", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/grpc-web+proto")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return readWebFrames(t, resp.Body)
	}
	for i := 0; i < 20; i++ {
		for _, rest := range []int{4 << 10, 1 << 20} {
			if rest > maxDrain && i%5 != 0 {
				continue // each costs net/http's linger before the close
			}
			if got := post(tooBig(rest)); got.trailer["grpc-status"] != "8" {
				t.Fatalf("over the limit with %d bytes after: trailer %v, want RESOURCE_EXHAUSTED", rest, got.trailer)
			}
			if got := post(nestedFrames("a", "b")); got.trailer["grpc-status"] != "0" || len(got.messages) != 1 {
				t.Fatalf("the next call: %d messages, trailer %v", len(got.messages), got.trailer)
			}
		}
	}
}

// TestGRPCWebH2CFirstRequestWithBody: a fresh cleartext HTTP/2 connection
// whose first request is gRPC-Web with a large body (a client stream)
// succeeds. The one port's connection classifier sends its own SETTINGS;
// the client's ACK may come after up to a flow-control window of DATA, and
// must still be kept from net/http (PROTOCOL_ERROR otherwise).
func TestGRPCWebH2CFirstRequestWithBody(t *testing.T) {
	f := start(t)
	// 100 KiB: more than the 64 KiB the client may send before it must
	// wait for the server, which is when the ACK comes at the latest.
	body := bytes.Repeat(frame(0, &testpb.Nested{Child: &testpb.Nested{S: strings.Repeat("x", 1024)}}), 100)
	for i := 0; i < 100; i++ { // the race shows in one call in ten or so
		client := webClients(t)["HTTP/2"] // a new connection each time
		req, _ := http.NewRequest("POST", "http://"+f.addr+"/duet.test.v1.Kitchens/Collect", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/grpc-web+proto")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		got := readWebFrames(t, resp.Body)
		resp.Body.Close()
		if got.trailer["grpc-status"] != "0" {
			t.Fatalf("call %d: trailer %v", i, got.trailer)
		}
	}
}
