package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// The suite runs on SQLite by default and on PostgreSQL with
// DUET_USERS_DB=postgres, against the server at DUET_POSTGRES_URL (a URL
// whose user may create databases; .ci/run starts a throwaway cluster and
// sets it). Each test gets a database of its own.

// onPostgres reports whether this run of the suite is the PostgreSQL one.
func onPostgres() bool { return os.Getenv("DUET_USERS_DB") == "postgres" }

// postgresURL returns the PostgreSQL server's URL. Without one the test
// skips and says why, except under DUET_CI=1, where it fails: CI must run it.
func postgresURL(t testing.TB) string {
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

// newPostgresDatabase creates an empty database on the server at admin and
// returns its URL; it is dropped when the test ends.
func newPostgresDatabase(t testing.TB, admin string) string {
	t.Helper()
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b := make([]byte, 6)
	rand.Read(b)
	name := "duet_test_" + hex.EncodeToString(b)
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("CREATE DATABASE: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			t.Error(err)
			return
		}
		defer db.Close()
		if _, err := db.Exec("DROP DATABASE " + name + " WITH (FORCE)"); err != nil {
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

// testDSN returns a new database for one test: an SQLite file in a
// temporary directory, or a PostgreSQL database in the PostgreSQL run.
func testDSN(t testing.TB) string {
	t.Helper()
	if onPostgres() {
		return newPostgresDatabase(t, postgresURL(t))
	}
	return filepath.Join(t.TempDir(), "users.db")
}

// testStore opens (and migrates) a new database for one test.
func testStore(t testing.TB) *sqlStore {
	t.Helper()
	s, err := openDB(context.Background(), testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// testKeys sign the page tokens of servers in tests.
var testKeys = [][]byte{[]byte("0123456789abcdef0123456789abcdef")}
