package pagination

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"

	"github.com/duetrpc/duet/problem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// version is the token format: 1 byte version, uvarint expiry (Unix
// seconds, 0 for none), the cursor, and a 16-byte HMAC-SHA256 tag over
// all of that and the query's digest. The query itself is not in the
// token: binding comes from the MAC.
const version = 1

const tagSize = 16

// maxTokenBytes bounds what Decode accepts before any work.
const maxTokenBytes = 4096

// Codec makes and checks page tokens. The zero value is not usable; use
// [NewCodec].
type Codec struct {
	keys [][]byte
	ttl  time.Duration
	now  func() time.Time
}

// NewCodec returns a codec signing with keys[0] and verifying with every
// key, so keys rotate without breaking tokens in flight: add the new key
// first, drop the old one after a TTL. Keys should be 32 random bytes.
// ttl bounds a token's life (AIP-158 suggests days); 0 means tokens do not
// expire. now is the clock; nil means time.Now.
func NewCodec(keys [][]byte, ttl time.Duration, now func() time.Time) *Codec {
	if len(keys) == 0 {
		panic("pagination: NewCodec needs at least one key")
	}
	if now == nil {
		now = time.Now
	}
	return &Codec{keys: keys, ttl: ttl, now: now}
}

// ErrInvalidToken is the one error every refused token gets: malformed,
// forged, expired, made for another query or with an unknown key. It says
// nothing about which, so it teaches an attacker nothing. It is a
// *problem.Problem: INVALID_ARGUMENT with a BadRequest violation on
// page_token, on gRPC and REST alike.
var ErrInvalidToken error = problem.InvalidArgument("invalid page token",
	problem.Violation{Field: "page_token", Reason: "INVALID_PAGE_TOKEN",
		Description: "the page token is malformed, expired, or was issued for a different query; start again without it"})

// Encode returns a URL-safe token for cursor, bound to query (the
// request's filter and order, such as [QueryDigest] of the request).
func (c *Codec) Encode(query, cursor []byte) string {
	buf := make([]byte, 0, 1+binary.MaxVarintLen64+len(cursor)+tagSize)
	buf = append(buf, version)
	var exp uint64
	if c.ttl > 0 {
		exp = uint64(c.now().Add(c.ttl).Unix())
	}
	buf = binary.AppendUvarint(buf, exp)
	buf = append(buf, cursor...)
	buf = append(buf, c.tag(c.keys[0], buf, query)...)
	return base64.RawURLEncoding.EncodeToString(buf)
}

func (c *Codec) tag(key, body, query []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	q := sha256.Sum256(query)
	m.Write(q[:])
	return m.Sum(nil)[:tagSize]
}

// Decode checks token against query and returns its cursor. Any failure
// is [ErrInvalidToken]. An empty token is the first page: nil, nil.
func (c *Codec) Decode(token string, query []byte) ([]byte, error) {
	if token == "" {
		return nil, nil
	}
	if len(token) > maxTokenBytes {
		return nil, ErrInvalidToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) < 1+1+tagSize || raw[0] != version {
		return nil, ErrInvalidToken
	}
	body, tag := raw[:len(raw)-tagSize], raw[len(raw)-tagSize:]
	ok := false
	for _, k := range c.keys {
		// Every key is tried, so timing does not tell which matched.
		if hmac.Equal(tag, c.tag(k, body, query)) {
			ok = true
		}
	}
	if !ok {
		return nil, ErrInvalidToken
	}
	exp, n := binary.Uvarint(body[1:])
	if n <= 0 {
		return nil, ErrInvalidToken
	}
	if exp != 0 && c.now().Unix() > int64(exp) {
		return nil, ErrInvalidToken
	}
	return append([]byte(nil), body[1+n:]...), nil
}

// QueryDigest is the query a token is bound to for a request message: the
// message with its page_token and page_size cleared, deterministically
// marshalled. A token is then valid only with the same filter, order and
// every other parameter (AIP-158); page_size may change between pages.
func QueryDigest(req proto.Message) []byte {
	m := proto.Clone(req).ProtoReflect()
	f := FieldsOf(m.Descriptor())
	if f.PageToken != nil {
		m.Clear(f.PageToken)
	}
	if f.PageSize != nil {
		m.Clear(f.PageSize)
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m.Interface())
	if err != nil {
		return []byte(req.ProtoReflect().Descriptor().FullName())
	}
	return b
}

// Fields are the AIP-158 fields of a request or response message; those
// a message lacks are nil.
type Fields struct {
	PageSize, PageToken, NextPageToken, TotalSize protoreflect.FieldDescriptor
}

// FieldsOf finds the AIP-158 fields of md by name and type: page_size and
// total_size integers, page_token and next_page_token strings.
func FieldsOf(md protoreflect.MessageDescriptor) Fields {
	get := func(name protoreflect.Name, kinds ...protoreflect.Kind) protoreflect.FieldDescriptor {
		fd := md.Fields().ByName(name)
		if fd == nil || fd.IsList() || fd.IsMap() {
			return nil
		}
		for _, k := range kinds {
			if fd.Kind() == k {
				return fd
			}
		}
		return nil
	}
	ints := []protoreflect.Kind{protoreflect.Int32Kind, protoreflect.Int64Kind, protoreflect.Uint32Kind, protoreflect.Uint64Kind}
	return Fields{
		PageSize:      get("page_size", ints...),
		PageToken:     get("page_token", protoreflect.StringKind),
		NextPageToken: get("next_page_token", protoreflect.StringKind),
		TotalSize:     get("total_size", ints...),
	}
}

// IsList reports whether a request and response pair is an AIP-158 List
// method: page_token on the request, next_page_token on the response.
func IsList(req, resp protoreflect.MessageDescriptor) bool {
	return FieldsOf(req).PageToken != nil && FieldsOf(resp).NextPageToken != nil
}

var errNoFields = errors.New("pagination: request has no page_token field")
