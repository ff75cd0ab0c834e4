// Package refund gives a settled invoice's payer money back (Greenfield's
// invoice refund, answered as a pull payment): the merchant creates a
// refund, the payer claims it on its page to their platform balance or to
// an outside address.
//
// # What is refunded
//
// A refund pays back one asset A the invoice received (the first of the
// request's payoutMethods the invoice was paid in; by default the asset
// of its first settled payment). Let paid be what the invoice's settled
// payments brought in A, P the invoice's price in its currency C, and D
// the due of A at the quote locked when the invoice was made. A payment
// of a is worth a × P / D of C at that quote (a top-up invoice: a × the
// locked rate), as settle.Converter credits it. The price paid in A is
// min(paid, D) (an overpayment left out).
//
//   - RateThen: the price paid in A, in A: min(paid, D).
//   - CurrentRate: the value of the price paid in A (in C, at the locked
//     quote) converted back into A at the current rate.
//   - OverpaidAmount: what all settled payments are worth beyond P, in A
//     at the locked quote, at most paid; refused (invalid) when the
//     invoice is not overpaid.
//   - Fiat: the value of the price paid in A, in C; converted into A at
//     the current rate when the payer claims it (at the first claim, once).
//   - Custom: customAmount in A (customCurrency A or its unit, e.g. USDT),
//     or in C (customCurrency C), then converted at the locked quote.
//
// subtractPercentage (0 to 100, two decimals) comes off that amount.
// Amounts in A are rounded down. Current rates come from the invoice
// service's Quoter asked without spread: a refund carries no spread.
//
// # Never more than was paid
//
// The amounts in A of an invoice's live refunds (every state but
// Cancelled) never add up to more than paid. The Store checks it in the
// transaction that writes the refund (or converts a Fiat refund at its
// claim), serialised per invoice and asset, so two concurrent refunds
// cannot both pass: the second gets EExceedsPaid. Partial refunds are
// refunds whose amounts stay within that bound.
//
// # The ledger
//
// Creating a refund posts one linked batch, all or nothing. A store whose
// payments are converted (its balance is in C):
//
//	store:<store>:C        → platform:C:inventory   value  what the store gives back
//	platform:A:inventory   → refund:<id>:A          a      held for the payer
//
// The value is the amount at the locked quote (RateThen, Custom in C) or
// at the current rate (CurrentRate, OverpaidAmount, Custom in A), rounded
// down. A Fiat refund holds store:<store>:C → refund:<id>:C until its
// claim converts it (refund:<id>:C → platform:C:inventory and
// platform:A:inventory → refund:<id>:A, linked with the claim). A store
// that keeps the asset paid (settlement mode "keep", or A is its
// settlement asset or the invoice's currency) gives back A itself:
// store:<store>:A → refund:<id>:A (its Fiat refunds are converted at once,
// at the current rate: it holds no C to owe).
//
// The platform's fee and spread are not returned: the store gives back
// the whole value (as card processors keep their fee on a refund), so a
// full refund costs the store the fee it paid. store:<store>:C may not be
// overdrawn: a store whose balance is short is refused whole
// (EExceedsCredits) and nothing is stored.
//
// A claim to the payer's balance posts refund:<id>:A → user:<uid>:A. A
// claim to an address holds refund:<id>:A → platform:A:chain (pending) and
// hands withdraw.Service.Enqueue the withdrawal rf-<id>-<attempt>
// (withdraw.OriginRefund); OnWithdrawal posts the hold when it completes,
// or voids it when it fails, and the refund is claimable again. A
// merchant's cancel (only while unclaimed) posts the reverse legs: the
// store has its value back.
//
// Transfer ids are rf:<id>:<leg> (claims carry their attempt number), so
// every step is idempotent. Create is idempotent by the store and the
// client's id. A state change is stored first with Booked false, then its
// ledger work is done and Booked set; Recover finishes what a crash left
// unbooked. Creating a refund stores it (state Creating, which reserves
// its amount) before its batch: a batch the ledger refuses deletes it.
//
// # States
//
// AwaitingClaim → InProgress → Completed; AwaitingClaim → Cancelled; an
// address claim whose withdrawal fails goes back to AwaitingClaim.
// Config.Notify is called after each stored change.
package refund
