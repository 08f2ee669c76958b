package duet_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"testing"

	"github.com/duetrpc/duet"
	"github.com/duetrpc/duet/internal/testpb"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

// seen is what a handler's context told an interceptor about one call.
type seen struct {
	md   metadata.MD
	peer *peer.Peer
}

// spy records the context of every unary call.
type spy struct {
	mu   sync.Mutex
	last seen
}

func (s *spy) intercept(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	p, _ := peer.FromContext(ctx)
	s.mu.Lock()
	s.last = seen{md: md, peer: p}
	s.mu.Unlock()
	return h(ctx, req)
}

func (s *spy) take() seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.last
	s.last = seen{}
	return v
}

// protocolCalls make one GetKitchen call over each protocol with the given
// headers (as metadata on native gRPC).
func protocolCalls(t *testing.T, addr string, client *http.Client, scheme string, cc *grpc.ClientConn) map[string]func(hdr http.Header) {
	t.Helper()
	kc := testpb.NewKitchensClient(cc)
	return map[string]func(http.Header){
		"grpc": func(hdr http.Header) {
			md := metadata.MD{}
			for k, vs := range hdr {
				md.Append(k, vs...)
			}
			if _, err := kc.GetKitchen(metadata.NewOutgoingContext(context.Background(), md), &testpb.GetKitchenRequest{Id: "1"}); err != nil {
				t.Fatalf("grpc: %v", err)
			}
		},
		"grpc-web": func(hdr http.Header) {
			req := webRequest(t, scheme+"://"+addr, hdr)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("grpc-web: %v", err)
			}
			resp.Body.Close()
		},
		"rest": func(hdr http.Header) {
			req, _ := http.NewRequest(http.MethodGet, scheme+"://"+addr+"/v1/kitchens/1", nil)
			for k, vs := range hdr {
				req.Header[http.CanonicalHeaderKey(k)] = vs
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("rest: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("rest: HTTP %d", resp.StatusCode)
			}
		},
	}
}

func webRequest(t *testing.T, base string, hdr http.Header) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/duet.test.v1.Kitchens/GetKitchen", bytes.NewReader(frame(0, &testpb.GetKitchenRequest{Id: "1"})))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range hdr {
		req.Header[http.CanonicalHeaderKey(k)] = vs
	}
	req.Header.Set("Content-Type", "application/grpc-web+proto")
	return req
}

