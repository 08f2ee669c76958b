package budget

import (
	"bytes"
	"io"
	"testing"
)

// BenchmarkRead compares reading a small JSON body (length declared)
// with Read against the exact allocation from Content-Length it
// replaced, and a 1 MiB body against io.ReadAll.
func BenchmarkRead(b *testing.B) {
	small := bytes.Repeat([]byte("x"), 300)
	large := bytes.Repeat([]byte("y"), 1<<20)
	bud := New(64 << 20)
	b.Run("small/exact-from-Content-Length", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf := make([]byte, len(small))
			_, _ = io.ReadFull(bytes.NewReader(small), buf)
		}
	})
	b.Run("small/Read", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, held, _ := Read(bytes.NewReader(small), 4<<20, int64(len(small)), bud)
			bud.Give(held)
		}
	})
	b.Run("1MiB/io.ReadAll", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = io.ReadAll(io.LimitReader(bytes.NewReader(large), 4<<20+1))
		}
	})
	b.Run("1MiB/Read", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, held, _ := Read(bytes.NewReader(large), 4<<20, int64(len(large)), bud)
			bud.Give(held)
		}
	})
}
