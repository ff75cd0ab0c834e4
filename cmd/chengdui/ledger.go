package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"chengdui"
	"chengdui/ledger"
)

// ledgerCommands is the ledger's own dispatch table.
func ledgerCommands() map[string]command {
	return map[string]command{
		"asset":    {"create or list assets: asset create --code BTC --network bitcoin --decimals 8 | asset list", runLedgerAsset},
		"account":  {"create or list accounts: account create --id ID --asset BTC [--no-overdraft] | account list", runLedgerAccount},
		"transfer": {"move money: transfer --id ID --from A --to B --amount 1.5", runLedgerTransfer},
		"pending":  {"hold money: pending --id ID --from A --to B --amount 1.5 [--timeout 15m]", runLedgerPending},
		"post":     {"post a pending transfer, fully or partly: post --id ID --pending PID [--amount X]", runLedgerPost},
		"void":     {"release a pending transfer: void --id ID --pending PID", runLedgerVoid},
		"batch":    {"commit transfers from a JSON file (or - for stdin); linked chains are all-or-nothing", runLedgerBatch},
		"balance":  {"print balances: balance ACCOUNT...", runLedgerBalance},
		"history":  {"print an account's transfers: history ACCOUNT [--after SEQ] [--limit N]", runLedgerHistory},
		"verify":   {"recompute the hash chain, Merkle log and balances; exit 3 on mismatch", runLedgerVerify},
	}
}

func runLedger(ctx context.Context, e *env, args []string) error {
	return dispatch(ctx, e, "ledger", "[--data-dir DIR | --db DSN] [flags]", "", ledgerCommands(), args)
}

// withLedger opens the store, runs a ledger engine on it for fn and shuts
// both down.
func withLedger(ctx context.Context, sf *storeFlags, fn func(l *ledger.Engine, db database) error) error {
	db, err := openMigrated(ctx, sf.resolve(), false)
	if err != nil {
		return err
	}
	defer db.Close()
	l := ledger.New(db, ledger.Options{ExpiryInterval: -1})
	if err := l.Start(ctx); err != nil {
		return err
	}
	defer l.Stop()
	return fn(l, db)
}

// cliError turns a domain refusal into a usage error (exit 2): the input
// was refused, nothing changed.
func cliError(err error) error {
	if err == nil {
		return nil
	}
	switch chengdui.ErrorCode(err) {
	case chengdui.EInternal, chengdui.EUnavailable:
		return err
	}
	return usagef("%s (code %s); nothing was changed", chengdui.ErrorMessage(err), chengdui.ErrorCode(err))
}

func runLedgerAsset(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "list") {
		return usagef("ledger asset: use 'asset create --code C --network N --decimals D' or 'asset list'")
	}
	fs := newFlagSet(e, "ledger asset "+args[0], "ledger asset create --code BTC --network bitcoin --decimals 8")
	var sf storeFlags
	sf.register(fs)
	code := fs.String("code", "", "asset code, e.g. BTC, USDT-ERC20")
	network := fs.String("network", "", "network, e.g. bitcoin, ethereum, fiat")
	decimals := fs.Uint("decimals", 0, "decimals of one whole unit (BTC 8, ETH 18, USDT 6, CNY 2)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	return withLedger(ctx, &sf, func(l *ledger.Engine, db database) error {
		if args[0] == "list" {
			as, err := db.Assets(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CODE\tNETWORK\tDECIMALS")
			for _, a := range as {
				fmt.Fprintf(tw, "%s\t%s\t%d\n", a.Code, a.Network, a.Decimals)
			}
			return tw.Flush()
		}
		if *decimals > chengdui.MaxDecimals {
			return usagef("--decimals %d: at most %d", *decimals, chengdui.MaxDecimals)
		}
		a, err := l.CreateAsset(ctx, chengdui.Asset{Code: *code, Network: *network, Decimals: uint8(*decimals)})
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintf(e.stdout, "asset %s on %s with %d decimals\n", a.Code, a.Network, a.Decimals)
		return nil
	})
}

