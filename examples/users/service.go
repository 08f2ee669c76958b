package main

import (
	"context"
	"errors"
	"net/mail"
	"strconv"
	"time"

	"github.com/duetrpc/duet/examples/users/userspb"
	"github.com/duetrpc/duet/pagination"
	"github.com/duetrpc/duet/problem"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// service implements userspb.UserServiceServer once; duet serves it as
// gRPC, gRPC-Web and REST. Errors are problems: each carries its gRPC code
// and errdetails, and REST renders the same error as application/problem+json.
type service struct {
	userspb.UnimplementedUserServiceServer
	store Store
	pages *pagination.Pager
}

// newService returns the service over store. Page tokens are signed with
// keys[0] and verified with any of keys (see loadKeys), bound to the request's filters, and expire after a day.
func newService(store Store, keys [][]byte) *service {
	return &service{
		store: store,
		pages: pagination.New(keys, pagination.WithTTL(24*time.Hour), pagination.WithSizes(pagination.Sizes{Default: 20, Max: 100})),
	}
}

func (s *service) ListUsers(ctx context.Context, req *userspb.ListUsersRequest) (*userspb.ListUsersResponse, error) {
	if st := req.GetStatus(); st != "" && st != "active" && st != "inactive" {
		return nil, problem.InvalidArgument("invalid status filter", problem.Violation{
			Field: "status", Reason: "INVALID_VALUE", Description: `status must be "active" or "inactive"`,
		})
	}
	page, err := s.pages.Start(req)
	if err != nil {
		return nil, err
	}
	after, err := cursor(page)
	if err != nil {
		return nil, err
	}
	// Ask for one more than a page: if it comes back, there is a next page.
	users, err := s.store.ListUsers(ctx, after, page.Size+1, req.GetStatus())
	if err != nil {
		return nil, storeError("user", "", err)
	}
	resp := &userspb.ListUsersResponse{}
	resp.Users, resp.NextPageToken = trim(s, page, users, (*userspb.User).GetId)
	return resp, nil
}

func (s *service) GetUser(ctx context.Context, req *userspb.GetUserRequest) (*userspb.User, error) {
	u, err := s.store.GetUser(ctx, req.GetId())
	if err != nil {
		return nil, storeError("user", req.GetId(), err)
	}
	return u, nil
}

func (s *service) CreateUser(ctx context.Context, req *userspb.CreateUserRequest) (*userspb.User, error) {
	u := req.GetUser()
	if err := validateUser("user.", u); err != nil {
		return nil, err
	}
	in := &userspb.User{Email: u.GetEmail(), Name: u.GetName(), Status: u.GetStatus()}
	if in.Status == "" {
		in.Status = "active"
	}
	created, err := s.store.CreateUser(ctx, in)
	if err != nil {
		return nil, storeError("user", u.GetEmail(), err)
	}
	// REST answers 201 with Location: /v1/users/{id}, derived from GetUser's rule.
	return created, nil
}

func (s *service) ReplaceUser(ctx context.Context, req *userspb.ReplaceUserRequest) (*userspb.User, error) {
	u := req.GetUser()
	if err := validateUser("user.", u); err != nil {
		return nil, err
	}
	in := &userspb.User{Id: u.GetId(), Email: u.GetEmail(), Name: u.GetName(), Status: u.GetStatus()}
	if in.Status == "" {
		in.Status = "active" // PUT replaces: what is left out gets its default
	}
	out, err := s.store.PutUser(ctx, in)
	if err != nil {
		return nil, storeError("user", u.GetId(), err)
	}
	return out, nil
}

func (s *service) UpdateUser(ctx context.Context, req *userspb.UpdateUserRequest) (*userspb.User, error) {
	u := req.GetUser()
	cur, err := s.store.GetUser(ctx, u.GetId())
	if err != nil {
		return nil, storeError("user", u.GetId(), err)
	}
	paths := req.GetUpdateMask().GetPaths()
	if len(paths) == 0 {
		paths = []string{"email", "name", "status"} // no mask: every mutable field (AIP-134)
	}
	for _, p := range paths {
		switch p {
		case "email":
			cur.Email = u.GetEmail()
		case "name":
			cur.Name = u.GetName()
		case "status":
			cur.Status = u.GetStatus()
		case "id", "created_at", "links":
			// Output-only fields are ignored, as AIP-203 says.
		default:
			return nil, problem.InvalidArgument("invalid update_mask", problem.Violation{
				Field: "update_mask", Reason: "UNKNOWN_FIELD", Description: "user has no mutable field " + strconv.Quote(p),
			})
		}
	}
	if err := validateUser("user.", cur); err != nil {
		return nil, err
	}
	// A concurrent delete between Get and Put surfaces as NOT_FOUND.
	out, err := s.store.PutUser(ctx, cur)
	if err != nil {
		return nil, storeError("user", u.GetId(), err)
	}
	return out, nil
}

func (s *service) DeleteUser(ctx context.Context, req *userspb.DeleteUserRequest) (*emptypb.Empty, error) {
	if err := s.store.DeleteUser(ctx, req.GetId()); err != nil {
		return nil, storeError("user", req.GetId(), err)
	}
	return &emptypb.Empty{}, nil // 204 No Content on REST
}

func (s *service) DeactivateUser(ctx context.Context, req *userspb.DeactivateUserRequest) (*userspb.User, error) {
	u, err := s.store.GetUser(ctx, req.GetId())
	if err != nil {
		return nil, storeError("user", req.GetId(), err)
	}
	u.Status = "inactive"
	if u, err = s.store.PutUser(ctx, u); err != nil {
		return nil, storeError("user", req.GetId(), err)
	}
	return u, nil
}

func (s *service) ListOrders(ctx context.Context, req *userspb.ListOrdersRequest) (*userspb.ListOrdersResponse, error) {
	page, err := s.pages.Start(req)
	if err != nil {
		return nil, err
	}
	after, err := cursor(page)
	if err != nil {
		return nil, err
	}
	orders, err := s.store.ListOrders(ctx, req.GetUserId(), after, page.Size+1)
	if err != nil {
		return nil, storeError("user", req.GetUserId(), err)
	}
	resp := &userspb.ListOrdersResponse{}
	resp.Orders, resp.NextPageToken = trim(s, page, orders, (*userspb.Order).GetId)
	return resp, nil
}

func (s *service) CreateOrder(ctx context.Context, req *userspb.CreateOrderRequest) (*userspb.Order, error) {
	in := &userspb.Order{UserId: req.GetUserId(), Status: "pending"}
	var violations []problem.Violation
	if len(req.GetOrder().GetItems()) == 0 {
		violations = append(violations, problem.Violation{Field: "order.items", Reason: "REQUIRED", Description: "an order needs at least one item"})
	}
	for i, it := range req.GetOrder().GetItems() {
		f := "order.items[" + strconv.Itoa(i) + "]."
		if it.GetProductId() == "" {
			violations = append(violations, problem.Violation{Field: f + "product_id", Reason: "REQUIRED", Description: "product_id is required"})
		}
		if it.GetQuantity() <= 0 {
			violations = append(violations, problem.Violation{Field: f + "quantity", Reason: "OUT_OF_RANGE", Description: "quantity must be positive"})
		}
		if it.GetPrice() < 0 {
			violations = append(violations, problem.Violation{Field: f + "price", Reason: "OUT_OF_RANGE", Description: "price must not be negative"})
		}
		in.Items = append(in.Items, &userspb.OrderItem{ProductId: it.GetProductId(), Quantity: it.GetQuantity(), Price: it.GetPrice()})
		in.Total += float64(it.GetQuantity()) * it.GetPrice()
	}
	if len(violations) > 0 {
		return nil, problem.InvalidArgument("invalid order", violations...)
	}
	o, err := s.store.CreateOrder(ctx, in)
	if err != nil {
		return nil, storeError("user", req.GetUserId(), err)
	}
	return o, nil
}

func (s *service) GetOrder(ctx context.Context, req *userspb.GetOrderRequest) (*userspb.Order, error) {
	o, err := s.store.GetOrder(ctx, req.GetId())
	if err != nil {
		return nil, storeError("order", req.GetId(), err)
	}
	return o, nil
}

// validateUser reports every invalid field at once, one violation each, so
// a form can mark them all.
func validateUser(prefix string, u *userspb.User) error {
	var vs []problem.Violation
	switch email := u.GetEmail(); {
	case email == "":
		vs = append(vs, problem.Violation{Field: prefix + "email", Reason: "REQUIRED", Description: "Email is required"})
	case !validEmail(email):
		vs = append(vs, problem.Violation{Field: prefix + "email", Reason: "INVALID_FORMAT", Description: "Email must be a valid email address"})
	}
	if len(u.GetName()) > 200 {
		vs = append(vs, problem.Violation{Field: prefix + "name", Reason: "TOO_LONG", Description: "Name must be at most 200 bytes"})
	}
	if st := u.GetStatus(); st != "" && st != "active" && st != "inactive" {
		vs = append(vs, problem.Violation{Field: prefix + "status", Reason: "INVALID_VALUE", Description: `Status must be "active" or "inactive"`})
	}
	if len(vs) > 0 {
		return problem.InvalidArgument("One or more fields failed validation", vs...)
	}
	return nil
}

// validEmail accepts a bare address such as jane@example.com, not a display
// name form such as "Jane <jane@example.com>".
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

// trim cuts rows, fetched as one more than a page, to the page and returns
// the token of the next page: "" when the extra row did not come back.
func trim[T any](s *service, page pagination.Page, rows []T, id func(T) string) ([]T, string) {
	if len(rows) <= page.Size {
		return rows, ""
	}
	rows = rows[:page.Size]
	last, _ := key(id(rows[len(rows)-1]))
	return rows, s.pages.Next(page, pagination.IntKey(last))
}

// cursor decodes the keyset cursor of a page: the id of the last item of
// the previous page, or 0 on the first page.
func cursor(p pagination.Page) (int64, error) {
	if p.Cursor == nil {
		return 0, nil
	}
	n, err := pagination.ParseIntKey(p.Cursor)
	if err != nil {
		// The token is signed, so this only happens after a format change.
		return 0, problem.InvalidArgument("invalid page_token", problem.Violation{Field: "page_token", Reason: "INVALID_FORMAT", Description: "page_token is not valid"})
	}
	return n, nil
}

// storeError maps a store error to the problem a client sees.
func storeError(resourceType, name string, err error) error {
	switch {
	case errors.Is(err, errNotFound):
		return problem.NotFound(resourceType, resourceType+"s/"+name)
	case errors.Is(err, errEmailTaken):
		return problem.AlreadyExists("user", "users/email="+name, "a user with this email already exists")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// The client went away or its deadline passed: the driver stopped
		// the query; say so rather than INTERNAL.
		return status.FromContextError(err).Err()
	}
	return problem.New(codes.Internal, err.Error())
}
