package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"chengdui"
	"chengdui/ledger"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

var _ ledger.Store = (*DB)(nil)

const transferCols = `seq, id, debit_account_id, credit_account_id, asset, amount::text, pending_id, timeout, code, flags, metadata, created_at, hash`
const accountCols = `id, asset, flags, code, metadata, debits_pending::text, debits_posted::text, credits_pending::text, credits_posted::text, created_at`

// querier is what reads need: the pool or a snapshot transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// reader implements ledger.Reader over a querier.
type reader struct{ q querier }

var _ ledger.Reader = reader{}

// Accounts, Transfers and Head read from the pool.
func (d *DB) Accounts(ctx context.Context, afterID string, limit int) ([]chengdui.Account, error) {
	return reader{d.pool}.Accounts(ctx, afterID, limit)
}

func (d *DB) Transfers(ctx context.Context, f chengdui.TransferFilter) ([]chengdui.Transfer, error) {
	if f.AccountID == "" {
		return reader{d.pool}.Transfers(ctx, f)
	}
	// An account's history takes several statements: one snapshot.
	var out []chengdui.Transfer
	err := d.Snapshot(ctx, func(r ledger.Reader) (err error) {
		out, err = r.Transfers(ctx, f)
		return err
	})
	return out, err
}

func (d *DB) Head(ctx context.Context) (ledger.Head, error) { return reader{d.pool}.Head(ctx) }

// Snapshot implements ledger.Store with a REPEATABLE READ, READ ONLY
// transaction: one snapshot for all its statements.
func (d *DB) Snapshot(ctx context.Context, fn func(ledger.Reader) error) error {
	tx, err := d.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	return fn(reader{tx})
}

// CreateAsset implements ledger.Store.
func (d *DB) CreateAsset(ctx context.Context, a chengdui.Asset) (chengdui.Asset, error) {
	_, err := d.pool.Exec(ctx, `INSERT INTO assets (code, network, decimals, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (code) DO NOTHING`, a.Code, a.Network, int(a.Decimals), a.CreatedAt.UnixMicro())
	if err != nil {
		return chengdui.Asset{}, err
	}
	return d.Asset(ctx, a.Code)
}

func scanAsset(r pgx.Row) (chengdui.Asset, error) {
	var a chengdui.Asset
	var created int64
	var dec int
	err := r.Scan(&a.Code, &a.Network, &dec, &created)
	a.Decimals = uint8(dec)
	a.CreatedAt = time.UnixMicro(created).UTC()
	return a, err
}

// Asset implements ledger.Store.
func (d *DB) Asset(ctx context.Context, code string) (chengdui.Asset, error) {
	a, err := scanAsset(d.pool.QueryRow(ctx, `SELECT code, network, decimals, created_at FROM assets WHERE code = $1`, code))
	if errors.Is(err, pgx.ErrNoRows) {
		return a, chengdui.Errorf(chengdui.EAssetNotFound, "asset %q does not exist", code)
	}
	return a, err
}

// Assets implements ledger.Store.
func (d *DB) Assets(ctx context.Context) ([]chengdui.Asset, error) {
	rows, _ := d.pool.Query(ctx, `SELECT code, network, decimals, created_at FROM assets ORDER BY code`)
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (chengdui.Asset, error) { return scanAsset(r) })
}

// CreateAccount implements ledger.Store.
func (d *DB) CreateAccount(ctx context.Context, a chengdui.Account) (chengdui.Account, error) {
	if _, err := d.Asset(ctx, a.Asset); err != nil {
		return chengdui.Account{}, err
	}
	_, err := d.pool.Exec(ctx, `INSERT INTO accounts (id, asset, flags, code, metadata, debits_pending, debits_posted, credits_pending, credits_posted, created_at)
		VALUES ($1, $2, $3, $4, $5, 0, 0, 0, 0, $6) ON CONFLICT (id) DO NOTHING`,
		a.ID, a.Asset, int64(a.Flags), int(a.Code), ledger.EncodeMetadata(a.Metadata), a.CreatedAt.UnixMicro())
	if err != nil {
		return chengdui.Account{}, err
	}
	return d.Account(ctx, a.ID)
}

