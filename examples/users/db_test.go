package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/duetrpc/duet/examples/internal/testenv"
)

// The suite runs on SQLite by default and on PostgreSQL with
// DUET_USERS_DB=postgres, against the server at DUET_POSTGRES_URL (a URL
// whose user may create databases; .ci/run starts a throwaway cluster and
// sets it; see testenv). Each test gets a database of its own.

// onPostgres reports whether this run of the suite is the PostgreSQL one.
func onPostgres() bool { return os.Getenv("DUET_USERS_DB") == "postgres" }

// testDSN returns a new database for one test: an SQLite file in a
// temporary directory, or a PostgreSQL database in the PostgreSQL run.
func testDSN(t testing.TB) string {
	t.Helper()
	if onPostgres() {
		return testenv.NewPostgresDatabase(t, testenv.PostgresURL(t))
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
