package main

import (
	"errors"
	"io/fs"
	"net/url"

	"chengdui"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"chengdui/ledger"
	"chengdui/postgres"
	"chengdui/sqlite"
)

// database is what the commands need of a storage engine.
type database interface {
	ledger.Store
	Ping(ctx context.Context) error
	Migrate(ctx context.Context) ([]int, error)
	SchemaVersion(ctx context.Context) (int, error)
	Close() error
}

// storeFlags are the flags every store-opening command shares.
type storeFlags struct {
	dataDir string
	dsn     string
}

func (s *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.dataDir, "data-dir", "./data", "directory of the embedded (dev) store; ignored when --db is set")
	fs.StringVar(&s.dsn, "db", "", "database: sqlite:PATH or postgres://user@host:port/db")
}

// resolve returns the DSN: --db if set, else the dev store under --data-dir.
func (s *storeFlags) resolve() string {
	if s.dsn != "" {
		return s.dsn
	}
	return "sqlite:" + filepath.Join(s.dataDir, "chengdui.db")
}

// openDatabase opens the database named by dsn: sqlite:PATH or
// postgres://…. With create false, a SQLite file that does not exist is an
// error rather than a new empty database left behind by a typo.
func openDatabase(ctx context.Context, dsn string, create bool) (database, error) {
	var db database
	var err error
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//")
		if path == "" {
			return nil, usagef("database %q: give a file path, e.g. sqlite:./data/chengdui.db", dsn)
		}
		if !create {
			if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
				return nil, usagef("no database at %s; run 'chengdui migrate' (or 'chengdui dev') with the same --data-dir or --db first", path)
			}
		} else if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
		db, err = sqlite.Open(ctx, path)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		db, err = postgres.Open(ctx, dsn)
	default:
		return nil, usagef("database %q: use sqlite:PATH or postgres://user@host:port/db", redact(dsn))
	}
	if chengdui.ErrorCode(err) == chengdui.EInvalid {
		return nil, usagef("database %s: %s", redact(dsn), chengdui.ErrorMessage(err))
	}
	return db, err
}

// openMigrated opens the database and requires its schema to be current.
func openMigrated(ctx context.Context, dsn string, migrate bool) (database, error) {
	db, err := openDatabase(ctx, dsn, migrate)
	if err != nil {
		return nil, err
	}
	if migrate {
		if _, err := db.Migrate(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("migrate: %w", err)
		}
		return db, nil
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	if v == 0 {
		db.Close()
		return nil, usagef("database %s has no schema; run 'chengdui migrate' first (or 'chengdui dev')", redact(dsn))
	}
	return db, nil
}

// redact hides passwords in a DSN before it is printed or logged: the
// userinfo password and a password query parameter.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		// Unparseable: mask by hand whatever could be a secret.
		if i := strings.Index(dsn, "password="); i >= 0 {
			dsn = dsn[:i] + "password=xxxxx"
		}
		scheme, at := strings.Index(dsn, "://"), strings.LastIndex(dsn, "@")
		if scheme >= 0 && at > scheme {
			if user, _, ok := strings.Cut(dsn[scheme+3:at], ":"); ok {
				dsn = dsn[:scheme+3] + user + ":xxxxx" + dsn[at:]
			}
		}
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}
