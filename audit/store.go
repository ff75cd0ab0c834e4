// Package audit records security-relevant events in an append-only table:
// who (actor, client IP), what, when — never a secret.
package audit

import (
	"context"

	"chengdui"
	"chengdui/ledger"
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

// Limits on an audit event, the same on both engines: an event name is a
// short constant, and detail holds ids and names, not documents.
const (
	MaxEventLength  = 64
	MaxDetailKeys   = 32
	MaxDetailLength = 2048
)

// EncodeDetail checks an event against the limits and returns its detail
// in stored form (JSON with sorted keys, "" when empty). Both storage
// adapters use it. Codes: EInvalid.
func EncodeDetail(e chengdui.AuditEvent) (string, error) {
	switch {
	case e.Event == "":
		return "", chengdui.Errorf(chengdui.EInvalid, "audit event has no name")
	case len(e.Event) > MaxEventLength:
		return "", chengdui.Errorf(chengdui.EInvalid, "audit event name is longer than %d bytes", MaxEventLength)
	case len(e.Detail) > MaxDetailKeys:
		return "", chengdui.Errorf(chengdui.EInvalid, "audit event %q has more than %d detail keys", e.Event, MaxDetailKeys)
	}
	detail := ledger.EncodeMetadata(e.Detail)
	if len(detail) > MaxDetailLength {
		return "", chengdui.Errorf(chengdui.EInvalid, "audit event %q: detail exceeds %d bytes", e.Event, MaxDetailLength)
	}
	return detail, nil
}
