package budget

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestRead(t *testing.T) {
	for _, tc := range []struct {
		name        string
		body        string
		limit, hint int64
		budget      int64
		want        error
	}{
		{name: "empty", body: "", limit: 10},
		{name: "small, no hint", body: "hello", limit: 10},
		{name: "exact hint", body: "hello", limit: 10, hint: 5},
		{name: "at limit", body: strings.Repeat("x", 10), limit: 10},
		{name: "over limit", body: strings.Repeat("x", 11), limit: 10, want: ErrTooLarge},
		{name: "longer than hint", body: strings.Repeat("x", 3000), limit: 1 << 20, hint: 10},
		{name: "large", body: strings.Repeat("y", 1<<20), limit: 4 << 20},
		{name: "large with hint", body: strings.Repeat("y", 1<<20), limit: 4 << 20, hint: 1 << 20},
		{name: "budget too small", body: strings.Repeat("z", 10000), limit: 1 << 20, budget: 4096, want: ErrExhausted},
		{name: "budget enough", body: strings.Repeat("z", 10000), limit: 1 << 20, budget: 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := New(tc.budget)
			// One byte per Read: growth happens as bytes arrive.
			got, held, err := Read(iotest.OneByteReader(strings.NewReader(tc.body)), tc.limit, tc.hint, b)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if err == nil && string(got) != tc.body {
				t.Errorf("read %d bytes, want %d", len(got), len(tc.body))
			}
			if b != nil && b.InUse() != held {
				t.Errorf("budget in use %d, held %d", b.InUse(), held)
			}
			if err == nil && held < int64(cap(got)) {
				t.Errorf("held %d < capacity %d", held, cap(got))
			}
			b.Give(held)
			if b.InUse() != 0 {
				t.Errorf("after Give, %d in use", b.InUse())
			}
		})
	}
}

// TestReadDeclaredNotSent: a body that declares 4 MiB and sends nothing
// costs at most smallBody.
func TestReadDeclaredNotSent(t *testing.T) {
	b := New(1 << 30)
	pr, pw := io.Pipe()
	done := make(chan int64)
	go func() {
		_, held, _ := Read(pr, 4<<20, 4<<20, b)
		done <- held
	}()
	// Wait for Read to block in the pipe, then look at what it took.
	for b.InUse() == 0 {
	}
	if got := b.InUse(); got > smallBody {
		t.Errorf("took %d bytes before any arrived, want at most %d", got, smallBody)
	}
	_ = pw.CloseWithError(io.ErrUnexpectedEOF)
	<-done
}

func TestReadError(t *testing.T) {
	boom := errors.New("boom")
	_, _, err := Read(io.MultiReader(bytes.NewReader([]byte("abc")), iotest.ErrReader(boom)), 100, 0, nil)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
}
