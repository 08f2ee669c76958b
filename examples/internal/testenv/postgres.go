// Package testenv is what the examples' tests share: a PostgreSQL database
// per test, and the example commands run as real processes.
package testenv

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
)

// PostgresURL returns the URL of the PostgreSQL server the tests use,
// DUET_POSTGRES_URL (its user may create databases; .ci/run starts a
// throwaway cluster and sets it). Without one the test skips and says why,
// except under DUET_CI=1, where it fails: CI must run it.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("DUET_POSTGRES_URL")
	if u == "" {
		msg := "no PostgreSQL: DUET_POSTGRES_URL is not set (.ci/run starts a throwaway cluster and sets it)"
		if os.Getenv("DUET_CI") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return u
}

// NewPostgresDatabase creates an empty database on the server at admin and
// returns its URL; it is dropped when the test ends.
func NewPostgresDatabase(t testing.TB, admin string) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	name := "duet_test_" + hex.EncodeToString(b)
	exec := func(stmt string) error {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.Exec(stmt)
		return err
	}
	if err := exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("CREATE DATABASE: %v", err)
	}
	t.Cleanup(func() {
		if err := exec("DROP DATABASE " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("DROP DATABASE: %v", err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
