package chengdui

import (
	"context"
	"time"
)

// Idempotent is a stored answer to a request made with an Idempotency-Key.
// A request reserves its key first (Status 0) and completes it with its
// answer; a retry with the same key and the same request gets the same
// answer, with another request a conflict.
type Idempotent struct {
	Scope       string // who may reuse the key: e.g. the store or user id and the route
	Key         string // the client's Idempotency-Key
	RequestHash string // hex SHA-256 of what identifies the request (method, path, body)
	Status      int    // HTTP status of the answer; 0 while the first request is in flight
	Body        []byte // the answer's body
	CreatedAt   time.Time
}

// IdempotencyStore keeps idempotency keys. The sqlite and postgres packages
// implement it; storetest.RunIdempotency checks both.
type IdempotencyStore interface {
	// ReserveIdempotent stores r (with Status 0) when its scope and key are
	// new and returns it with created true; otherwise it returns what is
	// stored, created false, and changes nothing.
	ReserveIdempotent(ctx context.Context, r Idempotent) (stored Idempotent, created bool, err error)
	// CompleteIdempotent records the answer of a reserved key. Codes:
	// ENotFound when it is not reserved; EConflict when it was completed.
	CompleteIdempotent(ctx context.Context, scope, key string, status int, body []byte) error
	// ReleaseIdempotent forgets a reserved key that was not completed (the
	// request failed before it changed anything), so it can be retried.
	ReleaseIdempotent(ctx context.Context, scope, key string) error
	// TakeOverIdempotent gives a reservation left behind (its request's
	// process stopped before completing or releasing it) to a retry: if
	// the key is still reserved, uncompleted, at reservedAt, its time
	// becomes now and taken is true; otherwise (completed, released, or
	// taken over by another retry first) nothing changes. A compare-and-
	// set, so that of several retries one runs.
	TakeOverIdempotent(ctx context.Context, scope, key string, reservedAt, now time.Time) (taken bool, err error)
}