// Account implements ledger.Store.
func (d *DB) Account(ctx context.Context, id string) (chengdui.Account, error) {
	a, err := scanAccount(d.pool.QueryRow(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return a, chengdui.Errorf(chengdui.EAccountNotFound, "account %q does not exist", id)
	}
	return a, err
}

// Accounts implements ledger.Reader.
func (r reader) Accounts(ctx context.Context, afterID string, limit int) ([]chengdui.Account, error) {
	rows, _ := r.q.Query(ctx, `SELECT `+accountCols+` FROM accounts WHERE id > $1 ORDER BY id LIMIT $2`, afterID, limit)
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (chengdui.Account, error) { return scanAccount(r) })
}

// Transfer implements ledger.Store.
func (d *DB) Transfer(ctx context.Context, id string) (chengdui.Transfer, error) {
	t, err := scanTransfer(d.pool.QueryRow(ctx, `SELECT `+transferCols+` FROM transfers WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
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
	rows, _ := r.q.Query(ctx, `SELECT `+transferCols+` FROM transfers WHERE seq > $1 ORDER BY seq LIMIT $2`, int64(f.AfterSeq), f.Limit)
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (chengdui.Transfer, error) { return scanTransfer(r) })
}

// accountTransfers reads an account's history: seqs from the indexed
// chunks, then from the unindexed tail, then the transfers. The caller
// runs it in one snapshot.
func (r reader) accountTransfers(ctx context.Context, f chengdui.TransferFilter) ([]chengdui.Transfer, error) {
	var seqs []int64
	rows, err := r.q.Query(ctx, `SELECT seqs FROM account_history WHERE account_id = $1 AND last_seq > $2 ORDER BY first_seq`, f.AccountID, int64(f.AfterSeq))
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
				seqs = append(seqs, int64(s))
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(seqs) < f.Limit {
		rows, _ := r.q.Query(ctx, `SELECT t.seq FROM transfers t, history_cursor c WHERE c.id = 1 AND t.seq > greatest($2, c.indexed_size)
			AND (t.debit_account_id = $1 OR t.credit_account_id = $1) ORDER BY t.seq LIMIT $3`, f.AccountID, int64(f.AfterSeq), f.Limit-len(seqs))
		tail, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return nil, err
		}
		seqs = append(seqs, tail...)
	}
	if len(seqs) == 0 {
		return nil, nil
	}
	rows, _ = r.q.Query(ctx, `SELECT `+transferCols+` FROM transfers WHERE seq = ANY($1) ORDER BY seq`, seqs)
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (chengdui.Transfer, error) { return scanTransfer(r) })
}

// PendingStatus implements ledger.Store.
func (d *DB) PendingStatus(ctx context.Context, id string) (chengdui.PendingStatus, error) {
	var s int16
	err := d.pool.QueryRow(ctx, `SELECT status FROM pending_transfers WHERE id = $1`, id).Scan(&s)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, chengdui.Errorf(chengdui.EPendingNotFound, "no pending transfer %q", id)
	}
	return chengdui.PendingStatus(s), err
}

// ExpiredPending implements ledger.Store.
func (d *DB) ExpiredPending(ctx context.Context, now time.Time, limit int) ([]string, error) {
	rows, _ := d.pool.Query(ctx, `SELECT id FROM pending_transfers WHERE status = 1 AND expires_at > 0 AND expires_at <= $1
		ORDER BY expires_at LIMIT $2`, now.UnixMicro(), limit)
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

const headQuery = `SELECT size, chain_hash, merkle_root, compact FROM ledger_head WHERE id = 1`

// Head implements ledger.Reader.
func (r reader) Head(ctx context.Context) (ledger.Head, error) {
	return scanHead(r.q.QueryRow(ctx, headQuery))
}

// IndexHistory implements ledger.Store: one account_history row per
// account in the chunk. The cursor row is locked, not the journal head, so
// indexing never blocks commits.
func (d *DB) IndexHistory(ctx context.Context, max int) (int, error) {
	var n int
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		var from, size int64
		if err := tx.QueryRow(ctx, `SELECT indexed_size FROM history_cursor WHERE id = 1 FOR UPDATE`).Scan(&from); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT size FROM ledger_head WHERE id = 1`).Scan(&size); err != nil {
			return err
		}
		to := min(size, from+int64(max))
		if to <= from {
			return nil
		}
		if _, err := tx.Exec(ctx, `INSERT INTO account_history (account_id, first_seq, last_seq, seqs)
			SELECT account_id, min(seq), max(seq), string_agg(seq::text, ',' ORDER BY seq) FROM (
				SELECT debit_account_id AS account_id, seq FROM transfers WHERE seq > $1 AND seq <= $2
				UNION ALL SELECT credit_account_id, seq FROM transfers WHERE seq > $1 AND seq <= $2) e
			GROUP BY account_id`, from, to); err != nil {
			return fmt.Errorf("index history: %w", err)
		}
		n = int(to - from)
		_, err := tx.Exec(ctx, `UPDATE history_cursor SET indexed_size = $1 WHERE id = 1`, to)
		return err
	})
	return n, err
}

