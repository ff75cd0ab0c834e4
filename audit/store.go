// Package audit records security-relevant events in an append-only table:
// who (actor, client IP), what, when — never a secret.
package audit

import (
	"context"

	"chengdui"
)

// Store is the audit log's storage. The sqlite and postgres packages
// implement it (migration 0004_audit); storetest.RunAudit checks both.
type Store interface {
	// AppendAudit adds an event; storage assigns Seq in append order.
	AppendAudit(ctx context.Context, e chengdui.AuditEvent) error
	// AuditEvents lists events in Seq order after the cursor, all actors
	// when actor is "".
	AuditEvents(ctx context.Context, actor string, afterSeq uint64, limit int) ([]chengdui.AuditEvent, error)
}
