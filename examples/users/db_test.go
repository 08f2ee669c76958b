package main

import (
	"context"
	"fmt"
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
	return testStoreAt(t, testDSN(t))
}

// testStoreAt opens (and migrates) the database at dsn until the test ends.
func testStoreAt(t testing.TB, dsn string) *sqlStore {
	t.Helper()
	s, err := openDB(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// testKeys sign the page tokens of servers in tests.
var testKeys = [][]byte{[]byte("0123456789abcdef0123456789abcdef")}

// TestConcurrentMigrations opens one new database from several processes'
// worth of connections at once, as replicas starting together do: every
// open succeeds and the seed is applied once.
func TestConcurrentMigrations(t *testing.T) {
	dsn := testDSN(t)
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func() {
			s, err := openDB(context.Background(), dsn)
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Errorf("openDB: %v", err)
		}
	}
	s := testStoreAt(t, dsn)
	var users, versions int
	if err := s.db.QueryRow(`SELECT count(*) FROM users`).Scan(&users); err != nil {
		t.Fatal(err)
	}
	if err := s.db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if users != 3 || versions != 2 {
		t.Errorf("%d users and %d schema versions, want 3 and 2", users, versions)
	}
}

// TestNewSQLiteFileOpenedAtOnce opens each of several new SQLite files
// from several connections at once, as replicas starting together on a
// new file do: every open succeeds and leaves the file in WAL mode. Only
// the first switch of a file to WAL can race, and SQLite answers the
// losers SQLITE_BUSY at once, without waiting (see useWAL); before that
// was handled, about one round in thirty failed here.
func TestNewSQLiteFileOpenedAtOnce(t *testing.T) {
	const rounds, opens = 30, 4
	dir := t.TempDir()
	for round := 0; round < rounds; round++ {
		file := filepath.Join(dir, fmt.Sprintf("%d.db", round))
		errs := make(chan error, opens)
		for i := 0; i < opens; i++ {
			go func() {
				db, err := openSQLite(context.Background(), file)
				if err != nil {
					errs <- err
					return
				}
				defer db.Close()
				var mode string
				if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
					errs <- fmt.Errorf("journal mode %q, %v; want wal", mode, err)
					return
				}
				errs <- nil
			}()
		}
		for i := 0; i < opens; i++ {
			if err := <-errs; err != nil {
				t.Errorf("round %d: openSQLite: %v", round, err)
			}
		}
	}
}
