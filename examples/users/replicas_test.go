package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duetrpc/duet/examples/internal/testenv"
)

// writeKeys writes a page-key file holding keys, in order.
func writeKeys(t *testing.T, keys ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("# page-token keys: the first signs, all verify\n")
	for _, k := range keys {
		b.WriteString(base64.StdEncoding.EncodeToString([]byte(k)) + "\n")
	}
	f := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(f, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// getJSON GETs url and decodes its JSON body into v.
func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %s", u, resp.Status, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// TestReplicas runs two users processes on one PostgreSQL database with no
// sticky routing: what one writes the other reads, and a page walk that
// alternates between them sees every user exactly once. The replicas are
// mid-rotation: each signs with a different key and verifies with both.
func TestReplicas(t *testing.T) {
	dsn := testenv.NewPostgresDatabase(t, testenv.PostgresURL(t))
	oldKey, newKey := "old key, 32 bytes long, at least", "new key, 32 bytes long, at least"
	a := startUsers(t, "-db", dsn, "-page-keys", writeKeys(t, oldKey, newKey))
	b := startUsers(t, "-db", dsn, "-page-keys", writeKeys(t, newKey, oldKey))
	replicas := []*process{a, b}

	want := map[string]bool{"1001": true, "1002": true, "1003": true}
	for i := 0; i < 30; i++ {
		on, other := replicas[i%2], replicas[(i+1)%2]
		resp, err := http.Post(on.base+"/v1/users", "application/json", strings.NewReader(fmt.Sprintf(`{"email":"r%d@example.com"}`, i)))
		if err != nil {
			t.Fatal(err)
		}
		var u struct{ ID string }
		json.NewDecoder(resp.Body).Decode(&u)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("create on replica %d: %s", i%2, resp.Status)
		}
		want[u.ID] = true
		var got struct{ Email string }
		getJSON(t, other.base+"/v1/users/"+u.ID, &got) // read on the other replica
		if got.Email != fmt.Sprintf("r%d@example.com", i) {
			t.Errorf("replica %d reads user %s as %q", (i+1)%2, u.ID, got.Email)
		}
	}

	seen := map[string]int{}
	token := ""
	for page := 0; ; page++ {
		var resp struct {
			Users         []struct{ ID string }
			NextPageToken string
		}
		getJSON(t, replicas[page%2].base+"/v1/users?page_size=4&page_token="+url.QueryEscape(token), &resp)
		for _, u := range resp.Users {
			seen[u.ID]++
		}
		if token = resp.NextPageToken; token == "" {
			break
		}
	}
	for id := range want {
		if seen[id] != 1 {
			t.Errorf("user %s seen %d times in the walk, want once", id, seen[id])
		}
	}
	if len(seen) != len(want) {
		t.Errorf("walk saw %d users, want %d", len(seen), len(want))
	}
}

// TestPageKeys reads key files: comments and blank lines are skipped, the
// order is kept (the first signs), and a short or malformed key is refused
// with its line.
func TestPageKeys(t *testing.T) {
	good := writeKeys(t, "first key, 32 bytes long, or more", "second key, 32 bytes long, or more")
	keys, err := pageKeys(good)
	if err != nil || len(keys) != 2 || string(keys[0]) != "first key, 32 bytes long, or more" {
		t.Fatalf("pageKeys = %q, %v", keys, err)
	}
	for _, tt := range []struct{ name, body, want string }{
		{"short", base64.StdEncoding.EncodeToString([]byte("short")) + "\n", ":1: a key needs at least 32 bytes"},
		{"not base64", "# c\n\n!!!\n", ":3: not base64"},
		{"empty", "# nothing\n", "holds no key"},
	} {
		f := filepath.Join(t.TempDir(), "keys")
		os.WriteFile(f, []byte(tt.body), 0o600)
		if _, err := pageKeys(f); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error with %q", tt.name, err, tt.want)
		}
	}
}