func runLedgerAccount(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "list") {
		return usagef("ledger account: use 'account create --id ID --asset A' or 'account list'")
	}
	fs := newFlagSet(e, "ledger account "+args[0], "ledger account create --id ID --asset BTC [--no-overdraft | --credit-cap] [--code N]")
	var sf storeFlags
	sf.register(fs)
	id := fs.String("id", "", "account id, e.g. user:alice:BTC")
	asset := fs.String("asset", "", "asset code")
	noOverdraft := fs.Bool("no-overdraft", false, "debits must not exceed credits (customer accounts)")
	creditCap := fs.Bool("credit-cap", false, "credits must not exceed debits")
	code := fs.Uint("code", 0, "account code (ledger-defined category)")
	var meta metaFlag
	fs.Var(&meta, "meta", "metadata key=value (repeatable)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	return withLedger(ctx, &sf, func(l *ledger.Engine, db database) error {
		if args[0] == "list" {
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tASSET\tFLAGS\tBALANCE")
			after := ""
			for {
				page, err := db.Accounts(ctx, after, 500)
				if err != nil {
					return err
				}
				for _, a := range page {
					dec := assetDecimals(ctx, db, a.Asset)
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.ID, a.Asset, flagNames(a.Flags), signedBalance(a, dec))
				}
				if len(page) == 0 {
					break
				}
				after = page[len(page)-1].ID
			}
			return tw.Flush()
		}
		if *code > 65535 {
			return usagef("--code %d: at most 65535", *code)
		}
		var flags chengdui.AccountFlags
		if *noOverdraft {
			flags |= chengdui.DebitsMustNotExceedCredits
		}
		if *creditCap {
			flags |= chengdui.CreditsMustNotExceedDebits
		}
		a, err := l.CreateAccount(ctx, chengdui.Account{ID: *id, Asset: *asset, Flags: flags, Code: uint16(*code), Metadata: meta})
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintf(e.stdout, "account %s (%s) %s\n", a.ID, a.Asset, flagNames(a.Flags))
		return nil
	})
}

// metaFlag collects repeated key=value flags.
type metaFlag map[string]string

func (m *metaFlag) String() string { return "" }
func (m *metaFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("metadata %q: use key=value", v)
	}
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[k] = val
	return nil
}

func flagNames(f chengdui.AccountFlags) string {
	var names []string
	if f&chengdui.DebitsMustNotExceedCredits != 0 {
		names = append(names, "debits_must_not_exceed_credits")
	}
	if f&chengdui.CreditsMustNotExceedDebits != 0 {
		names = append(names, "credits_must_not_exceed_debits")
	}
	if len(names) == 0 {
		return "-"
	}
	return strings.Join(names, ",")
}

func assetDecimals(ctx context.Context, db database, code string) uint8 {
	a, err := db.Asset(ctx, code)
	if err != nil {
		return 0
	}
	return a.Decimals
}

// signedBalance prints credits_posted - debits_posted in whole units.
func signedBalance(a chengdui.Account, dec uint8) string {
	if d, ok := chengdui.SubAmounts(a.CreditsPosted, a.DebitsPosted); ok {
		return chengdui.FormatDecimal(d, dec)
	}
	d, _ := chengdui.SubAmounts(a.DebitsPosted, a.CreditsPosted)
	return "-" + chengdui.FormatDecimal(d, dec)
}

// transferFlags are the flags of transfer and pending.
type transferFlags struct {
	sf       storeFlags
	id       *string
	from, to *string
	amount   *string
	units    *bool
	code     *uint
	timeout  *time.Duration
	meta     metaFlag
}

func newTransferFlags(e *env, name string, pending bool) (*transferFlags, *flag.FlagSet) {
	fs := newFlagSet(e, "ledger "+name, "ledger "+name+" --id ID --from DEBIT --to CREDIT --amount 1.5")
	tf := &transferFlags{}
	tf.sf.register(fs)
	tf.id = fs.String("id", "", "transfer id, chosen by you: the idempotency key (retrying with it is safe)")
	tf.from = fs.String("from", "", "debit account id")
	tf.to = fs.String("to", "", "credit account id")
	tf.amount = fs.String("amount", "", "amount in whole units of the asset, e.g. 0.00000001 (or smallest units with --units)")
	tf.units = fs.Bool("units", false, "--amount is in smallest units (satoshi, wei)")
	tf.code = fs.Uint("code", 0, "transfer code (ledger-defined reason)")
	fs.Var(&tf.meta, "meta", "metadata key=value (repeatable)")
	if pending {
		tf.timeout = fs.Duration("timeout", 0, "void automatically after this long (whole seconds); 0: never")
	}
	return tf, fs
}

