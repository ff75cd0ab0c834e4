package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"chengdui"
	"chengdui/ledger"
)

var _ ledger.Store = (*DB)(nil)

const transferCols = `seq, id, debit_account_id, credit_account_id, asset, amount, pending_id, timeout, code, flags, metadata, created_at, hash`
const accountCols = `id, asset, flags, code, metadata, debits_pending, debits_posted, credits_pending, credits_posted, created_at`

// querier is what reads need: the read pool or a snapshot transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// reader implements ledger.Reader over a querier.
type reader struct{ q querier }

var _ ledger.Reader = reader{}

// Accounts, Transfers and Head read from the read pool.
func (d *DB) Accounts(ctx context.Context, afterID string, limit int) ([]chengdui.Account, error) {
	return reader{d.read}.Accounts(ctx, afterID, limit)
}

func (d *DB) Transfers(ctx context.Context, f chengdui.TransferFilter) ([]chengdui.Transfer, error) {
	if f.AccountID == "" {
		return reader{d.read}.Transfers(ctx, f)
	}
	// An account's history takes several statements: one snapshot.
	var out []chengdui.Transfer
	err := d.Snapshot(ctx, func(r ledger.Reader) (err error) {
		out, err = r.Transfers(ctx, f)
		return err
	})
	return out, err
}

func (d *DB) Head(ctx context.Context) (ledger.Head, error) { return reader{d.read}.Head(ctx) }

// Snapshot implements ledger.Store: a read transaction in WAL mode sees
// the database as of its first read, whatever commits meanwhile.
func (d *DB) Snapshot(ctx context.Context, fn func(ledger.Reader) error) error {
	tx, err := d.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(reader{tx})
}

// CreateAsset implements ledger.Store.
func (d *DB) CreateAsset(ctx context.Context, a chengdui.Asset) (chengdui.Asset, error) {
	_, err := d.write.ExecContext(ctx, `INSERT INTO assets (code, network, decimals, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (code) DO NOTHING`, a.Code, a.Network, a.Decimals, a.CreatedAt.UnixMicro())
	if err != nil {
		return chengdui.Asset{}, err
	}
	return d.Asset(ctx, a.Code)
}

// Asset implements ledger.Store.
func (d *DB) Asset(ctx context.Context, code string) (chengdui.Asset, error) {
	var a chengdui.Asset
	var created int64
	err := d.read.QueryRowContext(ctx, `SELECT code, network, decimals, created_at FROM assets WHERE code = ?`, code).
		Scan(&a.Code, &a.Network, &a.Decimals, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return a, chengdui.Errorf(chengdui.EAssetNotFound, "asset %q does not exist", code)
	}
	a.CreatedAt = time.UnixMicro(created).UTC()
	return a, err
}

// Assets implements ledger.Store.
func (d *DB) Assets(ctx context.Context) ([]chengdui.Asset, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT code, network, decimals, created_at FROM assets ORDER BY code`)
	return collect(rows, err, func(r scanner) (chengdui.Asset, error) {
		var a chengdui.Asset
		var created int64
		err := r.Scan(&a.Code, &a.Network, &a.Decimals, &created)
		a.CreatedAt = time.UnixMicro(created).UTC()
		return a, err
	})
}

// CreateAccount implements ledger.Store.
func (d *DB) CreateAccount(ctx context.Context, a chengdui.Account) (chengdui.Account, error) {
	if _, err := d.Asset(ctx, a.Asset); err != nil {
		return chengdui.Account{}, err
	}
	_, err := d.write.ExecContext(ctx, `INSERT INTO accounts (`+accountCols+`) VALUES (?, ?, ?, ?, ?, '0', '0', '0', '0', ?)
		ON CONFLICT (id) DO NOTHING`, a.ID, a.Asset, a.Flags, a.Code, ledger.EncodeMetadata(a.Metadata), a.CreatedAt.UnixMicro())
	if err != nil {
		return chengdui.Account{}, err
	}
	return d.Account(ctx, a.ID)
}

// Account implements ledger.Store.
func (d *DB) Account(ctx context.Context, id string) (chengdui.Account, error) {
	a, err := scanAccount(d.read.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, chengdui.Errorf(chengdui.EAccountNotFound, "account %q does not exist", id)
	}
	return a, err
}

// Accounts implements ledger.Reader.
func (r reader) Accounts(ctx context.Context, afterID string, limit int) ([]chengdui.Account, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE id > ? ORDER BY id LIMIT ?`, afterID, limit)
	return collect(rows, err, scanAccount)
}

