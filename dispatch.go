package duet

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc/credentials"
)

// Connection-level dispatch on the one port.
//
// Every connection accepted by Serve is classified before net/http sees it.
// A cleartext HTTP/2 prior-knowledge connection, or a TLS connection that
// negotiated "h2", whose first request is native gRPC (content-type
// application/grpc or application/grpc+codec, not gRPC-Web) and carries no
// proxy marker is handed whole to grpc-go's own transport
// (grpc.Server.Serve on an in-process listener). Every other connection goes
// to net/http, which serves gRPC arriving there through grpc-go's ServeHTTP.
//
// Classification reads the HTTP/2 preface and frames up to the end of the
// first HEADERS block (HPACK-decoded with x/net's decoder, the one net/http
// bundles), then replays every byte it read to whichever server takes the
// connection.
const (
	// classifyTimeout bounds the TLS handshake and the wait for the first
	// request: a connection that has not shown what it is by then (silent,
	// or a preface a byte at a time) is closed, except a valid HTTP/2
	// client that sent its preface and SETTINGS but no request yet, which
	// net/http then serves. net/http's own ReadHeaderTimeout in Serve has
	// the same value.
	classifyTimeout = 10 * time.Second
	// classifyBytes bounds what classification reads: enough for the
	// preface, the client's SETTINGS and a first HEADERS block of any
	// reasonable size. A client that needs more goes to net/http, which
	// applies its own header limits.
	classifyBytes = 64 << 10
)

// proxyMarkers are request headers a proxy adds. Proxies (Envoy, cloud load
// balancers, nginx) multiplex REST, gRPC-Web and gRPC over shared upstream
// HTTP/2 connections; grpc-go's transport refuses everything but gRPC, so a
// connection whose first request came through a proxy stays on net/http,
// which serves every kind of request.
var proxyMarkers = []string{"via", "forwarded", "x-forwarded-for", "x-forwarded-proto", "x-real-ip"}

const clientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// dispatcher accepts connections on the one port and hands each, once
// classified, to net/http (http) or to grpc-go (grpc).
type dispatcher struct {
	lis      net.Listener
	tls      *tls.Config // nil for cleartext
	timeout  time.Duration
	http     *connQueue
	grpc     *connQueue
	wg       sync.WaitGroup // the accept loop and classifications
	mu       sync.Mutex
	pending  map[net.Conn]struct{} // being classified
	closed   bool
	closeErr error
}

func newDispatcher(lis net.Listener, cfg *tls.Config) *dispatcher {
	d := &dispatcher{lis: lis, timeout: classifyTimeout, pending: map[net.Conn]struct{}{}}
	if cfg != nil {
		d.tls = cfg.Clone()
		// What net/http's ServeTLS would advertise: h2 first, then HTTP/1.1.
		if !slices.Contains(d.tls.NextProtos, "h2") {
			d.tls.NextProtos = append([]string{"h2"}, d.tls.NextProtos...)
		}
		if !slices.Contains(d.tls.NextProtos, "http/1.1") {
			d.tls.NextProtos = append(d.tls.NextProtos, "http/1.1")
		}
	}
	d.http = newConnQueue(lis.Addr(), d.close)
	d.grpc = newConnQueue(lis.Addr(), nil)
	return d
}

// run accepts until the listener fails or the dispatcher is closed; the
// error goes to net/http's Accept.
func (d *dispatcher) run() {
	d.wg.Add(1)
	defer d.wg.Done()
	var delay time.Duration
	for {
		c, err := d.lis.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() { // as net/http: back off on EMFILE and friends
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			d.http.fail(err)
			d.close()
			return
		}
		delay = 0
		if !d.track(c) {
			c.Close()
			return
		}
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			d.classify(c)
		}()
	}
}

func (d *dispatcher) track(c net.Conn) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return false
	}
	d.pending[c] = struct{}{}
	return true
}

func (d *dispatcher) untrack(c net.Conn) {
	d.mu.Lock()
	delete(d.pending, c)
	d.mu.Unlock()
}