// parseAmount reads an amount in whole units of the account's asset, or in
// smallest units.
func parseAmount(ctx context.Context, db database, accountID, s string, units bool) (chengdui.Amount, error) {
	if units {
		return chengdui.ParseUnits(s)
	}
	acc, err := db.Account(ctx, accountID)
	if err != nil {
		return chengdui.Amount{}, err
	}
	a, err := db.Asset(ctx, acc.Asset)
	if err != nil {
		return chengdui.Amount{}, err
	}
	return chengdui.ParseDecimal(s, a.Decimals)
}

func runLedgerTransfer(ctx context.Context, e *env, args []string) error {
	return runMove(ctx, e, args, "transfer", false)
}

func runLedgerPending(ctx context.Context, e *env, args []string) error {
	return runMove(ctx, e, args, "pending", true)
}

func runMove(ctx context.Context, e *env, args []string, name string, pending bool) error {
	tf, fs := newTransferFlags(e, name, pending)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *tf.id == "" || *tf.from == "" || *tf.to == "" || *tf.amount == "" {
		return usagef("ledger %s: --id, --from, --to and --amount are required", name)
	}
	return withLedger(ctx, &tf.sf, func(l *ledger.Engine, db database) error {
		amount, err := parseAmount(ctx, db, *tf.from, *tf.amount, *tf.units)
		if err != nil {
			return cliError(err)
		}
		if *tf.code > 65535 {
			return usagef("--code %d: at most 65535", *tf.code)
		}
		t := chengdui.Transfer{ID: *tf.id, DebitAccountID: *tf.from, CreditAccountID: *tf.to, Amount: amount,
			Code: uint16(*tf.code), Metadata: tf.meta}
		if pending {
			t.Flags = chengdui.Pending
			if *tf.timeout < 0 || *tf.timeout%time.Second != 0 || *tf.timeout > time.Duration(1<<32-1)*time.Second {
				return usagef("--timeout %s: use whole seconds, e.g. 15m", *tf.timeout)
			}
			t.Timeout = uint32(*tf.timeout / time.Second)
		}
		return commitAndPrint(ctx, e, l, db, []chengdui.Transfer{t})
	})
}

func runLedgerPost(ctx context.Context, e *env, args []string) error {
	return runResolve(ctx, e, args, true)
}
func runLedgerVoid(ctx context.Context, e *env, args []string) error {
	return runResolve(ctx, e, args, false)
}