// TestMetadataSameOnEveryProtocol: the same headers sent over gRPC,
// gRPC-Web and REST reach the handler as the same incoming metadata, by
// the one allow-list (native gRPC sends its metadata as gRPC defines it;
// the rows send only what a gRPC client would); gRPC-Web, whose metadata
// are its headers as gRPC's are, also gets headers outside the list.
func TestMetadataSameOnEveryProtocol(t *testing.T) {
	sp := &spy{}
	f := start(t, duet.WithInterceptors([]grpc.UnaryServerInterceptor{sp.intercept}, nil), duet.WithIncomingHeaders("X-Tenant"))
	cc, err := grpc.NewClient(f.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	calls := protocolCalls(t, f.addr, http.DefaultClient, "http", cc)
	// The keys a row may produce; gRPC's own (":authority", "user-agent",
	// "content-type") are not compared.
	keys := []string{"authorization", "traceparent", "tracestate", "baggage", "x-tenant", "x-user", "k-bin"}
	for _, tt := range []struct {
		name string
		hdr  http.Header // as sent; for native gRPC, the same keys as metadata
		want metadata.MD
	}{
		{"authorization", http.Header{"authorization": {"Bearer t"}}, metadata.Pairs("authorization", "Bearer t")},
		{"W3C trace context", http.Header{"traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, "tracestate": {"v=1"}, "baggage": {"k=v"}},
			metadata.Pairs("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "tracestate", "v=1", "baggage", "k=v")},
		{"a header the server names", http.Header{"x-tenant": {"acme"}}, metadata.Pairs("x-tenant", "acme")},
		{"several values", http.Header{"x-tenant": {"a", "b"}}, metadata.MD{"x-tenant": {"a", "b"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for proto, call := range calls {
				call(tt.hdr)
				got := filterMD(sp.take().md, keys)
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("%s: metadata (-want +got):\n%s", proto, diff)
				}
			}
		})
	}

	// Over HTTP, Grpc-Metadata-* carries any key, binary ones
	// base64-encoded, and Cookie stays out. Headers outside the list stay
	// out of REST calls; gRPC-Web's metadata are its headers, all of them,
	// as gRPC's are (PROTOCOL-WEB.md), so there they are metadata.
	for _, tt := range []struct {
		name          string
		hdr           http.Header
		want, wantWeb metadata.MD
	}{
		{"cookie stays out", http.Header{"Cookie": {"s=1"}}, metadata.MD{}, metadata.MD{}},
		{"unnamed headers: gRPC-Web metadata, not REST's", http.Header{"X-User": {"u"}}, metadata.MD{}, metadata.Pairs("x-user", "u")},
		{"Grpc-Metadata- carries any key", http.Header{"Grpc-Metadata-X-User": {"u"}}, metadata.Pairs("x-user", "u"), metadata.Pairs("x-user", "u")},
		{"binary values are decoded", http.Header{"Grpc-Metadata-K-Bin": {"AAEC"}}, metadata.Pairs("k-bin", "\x00\x01\x02"), metadata.Pairs("k-bin", "\x00\x01\x02")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, proto := range []string{"grpc-web", "rest"} {
				calls[proto](tt.hdr)
				got := filterMD(sp.take().md, append(keys, "cookie", "grpc-metadata-x-user"))
				want := tt.want
				if proto == "grpc-web" {
					want = tt.wantWeb
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s: metadata (-want +got):\n%s", proto, diff)
				}
			}
		})
	}
}

func filterMD(md metadata.MD, keys []string) metadata.MD {
	out := metadata.MD{}
	for _, k := range keys {
		if vs := md.Get(k); len(vs) > 0 {
			out[k] = vs
		}
	}
	return out
}

// TestPeerSameOnEveryProtocol: peer.FromContext gives the client's
// address, the server's, and over TLS the connection state, on every
// protocol.
func TestPeerSameOnEveryProtocol(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		name := "cleartext"
		if useTLS {
			name = "tls"
		}
		t.Run(name, func(t *testing.T) {
			sp := &spy{}
			opts := []duet.Option{duet.WithInterceptors([]grpc.UnaryServerInterceptor{sp.intercept}, nil)}
			client := &http.Client{Transport: &http.Transport{}}
			creds := insecure.NewCredentials()
			scheme := "http"
			if useTLS {
				cert, pool := selfSigned(t)
				opts = append(opts, duet.WithTLS(&tls.Config{Certificates: []tls.Certificate{cert}}))
				client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
				creds = credentials.NewClientTLSFromCert(pool, "")
				scheme = "https"
			}
			defer client.CloseIdleConnections()
			f := start(t, opts...)
			cc, err := grpc.NewClient(f.addr, grpc.WithTransportCredentials(creds))
			if err != nil {
				t.Fatal(err)
			}
			defer cc.Close()
			for proto, call := range protocolCalls(t, f.addr, client, scheme, cc) {
				call(nil)
				p := sp.take().peer
				if p == nil {
					t.Errorf("%s: no peer", proto)
					continue
				}
				host, _, err := net.SplitHostPort(p.Addr.String())
				if err != nil || host != "127.0.0.1" || p.Addr.Network() != "tcp" {
					t.Errorf("%s: peer address %s %q, want tcp 127.0.0.1:port", proto, p.Addr.Network(), p.Addr)
				}
				if p.LocalAddr == nil || p.LocalAddr.String() != f.addr {
					t.Errorf("%s: local address %v, want %s", proto, p.LocalAddr, f.addr)
				}
				info, isTLS := p.AuthInfo.(credentials.TLSInfo)
				if isTLS != useTLS {
					t.Errorf("%s: AuthInfo %T, TLS %v", proto, p.AuthInfo, useTLS)
				}
				if useTLS && (!info.State.HandshakeComplete || info.State.Version < tls.VersionTLS12 || info.SecurityLevel != credentials.PrivacyAndIntegrity) {
					t.Errorf("%s: TLS state %+v", proto, info)
				}
			}
		})
	}
}
