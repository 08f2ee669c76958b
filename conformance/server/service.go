package main

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"time"

	v1 "github.com/duetrpc/duet/conformance/internal/conformancev1"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// service implements ConformanceService as the suite's documentation asks
// (docs/testing_servers.md of connectrpc.com/conformance): echo what was
// received, answer with the headers, trailers, data, delays and errors the
// request defines. It is written against the plain grpc-go API, so the same
// implementation runs on every server the harness compares.
type service struct {
	v1.UnimplementedConformanceServiceServer
}

func (service) Unary(ctx context.Context, req *v1.UnaryRequest) (*v1.UnaryResponse, error) {
	payload, err := unaryReply(ctx, req.GetResponseDefinition(), []proto.Message{req}, func(h, t metadata.MD) error {
		if err := grpc.SendHeader(ctx, h); err != nil {
			return err
		}
		return grpc.SetTrailer(ctx, t)
	})
	if err != nil {
		return nil, err
	}
	return &v1.UnaryResponse{Payload: payload}, nil
}

func (service) IdempotentUnary(ctx context.Context, req *v1.IdempotentUnaryRequest) (*v1.IdempotentUnaryResponse, error) {
	payload, err := unaryReply(ctx, req.GetResponseDefinition(), []proto.Message{req}, func(h, t metadata.MD) error {
		if err := grpc.SendHeader(ctx, h); err != nil {
			return err
		}
		return grpc.SetTrailer(ctx, t)
	})
	if err != nil {
		return nil, err
	}
	return &v1.IdempotentUnaryResponse{Payload: payload}, nil
}

func (service) ClientStream(stream grpc.ClientStreamingServer[v1.ClientStreamRequest, v1.ClientStreamResponse]) error {
	var def *v1.UnaryResponseDefinition
	var reqs []proto.Message
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if len(reqs) == 0 {
			def = req.GetResponseDefinition()
		}
		reqs = append(reqs, req)
	}
	payload, err := unaryReply(stream.Context(), def, reqs, func(h, t metadata.MD) error {
		if err := stream.SendHeader(h); err != nil {
			return err
		}
		stream.SetTrailer(t)
		return nil
	})
	if err != nil {
		return err
	}
	return stream.SendAndClose(&v1.ClientStreamResponse{Payload: payload})
}

// unaryReply builds the payload (or the error) of a call with one response.
func unaryReply(ctx context.Context, def *v1.UnaryResponseDefinition, reqs []proto.Message, meta func(h, t metadata.MD) error) (*v1.ConformancePayload, error) {
	info, err := requestInfo(ctx, reqs)
	if err != nil {
		return nil, err
	}
	if def == nil {
		return &v1.ConformancePayload{RequestInfo: info}, nil
	}
	if err := meta(toMD(def.GetResponseHeaders()), toMD(def.GetResponseTrailers())); err != nil {
		return nil, err
	}
	sleep(ctx, def.GetResponseDelayMs())
	if e := def.GetError(); e != nil {
		return nil, withInfo(e, info)
	}
	return &v1.ConformancePayload{RequestInfo: info, Data: def.GetResponseData()}, nil
}

func (service) ServerStream(req *v1.ServerStreamRequest, stream grpc.ServerStreamingServer[v1.ServerStreamResponse]) error {
	ctx := stream.Context()
	info, err := requestInfo(ctx, []proto.Message{req})
	if err != nil {
		return err
	}
	def := req.GetResponseDefinition()
	if def == nil {
		return nil
	}
	if err := stream.SendHeader(toMD(def.GetResponseHeaders())); err != nil {
		return err
	}
	stream.SetTrailer(toMD(def.GetResponseTrailers()))
	for i, data := range def.GetResponseData() {
		sleep(ctx, def.GetResponseDelayMs())
		p := &v1.ConformancePayload{Data: data}
		if i == 0 {
			p.RequestInfo = info
		}
		if err := stream.Send(&v1.ServerStreamResponse{Payload: p}); err != nil {
			return err
		}
	}
	if e := def.GetError(); e != nil {
		if len(def.GetResponseData()) > 0 {
			info = nil // already sent with the first message
		}
		return withInfo(e, info)
	}
	return nil
}

