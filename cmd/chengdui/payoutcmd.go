package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"chengdui"
	"chengdui/ledger"
	"chengdui/payout"
	"chengdui/rail"
)

// payoutCommands is the operator's payout dispatch table: the second
// operator's approval of payouts above their asset's threshold, and
// cancellation, from the server's own database.
func payoutCommands() map[string]command {
	return map[string]command{
		"list":    {"list payouts: list [--state AwaitingApproval] [--store ID] [--limit N]", runPayoutList},
		"approve": {"approve a payout awaiting approval: approve --operator NAME PAYOUT_ID", runPayoutApprove},
		"cancel":  {"cancel a payout not yet sent and release its hold: cancel --operator NAME PAYOUT_ID", runPayoutCancel},
		"report":  {"apply what the bank reported of a payout sent as a file (SEPA): report --status completed|failed|returned [--bank-ref R] [--reason T] PAYOUT_ID", runPayoutReport},
	}
}

func runPayout(ctx context.Context, e *env, args []string) error {
	return dispatch(ctx, e, "payout", "[--data-dir DIR | --db DSN] [flags]",
		"Payouts above their asset's approval threshold wait for a second operator: the\noperator who approves must not be the one who created the payout.",
		payoutCommands(), args)
}

// withPayouts opens the database and a payout service on it (no rails: the
// running server dispatches what is approved).
func withPayouts(ctx context.Context, sf *storeFlags, e *env, fn func(s *payout.Service, db database) error) error {
	return withLedger(ctx, sf, func(l *ledger.Engine, db database) error {
		ps, ok := db.(payout.Store)
		if !ok {
			return fmt.Errorf("database %s keeps no payouts", redact(sf.resolve()))
		}
		s, err := payout.New(payout.Config{Store: ps, Ledger: l, Assets: db, Log: e.log})
		if err != nil {
			return err
		}
		return fn(s, db)
	})
}

func runPayoutList(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "payout list", "payout list [--state STATE] [--store ID] [--limit N]")
	var sf storeFlags
	sf.register(fs)
	state := fs.String("state", "", "only payouts in this state (AwaitingApproval, AwaitingPayment, InProgress, Completed, Failed, Cancelled)")
	store := fs.String("store", "", "only this store's payouts")
	limit := fs.Int("limit", 100, fmt.Sprintf("at most this many (1 to %d)", payout.MaxLimit))
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("payout list takes no arguments; got %q", fs.Arg(0))
	}
	return withPayouts(ctx, &sf, e, func(s *payout.Service, db database) error {
		ps, err := s.List(ctx, payout.Filter{StoreID: *store, State: payout.State(*state), Limit: *limit})
		if err != nil {
			return cliError(err)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTORE\tAMOUNT\tMETHOD\tSTATE\tCREATED BY\tCREATED")
		for _, p := range ps {
			fmt.Fprintf(tw, "%s\t%s\t%s %s\t%s\t%s\t%s\t%s\n", p.ID, p.StoreID, chengdui.FormatDecimal(p.Amount, assetDecimals(ctx, db, p.Asset)),
				p.Asset, p.Method, p.State, p.CreatedBy, p.CreatedAt.Format(time.RFC3339))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if len(ps) == 0 {
			fmt.Fprintln(e.stderr, "no payouts match")
		}
		return nil
	})
}

func runPayoutApprove(ctx context.Context, e *env, args []string) error {
	return payoutChange(ctx, e, args, "approve", func(s *payout.Service, id, op string) (payout.Payout, error) { return s.Approve(ctx, id, op) })
}

func runPayoutCancel(ctx context.Context, e *env, args []string) error {
	return payoutChange(ctx, e, args, "cancel", func(s *payout.Service, id, op string) (payout.Payout, error) { return s.Cancel(ctx, id, op) })
}

// runPayoutReport applies a bank's report of a payout that left as a file
// (SEPA: the bank's statement or payment status report names it by its
// end-to-end id, the payout id): completed posts the hold, failed voids
// it, returned gives the store the amount back. What a rail reports by
// itself (the sandbox bank's callbacks) needs no operator.
func runPayoutReport(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "payout report", "payout report --status completed|failed|returned [--bank-ref REF] [--reason TEXT] --operator NAME PAYOUT_ID")
	var sf storeFlags
	sf.register(fs)
	op := fs.String("operator", e.getenv("CHENGDUI_OPERATOR"), "who you are, logged with the change (default $CHENGDUI_OPERATOR)")
	status := fs.String("status", "", "what the bank reported: completed, failed or returned")
	ref := fs.String("bank-ref", "", "the bank's reference of the payment, if it gave one")
	reason := fs.String("reason", "", "the bank's reason of a failure or return")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("payout report: give one payout id (the end-to-end id in the bank's report)")
	}
	if *op == "" {
		return usagef("payout report: say who you are with --operator NAME (or CHENGDUI_OPERATOR)")
	}
	st := rail.Status(*status)
	if st != rail.Completed && st != rail.Failed && st != rail.Returned {
		return usagef("payout report: --status %q: give completed, failed or returned", *status)
	}
	return withPayouts(ctx, &sf, e, func(s *payout.Service, db database) error {
		p, err := s.Get(ctx, fs.Arg(0))
		if err != nil {
			return cliError(err)
		}
		if p.Method != payout.Bank {
			return usagef("payout report: %s is paid on chain; its payer reports it", p.ID)
		}
		e.log.Info("bank report applied by an operator", "payout", p.ID, "status", st, "operator", *op)
		p, err = s.Apply(ctx, rail.Update{OrderID: p.ID, Status: st, BankRef: *ref, Reason: *reason, At: time.Now().UTC()})
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintf(e.stdout, "%s %s: %s %s, %s\n", p.ID, p.State, chengdui.FormatDecimal(p.Amount, assetDecimals(ctx, db, p.Asset)), p.Asset, p.StoreID)
		return nil
	})
}

// payoutChange runs approve or cancel on one payout by an operator.
func payoutChange(ctx context.Context, e *env, args []string, verb string, do func(s *payout.Service, id, operator string) (payout.Payout, error)) error {
	fs := newFlagSet(e, "payout "+verb, "payout "+verb+" --operator NAME PAYOUT_ID")
	var sf storeFlags
	sf.register(fs)
	op := fs.String("operator", e.getenv("CHENGDUI_OPERATOR"), "who you are, recorded on the payout (default $CHENGDUI_OPERATOR)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("payout %s: give one payout id, e.g. chengdui payout %s --operator alice po-…", verb, verb)
	}
	if *op == "" {
		return usagef("payout %s: say who you are with --operator NAME (or CHENGDUI_OPERATOR)", verb)
	}
	return withPayouts(ctx, &sf, e, func(s *payout.Service, db database) error {
		p, err := do(s, fs.Arg(0), *op)
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintf(e.stdout, "%s %s: %s %s, %s\n", p.ID, p.State, chengdui.FormatDecimal(p.Amount, assetDecimals(ctx, db, p.Asset)), p.Asset, p.StoreID)
		return nil
	})
}