// Prefetch implements ledger.Store, reading from the pool.
func (d *DB) Prefetch(ctx context.Context, transferIDs, accountIDs, pendingIDs []string) (*ledger.Prefetched, error) {
	return ledger.PrefetchWith(&batchTx{ctx: ctx, q: d.pool}, transferIDs, accountIDs, pendingIDs)
}

// Commit implements ledger.Store. The head row is locked first: commits
// from every process queue behind it, so the journal has one order.
func (d *DB) Commit(ctx context.Context, fn func(ledger.BatchTx) error) error {
	return pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		return fn(&batchTx{ctx: ctx, tx: tx, q: tx})
	})
}

type batchTx struct {
	ctx context.Context
	tx  pgx.Tx  // writes
	q   querier // reads: the transaction, or the pool for Prefetch
}

func (b *batchTx) Head() (ledger.Head, error) {
	return scanHead(b.tx.QueryRow(b.ctx, headQuery+" FOR UPDATE"))
}

func (b *batchTx) Transfers(ids []string) (map[string]chengdui.Transfer, error) {
	out := map[string]chengdui.Transfer{}
	rows, _ := b.q.Query(b.ctx, `SELECT `+transferCols+` FROM transfers WHERE id = ANY($1)`, ids)
	_, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (struct{}, error) {
		t, err := scanTransfer(r)
		out[t.ID] = t
		return struct{}{}, err
	})
	return out, err
}

func (b *batchTx) Accounts(ids []string) (map[string]chengdui.Account, error) {
	out := make(map[string]chengdui.Account, len(ids))
	rows, _ := b.q.Query(b.ctx, `SELECT `+accountCols+` FROM accounts WHERE id = ANY($1)`, ids)
	_, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (struct{}, error) {
		a, err := scanAccount(r)
		out[a.ID] = a
		return struct{}{}, err
	})
	return out, err
}

func (b *batchTx) Pending(ids []string) (map[string]ledger.PendingState, error) {
	out := map[string]ledger.PendingState{}
	rows, _ := b.q.Query(b.ctx, `SELECT id, status, expires_at FROM pending_transfers WHERE id = ANY($1)`, ids)
	_, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (struct{}, error) {
		var p ledger.PendingState
		var st int16
		var exp int64
		if err := r.Scan(&p.ID, &st, &exp); err != nil {
			return struct{}{}, err
		}
		p.Status = chengdui.PendingStatus(st)
		if exp > 0 {
			p.ExpiresAt = time.UnixMicro(exp).UTC()
		}
		out[p.ID] = p
		return struct{}{}, nil
	})
	return out, err
}

