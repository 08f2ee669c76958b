package call

import "google.golang.org/grpc"

// Method is one registered RPC: what an adapter looks up by name and hands
// to [Invoker.Serve].
type Method struct {
	// Name is the full method name, "/package.Service/Method".
	Name   string
	impl   any
	unary  *grpc.MethodDesc
	stream *grpc.StreamDesc
	info   grpc.StreamServerInfo
}

// Methods returns the methods of a service registration, unary methods
// first, in the order of the descriptor.
func Methods(desc *grpc.ServiceDesc, impl any) []*Method {
	ms := make([]*Method, 0, len(desc.Methods)+len(desc.Streams))
	for i := range desc.Methods {
		md := &desc.Methods[i]
		name := "/" + desc.ServiceName + "/" + md.MethodName
		ms = append(ms, &Method{Name: name, impl: impl, unary: md, info: grpc.StreamServerInfo{FullMethod: name}})
	}
	for i := range desc.Streams {
		sd := &desc.Streams[i]
		name := "/" + desc.ServiceName + "/" + sd.StreamName
		ms = append(ms, &Method{Name: name, impl: impl, stream: sd, info: grpc.StreamServerInfo{
			FullMethod: name, IsClientStream: sd.ClientStreams, IsServerStream: sd.ServerStreams,
		}})
	}
	return ms
}

// ClientStreams reports whether the client sends a stream of messages.
func (m *Method) ClientStreams() bool { return m.stream != nil && m.stream.ClientStreams }

// ServerStreams reports whether the server sends a stream of messages.
func (m *Method) ServerStreams() bool { return m.stream != nil && m.stream.ServerStreams }
