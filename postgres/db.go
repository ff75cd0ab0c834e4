package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"time"

	"chengdui"
	"chengdui/migration"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// DB is a PostgreSQL database.
type DB struct {
	pool *pgxpool.Pool
}

// Open connects to the database at dsn (postgres://…). Call Migrate before use.
func Open(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, chengdui.Errorf(chengdui.EInvalid, "postgres: bad connection string (check the postgres://user@host:port/db form)")
	}
	if cfg.MaxConns < 8 {
		cfg.MaxConns = 8
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, chengdui.Errorf(chengdui.EUnavailable, "postgres at %s:%d does not answer: %v", cfg.ConnConfig.Host, cfg.ConnConfig.Port, errors.Unwrap(err))
	}
	return &DB{pool: pool}, nil
}

// Close closes the pool.
func (d *DB) Close() error {
	d.pool.Close()
	return nil
}

// Ping reports whether the database answers.
func (d *DB) Ping(ctx context.Context) error { return d.pool.Ping(ctx) }

// Exec runs a statement. Tests use it to tamper with stored rows.
func (d *DB) Exec(ctx context.Context, query string, args ...any) error {
	_, err := d.pool.Exec(ctx, query, args...)
	return err
}

// Migrations lists the embedded migrations in order.
func Migrations() ([]migration.Migration, error) {
	return migration.Load(migrationFS)
}

// migrationLock is the advisory lock key that serialises concurrent
// migrations from several processes.
const migrationLock = 0x636864756901

// Migrate applies the migrations not yet applied, each in its own
// transaction, and returns the versions it applied.
func (d *DB) Migrate(ctx context.Context) ([]int, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	if _, err := d.pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return nil, fmt.Errorf("postgres: migrations table: %w", err)
	}
	var applied []int
	for _, m := range ms {
		err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRow(ctx, "SELECT count(*) FROM schema_migrations WHERE version = $1", m.Version).Scan(&n); err != nil || n > 0 {
				return err
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			applied = append(applied, m.Version)
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
				m.Version, m.Name, time.Now().UnixMicro())
			return err
		})
		if err != nil {
			return applied, err
		}
	}
	return applied, nil
}

// SchemaVersion returns the highest applied migration, 0 if none.
func (d *DB) SchemaVersion(ctx context.Context) (int, error) {
	var exists bool
	if err := d.pool.QueryRow(ctx, "SELECT to_regclass('schema_migrations') IS NOT NULL").Scan(&exists); err != nil || !exists {
		return 0, err
	}
	var v *int
	err := d.pool.QueryRow(ctx, "SELECT max(version) FROM schema_migrations").Scan(&v)
	if v == nil {
		return 0, err
	}
	return *v, err
}
