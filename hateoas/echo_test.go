package hateoas_test

import (
	"context"

	"github.com/duetrpc/duet/internal/testpb"
	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// echoKitchens answers with what it was asked for and names the method in
// a header, so tests see where a link routed and what it bound.
type echoKitchens struct {
	testpb.UnimplementedKitchensServer
}

func mark(ctx context.Context, m string) { _ = grpc.SetHeader(ctx, metadata.Pairs("method", m)) }

func (echoKitchens) GetKitchen(ctx context.Context, r *testpb.GetKitchenRequest) (*testpb.Kitchen, error) {
	mark(ctx, "GetKitchen")
	return &testpb.Kitchen{Id: r.Id}, nil
}

func (echoKitchens) DeactivateKitchen(ctx context.Context, r *testpb.GetKitchenRequest) (*testpb.Kitchen, error) {
	mark(ctx, "DeactivateKitchen")
	return &testpb.Kitchen{Id: r.Id}, nil
}

func (echoKitchens) UpdateKitchen(ctx context.Context, r *testpb.UpdateKitchenRequest) (*testpb.Kitchen, error) {
	mark(ctx, "UpdateKitchen")
	return r.Kitchen, nil
}

func (echoKitchens) GetBook(ctx context.Context, r *testpb.BookRequest) (*testpb.Book, error) {
	mark(ctx, "GetBook")
	return &testpb.Book{Name: r.Name}, nil
}

func (echoKitchens) GetFile(ctx context.Context, r *testpb.FileRequest) (*httpbody.HttpBody, error) {
	mark(ctx, "GetFile")
	return &httpbody.HttpBody{ContentType: "text/plain", Data: []byte(r.Path)}, nil
}

func (echoKitchens) Echo(ctx context.Context, k *testpb.Kitchen) (*testpb.Kitchen, error) {
	mark(ctx, "Echo")
	return k, nil
}

func (echoKitchens) GetChild(ctx context.Context, n *testpb.Nested) (*testpb.Nested, error) {
	mark(ctx, "GetChild")
	return &testpb.Nested{Child: &testpb.Nested{S: n.S}}, nil
}
