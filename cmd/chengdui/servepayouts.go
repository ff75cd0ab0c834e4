package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"chengdui"
	"chengdui/ledger"
	"chengdui/payout"
	"chengdui/rail"
	"chengdui/rail/sepa"
	"chengdui/withdraw"
)

// payoutsConfig is serve's payouts: key.
type payoutsConfig struct {
	// ApprovalAbove is, per asset, the amount (whole units) above which a
	// payout waits for a second operator.
	ApprovalAbove map[string]string `yaml:"approval_above"`
	SEPA          *sepaConfig       `yaml:"sepa"`
}

// sepaConfig is the SEPA file rail: EUR payouts written as pain.001 files.
type sepaConfig struct {
	Dir           string        `yaml:"dir"`
	DebtorName    string        `yaml:"debtor_name"`
	IBAN          string        `yaml:"iban"`
	BIC           string        `yaml:"bic"`
	FlushEvery    time.Duration `yaml:"flush_every"`
	ExecutionDays int           `yaml:"execution_days"`
}

// defaultSEPAFlush is how often queued SEPA payouts are written to a file.
const defaultSEPAFlush = time.Hour

// check validates what can be checked before the database is open.
func (c payoutsConfig) check() error {
	if s := c.SEPA; s != nil {
		if s.Dir == "" {
			return usagef("payouts.sepa.dir: give the directory the pain.001 files are written to")
		}
		if err := rail.ValidateIBAN(rail.NormalizeIBAN(s.IBAN)); err != nil {
			return usagef("payouts.sepa.iban: %s (the account payouts are paid from)", chengdui.ErrorMessage(err))
		}
		if s.BIC != "" {
			if err := rail.ValidateBIC(rail.NormalizeBIC(s.BIC)); err != nil {
				return usagef("payouts.sepa.bic: %s; leave it out if the bank does not need it", chengdui.ErrorMessage(err))
			}
		}
		if s.DebtorName == "" {
			return usagef("payouts.sepa.debtor_name: give the name of the account holder payouts are paid from")
		}
		if s.FlushEvery < 0 || s.ExecutionDays < 0 {
			return usagef("payouts.sepa: flush_every and execution_days are 0 or more")
		}
	}
	return nil
}

// startServePayouts starts serve's payout service: the SEPA file rail if
// configured (flushed every flush_every and at shutdown), crypto payouts
// through the chains' payers when there is a hot wallet, and the second
// operator's threshold per asset.
func startServePayouts(ctx context.Context, c payoutsConfig, db database, eng *ledger.Engine, withdrawals *withdraw.Service, log *slog.Logger) (*payout.Service, func(), error) {
	store, ok1 := db.(payout.Store)
	assets, ok2 := db.(payout.Assets)
	if !ok1 || !ok2 {
		return nil, nil, fmt.Errorf("database %T does not store payouts", db)
	}
	cfg := payout.Config{Store: store, Ledger: eng, Assets: assets, Log: log, Rails: map[string]rail.Rail{},
		ApprovalAbove: map[string]chengdui.Amount{}}
	as, err := assets.Assets(ctx)
	if err != nil {
		return nil, nil, err
	}
	for code, amount := range c.ApprovalAbove {
		dec, ok := -1, false
		for _, a := range as {
			if a.Code == code {
				dec, ok = int(a.Decimals), true
			}
		}
		if !ok {
			return nil, nil, usagef("payouts.approval_above: unknown asset %q", code)
		}
		if cfg.ApprovalAbove[code], err = chengdui.ParseDecimal(amount, uint8(dec)); err != nil {
			return nil, nil, usagef("payouts.approval_above.%s %q: %s", code, amount, chengdui.ErrorMessage(err))
		}
	}
	var sepaRail *sepa.Rail
	if s := c.SEPA; s != nil {
		if sepaRail, err = sepa.New(sepa.Config{Dir: s.Dir, ExecutionDays: s.ExecutionDays,
			Debtor: sepa.Debtor{Name: s.DebtorName, IBAN: rail.NormalizeIBAN(s.IBAN), BIC: rail.NormalizeBIC(s.BIC)}}); err != nil {
			return nil, nil, fmt.Errorf("payouts.sepa: %w", err)
		}
		cfg.Rails["EUR"] = sepaRail
	}
	svc, err := newPayoutService(cfg, withdrawals)
	if err != nil {
		return nil, nil, err
	}
	if sepaRail != nil {
		if err := resubmitLostSEPA(ctx, store, sepaRail, log); err != nil {
			return nil, nil, fmt.Errorf("payouts.sepa: %w", err)
		}
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var done []chan struct{}
	run := func(f func()) {
		ch := make(chan struct{})
		done = append(done, ch)
		go func() { defer close(ch); f() }()
	}
	run(func() {
		if err := svc.Run(runCtx, payoutInterval); err != nil && runCtx.Err() == nil {
			log.Error("payout dispatcher stopped", "err", err)
		}
	})
	flush := func() {
		if path, err := sepaRail.Flush(); err != nil {
			log.Error("SEPA payouts not written; they stay queued", "err", err)
		} else if path != "" {
			log.Info("SEPA payment file written: upload it to the bank", "file", path)
		}
	}
	if sepaRail != nil {
		every := c.SEPA.FlushEvery
		if every == 0 {
			every = defaultSEPAFlush
		}
		run(func() {
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-runCtx.Done():
					return
				case <-t.C:
					flush()
				}
			}
		})
	}
	stop := func() {
		cancel()
		for _, ch := range done {
			<-ch
		}
		if sepaRail != nil {
			flush() // what the dispatcher handed over is not lost at shutdown
		}
	}
	return svc, stop, nil
}

// resubmitLostSEPA finds the SEPA payouts the file rail accepted but
// never wrote to a file (the process stopped before its flush: queued
// orders live in memory) and marks them unaccepted, so that the
// dispatcher submits them again (by the same order id: a payout in a file
// already is known to the rail, read back from its directory, and is not
// paid twice).
func resubmitLostSEPA(ctx context.Context, store payout.Store, r *sepa.Rail, log *slog.Logger) error {
	f := payout.Filter{State: payout.InProgress, Limit: payout.MaxLimit}
	for {
		ps, err := store.Payouts(ctx, f)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if p.Method != payout.Bank || p.Rail != r.Name() || p.SubmittedAt.IsZero() {
				continue
			}
			if _, err := r.Status(ctx, p.ID); chengdui.ErrorCode(err) != chengdui.ENotFound {
				continue
			}
			p.SubmittedAt, p.UpdatedAt = time.Time{}, time.Now().UTC().Truncate(time.Microsecond).Add(-payout.DefaultRetry)
			if _, err := store.UpdatePayout(ctx, p); err != nil {
				return err
			}
			log.Warn("SEPA payout accepted but in no file (the process stopped before the flush); it is submitted again", "payout", p.ID)
		}
		if len(ps) < f.Limit {
			return nil
		}
		f.After = ps[len(ps)-1].ID
	}
}
