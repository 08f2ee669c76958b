package main

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/duetrpc/duet/examples/chat/chatpb"
	"github.com/duetrpc/duet/problem"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

type service struct {
	chatpb.UnimplementedChatServiceServer
	hub *hub
	// bus carries what members send to every replica's hub, this one's
	// included.
	bus bus
	now func() time.Time
}

func (s *service) Send(ctx context.Context, msg *chatpb.ChatMessage) (*chatpb.ChatMessage, error) {
	if err := validate(msg); err != nil {
		return nil, err
	}
	msg = s.stamp(msg)
	if err := s.bus.publish(ctx, msg); err != nil {
		return nil, busError(err)
	}
	return msg, nil
}

func (s *service) Subscribe(req *chatpb.SubscribeRequest, stream chatpb.ChatService_SubscribeServer) error {
	if req.GetRoom() == "" {
		return problem.InvalidArgument("room is required", problem.Violation{Field: "room", Reason: "REQUIRED", Description: "room is required"})
	}
	m := s.hub.join(req.Room)
	defer s.hub.leave(req.Room, m)
	// Send the response headers now that we are in the room: a browser's
	// EventSource fires "open" on them, so the page knows that from here
	// on it misses nothing (without this they would wait for the first
	// message).
	if err := stream.SendHeader(nil); err != nil {
		return err
	}
	return s.deliver(stream.Context(), m, stream.Send, nil)
}

func (s *service) Chat(stream chatpb.ChatService_ChatServer) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	if err := validate(first); err != nil {
		return err
	}
	room := first.Room
	m := s.hub.join(room)
	defer s.hub.leave(room, m)

	// Receive in the background; deliver on this goroutine, since a
	// grpc.ServerStream allows one sender and one receiver at a time.
	recvErr := make(chan error, 1)
	go func() {
		msg := first
		for {
			if err := validate(msg); err != nil {
				recvErr <- err
				return
			}
			msg = s.stamp(msg)
			msg.Room = room // a stream stays in the room it joined
			// One message at a time: published in the order received.
			if err := s.bus.publish(stream.Context(), msg); err != nil {
				recvErr <- busError(err)
				return
			}
			var err error
			if msg, err = stream.Recv(); err != nil {
				recvErr <- err
				return
			}
		}
	}()
	return s.deliver(stream.Context(), m, stream.Send, recvErr)
}

// deliver sends the member's messages until ctx ends, the room drops it,
// or recvErr (the receiving side of a bidi stream, nil otherwise) fails.
// io.EOF on recvErr means the client has stopped sending but still listens.
func (s *service) deliver(ctx context.Context, m *member, send func(*chatpb.ChatMessage) error, recvErr <-chan error) error {
	for {
		select {
		case err := <-recvErr:
			if !errors.Is(err, io.EOF) {
				return err
			}
			recvErr = nil // a nil channel is never ready
		case msg := <-m.out:
			if err := send(msg); err != nil {
				return err
			}
		case <-m.gone:
			return problem.New(codes.ResourceExhausted, "dropped: too far behind the room; reconnect")
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.Canceled) {
				return nil
			}
			return ctx.Err()
		}
	}
}

func (s *service) stamp(msg *chatpb.ChatMessage) *chatpb.ChatMessage {
	msg = proto.Clone(msg).(*chatpb.ChatMessage) // members share it: never mutate after broadcast
	msg.Timestamp = s.now().UnixNano()
	return msg
}

func validate(msg *chatpb.ChatMessage) error {
	var vs []problem.Violation
	if msg.GetRoom() == "" {
		vs = append(vs, problem.Violation{Field: "room", Reason: "REQUIRED", Description: "room is required"})
	}
	if msg.GetUserId() == "" {
		vs = append(vs, problem.Violation{Field: "user_id", Reason: "REQUIRED", Description: "user_id is required"})
	}
	if len(msg.GetContent()) > 4096 {
		vs = append(vs, problem.Violation{Field: "content", Reason: "TOO_LONG", Description: "content must be at most 4096 bytes"})
	}
	if len(vs) > 0 {
		return problem.InvalidArgument("invalid message", vs...)
	}
	return nil
}
