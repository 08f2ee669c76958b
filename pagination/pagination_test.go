package pagination_test

import (
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/duetrpc/duet/internal/testpb"
	"github.com/duetrpc/duet/pagination"
	"github.com/duetrpc/duet/problem"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

var (
	key1 = []byte("0123456789abcdef0123456789abcdef")
	key2 = []byte("fedcba9876543210fedcba9876543210")
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestTokenRoundTripAndRefusals(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	codec := pagination.NewCodec([][]byte{key1}, time.Hour, clk.now)
	query := []byte("filter=red")
	tok := codec.Encode(query, []byte("user-42"))
	cursor, err := codec.Decode(tok, query)
	if err != nil || string(cursor) != "user-42" {
		t.Fatalf("round trip: %q, %v", cursor, err)
	}
	if c, err := codec.Decode("", query); c != nil || err != nil {
		t.Errorf("empty token: %q, %v; want the first page", c, err)
	}

	flip := []byte(tok)
	flip[len(flip)/2] ^= 1
	other := pagination.NewCodec([][]byte{key2}, time.Hour, clk.now)
	later := &clock{t: clk.t.Add(time.Hour + time.Second)}
	expired := pagination.NewCodec([][]byte{key1}, time.Hour, later.now)
	tests := []struct {
		name  string
		codec *pagination.Codec
		token string
		query []byte
	}{
		{"malformed base64", codec, "%%%", query},
		{"truncated", codec, tok[:5], query},
		{"forged", codec, string(flip), query},
		{"other query", codec, tok, []byte("filter=blue")},
		{"other key", other, tok, query},
		{"expired", expired, tok, query},
		{"unknown version", codec, "Ag" + tok[2:], query},
		{"too long", codec, string(make([]byte, 5000)), query},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.codec.Decode(tt.token, tt.query)
			if err != pagination.ErrInvalidToken {
				t.Fatalf("err = %v, want ErrInvalidToken", err)
			}
			st := status.Convert(err)
			br, _ := st.Details()[0].(*errdetails.BadRequest)
			if st.Code() != codes.InvalidArgument || br.GetFieldViolations()[0].GetField() != "page_token" {
				t.Errorf("status = %v", st.Proto())
			}
		})
	}
	// Just before the expiry it still works.
	almost := &clock{t: clk.t.Add(time.Hour - time.Second)}
	if _, err := pagination.NewCodec([][]byte{key1}, time.Hour, almost.now).Decode(tok, query); err != nil {
		t.Errorf("a token within its TTL: %v", err)
	}
}

func TestKeyRotation(t *testing.T) {
	old := pagination.NewCodec([][]byte{key1}, 0, nil)
	tok := old.Encode(nil, []byte("c"))
	rotated := pagination.NewCodec([][]byte{key2, key1}, 0, nil)
	if c, err := rotated.Decode(tok, nil); err != nil || string(c) != "c" {
		t.Errorf("old token after rotation: %q %v", c, err)
	}
	newTok := rotated.Encode(nil, []byte("d"))
	if _, err := old.Decode(newTok, nil); err == nil {
		t.Error("a token signed with the new key verified with only the old one")
	}
	retired := pagination.NewCodec([][]byte{key2}, 0, nil)
	if _, err := retired.Decode(tok, nil); err == nil {
		t.Error("a token signed with a retired key was accepted")
	}
}

func TestQueryBinding(t *testing.T) {
	pager := pagination.New([][]byte{key1}, pagination.WithTTL(time.Hour), pagination.WithSizes(pagination.Sizes{Default: 2, Max: 10}))
	req := &testpb.ListKitchensRequest{Filter: "red", OrderBy: "name"}
	page, err := pager.Start(req)
	if err != nil || page.Size != 2 || page.Cursor != nil {
		t.Fatalf("first page: %+v %v", page, err)
	}
	tok := pager.Next(page, []byte("k2"))
	// page_size may change between pages; filter and order may not.
	same := &testpb.ListKitchensRequest{Filter: "red", OrderBy: "name", PageSize: 5, PageToken: tok}
	if p, err := pager.Start(same); err != nil || string(p.Cursor) != "k2" || p.Size != 5 {
		t.Errorf("same query: %+v %v", p, err)
	}
	for _, other := range []*testpb.ListKitchensRequest{
		{Filter: "blue", OrderBy: "name", PageToken: tok},
		{Filter: "red", OrderBy: "created", PageToken: tok},
	} {
		if _, err := pager.Start(other); err != pagination.ErrInvalidToken {
			t.Errorf("token with %v: %v, want refusal", other, err)
		}
	}
}

