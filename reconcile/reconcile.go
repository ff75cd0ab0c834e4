package reconcile

import (
	"context"
	"fmt"
	"io"
	"math/big"
	"time"

	"chengdui"
	"chengdui/deposit"
	"chengdui/payout"
	"chengdui/refund"
	"chengdui/withdraw"
)

// Ledger is what reconciliation reads of the ledger; ledger.Store (the
// sqlite and postgres databases) is one.
type Ledger interface {
	Assets(ctx context.Context) ([]chengdui.Asset, error)
	Account(ctx context.Context, id string) (chengdui.Account, error)
	// Transfers lists committed transfers in journal order; with an
	// AccountID, those that move money through it.
	Transfers(ctx context.Context, f chengdui.TransferFilter) ([]chengdui.Transfer, error)
}

// Config is what Run reconciles. Every source is optional; Run reconciles
// those that are set.
type Config struct {
	Ledger  Ledger
	Bitcoin *Bitcoin
	EVM     []EVM
	Bank    *Bank
	// Float is, per asset, what the operator put on the platform's
	// addresses outside the ledger (a hot wallet funded at genesis); it is
	// added to the ledger's side.
	Float map[string]chengdui.Amount
	// Progress, if set, receives a line per step of a long run.
	Progress io.Writer
	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

// check refuses a Config with a source that misses a part.
func (cfg Config) check() error {
	if cfg.Ledger == nil {
		return chengdui.Errorf(chengdui.EInvalid, "reconcile: no ledger")
	}
	if b := cfg.Bitcoin; b != nil && (b.Chain == "" || b.Node == nil || b.Coins == nil || b.Deposits == nil || b.Withdrawals == nil) {
		return chengdui.Errorf(chengdui.EInvalid, "reconcile: bitcoin needs Chain, Node, Coins, Deposits and Withdrawals")
	}
	for _, e := range cfg.EVM {
		if e.Chain == "" || e.Client == nil || e.NativeAsset == "" || e.Addresses == nil || e.Deposits == nil {
			return chengdui.Errorf(chengdui.EInvalid, "reconcile: evm chain %q needs Chain, Client, NativeAsset, Addresses and Deposits", e.Chain)
		}
	}
	if b := cfg.Bank; b != nil && b.Statements == nil {
		return chengdui.Errorf(chengdui.EInvalid, "reconcile: bank %s needs Statements", b.name())
	}
	return nil
}

// Run reconciles every configured source and returns the report. It only
// reads. An error means a source could not be read (a node down, the
// bank unreachable), not a difference: differences are in the report.
//
// Errors: EInvalid for a Config without a Ledger or a source without one
// of its parts; those of the stores, nodes and bank.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if err := cfg.check(); err != nil {
		return Report{}, err
	}
	now := time.Now
	if cfg.Now != nil {
		now = cfg.Now
	}
	r := &runner{cfg: cfg, decimals: map[string]uint8{}}
	as, err := cfg.Ledger.Assets(ctx)
	if err != nil {
		return Report{}, err
	}
	for _, a := range as {
		r.decimals[a.Code] = a.Decimals
	}
	rep := Report{At: now().UTC()}
	add := func(got []Asset) {
		for _, a := range got {
			if d, ok := r.decimals[a.Asset]; ok {
				a.Decimals = d
			}
			a.Float = cfg.Float[a.Asset]
			Explain(&a)
			rep.Assets = append(rep.Assets, a)
		}
	}
	if b := cfg.Bitcoin; b != nil {
		r.progress("reconciling %s on %s", b.asset(), b.Chain)
		a, err := r.bitcoin(ctx, *b)
		if err != nil {
			return Report{}, fmt.Errorf("%s: %w", b.Chain, err)
		}
		add([]Asset{a})
	}
	for _, e := range cfg.EVM {
		r.progress("reconciling %s and %d token(s) on %s", e.NativeAsset, len(e.Tokens), e.Chain)
		got, err := r.evm(ctx, e)
		if err != nil {
			return Report{}, fmt.Errorf("%s: %w", e.Chain, err)
		}
		add(got)
	}
	if b := cfg.Bank; b != nil {
		r.progress("reconciling the %s bank's statements", b.name())
		got, err := r.bank(ctx, *b)
		if err != nil {
			return Report{}, fmt.Errorf("bank %s: %w", b.name(), err)
		}
		add(got)
	}
	return rep, nil
}

