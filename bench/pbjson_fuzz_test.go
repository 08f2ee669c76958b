package bench

import (
	"testing"

	"github.com/duetrpc/duet/bench/internal/bookpb"
	"github.com/duetrpc/duet/bench/internal/gwexamples/proto/examplepb"
	"github.com/duetrpc/duet/internal/pbjson/pbjsontest"
)

// FuzzMarshal is pbjson's differential target over the bench module's
// protos (the root and examples modules have theirs over their own):
// book.proto, grpc-gateway's ABitOfEverything and its other examples, and
// the files they import.
func FuzzMarshal(f *testing.F) {
	pbjsontest.FuzzMarshal(f, pbjsontest.Messages(
		bookpb.File_internal_bookpb_book_proto,
		examplepb.File_examples_internal_proto_examplepb_a_bit_of_everything_proto,
		examplepb.File_examples_internal_proto_examplepb_echo_service_proto,
		examplepb.File_examples_internal_proto_examplepb_response_body_service_proto,
		examplepb.File_examples_internal_proto_examplepb_stream_proto,
	))
}
