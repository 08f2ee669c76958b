// Package pagination implements AIP-158 pagination
// (https://google.aip.dev/158): opaque page tokens
// that are tamper-proof, expiring, stateless and bound to the query, and
// the page-size rules, for gRPC and REST alike.
//
// A token carries the caller's cursor (typically the last row's sort key),
// an expiry and a 128-bit HMAC-SHA256 tag over both and over a digest of
// the request's other parameters, encoded as unpadded base64url. Any
// replica with the keys can serve the next page; a token presented with a
// different filter or order, after it expired, altered, or signed with a
// retired key, is refused with [ErrInvalidToken], which is
// INVALID_ARGUMENT with a BadRequest violation on page_token and says no
// more than that.
//
//	pager := pagination.New([][]byte{key}, pagination.WithSizes(pagination.Sizes{Default: 20, Max: 100}))
//
//	func (s *server) ListUsers(ctx context.Context, req *pb.ListUsersRequest) (*pb.ListUsersResponse, error) {
//		page, err := s.pager.Start(req) // page_size, page_token
//		if err != nil {
//			return nil, err
//		}
//		users, next, err := s.store.After(page.Cursor, page.Size) // WHERE id > ? ORDER BY id LIMIT n+1
//		...
//		resp := &pb.ListUsersResponse{Users: users}
//		if next != nil {
//			resp.NextPageToken = s.pager.Next(page, next)
//		}
//		return resp, nil
//	}
//
// [Keyset] pages sorted in-memory data the same way; [Sizes.Offset] serves
// legacy page-number APIs; [FieldsOf] finds the AIP-158 fields of any
// message, which the rest package uses to add next links to List
// responses.
//
// Encoding and decoding a token (two keys configured) costs, on a 2-core
// x86-64 machine:
//
//	BenchmarkToken-2   444213   2715 ns/op   1872 B/op   26 allocs/op
package pagination