// close stops accepting and closes the connections still being classified.
// net/http calls it when it closes its listener.
func (d *dispatcher) close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return d.closeErr
	}
	d.closed = true
	d.closeErr = d.lis.Close()
	for c := range d.pending {
		c.Close()
	}
	d.mu.Unlock()
	d.http.close()
	return d.closeErr
}

// classify decides where c goes, or closes it.
func (d *dispatcher) classify(c net.Conn) {
	defer d.untrack(c)
	deadline := time.Now().Add(d.timeout)
	if err := c.SetDeadline(deadline); err != nil {
		c.Close()
		return
	}
	conn := c
	var state *tls.ConnectionState
	if d.tls != nil {
		tc := tls.Server(c, d.tls)
		if err := tc.Handshake(); err != nil {
			c.Close()
			return
		}
		cs := tc.ConnectionState()
		if cs.NegotiatedProtocol != "h2" {
			// HTTP/1.1: net/http takes the *tls.Conn itself, nothing read.
			_ = tc.SetDeadline(time.Time{})
			d.http.push(tc)
			return
		}
		conn, state = tc, &cs
	}
	read, native, err := sniff(conn, deadline)
	if err != nil {
		conn.Close()
		return
	}
	if err := conn.SetDeadline(time.Time{}); err != nil {
		conn.Close()
		return
	}
	rc := &replayConn{Conn: conn, buf: read, tls: state}
	switch {
	case !native:
		d.http.push(rc)
	case state != nil:
		d.grpc.push(&tlsReplayConn{rc})
	default:
		d.grpc.push(rc)
	}
}

// sniff reads from c until it knows whether c is a native gRPC connection.
// It returns every byte it read, less the acknowledgement of the SETTINGS
// frame it may have written. An error means c should be closed: it timed
// out before a valid preface, ended, or failed.
//
// Clients that wait for the server's SETTINGS before their first request
// (grpc-go and grpc-java do) get an empty SETTINGS frame, a valid server
// preface (RFC 9113, section 3.4), as soon as theirs has been read and
// nothing follows it. The server that takes the connection sends its own
// SETTINGS, which override the empty one (section 6.5). The client's
// acknowledgement of ours is removed from what net/http reads, since
// net/http treats an acknowledgement of settings it never sent as a
// protocol error; grpc-go ignores acknowledgements.
func sniff(c net.Conn, deadline time.Time) (read []byte, native bool, err error) {
	buf := make([]byte, 0, 1024) // a gRPC client's opening is a few hundred bytes
	fill := func(n int) error {  // reads until len(buf) >= n
		for len(buf) < n {
			if len(buf) == cap(buf) { // n is bounded by classifyBytes and a flow-control window
				buf = slices.Grow(buf, max(n-len(buf), cap(buf)))
			}
			m, err := c.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+m]
			if err != nil && len(buf) < n {
				return err
			}
		}
		return nil
	}
	// The preface, compared as it arrives: the first byte that differs
	// means HTTP/1 (or garbage, which net/http answers and closes).
	for len(buf) < len(clientPreface) {
		if err := fill(len(buf) + 1); err != nil {
			return buf, false, err
		}
		if n := min(len(buf), len(clientPreface)); !bytes.Equal(buf[:n], []byte(clientPreface)[:n]) {
			return buf, false, nil
		}
	}
	var (
		off          = len(clientPreface)
		sawSettings  bool
		sentSettings bool
		ack          = -1 // offset of the acknowledgement of our SETTINGS
		block        []byte
		headerStream uint32
		decided      bool
	)
	done := func() ([]byte, bool, error) {
		if ack >= 0 {
			buf = append(buf[:ack], buf[ack+9:]...)
		}
		return buf, native, nil
	}
	for {
		if err := fill(off + 9); err != nil {
			if sawSettings && errors.Is(err, os.ErrDeadlineExceeded) && (!sentSettings || ack >= 0) {
				// A valid HTTP/2 client that sent no request in time:
				// net/http serves whatever it sends later.
				native = false
				return done()
			}
			return buf, false, err
		}
		hdr := buf[off : off+9]
		length := int(hdr[0])<<16 | int(hdr[1])<<8 | int(hdr[2])
		typ, flags := hdr[3], hdr[4]
		stream := binary.BigEndian.Uint32(hdr[5:]) & 0x7fffffff
		most := classifyBytes
		if decided && sentSettings && ack < 0 {
			// Decided, but the client's ACK of our SETTINGS is still to
			// come, and it must not reach net/http (an unexpected ACK is
			// a PROTOCOL_ERROR there). Before it the client may send a
			// request body, up to the connection's flow-control window:
			// 65535 bytes, since we sent no WINDOW_UPDATE (RFC 9113,
			// section 6.9.2), in frames of at most 16 KiB.
			most += 65535 + 9*8
		}
		if off+9+length > most {
			return buf, false, nil // not what sniffing is for: net/http decides
		}
		if err := fill(off + 9 + length); err != nil {
			return buf, false, err
		}
		payload := buf[off+9 : off+9+length]
		start := off
		off += 9 + length
		switch {
		case typ == 0x4 && flags&0x1 != 0: // SETTINGS ACK: only ever ours here
			if sentSettings && ack < 0 && length == 0 {
				ack = start
			}
		case decided:
		case block == nil && typ == 0x1: // HEADERS
			frag, ok := headersFragment(flags, payload)
			if !ok {
				return buf, false, nil
			}
			block, headerStream = frag, stream
			if flags&0x4 == 0 { // CONTINUATION follows: copy, buf may move
				block = append([]byte{}, frag...)
			}
		case block != nil && typ == 0x9 && stream == headerStream: // CONTINUATION
			block = append(block, payload...)
		case block != nil:
			decided = true // a HEADERS block interrupted: the real server says so
		case typ == 0x4:
			sawSettings = true
		}
		if !decided && block != nil && flags&0x4 != 0 { // END_HEADERS
			decided, native = true, nativeGRPC(block)
		}
		if decided && (native || !sentSettings || ack >= 0) {
			return done()
		}
		if sawSettings && !sentSettings && !decided && off == len(buf) {
			if _, err := c.Write([]byte{0, 0, 0, 0x4, 0, 0, 0, 0, 0}); err != nil {
				return buf, false, err
			}
			sentSettings = true
		}
	}
}

