// Package connectclient holds the test in which connect-go's generated
// clients (connectrpc.com/connect, protoc-gen-connect-go v1.19.1) call
// every method of the users and chat examples over the Connect protocol,
// unary and streaming, proto and JSON, on the one port that also serves
// gRPC, gRPC-Web and REST. connect-go is a dependency of the examples
// module only, never of duet's.
//
// userspbconnect and chatpbconnect were generated from the examples'
// protos with protoc-gen-connect-go v1.19.1 (go install
// connectrpc.com/connect/cmd/protoc-gen-connect-go@v1.19.1), the
// descriptors of their imports given to protoc as a descriptor set as
// internal/protogen does, and copied here; they import the examples'
// userspb and chatpb.
package connectclient
