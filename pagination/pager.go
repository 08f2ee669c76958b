package pagination

import (
	"cmp"
	"sort"
	"strconv"
	"time"

	"github.com/duetrpc/duet/problem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Sizes is the page-size policy of AIP-158.
type Sizes struct {
	// Default is the size of a page when the client asks for none (0).
	Default int
	// Max caps what a client asks for: larger requests get Max, not an
	// error, as AIP-158 says.
	Max int
}

// Size applies the policy to a requested size: 0 is Default, more than
// Max is Max, negative is INVALID_ARGUMENT naming page_size.
func (s Sizes) Size(requested int64) (int, error) {
	def, max := s.Default, s.Max
	if def <= 0 {
		def = 50
	}
	if max <= 0 {
		max = 1000
	}
	def = min(def, max)
	switch {
	case requested < 0:
		return 0, problem.InvalidArgument("page_size must not be negative",
			problem.Violation{Field: "page_size", Reason: "NEGATIVE_PAGE_SIZE", Description: "page_size must be zero (the default) or positive"})
	case requested == 0:
		return def, nil
	case requested > int64(max):
		return max, nil
	}
	return int(requested), nil
}

// Pager combines a [Codec] and [Sizes] for List methods whose messages
// follow AIP-158.
type Pager struct {
	Codec *Codec
	Sizes Sizes
}

// DefaultTTL is how long a page token lives unless [WithTTL] says
// otherwise: long enough to page through a listing at a human pace, short
// enough that a leaked token soon stops working.
const DefaultTTL = 24 * time.Hour

// Option configures a [Pager] built with [New].
type Option interface{ apply(*pagerConfig) }

type pagerConfig struct {
	ttl   time.Duration
	sizes Sizes
	now   func() time.Time
}

type optionFunc func(*pagerConfig)

func (f optionFunc) apply(c *pagerConfig) { f(c) }

// WithTTL sets how long a page token stays valid after it is issued; the
// default is [DefaultTTL]. A ttl of zero or less issues tokens that never
// expire, which is only safe when the keys are rotated.
func WithTTL(ttl time.Duration) Option {
	return optionFunc(func(c *pagerConfig) { c.ttl = ttl })
}

// WithSizes sets the page-size policy. Without it the zero [Sizes]
// applies: 50 items when the client asks for none, at most 1000.
func WithSizes(sizes Sizes) Option {
	return optionFunc(func(c *pagerConfig) { c.sizes = sizes })
}

// WithClock replaces time.Now as the clock that stamps and checks token
// expiry. It exists for tests; nil keeps time.Now.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(c *pagerConfig) { c.now = now })
}

// New returns a Pager signing tokens with keys, as [NewCodec] does: the
// first key signs, every key verifies, so keys can be rotated. It panics
// when keys is empty.
func New(keys [][]byte, opts ...Option) *Pager {
	c := pagerConfig{ttl: DefaultTTL}
	for _, o := range opts {
		o.apply(&c)
	}
	return &Pager{Codec: NewCodec(keys, c.ttl, c.now), Sizes: c.sizes}
}

// Page is where a List request starts.
type Page struct {
	// Size is the number of items to return.
	Size int
	// Cursor is the cursor of the previous page's token; nil on the first
	// page.
	Cursor []byte
	query  []byte
}

// Start reads page_size and page_token from an AIP-158 request.
func (p *Pager) Start(req proto.Message) (Page, error) {
	m := req.ProtoReflect()
	f := FieldsOf(m.Descriptor())
	if f.PageToken == nil {
		return Page{}, errNoFields
	}
	var requested int64
	if f.PageSize != nil {
		requested = intValue(m.Get(f.PageSize), f.PageSize)
	}
	size, err := p.Sizes.Size(requested)
	if err != nil {
		return Page{}, err
	}
	query := QueryDigest(req)
	cursor, err := p.Codec.Decode(m.Get(f.PageToken).String(), query)
	if err != nil {
		return Page{}, err
	}
	return Page{Size: size, Cursor: cursor, query: query}, nil
}

// Next returns the token of the page after pg that starts after cursor.
func (p *Pager) Next(pg Page, cursor []byte) string {
	return p.Codec.Encode(pg.query, cursor)
}

func intValue(v protoreflect.Value, fd protoreflect.FieldDescriptor) int64 {
	switch fd.Kind() {
	case protoreflect.Uint32Kind, protoreflect.Uint64Kind:
		u := v.Uint()
		if u > 1<<62 {
			return 1 << 62
		}
		return int64(u)
	}
	return v.Int()
}

// Keyset pages a slice sorted by key: the items after the cursor key (all
// of them on the first page), at most size of them, and the cursor of the
// next page, nil on the last. This is the in-memory twin of
// "WHERE key > ? ORDER BY key LIMIT size+1": pages stay correct while
// items are inserted and deleted, because a cursor is a key, not a
// position.
func Keyset[T any, K cmp.Ordered](sorted []T, key func(T) K, cursor []byte, size int, decode func([]byte) (K, error), encode func(K) []byte) (page []T, next []byte, err error) {
	start := 0
	if cursor != nil {
		after, err := decode(cursor)
		if err != nil {
			return nil, nil, ErrInvalidToken
		}
		start = sort.Search(len(sorted), func(i int) bool { return key(sorted[i]) > after })
	}
	end := min(start+size, len(sorted))
	page = sorted[start:end]
	if end < len(sorted) && len(page) > 0 {
		next = encode(key(page[len(page)-1]))
	}
	return page, next, nil
}

// StringKey and IntKey encode and decode the common cursor keys for
// [Keyset].
func StringKey(s string) []byte { return []byte(s) }

// ParseStringKey decodes a [StringKey].
func ParseStringKey(b []byte) (string, error) { return string(b), nil }

// IntKey encodes an integer cursor key.
func IntKey(n int64) []byte { return strconv.AppendInt(nil, n, 10) }

// ParseIntKey decodes an [IntKey].
func ParseIntKey(b []byte) (int64, error) { return strconv.ParseInt(string(b), 10, 64) }

// Offset turns a legacy page number and limit (?page=2&limit=20, pages
// counted from 1, as many existing REST APIs take them) into an offset and a size under
// the policy. Prefer cursors: offsets skip or repeat items while the data
// changes.
func (s Sizes) Offset(page, limit int64) (offset, size int, err error) {
	size, err = s.Size(limit)
	if err != nil {
		return 0, 0, err
	}
	if page < 0 {
		return 0, 0, problem.InvalidArgument("page must be 1 or more",
			problem.Violation{Field: "page", Reason: "INVALID_PAGE", Description: "pages are counted from 1"})
	}
	if page == 0 {
		page = 1
	}
	if page-1 > int64(1<<31)/int64(size) {
		return 0, 0, problem.InvalidArgument("page is too large",
			problem.Violation{Field: "page", Reason: "INVALID_PAGE", Description: "page is out of range"})
	}
	return int(page-1) * size, size, nil
}
