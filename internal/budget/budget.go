// Package budget bounds the memory that request bodies hold while they
// are read: each body grows only as its bytes arrive, up to a per-body
// limit, and every body being buffered draws on one shared count of
// bytes, so that many slow or declared-but-unsent bodies cannot grow the
// heap without bound.
package budget

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
)

// Bytes is a count of bytes shared by every body being buffered. A nil
// *Bytes is unlimited.
type Bytes struct {
	limit int64
	used  atomic.Int64
}

// New returns a budget of limit bytes; nil (no limit) when limit <= 0.
func New(limit int64) *Bytes {
	if limit <= 0 {
		return nil
	}
	return &Bytes{limit: limit}
}

// Limit returns the budget's size, 0 for none.
func (b *Bytes) Limit() int64 {
	if b == nil {
		return 0
	}
	return b.limit
}

// InUse returns the bytes currently taken.
func (b *Bytes) InUse() int64 {
	if b == nil {
		return 0
	}
	return b.used.Load()
}

// Take reserves n bytes, or reports that the budget cannot spare them,
// for buffers that grow outside [Read]; give them back with [Bytes.Give].
func (b *Bytes) Take(n int64) bool { return b.take(n) }

// take reserves n bytes, or reports that the budget cannot spare them.
func (b *Bytes) take(n int64) bool {
	if b == nil {
		return true
	}
	if b.used.Add(n) > b.limit {
		b.used.Add(-n)
		return false
	}
	return true
}

// Give returns n bytes taken by [Read].
func (b *Bytes) Give(n int64) {
	if b != nil && n > 0 {
		b.used.Add(-n)
	}
}

// Errors of [Read], besides the reader's own.
var (
	// ErrTooLarge: the body is longer than the per-body limit.
	ErrTooLarge = errors.New("request body exceeds the limit")
	// ErrExhausted: the shared budget cannot hold more bytes right now.
	ErrExhausted = errors.New("the server is buffering too many request bodies")
)

// smallBody is the most allocated before any byte arrives: the declared
// length when it is at most this, else this much. A client that declares
// 4 MiB and sends nothing costs this, not 4 MiB.
const smallBody = 4 << 10

// Read reads r to its end into a buffer that grows (doubling) only as
// bytes arrive, never past limit+1 bytes nor past the declared length
// hint+1 when hint > 0. Every growth is taken from b first; held is what
// the buffer took, which the caller gives back to b with [Bytes.Give]
// once it is done with the bytes, whatever the error.
func Read(r io.Reader, limit, hint int64, b *Bytes) (body []byte, held int64, err error) {
	most := limit + 1
	if hint > 0 && hint < limit {
		most = hint + 1
	}
	size := min(most, smallBody)
	if hint <= 0 {
		size = min(most, 512)
	}
	if !b.take(size) {
		return nil, 0, ErrExhausted
	}
	held = size
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			if int64(cap(buf)) == most {
				// Full at the declared length+1: the body is longer than
				// declared, so only the limit bounds it now.
				most = limit + 1
			}
			grow := min(int64(cap(buf)), most-int64(cap(buf)))
			if !b.take(grow) {
				return nil, held, ErrExhausted
			}
			held += grow
			nb := make([]byte, len(buf), int64(cap(buf))+grow)
			copy(nb, buf)
			buf = nb
		}
		n, rerr := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, held, ErrTooLarge
		}
		if rerr == io.EOF {
			return buf, held, nil
		}
		if rerr != nil {
			return nil, held, rerr
		}
	}
}

type ctxKey struct{}

// NewContext returns ctx carrying b, for handlers that share a server's
// budget without being configured with it.
func NewContext(ctx context.Context, b *Bytes) context.Context {
	return context.WithValue(ctx, ctxKey{}, b)
}

// FromContext returns the budget ctx carries, or nil.
func FromContext(ctx context.Context) *Bytes {
	b, _ := ctx.Value(ctxKey{}).(*Bytes)
	return b
}
