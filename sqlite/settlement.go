package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"chengdui"
	"chengdui/merchant"
	"chengdui/settle"
)

var _ settle.Store = (*DB)(nil)

// UpdateSettlement implements settle.Store: in one write transaction
// (SQLite's write lock orders concurrent ones), the stored settlement is
// compared with old by their encodings, replaced by next and indexed.
func (d *DB) UpdateSettlement(ctx context.Context, storeID string, old, next chengdui.StoreSettlement) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		var cur string
		err := tx.QueryRowContext(ctx, `SELECT settlement FROM stores WHERE id = ?`, storeID).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return chengdui.Errorf(chengdui.ENotFound, "no store %q", storeID)
		} else if err != nil {
			return err
		}
		stored, err := merchant.DecodeSettlement(cur)
		if err != nil {
			return err
		}
		if merchant.EncodeSettlement(stored) != merchant.EncodeSettlement(old) {
			return chengdui.Errorf(chengdui.EConflict, "the settlement of store %s changed meanwhile; read it again", storeID)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE stores SET settlement = ? WHERE id = ?`, merchant.EncodeSettlement(next), storeID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO settlement_schedules (store_id, schedule, pending_at) VALUES (?, ?, ?)
			ON CONFLICT (store_id) DO UPDATE SET schedule = excluded.schedule, pending_at = excluded.pending_at`,
			storeID, scheduleKind(next), pendingMicros(next))
		return err
	})
}

// SettlementStores implements settle.Store.
func (d *DB) SettlementStores(ctx context.Context, due time.Time, after string, limit int) ([]chengdui.Store, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := d.read.QueryContext(ctx, `SELECT `+storeCols+` FROM stores WHERE id IN (
			SELECT store_id FROM settlement_schedules WHERE schedule <> 'manual'
			UNION SELECT store_id FROM settlement_schedules WHERE pending_at <= ?)
		AND id > ? ORDER BY id LIMIT ?`, due.UnixMicro(), after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []chengdui.Store
	for rows.Next() {
		s, err := scanStore(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// scheduleKind is the indexed schedule of a settlement.
func scheduleKind(s chengdui.StoreSettlement) string {
	switch s.Schedule.Kind {
	case chengdui.ScheduleInstant, chengdui.ScheduleDaily:
		return s.Schedule.Kind
	}
	return chengdui.ScheduleManual
}

func pendingMicros(s chengdui.StoreSettlement) sql.NullInt64 {
	if s.Pending == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: s.Pending.EffectiveAt.UnixMicro(), Valid: true}
}
