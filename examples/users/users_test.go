package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/duetrpc/duet/examples/users/userspb"
	"github.com/duetrpc/duet/internal/exchange"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// start serves a seeded store on loopback and returns the base URL and a
// gRPC client connected to the same port.
func start(t *testing.T) (string, userspb.UserServiceClient, *grpc.ClientConn) {
	t.Helper()
	srv := newServer(testStore(t), testKeys)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, lis, 0) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		cancel()
		<-done
	})
	return "http://" + lis.Addr().String(), userspb.NewUserServiceClient(conn), conn
}

// violations returns the BadRequest field names of a gRPC error.
func violations(err error) []string {
	var out []string
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.FieldViolations {
				out = append(out, v.Field)
			}
		}
	}
	return out
}

func resource(err error) string {
	for _, d := range status.Convert(err).Details() {
		if ri, ok := d.(*errdetails.ResourceInfo); ok {
			return ri.ResourceType + " " + ri.ResourceName
		}
	}
	return ""
}

func TestGRPC(t *testing.T) {
	_, c, conn := start(t)
	ctx := context.Background()

	created, err := c.CreateUser(ctx, &userspb.CreateUserRequest{User: &userspb.User{Email: "grace@example.com", Name: "Grace Hopper"}})
	if err != nil {
		t.Fatal(err)
	}
	if created.Id == "" || created.Status != "active" || created.CreatedAt == nil {
		t.Fatalf("created = %v", created)
	}
	got, err := c.GetUser(ctx, &userspb.GetUserRequest{Id: created.Id})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(created, got, protocmp.Transform()); diff != "" {
		t.Errorf("GetUser differs from CreateUser (-want +got):\n%s", diff)
	}
	patched, err := c.UpdateUser(ctx, &userspb.UpdateUserRequest{
		User:       &userspb.User{Id: created.Id, Name: "Rear Admiral Hopper", Email: "ignored@example.com"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"name"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if patched.Name != "Rear Admiral Hopper" || patched.Email != "grace@example.com" {
		t.Errorf("UpdateUser with mask [name] = %v", patched)
	}
	replaced, err := c.ReplaceUser(ctx, &userspb.ReplaceUserRequest{User: &userspb.User{Id: created.Id, Email: "grace@navy.mil"}})
	if err != nil {
		t.Fatal(err)
	}
	if replaced.Name != "" || replaced.Email != "grace@navy.mil" || replaced.Status != "active" {
		t.Errorf("ReplaceUser = %v", replaced)
	}
	deact, err := c.DeactivateUser(ctx, &userspb.DeactivateUserRequest{Id: created.Id})
	if err != nil {
		t.Fatal(err)
	}
	if deact.Status != "inactive" {
		t.Errorf("DeactivateUser status = %q", deact.Status)
	}
	order, err := c.CreateOrder(ctx, &userspb.CreateOrderRequest{UserId: created.Id, Order: &userspb.Order{Items: []*userspb.OrderItem{
		{ProductId: "prod-001", Quantity: 2, Price: 29.99}, {ProductId: "prod-002", Quantity: 1, Price: 49.99},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if order.Total < 109.969 || order.Total > 109.971 || order.Status != "pending" || order.UserId != created.Id {
		t.Errorf("CreateOrder = %v", order)
	}
	gotOrder, err := c.GetOrder(ctx, &userspb.GetOrderRequest{Id: order.Id})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(order, gotOrder, protocmp.Transform()); diff != "" {
		t.Errorf("GetOrder (-want +got):\n%s", diff)
	}
	orders, err := c.ListOrders(ctx, &userspb.ListOrdersRequest{UserId: created.Id})
	if err != nil {
		t.Fatal(err)
	}
	if len(orders.Orders) != 1 || orders.Orders[0].Id != order.Id {
		t.Errorf("ListOrders = %v", orders)
	}
	if _, err := c.DeleteUser(ctx, &userspb.DeleteUserRequest{Id: created.Id}); err != nil {
		t.Fatal(err)
	}

	hc, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: userspb.UserService_ServiceDesc.ServiceName})
	if err != nil || hc.Status != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health = %v, %v", hc, err)
	}

	errTests := []struct {
		name       string
		call       func() error
		code       codes.Code
		violations []string
		resource   string
	}{
		{"missing email", func() error {
			_, err := c.CreateUser(ctx, &userspb.CreateUserRequest{User: &userspb.User{Name: "x"}})
			return err
		}, codes.InvalidArgument, []string{"user.email"}, ""},
		{"malformed email and status", func() error {
			_, err := c.CreateUser(ctx, &userspb.CreateUserRequest{User: &userspb.User{Email: "not-an-email", Status: "gone"}})
			return err
		}, codes.InvalidArgument, []string{"user.email", "user.status"}, ""},
		{"duplicate email", func() error {
			_, err := c.CreateUser(ctx, &userspb.CreateUserRequest{User: &userspb.User{Email: "jane@example.com"}})
			return err
		}, codes.AlreadyExists, nil, "user users/email=jane@example.com"},
		{"get deleted user", func() error {
			_, err := c.GetUser(ctx, &userspb.GetUserRequest{Id: created.Id})
			return err
		}, codes.NotFound, nil, "user users/" + created.Id},
		{"delete unknown user", func() error {
			_, err := c.DeleteUser(ctx, &userspb.DeleteUserRequest{Id: "42"})
			return err
		}, codes.NotFound, nil, "user users/42"},
		{"unknown order", func() error {
			_, err := c.GetOrder(ctx, &userspb.GetOrderRequest{Id: "nope"})
			return err
		}, codes.NotFound, nil, "order orders/nope"},
		{"orders of unknown user", func() error {
			_, err := c.ListOrders(ctx, &userspb.ListOrdersRequest{UserId: "42"})
			return err
		}, codes.NotFound, nil, "user users/42"},
		{"order without items", func() error {
			_, err := c.CreateOrder(ctx, &userspb.CreateOrderRequest{UserId: "1001", Order: &userspb.Order{}})
			return err
		}, codes.InvalidArgument, []string{"order.items"}, ""},
		{"bad update mask", func() error {
			_, err := c.UpdateUser(ctx, &userspb.UpdateUserRequest{User: &userspb.User{Id: "1001"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"age"}}})
			return err
		}, codes.InvalidArgument, []string{"update_mask"}, ""},
		{"tampered page token", func() error {
			_, err := c.ListUsers(ctx, &userspb.ListUsersRequest{PageToken: "garbage"})
			return err
		}, codes.InvalidArgument, []string{"page_token"}, ""},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if got := status.Code(err); got != tt.code {
				t.Fatalf("code = %v, want %v (%v)", got, tt.code, err)
			}
			if diff := cmp.Diff(tt.violations, violations(err)); diff != "" {
				t.Errorf("violations (-want +got):\n%s", diff)
			}
			if got := resource(err); got != tt.resource {
				t.Errorf("resource = %q, want %q", got, tt.resource)
			}
		})
	}
}

// TestPagedWalkWhileInserting walks every user page by page while other
// goroutines insert and delete users: every user present for the whole
// walk is seen exactly once.
func TestPagedWalkWhileInserting(t *testing.T) {
	_, c, _ := start(t)
	ctx := context.Background()
	stable := map[string]bool{}
	for i := 0; i < 50; i++ {
		u, err := c.CreateUser(ctx, &userspb.CreateUserRequest{User: &userspb.User{Email: "stable" + strconv.Itoa(i) + "@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		stable[u.Id] = true
	}
	for _, id := range []string{"1001", "1002", "1003"} {
		stable[id] = true
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				u, err := c.CreateUser(ctx, &userspb.CreateUserRequest{User: &userspb.User{Email: "churn" + strconv.Itoa(w) + "-" + strconv.Itoa(i) + "@example.com"}})
				if err != nil {
					t.Error(err)
					return
				}
				if i%2 == 0 {
					c.DeleteUser(ctx, &userspb.DeleteUserRequest{Id: u.Id})
				}
			}
		}(w)
	}
	seen := map[string]int{}
	req := &userspb.ListUsersRequest{PageSize: 7}
	for pages := 0; ; pages++ {
		resp, err := c.ListUsers(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range resp.Users {
			seen[u.Id]++
		}
		// Stop chasing the writers once the stable users are all behind us.
		if resp.NextPageToken == "" || pages > 20 {
			break
		}
		req.PageToken = resp.NextPageToken
	}
	close(stop)
	wg.Wait()
	for id := range stable {
		if seen[id] != 1 {
			t.Errorf("user %s seen %d times, want 1", id, seen[id])
		}
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("user %s seen %d times", id, n)
		}
	}
}

// client makes the tests' REST calls. When $DUET_EXCHANGES is set (as in
// CI), it records each exchange so that tools/openapicheck can validate
// requests and responses against the OpenAPI document; otherwise it is a
// plain client. Probes and the document itself are not REST routes of the
// document, so they use http.DefaultClient.
var client = &http.Client{Transport: exchange.Transport(http.DefaultTransport)}

// call sends a request and decodes a JSON body into a map.
func call(t *testing.T, method, url, body string) (*http.Response, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	// The OpenAPI document declares bearer auth (openAPIOptions); the
	// example does not check tokens, but requests carry one as the
	// contract says.
	req.Header.Set("Authorization", "Bearer test-token")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s %s: body %q: %v", method, url, b, err)
		}
	}
	return resp, m
}

