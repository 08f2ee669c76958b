package main

import (
	"context"
	"encoding/base64"
	"errors"
	"log"
	"time"

	"github.com/duetrpc/duet/examples/chat/chatpb"
	"github.com/duetrpc/duet/problem"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// A bus carries messages to every replica's hub, this one's included: a
// replica delivers what it sends only when the bus hands it back, so that
// every replica delivers one sender's messages in one order.
type bus interface {
	publish(ctx context.Context, msg *chatpb.ChatMessage) error
}

// localBus is the bus of a single process: its hub.
type localBus struct{ hub *hub }

func (b localBus) publish(_ context.Context, msg *chatpb.ChatMessage) error {
	b.hub.broadcast(msg.Room, msg)
	return nil
}

// pgChannel is the PostgreSQL notification channel of the chat.
const pgChannel = "duet_chat"

// maxPayload is PostgreSQL's limit on a notification's payload, less one.
const maxPayload = 7999

// pgBus relays messages between replicas through PostgreSQL's LISTEN and
// NOTIFY, so that replicas that already share a database need nothing more.
// PostgreSQL delivers notifications in the order their transactions commit,
// and a sender's messages are published one after the other (each commits
// before the next is sent), so every replica sees them in the order sent.
// A replica that loses its listening connection reconnects; what was sent
// meanwhile is lost to its members, as a chat message to a member offline.
type pgBus struct {
	pool *pgxpool.Pool
}

// newPGBus connects to the database at url and relays its notifications
// to h until ctx ends. It returns once the replica listens, so that nothing
// sent after it returns is missed.
func newPGBus(ctx context.Context, url string, h *hub) (*pgBus, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, err
	}
	conn, err := listen(ctx, url)
	if err != nil {
		pool.Close()
		return nil, err
	}
	go func() {
		defer pool.Close()
		for {
			err := relay(ctx, conn, h)
			conn.Close(context.Background())
			if ctx.Err() != nil {
				return
			}
			log.Printf("chat: lost the bus: %v; reconnecting", err)
			for conn = nil; conn == nil; {
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Second):
				}
				if conn, err = listen(ctx, url); err != nil {
					log.Printf("chat: bus: %v", err)
				}
			}
		}
	}()
	return &pgBus{pool: pool}, nil
}

// listen opens a connection of its own (LISTEN holds it) and listens.
func listen(ctx context.Context, url string) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgChannel); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	return conn, nil
}

// relay hands every notification to the hub, which never blocks on a slow
// member, so neither does the bus.
func relay(ctx context.Context, conn *pgx.Conn, h *hub) error {
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		b, err := base64.StdEncoding.DecodeString(n.Payload)
		msg := &chatpb.ChatMessage{}
		if err == nil {
			err = proto.Unmarshal(b, msg)
		}
		if err != nil {
			log.Printf("chat: bus: dropping a malformed notification: %v", err)
			continue
		}
		h.broadcast(msg.Room, msg)
	}
}

// publish notifies every replica. The payload is the message in protobuf,
// in base64 (a notification's payload is text).
func (b *pgBus) publish(ctx context.Context, msg *chatpb.ChatMessage) error {
	raw, err := proto.Marshal(msg)
	if err != nil {
		return err
	}
	payload := base64.StdEncoding.EncodeToString(raw)
	if len(payload) > maxPayload {
		return problem.InvalidArgument("message too large", problem.Violation{
			Field: "content", Reason: "TOO_LONG", Description: "the message with its room and user_id must fit a notification",
		})
	}
	_, err = b.pool.Exec(ctx, "SELECT pg_notify($1, $2)", pgChannel, payload)
	return err
}

// busError is what a client sees when publishing fails: its own
// cancellation or deadline as such, a problem as it is, anything else as
// UNAVAILABLE (the bus may come back; the client may retry).
func busError(err error) error {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return status.FromContextError(err).Err()
	case errors.As(err, new(interface{ GRPCStatus() *status.Status })):
		return err
	}
	log.Printf("chat: bus: %v", err)
	return problem.New(codes.Unavailable, "the chat bus is unavailable; retry")
}
