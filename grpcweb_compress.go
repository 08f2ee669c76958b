package duet

import (
	"strings"

	"google.golang.org/grpc/encoding"
	// gzip is the one compression every gRPC implementation speaks; a duet
	// server reads and writes it on gRPC and gRPC-Web out of the box, as
	// connect-go does. Other compressors registered with grpc-go's encoding
	// registry (zstd, snappy, …) work too when the program imports them.
	_ "google.golang.org/grpc/encoding/gzip"
)

// knownCompressors are the names probed in grpc-go's encoding registry for
// the grpc-accept-encoding header: the registry can be queried by name but
// not listed. A compressor registered under another name still decompresses
// requests that name it; it is only not advertised.
var knownCompressors = []string{"gzip", "zstd", "snappy", "deflate", "br", "lz4"}

// webCompressors is what a gRPC-Web server reads and writes: grpc-go's
// registered compressors, looked up once when the server is built.
type webCompressors struct {
	accept string // the grpc-accept-encoding header value
}

func newWebCompressors() webCompressors {
	var names []string
	for _, n := range knownCompressors {
		if encoding.GetCompressor(n) != nil {
			names = append(names, n)
		}
	}
	return webCompressors{accept: strings.Join(names, ",")}
}

// request returns the compressor of a request's grpc-encoding: nil for
// none or identity, and ok false for one that is not registered.
func (webCompressors) request(name string) (c encoding.Compressor, ok bool) {
	if name == "" || name == encoding.Identity {
		return nil, true
	}
	c = encoding.GetCompressor(name)
	return c, c != nil
}

// response chooses how responses are compressed: with the request's own
// compressor (what grpc-go does), else with the first registered compressor
// the client lists in grpc-accept-encoding (what connect-go does), else not
// at all. A client that names no compressor gets none: browsers' gRPC-Web
// libraries cannot decompress messages.
func (wc webCompressors) response(req encoding.Compressor, accept string) encoding.Compressor {
	if req != nil {
		return req
	}
	for accept != "" {
		var name string
		name, accept, _ = strings.Cut(accept, ",")
		name = strings.TrimSpace(name)
		if name == "" || name == encoding.Identity {
			continue
		}
		if c := encoding.GetCompressor(name); c != nil {
			return c
		}
	}
	return nil
}
