package examples

import (
	"testing"

	"github.com/duetrpc/duet/examples/chat/chatpb"
	"github.com/duetrpc/duet/examples/files/filespb"
	"github.com/duetrpc/duet/examples/users/userspb"
	"github.com/duetrpc/duet/internal/pbjson/pbjsontest"
)

// FuzzMarshal is pbjson's differential target over the examples' protos
// (the root and bench modules have theirs over their own): every message
// of users, files and chat and of the files they import, filled from fuzz
// input, must marshal to protojson's tokens or fail where protojson fails.
func FuzzMarshal(f *testing.F) {
	messages := pbjsontest.Messages(
		userspb.File_examples_users_userspb_users_proto,
		filespb.File_examples_files_filespb_files_proto,
		chatpb.File_examples_chat_chatpb_chat_proto,
	)
	codecs := pbjsontest.Codecs()
	for i := range messages {
		f.Add([]byte{byte(i), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
		f.Add([]byte{byte(i), 0xff, 0xfe, 0x80, 0x41, 0x7f, 0x01, 0x00, 0x22, 0x5c, 0xc3, 0xa9, 0x99})
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		m := messages[int(data[0])%len(messages)].New()
		pbjsontest.Fill(m, pbjsontest.NewSource(data[1:]))
		for i, c := range codecs {
			if err := pbjsontest.CheckMarshal(c, pbjsontest.MarshalOptions[i], m.Interface()); err != nil {
				t.Fatal(err)
			}
		}
	})
}
