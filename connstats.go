package duet

import (
	"context"
	"net"
	"net/http"
	"sync"

	"google.golang.org/grpc/stats"
)

// connStats gives the stats handlers ([WithStatsHandler]) the connection
// events grpc-go emits for the connections its transport serves: TagConn
// and ConnBegin when net/http takes a connection, ConnEnd when it is
// closed. Every call on the connection runs in a context derived from the
// tagged one, as on native gRPC. Connections the one port hands to grpc-go
// get these events from grpc-go itself; native gRPC requests net/http
// serves (through proxies) get grpc-go's as well, one TagConn per request,
// since grpc.Server.ServeHTTP treats each request as a connection.
type connStats struct {
	handlers []stats.Handler
	mu       sync.Mutex
	conns    map[net.Conn]context.Context // tagged contexts, until ConnEnd
}

// install hooks c into hs after the WithHTTPServer hook ran, keeping the
// hook's ConnState.
func (c *connStats) install(hs *http.Server) {
	conn, state := hs.ConnContext, hs.ConnState
	hs.ConnContext = func(ctx context.Context, nc net.Conn) context.Context {
		if conn != nil {
			ctx = conn(ctx, nc)
		}
		return c.begin(ctx, nc)
	}
	hs.ConnState = func(nc net.Conn, st http.ConnState) {
		if state != nil {
			state(nc, st)
		}
		if st == http.StateClosed || st == http.StateHijacked {
			c.end(nc)
		}
	}
}

func (c *connStats) begin(ctx context.Context, nc net.Conn) context.Context {
	info := &stats.ConnTagInfo{RemoteAddr: nc.RemoteAddr(), LocalAddr: nc.LocalAddr()}
	// As grpc-go's combined handler does: every TagConn, then every
	// ConnBegin with the context all of them tagged.
	for _, h := range c.handlers {
		ctx = h.TagConn(ctx, info)
	}
	for _, h := range c.handlers {
		h.HandleConn(ctx, &stats.ConnBegin{})
	}
	c.mu.Lock()
	c.conns[nc] = ctx
	c.mu.Unlock()
	return ctx
}

func (c *connStats) end(nc net.Conn) {
	c.mu.Lock()
	ctx, ok := c.conns[nc]
	delete(c.conns, nc)
	c.mu.Unlock()
	if !ok {
		return
	}
	for _, h := range c.handlers {
		h.HandleConn(ctx, &stats.ConnEnd{})
	}
}