type runner struct {
	cfg      Config
	decimals map[string]uint8
}

func (r *runner) progress(format string, args ...any) {
	if r.cfg.Progress != nil {
		fmt.Fprintf(r.cfg.Progress, format+"\n", args...)
	}
}

// maxList bounds the store listings a run reads at once.
const maxList = 1_000_000

// chainSide is the ledger's side of a crypto asset: its chain account's
// debits posted minus credits posted.
func (r *runner) chainSide(ctx context.Context, asset string) (*big.Int, error) {
	return r.balance(ctx, deposit.ChainAccount(asset), false)
}

// balance is an account's posted debits minus credits (credits minus
// debits with creditNormal); an account that does not exist is 0.
func (r *runner) balance(ctx context.Context, id string, creditNormal bool) (*big.Int, error) {
	a, err := r.cfg.Ledger.Account(ctx, id)
	if code := chengdui.ErrorCode(err); code == chengdui.EAccountNotFound || code == chengdui.ENotFound {
		return new(big.Int), nil
	} else if err != nil {
		return nil, err
	}
	if creditNormal {
		return new(big.Int).Sub(a.CreditsPosted.Big(), a.DebitsPosted.Big()), nil
	}
	return new(big.Int).Sub(a.DebitsPosted.Big(), a.CreditsPosted.Big()), nil
}

// accountTransfers lists every transfer through an account, in journal
// order.
func (r *runner) accountTransfers(ctx context.Context, id string) ([]chengdui.Transfer, error) {
	var out []chengdui.Transfer
	var after uint64
	for {
		ts, err := r.cfg.Ledger.Transfers(ctx, chengdui.TransferFilter{AccountID: id, AfterSeq: after, Limit: 1000})
		if err != nil {
			return nil, err
		}
		out = append(out, ts...)
		if len(ts) < 1000 {
			return out, nil
		}
		after = ts[len(ts)-1].Seq
	}
}

// bookedFees sums, per transaction id, the network fees the ledger booked
// against an asset's chain account (withdrawals' and sweeps' fees carry
// the txid in their metadata).
func (r *runner) bookedFees(ctx context.Context, asset string) (map[string]*big.Int, error) {
	ts, err := r.accountTransfers(ctx, "platform:"+asset+":network-fees")
	if err != nil {
		return nil, err
	}
	out := map[string]*big.Int{}
	for _, t := range ts {
		txid := t.Metadata["txid"]
		if txid == "" || t.CreditAccountID != deposit.ChainAccount(asset) || t.Flags&(chengdui.Pending|chengdui.VoidPending) != 0 {
			continue
		}
		key := normTx(txid)
		if out[key] == nil {
			out[key] = new(big.Int)
		}
		out[key].Add(out[key], t.Amount.Big())
	}
	return out, nil
}

// postedHolds lists the pending ids that were posted through an account.
func postedHolds(ts []chengdui.Transfer) map[string]bool {
	out := map[string]bool{}
	for _, t := range ts {
		if t.Flags&chengdui.PostPending != 0 {
			out[t.PendingID] = true
		}
	}
	return out
}

// withdrawalHoldPosted reports whether the hold of a withdrawal is posted
// already (its status may lag behind the ledger for a moment): a user's
// own, or the payout's or the refund claim's that it pays.
func withdrawalHoldPosted(w withdraw.Withdrawal, posted map[string]bool) bool {
	switch w.Origin {
	case withdraw.OriginUser:
		return posted[withdraw.HoldID(w.ID)]
	case withdraw.OriginPayout:
		return posted[payout.HoldID(w.ID)]
	case withdraw.OriginRefund:
		h, ok := refund.ClaimHoldID(w.ID)
		return ok && posted[h]
	}
	return false
}

// neg returns −x as a new big.Int.
func neg(x *big.Int) *big.Int { return new(big.Int).Neg(x) }

// confirmations describes a deposit's depth for a note.
func confirmations(d deposit.Deposit, tip uint64) string {
	if d.Height == 0 {
		return "in the mempool"
	}
	return fmt.Sprintf("%d confirmation(s)", deposit.Confirmations(d, tip))
}
