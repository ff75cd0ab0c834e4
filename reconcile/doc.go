// Package reconcile compares, per asset, what the ledger says the platform
// holds with what the chains and the bank say it holds, and explains every
// difference it can.
//
// The two sides of an asset:
//
//   - Crypto. The ledger's side is the posted balance of the asset's
//     platform chain account (deposit.ChainAccount: debits posted minus
//     credits posted; deposits debit it, withdrawals, payouts and network
//     fees credit it), plus an operator's float that was put on the
//     platform's addresses outside the ledger, when configured. Pending
//     holds are not part of it: money leaves the chain account when a hold
//     is posted. The chain's side is what the platform's addresses hold.
//     Bitcoin: every coin of the coin store that is unspent, or whose
//     spending transaction the node does not know, is read from the node
//     with gettxout (the mempool included), so the node, not the store,
//     says what exists; outputs of the platform's own transactions to cold
//     storage are read the same way. EVM: eth_getBalance and ERC-20
//     balanceOf at one head block, for the hot wallet, every deposit and
//     invoice address and any cold address.
//   - Fiat. The ledger's side is what platform:<CUR>:payouts says left the
//     bank (posted payouts minus returns); the bank's side is what the
//     operating account's statement says left it (payment debits minus
//     return credits; the opening funding is not a movement).
//
// The difference (chain or bank minus ledger) is then explained by what
// is known to be on its way: deposits seen but not credited (below their
// depth), withdrawals whose transaction is on the chain but not yet
// completed, network fees paid but not booked, payouts the bank completed
// or returned whose callback is not applied yet. What these do not cover
// is unexplained; where it can, the report names the items that make it up
// (a payment nobody's address resolves, a coin the node does not have, a
// transaction that pays outside addresses no withdrawal accounts for, a
// bank entry no payout matches).
//
// Run reads; it writes nothing. Explain is the pure arithmetic of one
// asset, and Report renders as text (WriteText) or JSON.
package reconcile
