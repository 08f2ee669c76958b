// Package examples holds runnable services built on duet, the ones people
// copy: greeter (the smallest service, the program of the README's "Your
// own service" guide), users (the users/orders API), files (streaming
// uploads and downloads) and chat (a bidirectional stream with real
// broadcast).
//
// The examples are their own module, github.com/duetrpc/duet/examples, so
// that what they depend on (database drivers, for one) never enters the
// dependency graph of the library. Run them from the repository root with
// go's -C flag:
//
//	go -C examples run ./users
//	go -C examples test ./...
package examples

// The examples' .proto files keep their repository paths
// (examples/users/userspb/users.proto, ...), so protoc runs from the
// repository root; protogen skips nested modules when run from there.
//go:generate go run github.com/duetrpc/duet/internal/protogen -root .. examples/chat/chatpb examples/files/filespb examples/greeter/greeterpb examples/users/userspb
