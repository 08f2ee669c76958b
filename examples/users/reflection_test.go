package main

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

// TestReflection asks the one port what grpcurl asks for
// `grpcurl -plaintext 127.0.0.1:8080 list` and `describe`: the service
// list, and the file that defines the users service, with its http rules.
func TestReflection(t *testing.T) {
	_, _, conn := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ask := func(req *reflectionpb.ServerReflectionRequest) *reflectionpb.ServerReflectionResponse {
		t.Helper()
		if err := stream.Send(req); err != nil {
			t.Fatal(err)
		}
		resp, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if e := resp.GetErrorResponse(); e != nil {
			t.Fatalf("reflection error %d: %s", e.ErrorCode, e.ErrorMessage)
		}
		return resp
	}

	list := ask(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{},
	})
	var names []string
	for _, s := range list.GetListServicesResponse().GetService() {
		names = append(names, s.Name)
	}
	slices.Sort(names)
	want := []string{
		"duet.examples.users.v1.UserService",
		"grpc.health.v1.Health",
		"grpc.reflection.v1.ServerReflection",
		"grpc.reflection.v1alpha.ServerReflection",
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("services (-want +got):\n%s", diff)
	}

	file := ask(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_FileContainingSymbol{
			FileContainingSymbol: "duet.examples.users.v1.UserService",
		},
	})
	var found bool
	for _, raw := range file.GetFileDescriptorResponse().GetFileDescriptorProto() {
		fd := &descriptorpb.FileDescriptorProto{}
		if err := proto.Unmarshal(raw, fd); err != nil {
			t.Fatal(err)
		}
		for _, svc := range fd.GetService() {
			if svc.GetName() != "UserService" {
				continue
			}
			found = true
			var methods []string
			for _, m := range svc.GetMethod() {
				methods = append(methods, m.GetName())
				if m.GetOptions() == nil {
					t.Errorf("%s has no options: grpcurl describe would show no http rule", m.GetName())
				}
			}
			if !slices.Contains(methods, "DeactivateUser") || !slices.Contains(methods, "ListUsers") {
				t.Errorf("UserService methods %v", methods)
			}
		}
	}
	if !found {
		t.Error("FileContainingSymbol did not return the file defining UserService")
	}
}
