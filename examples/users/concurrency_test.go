package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duetrpc/duet/examples/users/userspb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// createOverGRPCWeb creates a user with a gRPC-Web call (binary framing)
// and returns the grpc-status it ends with.
func createOverGRPCWeb(base, email string) (codes.Code, error) {
	msg, err := proto.Marshal(&userspb.CreateUserRequest{User: &userspb.User{Email: email}})
	if err != nil {
		return 0, err
	}
	body := make([]byte, 5, 5+len(msg))
	binary.BigEndian.PutUint32(body[1:], uint32(len(msg)))
	body = append(body, msg...)
	req, err := http.NewRequest("POST", base+"/duet.examples.users.v1.UserService/CreateUser", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/grpc-web+proto")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if s := resp.Header.Get("Grpc-Status"); s != "" { // trailers-only
		n, err := strconv.Atoi(s)
		return codes.Code(n), err
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	for len(b) >= 5 {
		n := int(binary.BigEndian.Uint32(b[1:5]))
		if len(b) < 5+n {
			break
		}
		if b[0]&0x80 != 0 { // the trailers frame
			for _, line := range strings.Split(string(b[5:5+n]), "\r\n") {
				if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "grpc-status") {
					c, err := strconv.Atoi(strings.TrimSpace(v))
					return codes.Code(c), err
				}
			}
		}
		b = b[5+n:]
	}
	return 0, errors.New("gRPC-Web response without grpc-status")
}

// TestConcurrentCreatesOneEmail sends 50 creates with one email at once,
// over REST, gRPC-Web and gRPC: the unique index lets exactly one win, the
// rest are ALREADY_EXISTS (409 on REST), and one row is stored.
func TestConcurrentCreatesOneEmail(t *testing.T) {
	base, c, _ := start(t)
	const email = "race@example.com"
	type result struct {
		via  string
		code codes.Code
		err  error
	}
	results := make(chan result, 50)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			switch i % 3 {
			case 0:
				resp, err := http.Post(base+"/v1/users", "application/json", strings.NewReader(`{"email":"`+email+`"}`))
				if err != nil {
					results <- result{"REST", 0, err}
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				code := codes.Unknown
				switch resp.StatusCode {
				case http.StatusCreated:
					code = codes.OK
				case http.StatusConflict:
					code = codes.AlreadyExists
				}
				results <- result{"REST " + strconv.Itoa(resp.StatusCode), code, nil}
			case 1:
				code, err := createOverGRPCWeb(base, email)
				results <- result{"gRPC-Web", code, err}
			case 2:
				_, err := c.CreateUser(context.Background(), &userspb.CreateUserRequest{User: &userspb.User{Email: email}})
				results <- result{"gRPC", status.Code(err), nil}
			}
		}(i)
	}
	close(start)
	wg.Wait()
	close(results)
	var ok, exists int
	for r := range results {
		switch {
		case r.err != nil:
			t.Errorf("%s: %v", r.via, r.err)
		case r.code == codes.OK:
			ok++
		case r.code == codes.AlreadyExists:
			exists++
		default:
			t.Errorf("%s: %v, want OK or AlreadyExists", r.via, r.code)
		}
	}
	if ok != 1 || exists != 49 {
		t.Errorf("%d created and %d ALREADY_EXISTS, want 1 and 49", ok, exists)
	}
	// One row: walk every page and count the email.
	var rows int
	req := &userspb.ListUsersRequest{PageSize: 100}
	for {
		resp, err := c.ListUsers(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range resp.Users {
			if u.Email == email {
				rows++
			}
		}
		if req.PageToken = resp.NextPageToken; req.PageToken == "" {
			break
		}
	}
	if rows != 1 {
		t.Errorf("%d rows with %s, want 1", rows, email)
	}
}

// TestContextReachesTheDriver holds a lock on a user from another
// connection, then writes that user: the write waits on the database, and
// the caller's deadline, then its cancellation, end the wait, with the
// context's error rather than the database's own timeout.
func TestContextReachesTheDriver(t *testing.T) {
	s := testStore(t)
	ctx := context.Background()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil) // IMMEDIATE on SQLite: the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE users SET name = 'locked' WHERE id = 1001`); err != nil {
		t.Fatal(err)
	}
	u := &userspb.User{Id: "1001", Email: "jane@example.com", Name: "Jane", Status: "active"}

	dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := s.PutUser(dctx, u); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("PutUser past its deadline: %v, want context.DeadlineExceeded", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(300*time.Millisecond, cancel) // the client goes away mid-query
	if _, err := s.PutUser(cctx, u); !errors.Is(err, context.Canceled) {
		t.Errorf("PutUser whose caller went away: %v, want context.Canceled", err)
	}
	// The service reports them as the client's, not as INTERNAL.
	if got := status.Code(storeError("user", "1001", context.DeadlineExceeded)); got != codes.DeadlineExceeded {
		t.Errorf("storeError(DeadlineExceeded) = %v", got)
	}
	tx.Rollback()
	if _, err := s.PutUser(ctx, u); err != nil {
		t.Errorf("PutUser once the lock is gone: %v", err)
	}
}

// TestOrderChecksItsUser creates orders for a user while another goroutine
// deletes that user: every order that was created belongs to a user that
// existed when it committed, so none is left without its user.
func TestOrderChecksItsUser(t *testing.T) {
	s := testStore(t)
	ctx := context.Background()
	for round := 0; round < 5; round++ {
		u, err := s.CreateUser(ctx, &userspb.User{Email: "buyer" + strconv.Itoa(round) + "@example.com", Status: "active"})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.CreateOrder(ctx, &userspb.Order{UserId: u.Id, Status: "pending", Items: []*userspb.OrderItem{{ProductId: "p", Quantity: 1}}})
				if err != nil && !errors.Is(err, errNotFound) {
					t.Errorf("CreateOrder: %v", err)
				}
			}()
		}
		if err := s.DeleteUser(ctx, u.Id); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		var orphans int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM orders WHERE user_id NOT IN (SELECT id FROM users)`).Scan(&orphans); err != nil {
			t.Fatal(err)
		}
		if orphans != 0 {
			t.Fatalf("%d orders without their user", orphans)
		}
	}
}

// TestDataSurvivesRestart creates a user through a users process, stops
// it, starts a new process on the same database and reads the user back.
func TestDataSurvivesRestart(t *testing.T) {
	dsn := testDSN(t)
	p := startUsers(t, "-db", dsn)
	resp, err := http.Post(p.base+"/v1/users", "application/json", strings.NewReader(`{"email":"kept@example.com","name":"Kept"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusCreated || loc == "" {
		t.Fatalf("create: %s, Location %q", resp.Status, loc)
	}
	p.stop(t)

	p = startUsers(t, "-db", dsn)
	resp, err = http.Get(p.base + loc)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(`"kept@example.com"`)) {
		t.Errorf("after a restart, GET %s: %s %s", loc, resp.Status, b)
	}
	// The seed ran once: Jane was not inserted a second time.
	resp, err = http.Get(p.base + "/v1/users?page_size=100")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if n := bytes.Count(b, []byte(`"jane@example.com"`)); n != 1 {
		t.Errorf("jane@example.com listed %d times after a restart, want 1", n)
	}
}
