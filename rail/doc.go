// Package rail describes fiat payout channels ("rails"): the Rail
// interface that settlement pays merchants through, the Order a rail
// carries, the asynchronous Update it reports, and the validation every
// rail shares (IBAN, BIC, order fields).
//
// A rail accepts an order synchronously (Submit returns the bank's
// reference) and settles it later: it reports Completed, Failed or, after
// completion, Returned through a callback its implementation defines
// (sandbox.VerifyCallback for the sandbox bank) and through Status for
// polling. Submit is idempotent by Order.ID, so a caller that does not know
// whether its submission arrived submits again.
//
// Implementations: package sandbox (a bank with its own HTTP service, for
// development and tests) and package sepa (ISO 20022 pain.001 SEPA credit
// transfer batch files). A real bank API adapter implements the same
// interface.
//
// Order ids are 1–35 characters of letters, digits, '-', '.' and ':' so
// that one id serves as the HTTP Idempotency-Key, the SEPA EndToEndId and
// the reference a bank statement echoes; a UUID with dashes (36) is too
// long, "po-" plus 22 base58 characters fits.
package rail
