// Package withdraw sends users' funds out to addresses they name.
//
// A withdrawal needs the user's second factor (auth.Guard). It holds the
// amount with a pending ledger transfer (the user's account → the asset's
// platform chain account) before anything touches a chain, so the money
// cannot be spent twice; a chain's Payer then sends it (the EVM hot
// wallet's Sender, the Bitcoin hot wallet's batches) and reports back:
// Complete posts the hold and books the network fee as the platform's
// expense, Fail voids the hold and gives the user their balance back.
//
// The platform's own services send through the same payers: Enqueue takes
// a withdrawal with an Origin (OriginPayout for a store's crypto payout,
// OriginRefund for a refund to an outside address) whose amount the
// service has held itself, crediting the same chain account. It needs no
// second factor and holds nothing; the payers batch it with the users'
// withdrawals, and the function the service registered with OnOutcome
// hears it sent, completed or failed (before the status is written, so a
// failing function is called again), and posts or voids the service's hold.
//
// Requests are idempotent by id: the same id with the same body returns the
// first withdrawal; with another body it is a conflict.
package withdraw
