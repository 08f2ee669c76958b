package main

import (
	"context"
	"errors"
	"strconv"

	"github.com/duetrpc/duet/examples/users/userspb"
)

// Errors a Store returns; the service turns them into problems.
var (
	errNotFound   = errors.New("not found")
	errEmailTaken = errors.New("email already in use")
)

// Store is what the service needs from storage; sqlStore implements it on
// SQLite and PostgreSQL. Every method takes the request's context, so a
// client that goes away cancels its query and a deadline bounds it. Keys
// are increasing integers: ListUsers and ListOrders page by "id greater
// than the cursor" (keyset pagination), which never skips or repeats a row
// when others are inserted or deleted between pages, unlike offsets.
type Store interface {
	CreateUser(ctx context.Context, u *userspb.User) (*userspb.User, error)
	GetUser(ctx context.Context, id string) (*userspb.User, error)
	// PutUser overwrites an existing user (same id).
	PutUser(ctx context.Context, u *userspb.User) (*userspb.User, error)
	DeleteUser(ctx context.Context, id string) error
	// ListUsers returns up to limit users whose id is above after, in id
	// order, with the given status when status is not empty.
	ListUsers(ctx context.Context, after int64, limit int, status string) ([]*userspb.User, error)
	// CreateOrder stores an order of an existing user, checking the user
	// in the same transaction.
	CreateOrder(ctx context.Context, o *userspb.Order) (*userspb.Order, error)
	GetOrder(ctx context.Context, id string) (*userspb.Order, error)
	ListOrders(ctx context.Context, userID string, after int64, limit int) ([]*userspb.Order, error)
}

// key parses an id; anything that is not one of ours is simply not found.
func key(id string) (int64, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	return n, err == nil && n > 0
}
