package chengdui

import (
	"errors"
	"fmt"
)

// Error codes. Each refusal has its own code so that clients can act on it
// without parsing messages; only the http package maps codes to statuses.
const (
	// Generic codes.
	EInvalid      = "invalid"
	ENotFound     = "not_found"
	EConflict     = "conflict"
	EUnauthorized = "unauthorized"
	EUnavailable  = "unavailable"
	EInternal     = "internal"

	// ESecondFactorRequired: the action needs two-factor authentication
	// and the user has not enabled it.
	ESecondFactorRequired = "second_factor_required"
	// ERateLimited: too many failed attempts; retry later.
	ERateLimited = "rate_limited"

	// Ledger refusals (one per rule).
	EAccountNotFound      = "account_not_found"
	EAssetNotFound        = "asset_not_found"
	EAssetMismatch        = "asset_mismatch"
	EZeroAmount           = "zero_amount"
	EInvalidAmount        = "invalid_amount"
	ESameAccount          = "same_account"
	EExceedsCredits       = "exceeds_credits" // debits_must_not_exceed_credits breached
	EExceedsDebits        = "exceeds_debits"  // credits_must_not_exceed_debits breached
	EOverflow             = "overflow"
	EIDConflict           = "id_conflict" // id reused with a different body
	EExists               = "exists"      // asset/account created twice with another body
	EPendingNotFound      = "pending_not_found"
	EPendingPosted        = "pending_already_posted"
	EPendingVoided        = "pending_already_voided"
	EPendingExpired       = "pending_expired"
	EExceedsPendingAmount = "exceeds_pending_amount"
	ELinkedEventFailed    = "linked_event_failed"
	ELinkedChainOpen      = "linked_chain_open"
	EInvalidFlags         = "invalid_flags"
)

// Error is the platform's one error type: a machine-readable code and a
// message a person can act on. Messages never contain secrets.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, EInternal for errors of other types and
// "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the human message of err. Errors of other types get a
// generic message: their details belong in logs, not in responses.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
