package postgres

import (
	"context"
	"errors"
	"time"

	"chengdui"
	"chengdui/merchant"
	"chengdui/settle"

	"github.com/jackc/pgx/v5"
)

var _ settle.Store = (*DB)(nil)

// UpdateSettlement implements settle.Store: the store's row is locked
// (SELECT … FOR UPDATE), its settlement compared with old by their
// encodings, replaced by next and indexed, in one transaction.
func (d *DB) UpdateSettlement(ctx context.Context, storeID string, old, next chengdui.StoreSettlement) error {
	return pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		var cur string
		err := tx.QueryRow(ctx, `SELECT settlement FROM stores WHERE id = $1 FOR UPDATE`, storeID).Scan(&cur)
		if errors.Is(err, pgx.ErrNoRows) {
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
		if _, err := tx.Exec(ctx, `UPDATE stores SET settlement = $1 WHERE id = $2`, merchant.EncodeSettlement(next), storeID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO settlement_schedules (store_id, schedule, pending_at) VALUES ($1, $2, $3)
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
	rows, _ := d.pool.Query(ctx, `SELECT `+storeCols+` FROM stores WHERE id IN (
			SELECT store_id FROM settlement_schedules WHERE schedule <> 'manual'
			UNION SELECT store_id FROM settlement_schedules WHERE pending_at <= $1)
		AND id > $2 ORDER BY id LIMIT $3`, due.UnixMicro(), after, limit)
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

func pendingMicros(s chengdui.StoreSettlement) *int64 {
	if s.Pending == nil {
		return nil
	}
	v := s.Pending.EffectiveAt.UnixMicro()
	return &v
}