// Write copies the transfers in, then sends the rest in one round trip:
// one UPDATE for all balances, one upsert for pending states, the head.
func (b *batchTx) Write(w *ledger.Batch) error {
	if len(w.Transfers) > 0 {
		// COPY in binary: no SQL to parse per row, no text-to-numeric
		// casts.
		rows := make([][]any, len(w.Transfers))
		for i := range w.Transfers {
			t := &w.Transfers[i]
			rows[i] = []any{int64(t.Seq), t.ID, t.DebitAccountID, t.CreditAccountID, t.Asset,
				pgtype.Numeric{Int: t.Amount.Big(), Valid: true}, t.PendingID, int64(t.Timeout), int32(t.Code), int64(t.Flags),
				ledger.EncodeMetadata(t.Metadata), t.Timestamp.UnixMicro(), t.Hash}
		}
		if _, err := b.tx.CopyFrom(b.ctx, pgx.Identifier{"transfers"}, []string{"seq", "id", "debit_account_id", "credit_account_id",
			"asset", "amount", "pending_id", "timeout", "code", "flags", "metadata", "created_at", "hash"}, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("copy transfers: %w", err)
		}
	}
	batch := &pgx.Batch{}
	if m := len(w.Accounts); m > 0 {
		aid, dp, dpo, cp, cpo := make([]string, m), make([]string, m), make([]string, m), make([]string, m), make([]string, m)
		for i, a := range w.Accounts {
			aid[i], dp[i], dpo[i], cp[i], cpo[i] = a.ID, a.DebitsPending.String(), a.DebitsPosted.String(), a.CreditsPending.String(), a.CreditsPosted.String()
		}
		batch.Queue(`UPDATE accounts a SET debits_pending = u.dp::numeric, debits_posted = u.dpo::numeric,
			credits_pending = u.cp::numeric, credits_posted = u.cpo::numeric
			FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(id, dp, dpo, cp, cpo) WHERE a.id = u.id`,
			aid, dp, dpo, cp, cpo)
	}
	if m := len(w.Pending); m > 0 {
		pid, st, exp := make([]string, m), make([]int16, m), make([]int64, m)
		for i, p := range w.Pending {
			pid[i], st[i] = p.ID, int16(p.Status)
			if !p.ExpiresAt.IsZero() {
				exp[i] = p.ExpiresAt.UnixMicro()
			}
		}
		batch.Queue(`INSERT INTO pending_transfers (id, status, expires_at) SELECT * FROM unnest($1::text[], $2::smallint[], $3::bigint[])
			ON CONFLICT (id) DO UPDATE SET status = excluded.status`, pid, st, exp)
	}
	batch.Queue(`UPDATE ledger_head SET size = $1, chain_hash = $2, merkle_root = $3, compact = $4 WHERE id = 1`,
		int64(w.Head.Size), w.Head.ChainHash, w.Head.MerkleRoot, ledger.EncodeCompact(w.Head.Compact))
	if err := b.tx.SendBatch(b.ctx, batch).Close(); err != nil {
		return fmt.Errorf("write batch: %w", err)
	}
	return nil
}

func scanAccount(r pgx.Row) (chengdui.Account, error) {
	var a chengdui.Account
	var md, dp, dpo, cp, cpo string
	var created, flags int64
	var code int
	if err := r.Scan(&a.ID, &a.Asset, &flags, &code, &md, &dp, &dpo, &cp, &cpo, &created); err != nil {
		return a, err
	}
	a.Flags, a.Code = chengdui.AccountFlags(flags), uint16(code)
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

func scanTransfer(r pgx.Row) (chengdui.Transfer, error) {
	var t chengdui.Transfer
	var amount, md string
	var seq, timeout, created, flags int64
	var code int
	if err := r.Scan(&seq, &t.ID, &t.DebitAccountID, &t.CreditAccountID, &t.Asset, &amount, &t.PendingID,
		&timeout, &code, &flags, &md, &created, &t.Hash); err != nil {
		return t, err
	}
	t.Seq, t.Timeout, t.Code, t.Flags = uint64(seq), uint32(timeout), uint16(code), chengdui.TransferFlags(flags)
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

func scanHead(r pgx.Row) (ledger.Head, error) {
	var h ledger.Head
	var size int64
	var compact []byte
	if err := r.Scan(&size, &h.ChainHash, &h.MerkleRoot, &compact); err != nil {
		return h, fmt.Errorf("journal head: %w", err)
	}
	h.Size = uint64(size)
	var err error
	h.Compact, err = ledger.DecodeCompact(compact)
	return h, err
}