// Transfer implements ledger.Store.
func (d *DB) Transfer(ctx context.Context, id string) (chengdui.Transfer, error) {
	t, err := scanTransfer(d.read.QueryRowContext(ctx, `SELECT `+transferCols+` FROM transfers WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, chengdui.Errorf(chengdui.ENotFound, "transfer %q does not exist", id)
	}
	return t, err
}

// Transfers implements ledger.Reader.
func (r reader) Transfers(ctx context.Context, f chengdui.TransferFilter) ([]chengdui.Transfer, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	if f.AccountID != "" {
		return r.accountTransfers(ctx, f)
	}
	rows, err := r.q.QueryContext(ctx, `SELECT `+transferCols+` FROM transfers WHERE seq > ? ORDER BY seq LIMIT ?`, f.AfterSeq, f.Limit)
	return collect(rows, err, scanTransfer)
}

// accountTransfers reads an account's history: seqs from the indexed
// chunks, then from the unindexed tail, then the transfers. The caller
// runs it in one snapshot.
func (r reader) accountTransfers(ctx context.Context, f chengdui.TransferFilter) ([]chengdui.Transfer, error) {
	var seqs []any
	rows, err := r.q.QueryContext(ctx, `SELECT seqs FROM account_history WHERE account_id = ? AND last_seq > ? ORDER BY first_seq`, f.AccountID, f.AfterSeq)
	if err != nil {
		return nil, err
	}
	for rows.Next() && len(seqs) < f.Limit {
		var list string
		if err := rows.Scan(&list); err != nil {
			rows.Close()
			return nil, err
		}
		chunk, err := ledger.ParseSeqList(list)
		if err != nil {
			rows.Close()
			return nil, err
		}
		for _, s := range chunk {
			if s > f.AfterSeq && len(seqs) < f.Limit {
				seqs = append(seqs, s)
			}
		}
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if len(seqs) < f.Limit {
		rows, err := r.q.QueryContext(ctx, `SELECT t.seq FROM transfers t, history_cursor c WHERE c.id = 1 AND t.seq > max(?2, c.indexed_size)
			AND (t.debit_account_id = ?1 OR t.credit_account_id = ?1) ORDER BY t.seq LIMIT ?3`, f.AccountID, f.AfterSeq, f.Limit-len(seqs))
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var s uint64
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return nil, err
			}
			seqs = append(seqs, s)
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	if len(seqs) == 0 {
		return nil, nil
	}
	rows, err = r.q.QueryContext(ctx, `SELECT `+transferCols+` FROM transfers WHERE seq IN (`+inList(len(seqs))+`) ORDER BY seq`, seqs...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]chengdui.Transfer, 0, len(seqs))
	for rows.Next() {
		t, err := scanTransfer(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// PendingStatus implements ledger.Store.
func (d *DB) PendingStatus(ctx context.Context, id string) (chengdui.PendingStatus, error) {
	var s chengdui.PendingStatus
	err := d.read.QueryRowContext(ctx, `SELECT status FROM pending_transfers WHERE id = ?`, id).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, chengdui.Errorf(chengdui.EPendingNotFound, "no pending transfer %q", id)
	}
	return s, err
}

// ExpiredPending implements ledger.Store.
func (d *DB) ExpiredPending(ctx context.Context, now time.Time, limit int) ([]string, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT id FROM pending_transfers WHERE status = 1 AND expires_at > 0 AND expires_at <= ?
		ORDER BY expires_at LIMIT ?`, now.UnixMicro(), limit)
	return collect(rows, err, scanString)
}

// Head implements ledger.Reader.
func (r reader) Head(ctx context.Context) (ledger.Head, error) {
	return scanHead(r.q.QueryRowContext(ctx, `SELECT size, chain_hash, merkle_root, compact FROM ledger_head WHERE id = 1`))
}

// IndexHistory implements ledger.Store: one account_history row per
// account in the chunk.
func (d *DB) IndexHistory(ctx context.Context, max int) (int, error) {
	var n int
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var from, size int64
		if err := tx.QueryRowContext(ctx, `SELECT c.indexed_size, h.size FROM history_cursor c, ledger_head h WHERE c.id = 1 AND h.id = 1`).Scan(&from, &size); err != nil {
			return err
		}
		to := min(size, from+int64(max))
		if to <= from {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO account_history (account_id, first_seq, last_seq, seqs)
			SELECT account_id, min(seq), max(seq), group_concat(seq, ',') FROM (
				SELECT debit_account_id AS account_id, seq FROM transfers WHERE seq > ?1 AND seq <= ?2
				UNION ALL SELECT credit_account_id, seq FROM transfers WHERE seq > ?1 AND seq <= ?2)
			GROUP BY account_id`, from, to); err != nil {
			return fmt.Errorf("index history: %w", err)
		}
		n = int(to - from)
		_, err := tx.ExecContext(ctx, `UPDATE history_cursor SET indexed_size = ? WHERE id = 1`, to)
		return err
	})
	return n, err
}

// Prefetch implements ledger.Store, reading from the read pool.
func (d *DB) Prefetch(ctx context.Context, transferIDs, accountIDs, pendingIDs []string) (*ledger.Prefetched, error) {
	return ledger.PrefetchWith(&batchTx{ctx: ctx, q: d.read}, transferIDs, accountIDs, pendingIDs)
}

// Commit implements ledger.Store. The transaction begins IMMEDIATE, so it
// holds SQLite's write lock from the start: the head it reads stays current.
func (d *DB) Commit(ctx context.Context, fn func(ledger.BatchTx) error) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		return fn(&batchTx{ctx: ctx, tx: tx, q: tx})
	})
}

type batchTx struct {
	ctx context.Context
	tx  *sql.Tx // writes
	q   querier // reads: the transaction, or the read pool for Prefetch
}

func (b *batchTx) Head() (ledger.Head, error) {
	return scanHead(b.q.QueryRowContext(b.ctx, `SELECT size, chain_hash, merkle_root, compact FROM ledger_head WHERE id = 1`))
}

// chunk bounds the parameters of one IN list.
const chunk = 500

func inList(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func (b *batchTx) query(prefix string, ids []string, each func(*sql.Rows) error) error {
	for len(ids) > 0 {
		n := min(len(ids), chunk)
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		rows, err := b.q.QueryContext(b.ctx, prefix+"("+inList(n)+")", args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := each(rows); err != nil {
				rows.Close()
				return err
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

func (b *batchTx) Transfers(ids []string) (map[string]chengdui.Transfer, error) {
	out := map[string]chengdui.Transfer{}
	err := b.query(`SELECT `+transferCols+` FROM transfers WHERE id IN `, ids, func(r *sql.Rows) error {
		t, err := scanTransfer(r)
		out[t.ID] = t
		return err
	})
	return out, err
}

func (b *batchTx) Accounts(ids []string) (map[string]chengdui.Account, error) {
	out := make(map[string]chengdui.Account, len(ids))
	err := b.query(`SELECT `+accountCols+` FROM accounts WHERE id IN `, ids, func(r *sql.Rows) error {
		a, err := scanAccount(r)
		out[a.ID] = a
		return err
	})
	return out, err
}

func (b *batchTx) Pending(ids []string) (map[string]ledger.PendingState, error) {
	out := map[string]ledger.PendingState{}
	err := b.query(`SELECT id, status, expires_at FROM pending_transfers WHERE id IN `, ids, func(r *sql.Rows) error {
		var p ledger.PendingState
		var exp int64
		if err := r.Scan(&p.ID, &p.Status, &exp); err != nil {
			return err
		}
		if exp > 0 {
			p.ExpiresAt = time.UnixMicro(exp).UTC()
		}
		out[p.ID] = p
		return nil
	})
	return out, err
}

// rowsPerInsert rows go into one multi-row INSERT: fewer statements, less
// per-call overhead in the pure-Go driver.
const rowsPerInsert = 64

func (b *batchTx) Write(w *ledger.Batch) error {
	if err := b.insertTransfers(w.Transfers); err != nil {
		return err
	}
	if err := b.updateAccounts(w.Accounts); err != nil {
		return err
	}
	if len(w.Pending) > 0 {
		st, err := b.tx.PrepareContext(b.ctx, `INSERT INTO pending_transfers (id, status, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET status = excluded.status`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, p := range w.Pending {
			if _, err := st.ExecContext(b.ctx, p.ID, p.Status, unixMicro(p.ExpiresAt)); err != nil {
				return err
			}
		}
	}
	_, err := b.tx.ExecContext(b.ctx, `UPDATE ledger_head SET size = ?, chain_hash = ?, merkle_root = ?, compact = ? WHERE id = 1`,
		w.Head.Size, w.Head.ChainHash, w.Head.MerkleRoot, ledger.EncodeCompact(w.Head.Compact))
	return err
}

// updateAccounts writes final balances with UPDATE … FROM (VALUES …).
func (b *batchTx) updateAccounts(as []chengdui.Account) error {
	err := b.execRows(len(as), 5, func(tuples string) string {
		return `UPDATE accounts SET debits_pending = u.column2, debits_posted = u.column3, credits_pending = u.column4, credits_posted = u.column5
			FROM (VALUES ` + tuples + `) AS u WHERE accounts.id = u.column1`
	}, func(i int, args []any) []any {
		a := &as[i]
		return append(args, a.ID, a.DebitsPending.String(), a.DebitsPosted.String(), a.CreditsPending.String(), a.CreditsPosted.String())
	})
	if err != nil {
		return fmt.Errorf("update balances: %w", err)
	}
	return nil
}

func (b *batchTx) insertTransfers(ts []chengdui.Transfer) error {
	err := b.execRows(len(ts), 13, func(tuples string) string {
		return `INSERT INTO transfers (` + transferCols + `) VALUES ` + tuples
	}, func(i int, args []any) []any {
		t := &ts[i]
		return append(args, t.Seq, t.ID, t.DebitAccountID, t.CreditAccountID, t.Asset, t.Amount.String(), t.PendingID,
			t.Timeout, t.Code, t.Flags, ledger.EncodeMetadata(t.Metadata), t.Timestamp.UnixMicro(), t.Hash)
	})
	if err != nil {
		return fmt.Errorf("insert transfers: %w", err)
	}
	return nil
}

// execRows runs a statement over n rows of cols values, rowsPerInsert rows
// per statement: query builds it from the "(?,…),(?,…)" tuples and args
// appends row i's values. The full-size statement is prepared once.
func (b *batchTx) execRows(n, cols int, query func(tuples string) string, args func(i int, dst []any) []any) error {
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + "),"
	vals := make([]any, 0, rowsPerInsert*cols)
	for start := 0; start < n; start += rowsPerInsert {
		k := min(n-start, rowsPerInsert)
		vals = vals[:0]
		for i := start; i < start+k; i++ {
			vals = args(i, vals)
		}
		q := query(strings.TrimSuffix(strings.Repeat(tuple, k), ","))
		var err error
		if k == rowsPerInsert {
			if full == nil {
				if full, err = b.tx.PrepareContext(b.ctx, q); err != nil {
					return err
				}
			}
			_, err = full.ExecContext(b.ctx, vals...)
		} else {
			_, err = b.tx.ExecContext(b.ctx, q, vals...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func unixMicro(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

type scanner interface{ Scan(...any) error }

func scanAccount(r scanner) (chengdui.Account, error) {
	var a chengdui.Account
	var md, dp, dpo, cp, cpo string
	var created int64
	if err := r.Scan(&a.ID, &a.Asset, &a.Flags, &a.Code, &md, &dp, &dpo, &cp, &cpo, &created); err != nil {
		return a, err
	}
	var err error
	a.CreatedAt = time.UnixMicro(created).UTC()
	if a.Metadata, err = ledger.DecodeMetadata(md); err != nil {
		return a, err
	}
	for _, f := range []struct {
		dst *chengdui.Amount
		s   string
	}{{&a.DebitsPending, dp}, {&a.DebitsPosted, dpo}, {&a.CreditsPending, cp}, {&a.CreditsPosted, cpo}} {
		if *f.dst, err = chengdui.ParseUnits(f.s); err != nil {
			return a, fmt.Errorf("account %q: stored balance %q: %w", a.ID, f.s, err)
		}
	}
	return a, nil
}

func scanTransfer(r scanner) (chengdui.Transfer, error) {
	var t chengdui.Transfer
	var amount, md string
	var created int64
	if err := r.Scan(&t.Seq, &t.ID, &t.DebitAccountID, &t.CreditAccountID, &t.Asset, &amount, &t.PendingID,
		&t.Timeout, &t.Code, &t.Flags, &md, &created, &t.Hash); err != nil {
		return t, err
	}
	var err error
	t.Timestamp = time.UnixMicro(created).UTC()
	if t.Metadata, err = ledger.DecodeMetadata(md); err != nil {
		return t, err
	}
	if t.Amount, err = chengdui.ParseUnits(amount); err != nil {
		return t, fmt.Errorf("transfer %q: stored amount %q: %w", t.ID, amount, err)
	}
	return t, nil
}

func scanHead(r scanner) (ledger.Head, error) {
	var h ledger.Head
	var compact []byte
	if err := r.Scan(&h.Size, &h.ChainHash, &h.MerkleRoot, &compact); err != nil {
		return h, fmt.Errorf("journal head: %w", err)
	}
	var err error
	h.Compact, err = ledger.DecodeCompact(compact)
	return h, err
}

// scanString scans a one-column text row.
func scanString(r scanner) (string, error) {
	var v string
	err := r.Scan(&v)
	return v, err
}

// collect scans every row of a query into a slice, like pgx.CollectRows:
// pass the query's results straight in.
func collect[T any](rows *sql.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
