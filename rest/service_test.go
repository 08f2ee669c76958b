package rest_test

import (
	"context"
	"errors"
	"io"
	"strings"

	"github.com/duetrpc/duet/internal/testpb"
	"github.com/duetrpc/duet/problem"
	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// kitchens is the test service: mostly echoes, so tests see what binding
// produced.
type kitchens struct {
	testpb.UnimplementedKitchensServer
}

func (kitchens) GetKitchen(ctx context.Context, r *testpb.GetKitchenRequest) (*testpb.Kitchen, error) {
	if r.Id == "missing" {
		return nil, problem.NotFound("kitchen", "kitchens/missing")
	}
	if r.Id == "slow" {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	k := &testpb.Kitchen{Id: r.Id, Name: "kitchen " + r.Id}
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		k.Tags = append(k.Tags, md.Get("authorization")...)
		k.Tags = append(k.Tags, md.Get("x-tenant")...)
		k.Tags = append(k.Tags, md.Get("tenant")...)
		k.Tags = append(k.Tags, md.Get("cookie")...)
	}
	if _, ok := ctx.Deadline(); ok {
		k.Flag = true
	}
	return k, nil
}

func (kitchens) ListKitchens(_ context.Context, r *testpb.ListKitchensRequest) (*testpb.ListKitchensResponse, error) {
	resp := &testpb.ListKitchensResponse{NextPageToken: "next", TotalSize: 100}
	for i := int32(0); i < r.PageSize; i++ {
		resp.Kitchens = append(resp.Kitchens, &testpb.Kitchen{Id: string(rune('a' + i)), Name: r.Filter})
	}
	return resp, nil
}

func (kitchens) CreateKitchen(_ context.Context, r *testpb.CreateKitchenRequest) (*testpb.Kitchen, error) {
	k := r.Kitchen
	if k == nil {
		k = &testpb.Kitchen{}
	}
	k.Id = r.KitchenId
	return k, nil
}

func (kitchens) UpdateKitchen(_ context.Context, r *testpb.UpdateKitchenRequest) (*testpb.Kitchen, error) {
	k := r.Kitchen
	k.Mask = r.UpdateMask
	return k, nil
}

func (kitchens) ReplaceKitchen(_ context.Context, k *testpb.Kitchen) (*testpb.Kitchen, error) {
	return k, nil
}

func (kitchens) DeleteKitchen(context.Context, *testpb.DeleteKitchenRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (kitchens) DeactivateKitchen(_ context.Context, r *testpb.GetKitchenRequest) (*testpb.Kitchen, error) {
	return &testpb.Kitchen{Id: r.Id, Name: "deactivated"}, nil
}

func (kitchens) Echo(_ context.Context, k *testpb.Kitchen) (*testpb.Kitchen, error) { return k, nil }

func (kitchens) GetBook(_ context.Context, r *testpb.BookRequest) (*testpb.Book, error) {
	return &testpb.Book{Name: r.Name, Title: r.View, Links: []string{"its own"}}, nil
}

func (kitchens) GetFile(_ context.Context, r *testpb.FileRequest) (*httpbody.HttpBody, error) {
	return &httpbody.HttpBody{ContentType: "text/plain; charset=utf-8", Data: []byte("file " + r.Path)}, nil
}

func (kitchens) Upload(_ context.Context, r *testpb.UploadRequest) (*testpb.Kitchen, error) {
	return &testpb.Kitchen{Name: r.Name, Id: r.File.GetContentType(), Data: r.File.GetData()}, nil
}

func (kitchens) RawEcho(_ context.Context, b *httpbody.HttpBody) (*httpbody.HttpBody, error) {
	return b, nil
}

func (kitchens) Wild(_ context.Context, r *testpb.WildRequest) (*testpb.WildRequest, error) {
	return r, nil
}

func (kitchens) GetChild(_ context.Context, n *testpb.Nested) (*testpb.Nested, error) {
	return &testpb.Nested{S: n.S, Child: &testpb.Nested{S: "child of " + n.S, I: 7}}, nil
}

func (kitchens) Fail(ctx context.Context, r *testpb.FailRequest) (*emptypb.Empty, error) {
	_ = grpc.SetHeader(ctx, metadata.Pairs("x-seen", "yes"))
	_ = grpc.SetTrailer(ctx, metadata.Pairs("x-after", "done"))
	if r.Code == 0 {
		return &emptypb.Empty{}, nil
	}
	if r.Message == "panic" {
		panic("boom")
	}
	if r.Message == "plain" {
		return nil, errors.New("secret internal failure")
	}
	return nil, status.Error(codes.Code(r.Code), r.Message)
}

func (kitchens) NoRule(_ context.Context, n *testpb.Nested) (*testpb.Nested, error) { return n, nil }

func (kitchens) Tail(r *testpb.TailRequest, s grpc.ServerStreamingServer[testpb.Nested]) error {
	for i := int32(0); i < r.Count; i++ {
		if r.FailAfter > 0 && i == r.FailAfter {
			return status.Error(codes.ResourceExhausted, "tail limit reached")
		}
		if err := s.Send(&testpb.Nested{I: i}); err != nil {
			return err
		}
	}
	if r.Count == 0 && r.FailAfter > 0 {
		return status.Error(codes.FailedPrecondition, "nothing to tail")
	}
	if r.Count < 0 {
		<-s.Context().Done() // until the client goes away
		return s.Context().Err()
	}
	return nil
}

func (kitchens) Collect(s grpc.ClientStreamingServer[testpb.Nested, testpb.Collected]) error {
	out := &testpb.Collected{}
	for {
		n, err := s.Recv()
		if err == io.EOF {
			return s.SendAndClose(out)
		}
		if err != nil {
			return err
		}
		out.S = append(out.S, n.S)
	}
}

func (kitchens) Chat(s grpc.BidiStreamingServer[testpb.Nested, testpb.Nested]) error {
	for {
		n, err := s.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.Send(&testpb.Nested{S: strings.ToUpper(n.S), I: n.I}); err != nil {
			return err
		}
	}
}

type plain struct {
	testpb.UnimplementedPlainServer
}

func (plain) Say(_ context.Context, n *testpb.Nested) (*testpb.Nested, error) {
	return &testpb.Nested{S: "said " + n.S}, nil
}
