package connectclient_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/duetrpc/duet/examples/chat/chatpb"
	"github.com/duetrpc/duet/examples/connectclient/chatpbconnect"
	"github.com/duetrpc/duet/examples/connectclient/userspbconnect"
	"github.com/duetrpc/duet/examples/internal/testenv"
	"github.com/duetrpc/duet/examples/users/userspb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// build builds the example command in dir (relative to this package).
func build(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), filepath.Base(dir))
	if out, err := exec.Command("go", "build", "-C", dir, "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", dir, err, out)
	}
	return bin
}

// baseURL is the URL of an address an example logged, with or without
// its scheme.
func baseURL(addr string) string {
	if strings.HasPrefix(addr, "http://") {
		return addr
	}
	return "http://" + addr
}

// clients are the HTTP clients a Connect client runs on: HTTP/1.1, and
// HTTP/2 cleartext (prior knowledge), which full-duplex streams need.
func clients() map[string]*http.Client {
	var h2c http.Protocols
	h2c.SetUnencryptedHTTP2(true)
	return map[string]*http.Client{
		"http1": {Transport: &http.Transport{}},
		"h2c":   {Transport: &http.Transport{Protocols: &h2c}},
	}
}

// TestUsersOverConnect calls every UserService method with connect-go's
// generated client, in proto and in JSON, over HTTP/1.1 and HTTP/2.
func TestUsersOverConnect(t *testing.T) {
	bin := build(t, "../users")
	for name, hc := range clients() {
		for _, codec := range []string{"proto", "json"} {
			t.Run(name+"/"+codec, func(t *testing.T) {
				db := filepath.Join(t.TempDir(), "users.db")
				p := testenv.Start(t, bin, regexp.MustCompile(`serving REST, gRPC and gRPC-Web on (\S+)`), "-addr", "127.0.0.1:0", "-db", db, "-drain", "100ms")
				opts := []connect.ClientOption{connect.WithSendGzip()}
				if codec == "json" {
					opts = append(opts, connect.WithProtoJSON())
				}
				c := userspbconnect.NewUserServiceClient(hc, baseURL(p.Addr), opts...)
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				usersOverConnect(ctx, t, c)
			})
		}
	}
}

func usersOverConnect(ctx context.Context, t *testing.T, c userspbconnect.UserServiceClient) {
	must := func(err error, what string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	u, err := c.CreateUser(ctx, connect.NewRequest(&userspb.CreateUserRequest{User: &userspb.User{Email: "grace@connect.example", Name: "Grace"}}))
	must(err, "CreateUser")
	id := u.Msg.GetId()
	if id == "" || u.Msg.GetEmail() != "grace@connect.example" {
		t.Fatalf("CreateUser: %v", u.Msg)
	}
	got, err := c.GetUser(ctx, connect.NewRequest(&userspb.GetUserRequest{Id: id}))
	must(err, "GetUser")
	if got.Msg.GetName() != "Grace" {
		t.Errorf("GetUser: %v", got.Msg)
	}
	list, err := c.ListUsers(ctx, connect.NewRequest(&userspb.ListUsersRequest{PageSize: 100}))
	must(err, "ListUsers")
	var listed bool
	for _, lu := range list.Msg.GetUsers() {
		listed = listed || lu.GetId() == id
	}
	if !listed {
		t.Errorf("ListUsers does not list %s: %v", id, list.Msg)
	}
	upd, err := c.UpdateUser(ctx, connect.NewRequest(&userspb.UpdateUserRequest{
		User: &userspb.User{Id: id, Name: "Grace H."}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"name"}},
	}))
	must(err, "UpdateUser")
	if upd.Msg.GetName() != "Grace H." || upd.Msg.GetEmail() != "grace@connect.example" {
		t.Errorf("UpdateUser: %v", upd.Msg)
	}
	rep, err := c.ReplaceUser(ctx, connect.NewRequest(&userspb.ReplaceUserRequest{User: &userspb.User{Id: id, Email: "grace@connect.example.org", Name: "Grace Hopper"}}))
	must(err, "ReplaceUser")
	if rep.Msg.GetEmail() != "grace@connect.example.org" {
		t.Errorf("ReplaceUser: %v", rep.Msg)
	}
	o, err := c.CreateOrder(ctx, connect.NewRequest(&userspb.CreateOrderRequest{UserId: id, Order: &userspb.Order{Items: []*userspb.OrderItem{{ProductId: "p1", Quantity: 2, Price: 1.5}}}}))
	must(err, "CreateOrder")
	og, err := c.GetOrder(ctx, connect.NewRequest(&userspb.GetOrderRequest{Id: o.Msg.GetId()}))
	must(err, "GetOrder")
	if og.Msg.GetUserId() != id {
		t.Errorf("GetOrder: %v", og.Msg)
	}
	orders, err := c.ListOrders(ctx, connect.NewRequest(&userspb.ListOrdersRequest{UserId: id}))
	must(err, "ListOrders")
	if len(orders.Msg.GetOrders()) != 1 {
		t.Errorf("ListOrders: %v", orders.Msg)
	}
	de, err := c.DeactivateUser(ctx, connect.NewRequest(&userspb.DeactivateUserRequest{Id: id}))
	must(err, "DeactivateUser")
	if de.Msg.GetStatus() == got.Msg.GetStatus() {
		t.Errorf("DeactivateUser left the status %q", de.Msg.GetStatus())
	}
	_, err = c.DeleteUser(ctx, connect.NewRequest(&userspb.DeleteUserRequest{Id: id}))
	must(err, "DeleteUser")
	// Errors arrive as connect-go errors with the code and details.
	_, err = c.GetUser(ctx, connect.NewRequest(&userspb.GetUserRequest{Id: id}))
	var ce *connect.Error
	if !errors.As(err, &ce) || ce.Code() != connect.CodeNotFound {
		t.Errorf("GetUser after DeleteUser: %v, want not_found", err)
	}
}

