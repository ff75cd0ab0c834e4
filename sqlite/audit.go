package sqlite

import (
	"context"
	"math"
	"time"

	"chengdui"
	"chengdui/audit"
	"chengdui/ledger"
)

var _ audit.Store = (*DB)(nil)

// AppendAudit implements audit.Store; e.Seq is ignored. Codes: EInvalid for
// an empty or over-long event name or over-large detail.
func (d *DB) AppendAudit(ctx context.Context, e chengdui.AuditEvent) error {
	detail, err := audit.EncodeDetail(e)
	if err != nil {
		return err
	}
	_, err = d.write.ExecContext(ctx, `INSERT INTO audit_events (at, event, actor, ip, detail) VALUES (?, ?, ?, ?, ?)`,
		e.At.UnixMicro(), e.Event, e.Actor, e.IP, detail)
	return err
}

const auditCols = `seq, at, event, actor, ip, detail`

// AuditEvents implements audit.Store. Codes: EInvalid for a limit below 1.
func (d *DB) AuditEvents(ctx context.Context, actor string, afterSeq uint64, limit int) ([]chengdui.AuditEvent, error) {
	if limit < 1 {
		return nil, chengdui.Errorf(chengdui.EInvalid, "audit event limit %d is below 1", limit)
	}
	// No seq is past MaxInt64, and the driver refuses larger uint64s.
	after := int64(min(afterSeq, math.MaxInt64))
	q, args := `SELECT `+auditCols+` FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?`, []any{after, limit}
	if actor != "" {
		q, args = `SELECT `+auditCols+` FROM audit_events WHERE actor = ? AND seq > ? ORDER BY seq LIMIT ?`, []any{actor, after, limit}
	}
	rows, err := d.read.QueryContext(ctx, q, args...)
	return collect(rows, err, scanAuditEvent)
}

// encodeAuditDetail checks e and returns the stored form of its detail.
func scanAuditEvent(r scanner) (chengdui.AuditEvent, error) {
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