func TestREST(t *testing.T) {
	base, _, _ := start(t)

	resp, user := call(t, "POST", base+"/v1/users", `{"email":"grace@example.com","name":"Grace Hopper"}`)
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %v", resp.StatusCode, user)
	}
	id, _ := user["id"].(string)
	if loc := resp.Header.Get("Location"); loc != "/v1/users/"+id {
		t.Errorf("Location = %q, want /v1/users/%s", loc, id)
	}
	wantLinks := []any{
		map[string]any{"rel": "self", "href": "/v1/users/" + id},
		map[string]any{"rel": "update", "href": "/v1/users/" + id, "method": "PATCH"},
		map[string]any{"rel": "delete", "href": "/v1/users/" + id, "method": "DELETE"},
		map[string]any{"rel": "orders", "href": "/v1/users/" + id + "/orders"},
		map[string]any{"rel": "create_order", "href": "/v1/users/" + id + "/orders", "method": "POST"},
		map[string]any{"rel": "deactivate", "href": "/v1/users/" + id + ":deactivate", "method": "POST"},
	}
	if diff := cmp.Diff(wantLinks, user["links"]); diff != "" {
		t.Errorf("links (-want +got):\n%s", diff)
	}

	steps := []struct {
		method, path, body string
		status             int
		check              func(m map[string]any) string
	}{
		{"GET", "/v1/users/" + id, "", 200, field("email", "grace@example.com")},
		{"PATCH", "/v1/users/" + id, `{"name":"Amazing Grace"}`, 200, both(field("name", "Amazing Grace"), field("email", "grace@example.com"))},
		{"PUT", "/v1/users/" + id, `{"email":"grace@navy.mil"}`, 200, both(field("name", ""), field("email", "grace@navy.mil"))},
		{"POST", "/v1/users/" + id + ":deactivate", `{}`, 200, field("status", "inactive")},
		{"GET", "/v1/users?status=inactive", "", 200, count("users", 2)},
		{"GET", "/v1/users?page_size=2", "", 200, both(count("users", 2), hasKey("nextPageToken"))},
		{"POST", "/v1/users/" + id + "/orders", `{"items":[{"productId":"prod-001","quantity":2,"price":29.99}]}`, 201, field("status", "pending")},
		{"GET", "/v1/users/" + id + "/orders", "", 200, count("orders", 1)},
		{"DELETE", "/v1/users/" + id, "", 204, nil},
		// Errors: problem+json with the article's status codes.
		{"GET", "/v1/users/" + id, "", 404, field("status", float64(404))},
		{"GET", "/v1/orders/999", "", 404, field("status", float64(404))},
		{"POST", "/v1/users", `{"name":"no email"}`, 400, errorsNamed("user.email")},
		{"POST", "/v1/users", `{"email":"bad"}`, 400, errorsNamed("user.email")},
		{"POST", "/v1/users", `{"email":"jane@example.com"}`, 409, field("status", float64(409))},
		{"GET", "/v1/users?status=zombie", "", 400, errorsNamed("status")},
		{"GET", "/v1/users?page_token=forged", "", 400, errorsNamed("page_token")},
	}
	for _, s := range steps {
		t.Run(s.method+" "+s.path, func(t *testing.T) {
			resp, m := call(t, s.method, base+s.path, s.body)
			if resp.StatusCode != s.status {
				t.Fatalf("status %d, want %d: %v", resp.StatusCode, s.status, m)
			}
			if s.status >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("Content-Type = %q", resp.Header.Get("Content-Type"))
			}
			if s.check != nil {
				if msg := s.check(m); msg != "" {
					t.Errorf("%s: %v", msg, m)
				}
			}
		})
	}

	for _, probe := range []string{"/livez", "/readyz"} {
		resp, err := http.Get(base + probe)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", probe, resp.StatusCode)
		}
	}
}

func field(k string, want any) func(map[string]any) string {
	return func(m map[string]any) string {
		if !cmp.Equal(m[k], want) {
			return k + " is not " + jsonString(want)
		}
		return ""
	}
}

func hasKey(k string) func(map[string]any) string {
	return func(m map[string]any) string {
		if s, _ := m[k].(string); s == "" {
			return k + " missing"
		}
		return ""
	}
}

func count(k string, n int) func(map[string]any) string {
	return func(m map[string]any) string {
		if l, _ := m[k].([]any); len(l) != n {
			return k + " does not have " + jsonString(n) + " entries"
		}
		return ""
	}
}

func both(a, b func(map[string]any) string) func(map[string]any) string {
	return func(m map[string]any) string { return a(m) + b(m) }
}

// errorsNamed checks the problem's field violations.
func errorsNamed(fields ...string) func(map[string]any) string {
	return func(m map[string]any) string {
		var got []string
		errs, _ := m["errors"].([]any)
		for _, e := range errs {
			f, _ := e.(map[string]any)["field"].(string)
			got = append(got, f)
		}
		if !cmp.Equal(got, fields) {
			return "errors name " + jsonString(got) + ", want " + jsonString(fields)
		}
		return ""
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
