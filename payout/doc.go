// Package payout pays merchants' store balances out of the platform, as
// BTCPay Server's payouts: fiat through a bank rail (package rail) to a
// creditor's account, or crypto to an address through a CryptoSender.
//
// # States
//
//	AwaitingApproval ──Approve──▶ AwaitingPayment ──Dispatch──▶ InProgress ──Completed──▶ Completed
//	       │                            │                          │                          │
//	       └──────────Cancel────────────┴──▶ Cancelled             └──Failed──▶ Failed ◀──Returned
//
// Create holds the amount at once: a pending ledger transfer po:<id>:hold
// from the store's balance (store:<storeID>:<ASSET>) to HoldAccount: the
// asset's payouts account (platform:<ASSET>:payouts) for a Bank payout,
// the asset's chain account (platform:<ASSET>:chain, as deposit.ChainAccount)
// for a Chain payout, so that what leaves the chain leaves the chain
// account, as a user's withdrawal does. A payout above its asset's
// Config.ApprovalAbove waits for an operator other than its creator to
// Approve it. Cancel, before it is sent, voids the hold. Dispatch claims
// each AwaitingPayment payout with a compare-and-set to InProgress, so one
// process sends it, and submits it: to its rail (a rail.Order whose id is
// the payout's id) or to the crypto sender. The outcome comes back as a
// rail.Update through Apply: Completed posts the hold (the store is
// debited, HoldAccount credited), Failed voids it, and Returned
// (the creditor's bank gave a completed payment back) books a
// compensating transfer po:<id>:return from HoldAccount to the
// store and leaves the payout Failed with Reason "returned by the bank".
//
// Payout ids are "po-" and up to 22 base58 characters (ID), derived from the
// store and the client's id, so that Create is idempotent by the client's
// id and one id serves as the rail order id, the Idempotency-Key at the
// bank and the reference a statement echoes.
//
// # Crashes and concurrency
//
// Every state change is one write to the store, conditional on the
// payout's version (Store.UpdatePayout), and the ledger's part comes
// before it under ids derived from the payout's (po:<id>:hold, :post,
// :void, :return), which the ledger applies once. So:
//
//   - Create: a crash after the hold and before the record leaves the
//     hold open and no payout; the client's retry with the same id
//     replays the hold and stores the payout. Without a retry the hold
//     stays until someone voids it (it is findable in the ledger by its
//     id prefix and CodePayout).
//   - Apply: a crash after the ledger and before the write leaves the
//     payout in its old state; the rail's next delivery of the update (a
//     retried callback, a poll) finds the transfer already made and
//     writes the state.
//   - Dispatch: a crash after the claim leaves the payout InProgress and
//     unaccepted; after Config.Retry, Dispatch submits it again, which
//     the rail answers with the first submission's reference (Submit is
//     idempotent by order id), so it is paid once. A rail error other
//     than a refusal of the order (an unreachable bank, a timeout) is
//     handled the same way: the bank may have the order, so the payout
//     does not go back to AwaitingPayment, where it could be cancelled.
//   - Cancel is the exception: it writes Cancelled first, then voids the
//     hold, because voiding first would race Approve and Dispatch (a
//     hold voided for a payout being sent cannot be taken back). A crash
//     between leaves a Cancelled payout with an open hold, which Cancel
//     again or Recover (run by Run at start and on each pass) voids.
//
// Two processes may run Dispatch and Apply on one database: the
// compare-and-set decides which one moves a payout, and the loser reads
// it again.
//
// Batching crypto payouts is the CryptoSender's business; this package
// hands them over one by one. ChainSender is the CryptoSender of the
// platform's hot wallets: it enqueues each payout as a withdrawal
// (withdraw.Service.Enqueue, origin withdraw.OriginPayout), so the chains'
// payers batch payouts with users' withdrawals (several outputs in one
// Bitcoin transaction; BatchPayer calls of up to 100 recipients on EVM
// chains), and it applies the withdrawal's outcome back to the payout.
package payout