func (service) BidiStream(stream grpc.BidiStreamingServer[v1.BidiStreamRequest, v1.BidiStreamResponse]) error {
	ctx := stream.Context()
	var (
		def        *v1.StreamResponseDefinition
		fullDuplex bool
		reqs       []proto.Message
		sent       int
		first      = true
	)
	// send sends the next response; the first carries the full request
	// info, later full-duplex ones only the requests since the last.
	send := func(withInfo bool) error {
		p := &v1.ConformancePayload{Data: def.GetResponseData()[sent]}
		if withInfo {
			info, err := requestInfo(ctx, reqs)
			if err != nil {
				return err
			}
			if sent > 0 {
				info = &v1.ConformancePayload_RequestInfo{Requests: info.GetRequests()}
			}
			p.RequestInfo = info
		}
		sleep(ctx, def.GetResponseDelayMs())
		if err := stream.Send(&v1.BidiStreamResponse{Payload: p}); err != nil {
			return err
		}
		sent++
		reqs = nil
		return nil
	}
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		reqs = append(reqs, req)
		if first {
			first = false
			def, fullDuplex = req.GetResponseDefinition(), req.GetFullDuplex()
			if def != nil {
				h := toMD(def.GetResponseHeaders())
				if fullDuplex {
					err = stream.SendHeader(h)
				} else {
					// Half duplex writes nothing before the upload ends: an
					// HTTP/1.1 peer may stop reading once a response starts.
					err = stream.SetHeader(h)
				}
				if err != nil {
					return err
				}
				stream.SetTrailer(toMD(def.GetResponseTrailers()))
			}
		}
		if fullDuplex {
			if def == nil || sent >= len(def.GetResponseData()) {
				break
			}
			if err := send(true); err != nil {
				return err
			}
		}
	}
	if def == nil {
		return nil
	}
	for sent < len(def.GetResponseData()) {
		if err := ctx.Err(); err != nil {
			return status.FromContextError(err).Err()
		}
		if err := send(sent == 0); err != nil { // half duplex, or responses beyond the requests
			return err
		}
	}
	if e := def.GetError(); e != nil {
		var info *v1.ConformancePayload_RequestInfo
		if sent == 0 {
			var err error
			if info, err = requestInfo(ctx, reqs); err != nil {
				return err
			}
		}
		return withInfo(e, info)
	}
	return nil
}

// requestInfo is what the server observed: headers, timeout and requests.
func requestInfo(ctx context.Context, reqs []proto.Message) (*v1.ConformancePayload_RequestInfo, error) {
	info := &v1.ConformancePayload_RequestInfo{}
	md, _ := metadata.FromIncomingContext(ctx)
	for k, vs := range md {
		h := &v1.Header{Name: k, Value: append([]string(nil), vs...)}
		if strings.HasSuffix(k, "-bin") {
			for i, v := range h.Value {
				h.Value[i] = base64.RawStdEncoding.EncodeToString([]byte(v))
			}
		}
		info.RequestHeaders = append(info.RequestHeaders, h)
	}
	if dl, ok := ctx.Deadline(); ok {
		ms := max(time.Until(dl), 0).Milliseconds()
		info.TimeoutMs = &ms
	}
	for _, r := range reqs {
		a, err := anypb.New(r)
		if err != nil {
			return nil, status.Errorf(codes.Internal, "request as Any: %v", err)
		}
		info.Requests = append(info.Requests, a)
	}
	return info, nil
}

// withInfo is the error the definition asks for, with the request info
// appended to its details when there is one to report.
func withInfo(e *v1.Error, info *v1.ConformancePayload_RequestInfo) error {
	st := &spb.Status{Code: int32(e.GetCode()), Message: e.GetMessage(), Details: append([]*anypb.Any(nil), e.GetDetails()...)}
	if info != nil {
		a, err := anypb.New(info)
		if err != nil {
			return status.Errorf(codes.Internal, "request info as Any: %v", err)
		}
		st.Details = append(st.Details, a)
	}
	return status.ErrorProto(st)
}

// toMD converts the suite's headers to grpc-go metadata; binary (-bin)
// values arrive base64-encoded and grpc-go wants them raw.
func toMD(hs []*v1.Header) metadata.MD {
	md := metadata.MD{}
	for _, h := range hs {
		k := strings.ToLower(h.GetName())
		for _, v := range h.GetValue() {
			if strings.HasSuffix(k, "-bin") {
				if b, err := decodeBinary(v); err == nil {
					v = string(b)
				}
			}
			md[k] = append(md[k], v)
		}
	}
	return md
}

func decodeBinary(v string) ([]byte, error) {
	if len(v)%4 == 0 {
		return base64.StdEncoding.DecodeString(v)
	}
	return base64.RawStdEncoding.DecodeString(v)
}

// sleep waits the response delay a definition asks for. It ignores the
// call's context on purpose, like the suite's reference servers: the
// Timeouts cases check that the transport, not the handler, ends a call
// at its deadline.
func sleep(_ context.Context, ms uint32) {
	time.Sleep(time.Duration(ms) * time.Millisecond)
}
