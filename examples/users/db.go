package main

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// migrations are the schema's versions, per database, applied in order at
// start. A file's number is its version; a version applied once is never
// applied again (schema_migrations records them).
//
//go:embed migrations
var migrations embed.FS

// dialect is what differs between the two databases.
type dialect struct {
	name string // the migrations directory
	// lockUser is appended to the SELECT that checks an order's user, so
	// that a concurrent delete of that user waits for the order's commit.
	lockUser string
	// lockMigrations serialises replicas migrating one database at once.
	lockMigrations  string
	uniqueViolation func(error) bool
}

var (
	sqliteDialect = dialect{
		name: "sqlite",
		// A transaction begins IMMEDIATE (see openSQLite): it holds the
		// write lock, so there is nothing more to lock.
		uniqueViolation: func(err error) bool {
			var e *sqlite.Error
			return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
		},
	}
	postgresDialect = dialect{
		name:           "postgres",
		lockUser:       " FOR SHARE",
		lockMigrations: "SELECT pg_advisory_xact_lock(7183011)",
		uniqueViolation: func(err error) bool {
			var e *pgconn.PgError
			return errors.As(err, &e) && e.Code == "23505" // unique_violation
		},
	}
)

// openDB opens the database named by dsn and brings its schema up to date:
// PostgreSQL for a postgres:// or postgresql:// URL (through pgx), else an
// SQLite file at that path (through modernc.org/sqlite, pure Go: no cgo, so
// "go run" works on a fresh machine with no C toolchain).
func openDB(ctx context.Context, dsn string) (*sqlStore, error) {
	var (
		db  *sql.DB
		d   dialect
		err error
	)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		d = postgresDialect
		db, err = sql.Open("pgx", dsn)
	} else {
		d = sqliteDialect
		db, err = openSQLite(ctx, dsn)
	}
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, db, d); err != nil {
		db.Close()
		return nil, err
	}
	return &sqlStore{db: db, d: d}, nil
}

// sqliteBusyTimeout is how long an SQLite connection waits for a lock that
// another connection holds before it gives up with SQLITE_BUSY.
const sqliteBusyTimeout = 10 * time.Second

// openSQLite opens the file at path. WAL lets readers run beside the one
// writer; a writer that finds the database busy waits for it (busy_timeout)
// instead of failing; transactions begin IMMEDIATE, taking the write lock at
// BEGIN, so two transactions never deadlock upgrading a read lock; foreign
// keys are off in SQLite unless asked for.
func openSQLite(ctx context.Context, file string) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+file+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	if err := useWAL(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// useWAL puts the file in WAL mode, which the file keeps: every later
// connection to it, in any process, uses WAL too. It is not a pragma of
// each connection's DSN because the first switch of a new file can fail
// at once, whatever busy_timeout says: the switch reads the file's header,
// then writes it, and SQLite never waits to turn a read lock into a write
// lock (two connections doing so would wait for each other forever), so
// of two processes opening one new file together (replicas starting at
// once) one would fail to start with "database is locked". The one that
// loses tries again, for as long as busy_timeout would have let it wait;
// by then the winner has switched the file, and the switch is a no-op.
func useWAL(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(sqliteBusyTimeout)
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		var mode string
		err := db.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode)
		if err == nil {
			// SQLite answers the mode the file is in: one it cannot
			// give a WAL (say, where shared memory is not supported)
			// stays as it was, without an error.
			if mode != "wal" {
				return fmt.Errorf("sqlite: journal mode is %q, not wal", mode)
			}
			return nil
		}
		var e *sqlite.Error
		if !errors.As(err, &e) || e.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().Add(wait).After(deadline) {
			return fmt.Errorf("sqlite: journal_mode WAL: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// migrate applies the migrations db has not seen, all in one transaction
// (both databases have transactional DDL): a failed migration leaves the
// schema as it was.
func migrate(ctx context.Context, db *sql.DB, d dialect) error {
	names, err := fs.Glob(migrations, "migrations/"+d.name+"/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	if d.lockMigrations != "" {
		if _, err := tx.ExecContext(ctx, d.lockMigrations); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, name := range names {
		base := path.Base(name)
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migrate: %s: the name must start with its version number", base)
		}
		var applied int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, version).Scan(&applied); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if applied > 0 {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return fmt.Errorf("migrate: %s: %w", base, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, version, time.Now().Unix()); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	return tx.Commit()
}