// headersFragment strips the padding and priority fields of a HEADERS
// frame's payload (RFC 9113, section 6.2).
func headersFragment(flags byte, p []byte) ([]byte, bool) {
	pad := 0
	if flags&0x8 != 0 { // PADDED
		if len(p) < 1 {
			return nil, false
		}
		pad, p = int(p[0]), p[1:]
	}
	if flags&0x20 != 0 { // PRIORITY
		if len(p) < 5 {
			return nil, false
		}
		p = p[5:]
	}
	if pad > len(p) {
		return nil, false
	}
	return p[:len(p)-pad], true
}

// nativeGRPC reports whether an HPACK header block is a native gRPC
// request that came straight from a client.
func nativeGRPC(block []byte) bool {
	grpc, proxied := false, false
	dec := hpack.NewDecoder(4096, func(f hpack.HeaderField) {
		switch name := strings.ToLower(f.Name); {
		case name == "content-type":
			grpc = isGRPC(f.Value)
		case slices.Contains(proxyMarkers, name), strings.HasPrefix(name, "x-envoy-"):
			proxied = true
		}
	})
	dec.SetMaxStringLength(classifyBytes)
	if _, err := dec.Write(block); err != nil || dec.Close() != nil {
		return false
	}
	return grpc && !proxied
}

// isGRPC reports whether a content type is native gRPC: application/grpc,
// optionally followed by +codec or parameters; not application/grpc-web.
func isGRPC(ct string) bool {
	const p = "application/grpc"
	if len(ct) < len(p) || !strings.EqualFold(ct[:len(p)], p) {
		return false
	}
	return len(ct) == len(p) || ct[len(p)] == '+' || ct[len(p)] == ';'
}

// replayConn is a connection whose first bytes, read during
// classification, are read again before the rest.
type replayConn struct {
	net.Conn
	buf []byte
	tls *tls.ConnectionState // the handshake's, when Conn is TLS
	mu  sync.Mutex
}

