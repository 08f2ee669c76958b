package duet

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/duetrpc/duet/grpcx"
	"github.com/duetrpc/duet/health"
	"github.com/duetrpc/duet/internal/budget"
	"github.com/duetrpc/duet/internal/call"
	"github.com/duetrpc/duet/internal/pbjson"
	"github.com/duetrpc/duet/rest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"
)

// Server serves every registered service as gRPC, gRPC-Web and REST/JSON.
// It is a grpc.ServiceRegistrar: pass it to the generated
// RegisterXServer function. Register everything before serving.
type Server struct {
	unary    []grpc.UnaryServerInterceptor
	stream   []grpc.StreamServerInterceptor
	grpcOpts []grpc.ServerOption
	restOpts []rest.Option
	health   *health.Server
	tls      *tls.Config
	cors     *corsPolicy
	drain    time.Duration
	maxMsg   int
	incoming []string
	stats    []stats.Handler
	// Limits and timeouts (limits.go).
	budget       *budget.Bytes
	bodyTimeout  time.Duration
	writeTimeout time.Duration

	grpc  *grpc.Server
	rest  *rest.Handler
	calls *calls
	web   *grpcWeb
	conn  *connectHandler
	mux   *http.ServeMux
	// grpcHTTP is serveGRPC as a handler, made once.
	grpcHTTP http.Handler

	mu       sync.Mutex
	https    []*http.Server
	baseCtx  context.Context
	hardStop context.CancelFunc
	started  bool
	httpHook func(*http.Server)
	// The interceptor chain: chain's, then addUnary and addStream.
	chain     grpcx.Server
	addUnary  []grpc.UnaryServerInterceptor
	addStream []grpc.StreamServerInterceptor
	debug     bool
	closed    bool
}

// NewServer returns a Server with no services.
func NewServer(opts ...Option) *Server {
	s := &Server{
		maxMsg:       4 << 20,
		budget:       budget.New(DefaultBodyBudget),
		bodyTimeout:  DefaultBodyTimeout,
		writeTimeout: DefaultWriteTimeout,
	}
	for _, o := range opts {
		o.apply(s)
	}
	s.chain.Debug = s.chain.Debug || s.debug
	s.unary = append(s.chain.UnaryInterceptors(), s.addUnary...)
	s.stream = append(s.chain.StreamInterceptors(), s.addStream...)
	// Outermost on every protocol: calls still running when a shutdown's
	// grace ends get UNAVAILABLE (shutdown.go).
	s.calls = newCalls()
	s.unary = append([]grpc.UnaryServerInterceptor{s.calls.unary}, s.unary...)
	s.stream = append([]grpc.StreamServerInterceptor{s.calls.streaming}, s.stream...)
	gopts := append([]grpc.ServerOption{
		grpc.Creds(handshaken{}), // the one port's dispatcher did any TLS handshake (dispatch.go)
		grpc.ChainUnaryInterceptor(s.unary...),
		grpc.ChainStreamInterceptor(s.stream...),
		grpc.MaxRecvMsgSize(s.maxMsg),
	}, s.grpcOpts...)
	ropts := []rest.Option{
		rest.WithUnaryInterceptor(s.unary...),
		rest.WithStreamInterceptor(s.stream...),
		rest.WithMaxBodyBytes(int64(s.maxMsg)),
		rest.WithBodyTimeout(s.bodyTimeout),
		rest.WithWriteTimeout(s.writeTimeout),
		rest.WithIncomingHeaders(s.incoming...),
	}
	if s.chain.Debug {
		ropts = append(ropts, rest.WithDebugErrors())
	}
	for _, h := range s.stats {
		gopts = append(gopts, grpc.StatsHandler(h))
		ropts = append(ropts, rest.WithStatsHandler(h))
	}
	s.grpc = grpc.NewServer(gopts...)
	s.rest = rest.NewHandler(append(ropts, s.restOpts...)...)
	marshal, unmarshal := s.rest.JSONOptions()
	calls := call.New(call.Config{
		Unary:   s.unary,
		Stream:  s.stream,
		Stats:   s.stats,
		Headers: call.NewHeaders(s.incoming...),
	})
	// gRPC-Web and Connect share one JSON codec (and its plans), made as
	// REST's is: protojson itself when REST was told to use it.
	json := pbjson.New(marshal, unmarshal)
	if s.rest.Protojson() {
		json = pbjson.Protojson(marshal, unmarshal)
	}
	s.web = newGRPCWeb(calls, s.maxMsg, json)
	s.web.budget, s.web.bodyTimeout, s.web.writeTimeout = s.budget, s.bodyTimeout, s.writeTimeout
	s.conn = newConnect(calls, s.maxMsg, json)
	s.conn.budget, s.conn.bodyTimeout, s.conn.writeTimeout = s.budget, s.bodyTimeout, s.writeTimeout
	s.mux = http.NewServeMux()
	if s.health != nil {
		s.health.Register(s)
		for _, p := range []string{"/livez", "/readyz", "/healthz"} {
			s.mux.Handle("GET "+p, s.health)
		}
	}
	s.mux.Handle("/", callsHandler{s.calls, s.rest})
	s.grpcHTTP = http.HandlerFunc(s.serveGRPC)
	// The REST handler finds the body budget it shares with gRPC-Web in
	// every request's context.
	s.baseCtx, s.hardStop = context.WithCancel(budget.NewContext(context.Background(), s.budget))
	return s
}

