package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/duetrpc/duet/examples/users/userspb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// sqlStore is the Store on SQLite or PostgreSQL. The statements are the
// same on both ($n placeholders, RETURNING); what differs is in dialect.
type sqlStore struct {
	db *sql.DB
	d  dialect
}

func (s *sqlStore) Close() error { return s.db.Close() }

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

const userColumns = `id, email, name, status, created_at`

func scanUser(r scanner) (*userspb.User, error) {
	var (
		id      int64
		created int64
		u       userspb.User
	)
	if err := r.Scan(&id, &u.Email, &u.Name, &u.Status, &created); err != nil {
		return nil, err
	}
	u.Id = strconv.FormatInt(id, 10)
	u.CreatedAt = timestamppb.New(time.Unix(created, 0))
	return &u, nil
}

// notFound turns "no rows" into errNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return errNotFound
	}
	return err
}

func (s *sqlStore) CreateUser(ctx context.Context, u *userspb.User) (*userspb.User, error) {
	// No lookup first: the unique index decides, so two concurrent creates
	// with one email cannot both succeed.
	row := s.db.QueryRowContext(ctx, `INSERT INTO users (email, name, status, created_at) VALUES ($1, $2, $3, $4) RETURNING `+userColumns,
		u.GetEmail(), u.GetName(), u.GetStatus(), time.Now().Unix())
	out, err := scanUser(row)
	if s.d.uniqueViolation(err) {
		return nil, errEmailTaken
	}
	return out, err
}

func (s *sqlStore) GetUser(ctx context.Context, id string) (*userspb.User, error) {
	k, ok := key(id)
	if !ok {
		return nil, errNotFound
	}
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, k))
	return u, notFound(err)
}

func (s *sqlStore) PutUser(ctx context.Context, u *userspb.User) (*userspb.User, error) {
	k, ok := key(u.GetId())
	if !ok {
		return nil, errNotFound
	}
	row := s.db.QueryRowContext(ctx, `UPDATE users SET email = $1, name = $2, status = $3 WHERE id = $4 RETURNING `+userColumns,
		u.GetEmail(), u.GetName(), u.GetStatus(), k)
	out, err := scanUser(row)
	if s.d.uniqueViolation(err) {
		return nil, errEmailTaken
	}
	return out, notFound(err)
}

func (s *sqlStore) DeleteUser(ctx context.Context, id string) error {
	k, ok := key(id)
	if !ok {
		return errNotFound
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM users WHERE id = $1`, k)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return errors.Join(errNotFound, err)
	}
	return nil
}

func (s *sqlStore) ListUsers(ctx context.Context, after int64, limit int, status string) ([]*userspb.User, error) {
	// Two statements rather than "($2 = '' OR status = $2)", so that each
	// has one plan that uses its index (id, or status and id).
	var (
		rows *sql.Rows
		err  error
	)
	if status == "" {
		rows, err = s.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	} else {
		rows, err = s.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users WHERE status = $1 AND id > $2 ORDER BY id LIMIT $3`, status, after, limit)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]*userspb.User, 0, limit)
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// item is an order item as stored, in the orders.items JSON column.
type item struct {
	ProductID string  `json:"product_id"`
	Quantity  int32   `json:"quantity"`
	Price     float64 `json:"price"`
}

const orderColumns = `id, user_id, items, total, status, created_at`

func scanOrder(r scanner) (*userspb.Order, error) {
	var (
		id, userID, created int64
		items               []byte
		o                   userspb.Order
	)
	if err := r.Scan(&id, &userID, &items, &o.Total, &o.Status, &created); err != nil {
		return nil, err
	}
	var stored []item
	if err := json.Unmarshal(items, &stored); err != nil {
		return nil, err
	}
	for _, it := range stored {
		o.Items = append(o.Items, &userspb.OrderItem{ProductId: it.ProductID, Quantity: it.Quantity, Price: it.Price})
	}
	o.Id = strconv.FormatInt(id, 10)
	o.UserId = strconv.FormatInt(userID, 10)
	o.CreatedAt = timestamppb.New(time.Unix(created, 0))
	return &o, nil
}

func (s *sqlStore) CreateOrder(ctx context.Context, o *userspb.Order) (*userspb.Order, error) {
	userID, ok := key(o.GetUserId())
	if !ok {
		return nil, errNotFound
	}
	stored := make([]item, len(o.GetItems()))
	for i, it := range o.GetItems() {
		stored[i] = item{ProductID: it.GetProductId(), Quantity: it.GetQuantity(), Price: it.GetPrice()}
	}
	items, err := json.Marshal(stored)
	if err != nil {
		return nil, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	// The user must exist when the order commits: checked, and held (on
	// PostgreSQL, FOR SHARE; on SQLite, the write lock the transaction
	// began with), in the order's own transaction.
	var one int
	if err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = $1`+s.d.lockUser, userID).Scan(&one); err != nil {
		return nil, notFound(err)
	}
	out, err := scanOrder(tx.QueryRowContext(ctx, `INSERT INTO orders (user_id, items, total, status, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING `+orderColumns,
		userID, string(items), o.GetTotal(), o.GetStatus(), time.Now().Unix()))
	if err != nil {
		return nil, err
	}
	return out, tx.Commit()
}

func (s *sqlStore) GetOrder(ctx context.Context, id string) (*userspb.Order, error) {
	k, ok := key(id)
	if !ok {
		return nil, errNotFound
	}
	o, err := scanOrder(s.db.QueryRowContext(ctx, `SELECT `+orderColumns+` FROM orders WHERE id = $1`, k))
	return o, notFound(err)
}

func (s *sqlStore) ListOrders(ctx context.Context, userID string, after int64, limit int) ([]*userspb.Order, error) {
	k, ok := key(userID)
	if !ok {
		return nil, errNotFound
	}
	// An unknown user is NOT_FOUND; a user with no orders, an empty page.
	var exists bool
	if err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)`, k).Scan(&exists); err != nil {
		return nil, err
	}
	if !exists {
		return nil, errNotFound
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+orderColumns+` FROM orders WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT $3`, k, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]*userspb.Order, 0, limit)
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}
