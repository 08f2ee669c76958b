package pbjson

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestAppendDateTime holds the Timestamp's date arithmetic to the time
// package's over the whole range a Timestamp may take: its ends, leap
// days and century years, and seconds spread across it.
func TestAppendDateTime(t *testing.T) {
	secs := []int64{minTimestamp, maxTimestamp, 0, -1, 1, 86399, 86400, -86400, -86401,
		951782400,   // 2000-02-29
		4107456000,  // 2100-02-28
		-2203891200, // 1900-03-01
		-62135596801 + 86400*365}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		secs = append(secs, minTimestamp+r.Int64N(maxTimestamp-minTimestamp+1))
	}
	for _, s := range secs {
		want := time.Unix(s, 0).UTC().Format("2006-01-02T15:04:05")
		if got := string(appendDateTime(nil, s)); got != want {
			t.Fatalf("appendDateTime(%d) = %s, want %s", s, got, want)
		}
	}
}
