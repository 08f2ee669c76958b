package examples

import (
	"testing"

	"github.com/duetrpc/duet/examples/chat/chatpb"
	"github.com/duetrpc/duet/examples/files/filespb"
	"github.com/duetrpc/duet/examples/greeter/greeterpb"
	"github.com/duetrpc/duet/examples/users/userspb"
	"github.com/duetrpc/duet/internal/pbjson/pbjsontest"
)

// FuzzMarshal is pbjson's differential target over the examples' protos
// (the root and bench modules have theirs over their own): every message
// of users, files, chat and greeter and of the files they import.
func FuzzMarshal(f *testing.F) {
	pbjsontest.FuzzMarshal(f, pbjsontest.Messages(
		userspb.File_examples_users_userspb_users_proto,
		filespb.File_examples_files_filespb_files_proto,
		chatpb.File_examples_chat_chatpb_chat_proto,
		greeterpb.File_examples_greeter_greeterpb_greeter_proto,
	))
}
