package main

import (
	"sync"

	"github.com/duetrpc/duet/examples/chat/chatpb"
)

// buffer is how many messages a member may fall behind before it is
// dropped. A member that does not read must never slow the room down.
const buffer = 64

// member is one subscriber: a bounded queue the room writes to without
// blocking, and gone, closed when the room drops the member.
type member struct {
	out  chan *chatpb.ChatMessage
	gone chan struct{}
	once sync.Once
}

func (m *member) drop() { m.once.Do(func() { close(m.gone) }) }

// hub holds the rooms. Broadcasting takes the lock only to copy nothing:
// sends are non-blocking, so a slow member costs the room nothing.
type hub struct {
	mu    sync.Mutex
	rooms map[string]map[*member]struct{}
}

func newHub() *hub { return &hub{rooms: map[string]map[*member]struct{}{}} }

// join adds a member to room; call leave when its stream ends.
func (h *hub) join(room string) *member {
	m := &member{out: make(chan *chatpb.ChatMessage, buffer), gone: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.rooms[room] == nil {
		h.rooms[room] = map[*member]struct{}{}
	}
	h.rooms[room][m] = struct{}{}
	return m
}

func (h *hub) leave(room string, m *member) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.rooms[room], m)
	if len(h.rooms[room]) == 0 {
		delete(h.rooms, room)
	}
	m.drop()
}

// broadcast queues msg for every member of room. A member whose queue is
// full is dropped: its stream ends with RESOURCE_EXHAUSTED and it may
// reconnect, while everyone else keeps chatting.
func (h *hub) broadcast(room string, msg *chatpb.ChatMessage) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for m := range h.rooms[room] {
		select {
		case m.out <- msg:
		default:
			delete(h.rooms[room], m)
			m.drop()
		}
	}
}