// TestNewOptions checks what New's options promise: tokens live
// DefaultTTL unless WithTTL says otherwise, zero or less never expires, and
// no WithSizes is the zero Sizes policy.
func TestNewOptions(t *testing.T) {
	tests := []struct {
		name      string
		opts      []pagination.Option
		age       time.Duration
		wantValid bool
	}{
		{"default ttl, fresh", nil, pagination.DefaultTTL - time.Second, true},
		{"default ttl, expired", nil, pagination.DefaultTTL + time.Second, false},
		{"ttl 1m, expired", []pagination.Option{pagination.WithTTL(time.Minute)}, 2 * time.Minute, false},
		{"ttl 0 never expires", []pagination.Option{pagination.WithTTL(0)}, 10 * 365 * 24 * time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{t: time.Unix(1_700_000_000, 0)}
			pager := pagination.New([][]byte{key1}, append(tt.opts, pagination.WithClock(clk.now))...)
			page, err := pager.Start(&testpb.ListKitchensRequest{})
			if err != nil || page.Size != 50 {
				t.Fatalf("first page with the zero Sizes: %+v %v, want size 50", page, err)
			}
			tok := pager.Next(page, []byte("k1"))
			clk.t = clk.t.Add(tt.age)
			_, err = pager.Start(&testpb.ListKitchensRequest{PageToken: tok})
			if valid := err == nil; valid != tt.wantValid {
				t.Errorf("token after %v: err %v, want valid %v", tt.age, err, tt.wantValid)
			}
		})
	}
}

func TestSizes(t *testing.T) {
	s := pagination.Sizes{Default: 20, Max: 100}
	tests := []struct {
		in      int64
		want    int
		wantErr bool
	}{{0, 20, false}, {1, 1, false}, {100, 100, false}, {101, 100, false}, {1 << 40, 100, false}, {-1, 0, true}}
	for _, tt := range tests {
		got, err := s.Size(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("Size(%d) = %d, %v", tt.in, got, err)
		}
		if err != nil {
			if p := problem.From(err); p.Status != 400 {
				t.Errorf("Size(%d) error status %d", tt.in, p.Status)
			}
		}
	}
	if got, _ := (pagination.Sizes{}).Size(0); got != 50 {
		t.Errorf("zero Sizes default = %d", got)
	}
	offsets := []struct {
		page, limit int64
		off, size   int
		err         bool
	}{{1, 20, 0, 20, false}, {3, 20, 40, 20, false}, {0, 0, 0, 20, false}, {2, 500, 100, 100, false}, {-1, 10, 0, 0, true}, {1 << 40, 10, 0, 0, true}}
	for _, tt := range offsets {
		off, size, err := s.Offset(tt.page, tt.limit)
		if off != tt.off || size != tt.size || (err != nil) != tt.err {
			t.Errorf("Offset(%d, %d) = %d, %d, %v", tt.page, tt.limit, off, size, err)
		}
	}
}

// store is a sorted, concurrently modified set of keys.
type store struct {
	mu   sync.Mutex
	keys []int64
}

func (s *store) snapshot() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int64(nil), s.keys...)
}

func (s *store) insert(k int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := sort.Search(len(s.keys), func(i int) bool { return s.keys[i] >= k })
	if i < len(s.keys) && s.keys[i] == k {
		return
	}
	s.keys = append(s.keys[:i], append([]int64{k}, s.keys[i:]...)...)
}

func (s *store) remove(k int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := sort.Search(len(s.keys), func(i int) bool { return s.keys[i] >= k })
	if i < len(s.keys) && s.keys[i] == k {
		s.keys = append(s.keys[:i], s.keys[i+1:]...)
	}
}