func runResolve(ctx context.Context, e *env, args []string, post bool) error {
	name := "void"
	if post {
		name = "post"
	}
	fs := newFlagSet(e, "ledger "+name, "ledger "+name+" --id ID --pending PENDING_ID")
	var sf storeFlags
	sf.register(fs)
	id := fs.String("id", "", "transfer id (idempotency key)")
	pid := fs.String("pending", "", "id of the pending transfer")
	var amount *string
	unitsFlag := new(bool)
	if post {
		amount = fs.String("amount", "", "amount to post in whole units; default: the full pending amount")
		unitsFlag = fs.Bool("units", false, "--amount is in smallest units")
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if *id == "" || *pid == "" {
		return usagef("ledger %s: --id and --pending are required", name)
	}
	return withLedger(ctx, &sf, func(l *ledger.Engine, db database) error {
		t := chengdui.Transfer{ID: *id, PendingID: *pid, Flags: chengdui.VoidPending}
		if post {
			t.Flags = chengdui.PostPending
			if *amount != "" {
				p, err := db.Transfer(ctx, *pid)
				if err != nil {
					return cliError(chengdui.Errorf(chengdui.EPendingNotFound, "no pending transfer %q", *pid))
				}
				if t.Amount, err = parseAmount(ctx, db, p.DebitAccountID, *amount, *unitsFlag); err != nil {
					return cliError(err)
				}
			}
		}
		return commitAndPrint(ctx, e, l, db, []chengdui.Transfer{t})
	})
}

// batchItem is one transfer of a JSON batch file. Amount is in whole units
// of the asset unless Units is true.
type batchItem struct {
	ID       string            `json:"id"`
	From     string            `json:"from"`
	To       string            `json:"to"`
	Amount   string            `json:"amount"`
	Units    bool              `json:"units"`
	Pending  string            `json:"pending_id"`
	Timeout  uint32            `json:"timeout"`
	Code     uint16            `json:"code"`
	Flags    []string          `json:"flags"` // linked, pending, post_pending, void_pending
	Metadata map[string]string `json:"metadata"`
}

func runLedgerBatch(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "ledger batch", `ledger batch FILE.json|-
  FILE holds a JSON array: [{"id":"t1","from":"A","to":"B","amount":"1.5","flags":["linked"]}, …]`)
	var sf storeFlags
	sf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("ledger batch: give one file, or - for stdin")
	}
	var r io.Reader = e.stdin
	if fs.Arg(0) != "-" {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return usagef("ledger batch: %v", err)
		}
		defer f.Close()
		r = f
	}
	var items []batchItem
	dec := json.NewDecoder(io.LimitReader(r, 16<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&items); err != nil {
		return usagef("ledger batch: bad JSON: %v", err)
	}
	return withLedger(ctx, &sf, func(l *ledger.Engine, db database) error {
		ts := make([]chengdui.Transfer, len(items))
		for i, it := range items {
			t := chengdui.Transfer{ID: it.ID, DebitAccountID: it.From, CreditAccountID: it.To, PendingID: it.Pending,
				Timeout: it.Timeout, Code: it.Code, Metadata: it.Metadata}
			for _, f := range it.Flags {
				switch f {
				case "linked":
					t.Flags |= chengdui.Linked
				case "pending":
					t.Flags |= chengdui.Pending
				case "post_pending":
					t.Flags |= chengdui.PostPending
				case "void_pending":
					t.Flags |= chengdui.VoidPending
				default:
					return usagef("ledger batch: item %d: unknown flag %q (linked, pending, post_pending, void_pending)", i, f)
				}
			}
			if it.Amount != "" {
				acct := it.From
				if acct == "" && it.Pending != "" {
					p, err := db.Transfer(ctx, it.Pending)
					if err == nil {
						acct = p.DebitAccountID
					}
				}
				var err error
				if t.Amount, err = parseAmount(ctx, db, acct, it.Amount, it.Units); err != nil {
					return usagef("ledger batch: item %d (%s): %s", i, it.ID, chengdui.ErrorMessage(err))
				}
			}
			ts[i] = t
		}
		return commitAndPrint(ctx, e, l, db, ts)
	})
}

// commitAndPrint commits transfers and prints one line per result. Any
// refusal makes the command fail with exit code 2.
func commitAndPrint(ctx context.Context, e *env, l *ledger.Engine, db database, ts []chengdui.Transfer) error {
	res, err := l.CreateTransfers(ctx, ts)
	if err != nil {
		return cliError(err)
	}
	refused := 0
	for i, r := range res {
		switch {
		case r.Err != nil:
			refused++
			fmt.Fprintf(e.stdout, "refused   %s: %s (code %s)\n", ts[i].ID, chengdui.ErrorMessage(r.Err), chengdui.ErrorCode(r.Err))
		default:
			t := r.Transfer
			verb := "committed"
			if r.Existed {
				verb = "exists   "
			}
			fmt.Fprintf(e.stdout, "%s %s: seq %d, %s %s from %s to %s, hash %s\n", verb, t.ID, t.Seq,
				chengdui.FormatDecimal(t.Amount, assetDecimals(ctx, db, t.Asset)), t.Asset, t.DebitAccountID, t.CreditAccountID, hex.EncodeToString(t.Hash)[:16])
		}
	}
	if refused > 0 {
		return usagef("%d of %d transfers refused; nothing of a refused transfer or its linked chain was changed", refused, len(ts))
	}
	return nil
}