func (c *replayConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if len(c.buf) > 0 {
		n := copy(p, c.buf)
		c.buf = c.buf[n:]
		if len(c.buf) == 0 {
			c.buf = nil
		}
		c.mu.Unlock()
		return n, nil
	}
	c.mu.Unlock()
	return c.Conn.Read(p)
}

// tlsReplayConn is the replayConn grpc-go gets for TLS: its ConnectionState
// becomes the call's credentials.TLSInfo. (net/http gets the bare
// replayConn, since it would treat a connection with ConnectionState as
// HTTP/1 over TLS; its requests get Request.TLS from the connection's
// context instead, see Server.ServeHTTP.)
type tlsReplayConn struct{ *replayConn }

func (c *tlsReplayConn) ConnectionState() tls.ConnectionState { return *c.tls }

// connQueue is a net.Listener whose connections come from the dispatcher.
type connQueue struct {
	addr    net.Addr
	conns   chan net.Conn
	done    chan struct{}
	once    sync.Once
	onClose func() error
	mu      sync.Mutex
	err     error // returned by Accept once done
}

func newConnQueue(addr net.Addr, onClose func() error) *connQueue {
	return &connQueue{addr: addr, conns: make(chan net.Conn), done: make(chan struct{}), onClose: onClose}
}

// push hands c to the queue's server, or closes it if the queue is closed.
func (q *connQueue) push(c net.Conn) {
	select {
	case q.conns <- c:
	case <-q.done:
		c.Close()
	}
}

func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.conns:
		return c, nil
	case <-q.done:
		q.mu.Lock()
		defer q.mu.Unlock()
		if q.err != nil {
			return nil, q.err
		}
		return nil, net.ErrClosed
	}
}

// fail makes Accept return err from now on.
func (q *connQueue) fail(err error) {
	q.mu.Lock()
	if q.err == nil {
		q.err = err
	}
	q.mu.Unlock()
	q.close()
}

func (q *connQueue) close() { q.once.Do(func() { close(q.done) }) }

func (q *connQueue) Close() error {
	q.close()
	if q.onClose != nil {
		return q.onClose()
	}
	return nil
}

func (q *connQueue) Addr() net.Addr { return q.addr }

// tlsStateKey is the context key of a TLS connection's state for requests
// that net/http serves over a replayConn.
type tlsStateKey struct{}

// connContext is the http.Server's ConnContext: it keeps the TLS state of
// a classified h2 connection for Server.ServeHTTP.
func connContext(ctx context.Context, c net.Conn) context.Context {
	if rc, ok := c.(*replayConn); ok && rc.tls != nil {
		return context.WithValue(ctx, tlsStateKey{}, rc.tls)
	}
	return ctx
}

// handshaken are the transport credentials of duet's grpc.Server. The
// dispatcher has done any TLS handshake already, so ServerHandshake only
// reports what it found: credentials.TLSInfo for a TLS connection (as
// grpc-go's own TLS credentials would, so handlers see the client's
// certificates), no security otherwise. A *tls.Conn not yet handshaken
// (a TLS listener given to ServeGRPC) is handshaken here.
type handshaken struct{}

type insecureInfo struct{ credentials.CommonAuthInfo }

func (insecureInfo) AuthType() string { return "insecure" }

func (handshaken) ServerHandshake(c net.Conn) (net.Conn, credentials.AuthInfo, error) {
	if tc, ok := c.(*tls.Conn); ok {
		if err := tc.Handshake(); err != nil {
			return nil, nil, err
		}
	}
	if s, ok := c.(interface{ ConnectionState() tls.ConnectionState }); ok {
		return c, credentials.TLSInfo{State: s.ConnectionState(), CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity}}, nil
	}
	return c, insecureInfo{credentials.CommonAuthInfo{SecurityLevel: credentials.NoSecurity}}, nil
}

func (handshaken) ClientHandshake(context.Context, string, net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return nil, nil, errors.New("duet: server-only credentials")
}

func (handshaken) Info() credentials.ProtocolInfo {
	return credentials.ProtocolInfo{SecurityProtocol: "tls"}
}

func (h handshaken) Clone() credentials.TransportCredentials { return h }

func (handshaken) OverrideServerName(string) error { return nil }
