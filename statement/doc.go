// Package statement reads a store's money out of the ledger: its balances
// per asset, and statements of a period for dashboards and accounting.
//
// The ledger is the source of truth. A store's money in an asset is the
// account store:<storeID>:<ASSET> (invoice.StoreAccount); a statement of
// the period [from, to) is built from that account's history alone:
//
//   - the opening balance is the posted balance of every transfer
//     stamped before from, the closing balance of every transfer stamped
//     before to;
//   - each posted transfer stamped in the period is a line, in journal
//     order, with the balance after it;
//   - the totals of the lines, per asset, must satisfy opening + credits −
//     debits = closing, and the whole history must add up to the
//     account's balance in the ledger; Build fails with EInternal naming
//     the difference otherwise (it never should).
//
// Pending transfers (a payout's hold) move no posted money: they are not
// lines; their posting is, when it comes, and a void is nothing. Balances
// reports what is on hold now.
//
// # Lines
//
// A credit from settlement (package settle) is a conversion: the
// proceeds leg cv:<invoice>:<hash>:out (code 31 of the batch 30–33). Its line carries the
// invoice, the payment, the asset and amount paid (the leg cv:…:in), the
// locked rate, the invoice's valuation of the payment (the leg's "value"
// metadata), and the fee and spread, read from the legs cv:…:fee and
// cv:…:spread of the same linked batch (a leg that would be zero is not
// written: it reads as zero). A store that keeps the asset it is paid
// (cv:…:store, codes 34–36) and a payment passed without a settler
// (inv:<invoice>:pass:…, code 21) are payments in the asset paid.
//
// For every invoice line, gross = net + fee + spread: what the payment was
// worth before the platform's fee and spread, in the statement's asset
// (for a conversion, the valuation plus the spread: the payment at the
// mid rate). Net is what the store was credited. A payment whose fee
// took all of it credited nothing: the store's history, and so its
// statement, has no line of it.
//
// A payment from a payer's balance names the payer in its ledger id
// ("bal:<invoice>:<user>"): statements show it as the Greenfield API does,
// "bal_" and a digest, with paid_from_balance set.
//
// A debit of the store account from the payout service (ids po:<id>:…,
// code 40) is a payout; a credit po:<id>:return (code 41) a payout
// returned by the bank. Anything else is another credit or debit, shown
// with its transfer id, code and metadata.
//
// # Formats
//
// Statement.MarshalJSON writes amounts as objects {"amount": whole units,
// "units": smallest units}, both exact decimal strings, and times in RFC
// 3339 (UTC). WriteCSV writes one row per line after a header, with an
// opening row and a closing row (carrying the period's totals) per asset,
// amounts as exact decimal strings in whole units. Assets come in code
// order, lines in journal order: the same ledger gives the same bytes.
package statement
