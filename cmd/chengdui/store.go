package main

import (
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

// openDatabase opens the database named by dsn: sqlite:PATH or postgres://….
func openDatabase(ctx context.Context, dsn string) (database, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//")
		if path == "" {
			return nil, usagef("database %q: give a file path, e.g. sqlite:./data/chengdui.db", dsn)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
		return sqlite.Open(ctx, path)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return postgres.Open(ctx, dsn)
	}
	return nil, usagef("database %q: use sqlite:PATH or postgres://user@host:port/db", redact(dsn))
}

// openMigrated opens the database and requires its schema to be current.
func openMigrated(ctx context.Context, dsn string, migrate bool) (database, error) {
	db, err := openDatabase(ctx, dsn)
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

// redact hides a password in a DSN before it is printed or logged.
func redact(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	scheme := strings.Index(dsn, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return dsn
	}
	userinfo := dsn[scheme+3 : at]
	if user, _, ok := strings.Cut(userinfo, ":"); ok {
		return dsn[:scheme+3] + user + ":xxxxx" + dsn[at:]
	}
	return dsn
}
