package main

import (
	"errors"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/duetrpc/duet/examples/users/userspb"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Errors a Store returns; the service turns them into problems.
var (
	errNotFound   = errors.New("not found")
	errEmailTaken = errors.New("email already in use")
)

// Store is what the service needs from storage. Swap the in-memory one for
// a database by implementing these methods: the keys are increasing
// integers, so "WHERE seq > $after ORDER BY seq LIMIT $n" pages the same way.
type Store interface {
	CreateUser(u *userspb.User) (*userspb.User, error)
	GetUser(id string) (*userspb.User, error)
	// PutUser overwrites an existing user (same id).
	PutUser(u *userspb.User) (*userspb.User, error)
	DeleteUser(id string) error
	// ListUsers returns up to limit users whose id is above after, in id
	// order, with the given status when status is not empty.
	ListUsers(after int64, limit int, status string) ([]*userspb.User, error)
	CreateOrder(o *userspb.Order) (*userspb.Order, error)
	GetOrder(id string) (*userspb.Order, error)
	ListOrders(userID string, after int64, limit int) ([]*userspb.Order, error)
}

// memStore is a Store in memory, safe for concurrent use. Users and orders
// get increasing sequence numbers as ids; listing by "sequence greater than
// the cursor" (keyset paging) never skips or repeats a row when others are
// inserted or deleted between pages, unlike offsets.
type memStore struct {
	mu        sync.RWMutex
	seq       int64
	users     map[int64]*userspb.User
	userKeys  []int64 // sorted: ids are handed out in increasing order
	byEmail   map[string]int64
	orders    map[int64]*userspb.Order
	orderKeys map[string][]int64 // user id → that user's order ids, sorted
	now       func() time.Time
}

func newMemStore() *memStore {
	return &memStore{
		seq:       1000,
		users:     map[int64]*userspb.User{},
		byEmail:   map[string]int64{},
		orders:    map[int64]*userspb.Order{},
		orderKeys: map[string][]int64{},
		now:       time.Now,
	}
}

// key parses an id; anything that is not one of ours is simply not found.
func key(id string) (int64, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	return n, err == nil
}

func (s *memStore) CreateUser(u *userspb.User) (*userspb.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, taken := s.byEmail[u.GetEmail()]; taken {
		return nil, errEmailTaken
	}
	s.seq++
	u = proto.Clone(u).(*userspb.User)
	u.Id = strconv.FormatInt(s.seq, 10)
	u.CreatedAt = timestamppb.New(s.now().UTC().Truncate(time.Second))
	s.users[s.seq] = u
	s.userKeys = append(s.userKeys, s.seq)
	s.byEmail[u.Email] = s.seq
	return proto.Clone(u).(*userspb.User), nil
}

func (s *memStore) GetUser(id string) (*userspb.User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := key(id)
	if u := s.users[k]; ok && u != nil {
		return proto.Clone(u).(*userspb.User), nil
	}
	return nil, errNotFound
}

func (s *memStore) PutUser(u *userspb.User) (*userspb.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := key(u.GetId())
	old := s.users[k]
	if !ok || old == nil {
		return nil, errNotFound
	}
	if other, taken := s.byEmail[u.GetEmail()]; taken && other != k {
		return nil, errEmailTaken
	}
	u = proto.Clone(u).(*userspb.User)
	u.CreatedAt = old.CreatedAt
	delete(s.byEmail, old.Email)
	s.byEmail[u.Email] = k
	s.users[k] = u
	return proto.Clone(u).(*userspb.User), nil
}

func (s *memStore) DeleteUser(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := key(id)
	u := s.users[k]
	if !ok || u == nil {
		return errNotFound
	}
	delete(s.users, k)
	delete(s.byEmail, u.Email)
	i := sort.Search(len(s.userKeys), func(i int) bool { return s.userKeys[i] >= k })
	s.userKeys = append(s.userKeys[:i], s.userKeys[i+1:]...)
	return nil
}

func (s *memStore) ListUsers(after int64, limit int, status string) ([]*userspb.User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*userspb.User
	for i := sort.Search(len(s.userKeys), func(i int) bool { return s.userKeys[i] > after }); i < len(s.userKeys) && len(out) < limit; i++ {
		k := s.userKeys[i]
		if u := s.users[k]; status == "" || u.Status == status {
			out = append(out, proto.Clone(u).(*userspb.User))
		}
	}
	return out, nil
}

func (s *memStore) CreateOrder(o *userspb.Order) (*userspb.Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := key(o.GetUserId()); !ok || s.users[k] == nil {
		return nil, errNotFound
	}
	s.seq++
	o = proto.Clone(o).(*userspb.Order)
	o.Id = strconv.FormatInt(s.seq, 10)
	o.CreatedAt = timestamppb.New(s.now().UTC().Truncate(time.Second))
	s.orders[s.seq] = o
	s.orderKeys[o.UserId] = append(s.orderKeys[o.UserId], s.seq)
	return proto.Clone(o).(*userspb.Order), nil
}

func (s *memStore) GetOrder(id string) (*userspb.Order, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := key(id)
	if o := s.orders[k]; ok && o != nil {
		return proto.Clone(o).(*userspb.Order), nil
	}
	return nil, errNotFound
}

func (s *memStore) ListOrders(userID string, after int64, limit int) ([]*userspb.Order, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if k, ok := key(userID); !ok || s.users[k] == nil {
		return nil, errNotFound
	}
	keys := s.orderKeys[userID]
	var out []*userspb.Order
	for i := sort.Search(len(keys), func(i int) bool { return keys[i] > after }); i < len(keys) && len(out) < limit; i++ {
		out = append(out, proto.Clone(s.orders[keys[i]]).(*userspb.Order))
	}
	return out, nil
}