// RegisterService registers a service on gRPC, gRPC-Web, Connect and REST. It
// panics when the service's HTTP rules are invalid or conflict (see
// rest.Handler.RegisterService).
func (s *Server) RegisterService(desc *grpc.ServiceDesc, impl any) {
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if started {
		// The route tables are read without locks while serving.
		panic("duet: RegisterService(" + desc.ServiceName + ") after Serve: register every service before serving")
	}
	s.grpc.RegisterService(desc, impl)
	s.rest.RegisterService(desc, impl)
	s.web.register(desc, impl)
	s.conn.register(desc, impl)
}

// Handle serves an extra HTTP handler on the port, such as an OpenAPI
// document or a web page, with http.ServeMux patterns; REST routes are
// the fallback.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// GRPCServer returns the underlying grpc.Server, for services that must
// register only on gRPC (reflection, channelz) or for grpc-go APIs.
func (s *Server) GRPCServer() *grpc.Server { return s.grpc }

// REST returns the REST transcoder, for its OpenAPI document.
func (s *Server) REST() *rest.Handler { return s.rest }

// ServeHTTP dispatches one request: gRPC-Web and Connect to their
// handlers, gRPC over HTTP/2 to grpc-go, everything else to the HTTP
// routes (health probes, handlers added with Handle, then REST). The
// package documentation's "One port, four protocols" gives the rule.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.TLS == nil { // HTTP/2 over TLS reaches net/http as a replayed connection
		if st, ok := r.Context().Value(tlsStateKey{}).(*tls.ConnectionState); ok {
			r.TLS = st
		}
	}
	if s.cors != nil && s.cors.handle(w, r) {
		return
	}
	ct := r.Header.Get("Content-Type")
	var h http.Handler
	switch {
	case isGRPCWeb(ct):
		h = s.web
	case s.conn.claims(r):
		h = s.conn
	case r.ProtoMajor == 2 && strings.HasPrefix(ct, "application/grpc"):
		h = s.grpcHTTP
	case s.conn.methods[r.URL.Path] != nil && !s.rest.Routes(r):
		// A method's own path that no REST rule claims: Connect answers,
		// with a 415 for a media type no protocol here speaks (as grpc-go
		// does for gRPC), never REST's 404.
		h = s.conn
	default:
		s.mux.ServeHTTP(w, r) // REST, its fallback, is counted there
		return
	}
	s.calls.serveHTTP(h, w, r)
}

// Serve serves everything on lis until Shutdown: HTTP/1.1 and HTTP/2, the
// latter over TLS with ALPN (WithTLS) or cleartext (h2c, prior knowledge).
// It returns http.ErrServerClosed after Shutdown. It panics when a REST
// option names a method that no registered service has
// (rest.Handler.CheckMethods).
//
// Each connection is classified first: an HTTP/2 connection whose first
// request is native gRPC, sent by a client directly (no Via, Forwarded,
// X-Forwarded-* or X-Envoy-* header), is served by grpc-go's own
// transport, at ServeGRPC's speed; every other connection by net/http,
// which serves gRPC too (more slowly), so a connection that mixes REST,
// gRPC-Web and gRPC, as proxies' shared upstream connections do, never
// fails a request. (A client that sends native gRPC first with no proxy
// header and then REST on the same connection gets grpc-go's 415 for the
// REST request: grpc-go's transport serves only gRPC.) A connection that
// shows nothing within 10 seconds (the TLS handshake and the first
// request's headers) is closed.
func (s *Server) Serve(lis net.Listener) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: classifyTimeout,
		BaseContext:       func(net.Listener) context.Context { return s.baseCtx },
		ConnContext:       connContext,
		Protocols:         new(http.Protocols),
	}
	hs.Protocols.SetHTTP1(true)
	hs.Protocols.SetHTTP2(true)
	// With TLS too: the dispatcher terminates TLS and hands HTTP/2
	// connections over as replayed plaintext.
	hs.Protocols.SetUnencryptedHTTP2(true)
	s.configureHTTP(hs)
	if len(s.stats) > 0 {
		(&connStats{handlers: s.stats, conns: map[net.Conn]context.Context{}}).install(hs)
	}
	s.checkOptions()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return http.ErrServerClosed
	}
	s.https = append(s.https, hs)
	s.startLocked()
	s.mu.Unlock()

	d := newDispatcher(lis, s.tls)
	go d.run()
	native := make(chan struct{})
	go func() {
		defer close(native)
		_ = s.grpc.Serve(d.grpc) // its connections live on until Shutdown stops grpc-go
	}()
	err := hs.Serve(d.http)
	d.close()
	d.grpc.Close()
	d.wg.Wait()
	<-native
	return err
}