// TestKeysetWalkUnderConcurrentChanges follows only next tokens through a
// list that changes under it: every item present for the whole walk is
// seen exactly once, and nothing is seen twice.
func TestKeysetWalkUnderConcurrentChanges(t *testing.T) {
	st := &store{}
	for k := int64(0); k < 1000; k += 2 { // even keys are stable
		st.insert(k)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // odd keys come and go
		defer wg.Done()
		r := rand.New(rand.NewSource(1))
		for {
			select {
			case <-stop:
				return
			default:
			}
			k := int64(r.Intn(500))*2 + 1
			if r.Intn(2) == 0 {
				st.insert(k)
			} else {
				st.remove(k)
			}
		}
	}()
	pager := pagination.New([][]byte{key1}, pagination.WithTTL(time.Hour), pagination.WithSizes(pagination.Sizes{Default: 7, Max: 7}))
	seen := map[int64]int{}
	token := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("the walk does not end")
		}
		req := &testpb.ListKitchensRequest{PageToken: token, Filter: "all"}
		page, err := pager.Start(req)
		if err != nil {
			t.Fatal(err)
		}
		items, next, err := pagination.Keyset(st.snapshot(), func(k int64) int64 { return k }, page.Cursor, page.Size, pagination.ParseIntKey, pagination.IntKey)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range items {
			seen[k]++
		}
		if next == nil {
			break
		}
		token = pager.Next(page, next)
	}
	close(stop)
	wg.Wait()
	for k := int64(0); k < 1000; k += 2 {
		if seen[k] != 1 {
			t.Errorf("stable item %d seen %d times", k, seen[k])
		}
	}
	for k, n := range seen {
		if n > 1 {
			t.Errorf("item %d seen %d times", k, n)
		}
	}
}

func TestFieldsOf(t *testing.T) {
	req := (&testpb.ListKitchensRequest{}).ProtoReflect().Descriptor()
	resp := (&testpb.ListKitchensResponse{}).ProtoReflect().Descriptor()
	f := pagination.FieldsOf(req)
	g := pagination.FieldsOf(resp)
	if f.PageSize == nil || f.PageToken == nil || g.NextPageToken == nil || g.TotalSize == nil || f.NextPageToken != nil {
		t.Errorf("fields: %+v %+v", f, g)
	}
	if !pagination.IsList(req, resp) || pagination.IsList(resp, req) {
		t.Error("IsList")
	}
}

func FuzzDecode(f *testing.F) {
	codec := pagination.NewCodec([][]byte{key1}, time.Hour, nil)
	f.Add(codec.Encode([]byte("q"), []byte("cursor")), []byte("q"))
	f.Add("AQ", []byte(""))
	f.Add("", []byte("q"))
	f.Fuzz(func(t *testing.T, token string, query []byte) {
		c, err := codec.Decode(token, query)
		if err != nil && !errors.Is(err, pagination.ErrInvalidToken) {
			t.Fatalf("unexpected error %v", err)
		}
		if err == nil && token != "" {
			if again := codec.Encode(query, c); again == "" {
				t.Fatal("re-encode failed")
			}
		}
	})
}

func BenchmarkToken(b *testing.B) {
	codec := pagination.NewCodec([][]byte{key1, key2}, 24*time.Hour, nil)
	query := pagination.QueryDigest(&testpb.ListKitchensRequest{Filter: "color = RED", OrderBy: "name"})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		tok := codec.Encode(query, []byte("users/01HZX3K9Q"))
		if _, err := codec.Decode(tok, query); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleCodec() {
	codec := pagination.NewCodec([][]byte{key1}, 24*time.Hour, nil)
	tok := codec.Encode([]byte("filter=active"), pagination.StringKey("users/42"))
	cursor, err := codec.Decode(tok, []byte("filter=active"))
	fmt.Println(string(cursor), err)
	_, err = codec.Decode(tok, []byte("filter=all"))
	fmt.Println(err)
	// Output:
	// users/42 <nil>
	// Bad Request: invalid page token
}

func ExampleSizes_Size() {
	s := pagination.Sizes{Default: 20, Max: 100}
	for _, n := range []int64{0, 30, 500} {
		size, _ := s.Size(n)
		fmt.Print(size, " ")
	}
	// Output: 20 30 100
}

func ExampleKeyset() {
	ids := []string{"a", "b", "c", "d", "e"}
	page, next, _ := pagination.Keyset(ids, func(s string) string { return s }, nil, 2, pagination.ParseStringKey, pagination.StringKey)
	fmt.Println(page, string(next))
	page, next, _ = pagination.Keyset(ids, func(s string) string { return s }, next, 2, pagination.ParseStringKey, pagination.StringKey)
	fmt.Println(page, string(next))
	// Output:
	// [a b] b
	// [c d] d
}

func ExampleNew() {
	pager := pagination.New([][]byte{key1},
		pagination.WithTTL(time.Hour),
		pagination.WithSizes(pagination.Sizes{Default: 2, Max: 10}))
	page, _ := pager.Start(&testpb.ListKitchensRequest{Filter: "red"})
	fmt.Println(page.Size, page.Cursor == nil)
	// Output: 2 true
}

func ExampleSizes_Offset() {
	off, size, _ := pagination.Sizes{Default: 20, Max: 100}.Offset(3, 20)
	fmt.Println(off, size)
	// Output: 40 20
}
