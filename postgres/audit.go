package postgres

import (
	"context"
	"math"
	"time"

	"chengdui"
	"chengdui/audit"
	"chengdui/ledger"

	"github.com/jackc/pgx/v5"
)

var _ audit.Store = (*DB)(nil)

// AppendAudit implements audit.Store; e.Seq is ignored. Codes: EInvalid for
// an empty or over-long event name or over-large detail.
//
// The identity hands out seq at insert, not at commit: a reader paging by
// cursor while appends are in flight may see seq n+1 before seq n commits.
func (d *DB) AppendAudit(ctx context.Context, e chengdui.AuditEvent) error {
	detail, err := audit.EncodeDetail(e)
	if err != nil {
		return err
	}
	_, err = d.pool.Exec(ctx, `INSERT INTO audit_events (at, event, actor, ip, detail) VALUES ($1, $2, $3, $4, $5)`,
		e.At.UnixMicro(), e.Event, e.Actor, e.IP, detail)
	return err
}

const auditCols = `seq, at, event, actor, ip, detail`

// AuditEvents implements audit.Store. Codes: EInvalid for a limit below 1.
func (d *DB) AuditEvents(ctx context.Context, actor string, afterSeq uint64, limit int) ([]chengdui.AuditEvent, error) {
	if limit < 1 {
		return nil, chengdui.Errorf(chengdui.EInvalid, "audit event limit %d is below 1", limit)
	}
	// No seq is past MaxInt64, the top of BIGINT.
	after := int64(min(afterSeq, math.MaxInt64))
	var rows pgx.Rows
	if actor == "" {
		rows, _ = d.pool.Query(ctx, `SELECT `+auditCols+` FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
	} else {
		rows, _ = d.pool.Query(ctx, `SELECT `+auditCols+` FROM audit_events WHERE actor = $1 AND seq > $2 ORDER BY seq LIMIT $3`, actor, after, limit)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (chengdui.AuditEvent, error) { return scanAuditEvent(r) })
}

// encodeAuditDetail checks e and returns the stored form of its detail.
func scanAuditEvent(r pgx.Row) (chengdui.AuditEvent, error) {
	var e chengdui.AuditEvent
	var seq, at int64
	var detail string
	if err := r.Scan(&seq, &at, &e.Event, &e.Actor, &e.IP, &detail); err != nil {
		return chengdui.AuditEvent{}, err
	}
	md, err := ledger.DecodeMetadata(detail)
	if err != nil {
		return chengdui.AuditEvent{}, err
	}
	e.Seq, e.At, e.Detail = uint64(seq), time.UnixMicro(at).UTC(), md
	return e, nil
}