// Defaults of the http.Server that serves the one port, which
// [WithHTTPServer] may change.
const (
	// DefaultIdleTimeout closes a keep-alive connection idle this long.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultMaxHeaderBytes bounds a request's header block (net/http's
	// own default is 1 MiB).
	DefaultMaxHeaderBytes = 256 << 10
)

// configureHTTP sets the defaults and applies the WithHTTPServer hook,
// keeping what the one port depends on.
func (s *Server) configureHTTP(hs *http.Server) {
	hs.IdleTimeout = DefaultIdleTimeout
	hs.MaxHeaderBytes = DefaultMaxHeaderBytes
	if s.httpHook == nil {
		return
	}
	handler, base, conn, protos, rht := hs.Handler, hs.BaseContext, hs.ConnContext, hs.Protocols, hs.ReadHeaderTimeout
	s.httpHook(hs)
	hs.Handler, hs.BaseContext, hs.ConnContext, hs.Protocols = handler, base, conn, protos
	if hs.ReadHeaderTimeout <= 0 || hs.ReadHeaderTimeout > rht {
		// The dispatcher classifies each connection within this time; a
		// longer one would let a silent connection hold a goroutine.
		hs.ReadHeaderTimeout = rht
	}
}

// ServeGRPC serves native gRPC only on lis, through grpc-go's own
// transport, the one the one port hands native gRPC connections to. Use
// it for a second, internal port. It serves what lis gives it: for TLS,
// wrap lis with tls.NewListener (handlers then see credentials.TLSInfo).
func (s *Server) ServeGRPC(lis net.Listener) error {
	s.checkOptions()
	s.mu.Lock()
	s.startLocked()
	s.mu.Unlock()
	err := s.grpc.Serve(lis)
	if errors.Is(err, grpc.ErrServerStopped) {
		return http.ErrServerClosed
	}
	return err
}

// checkOptions panics when an option names a method that no registered
// service has (rest.Handler.CheckMethods): every service is registered by
// the time serving starts, so this is the first moment it is decidable.
func (s *Server) checkOptions() {
	if err := s.rest.CheckMethods(); err != nil {
		panic("duet: " + err.Error())
	}
}

func (s *Server) startLocked() {
	if s.started {
		return
	}
	s.started = true
	if s.health != nil {
		s.health.Start()
	}
}

// Shutdown stops the server gracefully: health turns NOT_SERVING,
// readiness fails and health Watch streams end (NOT_SERVING, then
// UNAVAILABLE); after the drain period (see [WithDrain]) no new
// connections are accepted, HTTP/2 connections get GOAWAY, in-flight
// calls finish, and the listeners close. When ctx ends first, every call
// still running has its context cancelled and ends with UNAVAILABLE
// (gRPC and gRPC-Web status, a 503 problem on REST, as a final "error"
// event or NDJSON line on a stream); they get up to a second to write it,
// then every connection is closed. It returns ctx's error in that case.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.health != nil {
		s.health.Shutdown()
	}
	if s.drain > 0 {
		select {
		case <-time.After(s.drain):
		case <-ctx.Done():
		}
	}
	s.mu.Lock()
	s.closed = true
	https := append([]*http.Server(nil), s.https...)
	s.mu.Unlock()

	// HTTP first: grpc-go cannot gracefully stop calls it serves through
	// ServeHTTP (its handler transports do not drain), so those must end
	// with their HTTP connections before grpc.Server.GracefulStop runs.
	var wg sync.WaitGroup
	errs := make(chan error, len(https))
	for _, hs := range https {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- hs.Shutdown(ctx)
		}()
	}
	wg.Wait()
	close(errs)
	clean := true
	for err := range errs {
		clean = clean && err == nil
	}
	if !clean || ctx.Err() != nil {
		return s.stopNow(https, ctx.Err())
	}
	stopped := make(chan struct{})
	go func() { s.grpc.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
		s.hardStop()
		return nil
	case <-ctx.Done():
		return s.stopNow(https, ctx.Err())
	}
}

// stopNow ends every call still running with UNAVAILABLE, gives them a
// moment to write it, and closes every connection.
func (s *Server) stopNow(https []*http.Server, err error) error {
	s.calls.endAll()
	s.hardStop() // cancels every request's context
	for _, hs := range https {
		_ = hs.Close()
	}
	s.grpc.Stop()
	if err == nil {
		err = context.DeadlineExceeded
	}
	return err
}

// Run serves on lis until ctx is done (for example from
// signal.NotifyContext on SIGINT and SIGTERM), then shuts down gracefully,
// giving in-flight calls up to grace to finish; calls still running then
// end with UNAVAILABLE (see [Server.Shutdown]). It returns nil when the
// server stopped as designed, whether or not the grace ran out, so that a
// SIGTERM exits with status 0; an error only when serving failed.
func (s *Server) Run(ctx context.Context, lis net.Listener, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(lis) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := s.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	if errors.Is(err, context.DeadlineExceeded) {
		// Calls still open at the end of the grace were ended with
		// UNAVAILABLE, as designed: a clean stop, so SIGTERM exits 0.
		return nil
	}
	return err
}
