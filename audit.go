package chengdui

import (
	"context"
	"time"
)

// AuditEvent is one security-relevant event: a login, a failed login, a
// two-factor change, an API key created or revoked, a passphrase change.
// Detail never holds a secret.
type AuditEvent struct {
	Seq    uint64            `json:"seq"`
	At     time.Time         `json:"at"`
	Event  string            `json:"event"`  // e.g. login, login_failed, totp_enabled, api_key_created
	Actor  string            `json:"actor"`  // user id, or "" when unknown (a failed login names the email in Detail)
	IP     string            `json:"ip"`     // client address, "" for the CLI
	Detail map[string]string `json:"detail"` // ids and names, never secrets
}

// Audit event names.
const (
	AuditRegistered        = "registered"
	AuditLogin             = "login"
	AuditLoginFailed       = "login_failed"
	AuditLogout            = "logout"
	AuditTOTPEnrolled      = "totp_enrolled"
	AuditTOTPEnabled       = "totp_enabled"
	AuditAPIKeyCreated     = "api_key_created"
	AuditAPIKeyRevoked     = "api_key_revoked"
	AuditSecondFactorNo    = "second_factor_refused"
	AuditRateLimited       = "rate_limited"
	AuditPassphraseChanged = "keystore_passphrase_changed"
)

type requestInfoKey struct{}

// RequestInfo is who is asking, for the audit log: set by the HTTP edge.
type RequestInfo struct {
	IP string
}

// WithRequestInfo returns ctx carrying ri.
func WithRequestInfo(ctx context.Context, ri RequestInfo) context.Context {
	return context.WithValue(ctx, requestInfoKey{}, ri)
}

// RequestInfoFrom returns the RequestInfo of ctx, zero if none.
func RequestInfoFrom(ctx context.Context) RequestInfo {
	ri, _ := ctx.Value(requestInfoKey{}).(RequestInfo)
	return ri
}
