package duet_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/duetrpc/duet"
	"github.com/duetrpc/duet/internal/testpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// selfSigned returns a server certificate for 127.0.0.1 and a pool that
// trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	return testCert(t, &x509.Certificate{
		SerialNumber: big.NewInt(1),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
}

// clientCert returns a client certificate for "client-1" and a pool that
// trusts it.
func clientCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	tmpl.Subject.CommonName = "client-1"
	return testCert(t, tmpl)
}

// testCert self-signs tmpl, valid for the hour around now, with a new
// P-256 key, and returns it with a pool that trusts it.
func testCert(t *testing.T, tmpl *x509.Certificate) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// TestTLSOnePort: with WithTLS the one port negotiates HTTP/2 by ALPN for
// gRPC and HTTP/2 clients and still serves HTTP/1.1 clients, REST and
// gRPC-Web alike.
func TestTLSOnePort(t *testing.T) {
	cert, pool := selfSigned(t)
	srv := duet.NewServer(duet.WithTLS(&tls.Config{Certificates: []tls.Certificate{cert}}))
	testpb.RegisterKitchensServer(srv, kitchens{})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-served
	})
	addr := lis.Addr().String()

	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	k, err := testpb.NewKitchensClient(cc).GetKitchen(context.Background(), &testpb.GetKitchenRequest{Id: "3"})
	if err != nil || k.GetName() != "kitchen 3" {
		t.Fatalf("gRPC over TLS: %v %v", k, err)
	}

	for _, c := range []struct {
		name  string
		h2    bool
		proto int
	}{{"HTTP/1.1", false, 1}, {"HTTP/2", true, 2}} {
		t.Run(c.name, func(t *testing.T) {
			tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, Protocols: new(http.Protocols)}
			tr.Protocols.SetHTTP1(!c.h2)
			tr.Protocols.SetHTTP2(c.h2)
			client := &http.Client{Transport: tr}
			defer tr.CloseIdleConnections()
			resp, err := client.Get("https://" + addr + "/v1/kitchens/9")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.ProtoMajor != c.proto || !strings.Contains(string(b), `"kitchen 9"`) {
				t.Errorf("REST: %d %s %s", resp.StatusCode, resp.Proto, b)
			}
			req, _ := http.NewRequest("POST", "https://"+addr+"/duet.test.v1.Kitchens/GetKitchen", strings.NewReader(string(frame(0, &testpb.GetKitchenRequest{Id: "4"}))))
			req.Header.Set("Content-Type", "application/grpc-web+proto")
			resp, err = client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.ProtoMajor != c.proto || !strings.Contains(string(b), "kitchen 4") || !strings.Contains(string(b), "grpc-status: 0") {
				t.Errorf("gRPC-Web: %s %q", resp.Proto, b)
			}
		})
	}
}