// TestChatOverConnect calls the chat example's three methods with
// connect-go's generated client: Send (unary), Subscribe (server stream)
// and Chat (bidirectional, full duplex over HTTP/2).
func TestChatOverConnect(t *testing.T) {
	bin := build(t, "../chat")
	for _, codec := range []string{"proto", "json"} {
		t.Run(codec, func(t *testing.T) {
			p := testenv.Start(t, bin, regexp.MustCompile(`chat: open http://(\S+)/ in`), "-addr", "127.0.0.1:0", "-drain", "100ms")
			var opts []connect.ClientOption
			if codec == "json" {
				opts = append(opts, connect.WithProtoJSON())
			}
			c := chatpbconnect.NewChatServiceClient(clients()["h2c"], baseURL(p.Addr), opts...)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()

			sub, err := c.Subscribe(ctx, connect.NewRequest(&chatpb.SubscribeRequest{Room: "lobby"}))
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			chat := c.Chat(ctx)
			if err := chat.Send(&chatpb.ChatMessage{Room: "lobby", UserId: "bob", Content: "hi from chat"}); err != nil {
				t.Fatal(err)
			}
			// The chat stream hears its own message: a full-duplex round trip.
			echo, err := chat.Receive()
			if err != nil || echo.GetContent() != "hi from chat" {
				t.Fatalf("Chat receive: %v, %v", echo, err)
			}
			sent, err := c.Send(ctx, connect.NewRequest(&chatpb.ChatMessage{Room: "lobby", UserId: "ada", Content: "hello"}))
			if err != nil || sent.Msg.GetTimestamp() == 0 {
				t.Fatalf("Send: %v, %v", sent, err)
			}
			// The subscriber sees both, in order.
			var seen []string
			for len(seen) < 2 && sub.Receive() {
				seen = append(seen, sub.Msg().GetContent())
			}
			if len(seen) != 2 || seen[0] != "hi from chat" || seen[1] != "hello" {
				t.Errorf("Subscribe saw %q (err %v), want the chat message then the sent one", seen, sub.Err())
			}
			if err := chat.CloseRequest(); err != nil {
				t.Fatal(err)
			}
			for {
				if _, err := chat.Receive(); err != nil {
					break
				}
			}
			_ = chat.CloseResponse()
		})
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.Cleanup()
	os.Exit(code)
}
