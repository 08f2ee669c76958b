package main

import (
	"context"

	"github.com/duetrpc/duet/examples/users/userspb"
	"github.com/duetrpc/duet/hateoas"
	"github.com/duetrpc/duet/rest"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The hypermedia controls of users and orders (REST's hypermedia
// constraint). Each link is built from the
// google.api.http rule of the method it points at (reverse routing), so a
// link can never point where the server does not route. REST adds "self"
// (from GetUser/GetOrder) and, on lists, "next" and "first" by itself.

// route returns the REST route of a UserService method.
func route(method string) *hateoas.Route {
	md := userspb.File_examples_users_userspb_users_proto.Services().Get(0).Methods().ByName(protoreflect.Name(method))
	r, err := hateoas.RouteOf(md)
	if err != nil {
		panic(err) // a typo in this file, caught by any test
	}
	return r
}

var (
	updateRoute      = route("UpdateUser")
	deleteRoute      = route("DeleteUser")
	ordersRoute      = route("ListOrders")
	createOrderRoute = route("CreateOrder")
	deactivateRoute  = route("DeactivateUser")
	userRoute        = route("GetUser")
)

// userLinks are a user's actions. Each route is expanded with its own
// request message, filled from the user.
func userLinks(_ context.Context, m proto.Message) []hateoas.Link {
	u := m.(*userspb.User)
	links := []hateoas.Link{
		updateRoute.Link("update", &userspb.UpdateUserRequest{User: &userspb.User{Id: u.Id}}),
		deleteRoute.Link("delete", &userspb.DeleteUserRequest{Id: u.Id}),
		ordersRoute.Link("orders", &userspb.ListOrdersRequest{UserId: u.Id}),
		createOrderRoute.Link("create_order", &userspb.CreateOrderRequest{UserId: u.Id}),
	}
	if u.Status != "inactive" {
		// Offer only what the state allows: that is the point of HATEOAS.
		links = append(links, deactivateRoute.Link("deactivate", &userspb.DeactivateUserRequest{Id: u.Id}))
	}
	return links
}

// orderLinks point from an order back to its user.
func orderLinks(_ context.Context, m proto.Message) []hateoas.Link {
	o := m.(*userspb.Order)
	return []hateoas.Link{userRoute.Link("user", &userspb.GetUserRequest{Id: o.UserId})}
}

// linkOptions are the REST options that add the links.
func linkOptions() []rest.Option {
	return []rest.Option{
		rest.WithLinks(&userspb.User{}, userLinks),
		rest.WithLinks(&userspb.Order{}, orderLinks),
	}
}
