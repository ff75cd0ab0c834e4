// Package sandbox is a bank for development and tests: its own HTTP
// service with accounts, payment orders, asynchronous confirmations,
// signed callbacks and statements, and Client, the rail.Rail that pays
// through it. It stands in for a real bank API; nothing leaves the
// process.
//
// The platform's operating accounts (one per currency: CNY, EUR, USD) are
// funded at start from Config.Funding; a creditor's account opens on its
// first payment. POST /v1/payment-orders accepts an order at once (201,
// status accepted, a bank reference "SBX…"); after Config.ConfirmDelay
// (200 ms by default) the bank settles it:
//
//   - Failed, ReasonClosedAccount, when the creditor's IBAN or account
//     number is on Config.FailAccounts;
//   - Failed, ReasonInsufficientFunds, when the operating account holds
//     less than the amount;
//   - otherwise Completed: the operating account is debited and the
//     creditor's credited, each with a statement entry.
//
// POST /v1/payment-orders/{id}/return returns a Completed payment (as a
// creditor's bank does for a closed account): the creditor's account is
// debited, the operating account credited, and the order becomes Returned.
//
// Every status change is POSTed to Config.CallbackURL as JSON
// {"order_id","bank_ref","status","reason","at"} with the header
// X-Sandbox-Signature: sha256=<hex HMAC-SHA256 of the body under
// Config.CallbackSecret>. A callback that does not get a 2xx answer is
// retried (Config.CallbackAttempts tries, the wait doubling from
// Config.CallbackBackoff); an order's callbacks are sent in order, so
// Returned never overtakes Completed. The platform checks them with
// VerifyCallback and may poll Client.Status as well.
//
// Idempotency: the Idempotency-Key header is the order id. The same key
// with the same order answers 200 with the first order (same reference,
// paid once); with another order 409 id_conflict.
//
// Amounts travel as decimal strings in whole units with the currency's
// two decimals ("12.34"), never as floats; statements list entries with
// their booking time, value date, amount, balance after, order id, bank
// reference and remittance information, and an opening balance, so that
// reconciliation can check every balance. State is in memory only.
package sandbox
