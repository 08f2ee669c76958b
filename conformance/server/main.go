// Command server is the conformance suite's server-under-test: it reads a
// size-prefixed ServerCompatRequest from stdin, starts serving
// connectrpc.conformance.v1.ConformanceService on an ephemeral loopback
// port, writes a size-prefixed ServerCompatResponse to stdout and serves
// until it is killed.
//
// -impl chooses what serves the service:
//
//	duet      duet.Server.Serve, the one port (the default)
//	native    duet.Server.ServeGRPC, the native gRPC port
//	handler   duet.Server as the http.Handler of a plain net/http server:
//	          every gRPC call takes ServeHTTP, the path gRPC takes on a
//	          one-port connection that began with something else
//	grpc-go   a plain grpc.NewServer(), the baseline duet is held to
//
// -chain chooses duet's interceptor chain: "debug" is grpcx.Server{Debug:
// true}, which keeps error messages and details visible, as the suite
// requires; "default" is what duet.NewServer uses without options, which
// redacts INTERNAL, UNKNOWN and DATA_LOSS errors.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/duetrpc/duet"
	v1 "github.com/duetrpc/duet/conformance/internal/conformancev1"
	"github.com/duetrpc/duet/grpcx"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/proto"

	// gzip is a compression the suite's gRPC cases use; grpc-go registers
	// it only where a program imports it.
	_ "google.golang.org/grpc/encoding/gzip"
)

func main() {
	impl := flag.String("impl", "duet", "what serves: duet (one port), native (ServeGRPC) or grpc-go (plain grpc.Server)")
	chain := flag.String("chain", "debug", "duet's interceptor chain: debug or default")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("conformance server: ")
	if err := run(*impl, *chain, os.Stdin, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(impl, chain string, in io.Reader, out io.Writer) error {
	var req v1.ServerCompatRequest
	if err := readMessage(in, &req); err != nil {
		return fmt.Errorf("reading ServerCompatRequest: %w", err)
	}
	var cfg *tls.Config
	if req.GetUseTls() {
		var err error
		if cfg, err = tlsConfig(&req); err != nil {
			return err
		}
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	serve, stop, err := newServer(impl, chain, cfg, int(req.GetMessageReceiveLimit()))
	if err != nil {
		return err
	}
	addr := lis.Addr().(*net.TCPAddr)
	resp := &v1.ServerCompatResponse{Host: addr.IP.String(), Port: uint32(addr.Port)}
	if cfg != nil {
		resp.PemCert = req.GetServerCreds().GetCert()
	}
	if err := writeMessage(out, resp); err != nil {
		return err
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- serve(lis) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		stop(sctx)
		return nil
	}
}

// newServer returns the serve and stop functions of the implementation
// named impl.
func newServer(impl, chain string, cfg *tls.Config, limit int) (serve func(net.Listener) error, stop func(context.Context), err error) {
	if impl == "grpc-go" {
		var opts []grpc.ServerOption
		if cfg != nil {
			opts = append(opts, grpc.Creds(credentials.NewTLS(cfg)))
		}
		if limit > 0 {
			opts = append(opts, grpc.MaxRecvMsgSize(limit))
		}
		g := grpc.NewServer(opts...)
		v1.RegisterConformanceServiceServer(g, service{})
		return g.Serve, func(context.Context) { g.Stop() }, nil
	}
	var opts []duet.Option
	switch chain {
	case "debug":
		opts = append(opts, duet.WithChain(grpcx.Server{Debug: true}))
	case "default":
	default:
		return nil, nil, fmt.Errorf("unknown -chain %q", chain)
	}
	if cfg != nil {
		opts = append(opts, duet.WithTLS(cfg))
	}
	if limit > 0 {
		opts = append(opts, duet.WithMaxMessageBytes(limit))
	}
	srv := duet.NewServer(opts...)
	v1.RegisterConformanceServiceServer(srv, service{})
	shutdown := func(ctx context.Context) { _ = srv.Shutdown(ctx) }
	ignoreClosed := func(f func(net.Listener) error) func(net.Listener) error {
		return func(lis net.Listener) error {
			if err := f(lis); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		}
	}
	switch impl {
	case "duet":
		return ignoreClosed(srv.Serve), shutdown, nil
	case "handler":
		hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, Protocols: new(http.Protocols)}
		hs.Protocols.SetHTTP1(true)
		hs.Protocols.SetHTTP2(true)
		hs.Protocols.SetUnencryptedHTTP2(true)
		stopHTTP := func(ctx context.Context) { _ = hs.Shutdown(ctx); shutdown(ctx) }
		if cfg != nil {
			hs.TLSConfig = cfg
			return ignoreClosed(func(lis net.Listener) error { return hs.ServeTLS(lis, "", "") }), stopHTTP, nil
		}
		return ignoreClosed(hs.Serve), stopHTTP, nil
	case "native":
		if cfg != nil {
			// ServeGRPC serves what it is given; TLS is the listener's.
			c := cfg.Clone()
			c.NextProtos = []string{"h2"}
			return func(lis net.Listener) error { return ignoreClosed(srv.ServeGRPC)(tls.NewListener(lis, c)) }, shutdown, nil
		}
		return ignoreClosed(srv.ServeGRPC), shutdown, nil
	}
	return nil, nil, fmt.Errorf("unknown -impl %q", impl)
}

// tlsConfig serves the runner's certificate and, when the runner gives a
// client certificate, requires clients to present it.
func tlsConfig(req *v1.ServerCompatRequest) (*tls.Config, error) {
	cert, err := tls.X509KeyPair(req.GetServerCreds().GetCert(), req.GetServerCreds().GetKey())
	if err != nil {
		return nil, fmt.Errorf("server credentials: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if pem := req.GetClientTlsCert(); len(pem) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("client certificate: no PEM certificate")
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// readMessage reads one message prefixed by its 4-byte big-endian size.
func readMessage(r io.Reader, m proto.Message) error {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return err
	}
	n := binary.BigEndian.Uint32(size[:])
	if n > 1<<20 {
		return fmt.Errorf("message of %d bytes", n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return err
	}
	return proto.Unmarshal(buf, m)
}

// writeMessage writes m prefixed by its 4-byte big-endian size.
func writeMessage(w io.Writer, m proto.Message) error {
	b, err := proto.Marshal(m)
	if err != nil {
		return err
	}
	out := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(b)), uint32(len(b)))
	_, err = w.Write(append(out, b...))
	return err
}
