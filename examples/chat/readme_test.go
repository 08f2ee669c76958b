package main

import (
	"bufio"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/duetrpc/duet/internal/transcript"
	"github.com/google/go-cmp/cmp"
)

// TestREADME replays the README's transcripts against a fresh server: the
// subscription first, held open, then the posts and grpcurl calls in order; it checks status
// lines, the headers shown (Date aside) and the bodies, and that the
// message the README shows arriving on the subscription arrives. Message
// timestamps are the server's clock, so they are compared by presence.
func TestREADME(t *testing.T) {
	base, _ := start(t)
	session, err := transcript.Read("README.md")
	if err != nil {
		t.Fatal(err)
	}
	sub := session.Calls[0]
	if sub.Header.Get("Accept") != "text/event-stream" {
		t.Fatalf("the README's first transcript is not the SSE subscription: %s", sub.Command)
	}
	subResp := transcript.Send(t, restClient, base, sub.URL, sub, nil)
	defer subResp.Body.Close()
	events := bufio.NewReader(subResp.Body)

	for _, tr := range session.Calls[1:] {
		t.Run(tr.Command, func(t *testing.T) {
			if tr.Tool == "grpcurl" {
				transcript.GRPCurl(t, tr, tr.Args, strings.TrimPrefix(base, "http://"), anyTimestamp)
				return
			}
			resp := transcript.Send(t, restClient, base, tr.URL, tr, nil)
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if len(tr.Resp) != 1 {
				t.Fatalf("README shows %d body lines, want 1", len(tr.Resp))
			}
			checkJSON(t, tr.Resp[0], string(b))
		})
	}

	// The subscription saw the README's message.
	var want string
	for _, l := range sub.Resp {
		if d, ok := strings.CutPrefix(l, "data: "); ok {
			want = d
		}
	}
	if want == "" {
		t.Fatal("the README's subscription shows no data: line")
	}
	got := make(chan string, 1)
	go func() {
		for {
			l, err := events.ReadString('\n')
			if err != nil {
				close(got)
				return
			}
			if d, ok := strings.CutPrefix(strings.TrimSpace(l), "data: "); ok {
				got <- d
				return
			}
		}
	}()
	select {
	case d, ok := <-got:
		if !ok {
			t.Fatal("subscription ended before any message")
		}
		checkJSON(t, want, d)
	case <-time.After(10 * time.Second):
		t.Fatal("no message on the subscription after 10s")
	}
}

// checkJSON compares two JSON bodies, a timestamp member by presence only.
func checkJSON(t *testing.T, readme, server string) {
	t.Helper()
	var want, got map[string]any
	if err := json.Unmarshal([]byte(readme), &want); err != nil {
		t.Fatalf("README body %q: %v", readme, err)
	}
	if err := json.Unmarshal([]byte(server), &got); err != nil {
		t.Fatalf("server body %q: %v", server, err)
	}
	if _, ok := want["timestamp"]; ok {
		if _, ok := got["timestamp"]; !ok {
			t.Errorf("server body %s has no timestamp", server)
		}
		delete(want, "timestamp")
		delete(got, "timestamp")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("body (-README +server):\n%s", diff)
	}
}

// anyTimestamp stands a message's timestamp, the server's clock in
// nanoseconds, in for "<timestamp>".
func anyTimestamp(v any) any {
	if m, ok := v.(map[string]any); ok {
		if ts, ok := m["timestamp"].(string); ok && ts != "" && strings.Trim(ts, "0123456789") == "" {
			m["timestamp"] = "<timestamp>"
		}
	}
	return v
}