func runLedgerBalance(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "ledger balance", "ledger balance ACCOUNT...")
	var sf storeFlags
	sf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("ledger balance: name at least one account")
	}
	return withLedger(ctx, &sf, func(l *ledger.Engine, db database) error {
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ACCOUNT\tASSET\tBALANCE\tDEBITS POSTED\tCREDITS POSTED\tDEBITS PENDING\tCREDITS PENDING")
		for _, id := range fs.Args() {
			a, err := l.Account(ctx, id)
			if err != nil {
				tw.Flush()
				return cliError(err)
			}
			dec := assetDecimals(ctx, db, a.Asset)
			f := func(x chengdui.Amount) string { return chengdui.FormatDecimal(x, dec) }
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Asset, signedBalance(a, dec), f(a.DebitsPosted), f(a.CreditsPosted), f(a.DebitsPending), f(a.CreditsPending))
		}
		return tw.Flush()
	})
}

func runLedgerHistory(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "ledger history", "ledger history ACCOUNT [--after SEQ] [--limit N]")
	var sf storeFlags
	sf.register(fs)
	after := fs.Uint64("after", 0, "only entries after this journal sequence number")
	limit := fs.Int("limit", 50, "entries to print (at most 1000)")
	// Accept the account before or after the flags.
	var account string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		account, args = args[0], args[1:]
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if account == "" && fs.NArg() == 1 {
		account = fs.Arg(0)
	}
	if account == "" {
		return usagef("ledger history: name an account")
	}
	if *limit < 1 || *limit > 1000 {
		return usagef("--limit %d: use 1 to 1000", *limit)
	}
	return withLedger(ctx, &sf, func(l *ledger.Engine, db database) error {
		acc, err := l.Account(ctx, account)
		if err != nil {
			return cliError(err)
		}
		dec := assetDecimals(ctx, db, acc.Asset)
		ts, err := l.Transfers(ctx, chengdui.TransferFilter{AccountID: account, AfterSeq: *after, Limit: *limit})
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SEQ\tTIME\tID\tDIRECTION\tAMOUNT\tCOUNTERPARTY\tKIND")
		for _, t := range ts {
			dir, other := "out", t.CreditAccountID
			if t.CreditAccountID == account {
				dir, other = "in", t.DebitAccountID
			}
			kind := "posted"
			switch {
			case t.Flags&chengdui.Pending != 0:
				kind = "pending"
			case t.Flags&chengdui.PostPending != 0:
				kind = "post " + t.PendingID
			case t.Flags&chengdui.Expiry != 0:
				kind = "expired " + t.PendingID
			case t.Flags&chengdui.VoidPending != 0:
				kind = "void " + t.PendingID
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", t.Seq, t.Timestamp.Format(time.RFC3339), t.ID, dir,
				chengdui.FormatDecimal(t.Amount, dec), other, kind)
		}
		return tw.Flush()
	})
}

func runLedgerVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "ledger verify", "ledger verify [--data-dir DIR | --db DSN]")
	var sf storeFlags
	sf.register(fs)
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	if err := parse(fs, args); err != nil {
		return err
	}
	db, err := openMigrated(ctx, sf.resolve(), false)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	last := time.Now()
	rep, err := ledger.Verify(ctx, db, func(done uint64) {
		if !*quiet && time.Since(last) > time.Second {
			fmt.Fprintf(e.stderr, "verified %d entries…\n", done)
			last = time.Now()
		}
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "entries:     %d\naccounts:    %d\nchain hash:  %s\nmerkle root: %s\ntime:        %s\n",
		rep.Entries, rep.Accounts, hex.EncodeToString(rep.Head.ChainHash), hex.EncodeToString(rep.Head.MerkleRoot), time.Since(start).Round(time.Millisecond))
	if rep.OK() {
		fmt.Fprintln(e.stdout, "OK: the journal, the tree head and every balance match")
		return nil
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(e.stdout, "MISMATCH:", p)
	}
	first := rep.Problems[0]
	if rep.First != nil {
		first = *rep.First
	}
	return exitError{code: exitMismatch, msg: "verify failed: first mismatch: " + first.String()}
}
