package call

import (
	"net"
	"net/http"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// remoteAddr is the client's address as net/http reports it
// (Request.RemoteAddr, "host:port"); grpc-go's own HTTP handler transport
// reports it the same way.
type remoteAddr struct{ s string }

func (a *remoteAddr) Network() string { return "tcp" }
func (a *remoteAddr) String() string  { return a.s }

// setPeer fills p from r: remote and local address, and for TLS the
// connection state as grpc-go's credentials.TLSInfo, which is what
// handlers of native gRPC calls find in peer.Peer.AuthInfo.
func setPeer(p *peer.Peer, a *remoteAddr, r *http.Request) {
	a.s = r.RemoteAddr
	p.Addr = a
	p.LocalAddr, _ = r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if r.TLS != nil {
		p.AuthInfo = credentials.TLSInfo{
			State:          *r.TLS,
			CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity},
		}
	}
}
