// Package merchant is the merchant side of the platform: stores owned by
// users, their scoped API keys (shown once, stored as SHA-256, revocable,
// last use recorded), and the two-factor authentication that guards
// sensitive actions — creating API keys now, changing payout destinations
// and withdrawing when those arrive (auth.Guard).
//
// Every method that takes an owner checks that the store is the owner's
// and answers ENotFound otherwise, so one merchant cannot learn another's
// store ids.
package merchant
