package rest

import (
	"strings"
	"testing"
)

// Every one-byte change to a body, and every swap of two bytes (which
// keeps the length and the byte counts), changes its ETag; the same bytes
// always give the same quoted, strong tag.
func TestEntityTag(t *testing.T) {
	body := []byte(`{"name":"shelves/1/books/7","title":"Concurrency in Go","pages":238}`)
	tag := entityTag(body)
	if tag != entityTag(append([]byte(nil), body...)) {
		t.Fatal("the same bytes gave two tags")
	}
	if !strings.HasPrefix(tag, `"`) || !strings.HasSuffix(tag, `"`) || strings.HasPrefix(tag, "W/") || len(tag) != 18 {
		t.Fatalf("tag %s is not a quoted strong validator of 16 characters", tag)
	}
	seen := map[string]string{tag: string(body)}
	try := func(b []byte) {
		got := entityTag(b)
		if prev, ok := seen[got]; ok && prev != string(b) {
			t.Fatalf("%q and %q share the tag %s", prev, b, got)
		}
		seen[got] = string(b)
	}
	for i := range body {
		for _, c := range []byte{'a', '0', ' ', 0, 0xff} {
			b := append([]byte(nil), body...)
			if b[i] == c {
				continue
			}
			b[i] = c
			try(b)
		}
		for j := i + 1; j < len(body); j++ {
			b := append([]byte(nil), body...)
			b[i], b[j] = b[j], b[i]
			try(b)
		}
	}
	try(body[:len(body)-1])
	try(append(append([]byte(nil), body...), ' '))
}
