package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"chengdui"
	"chengdui/ledger"
	"chengdui/payout"
	"chengdui/rail"

	"github.com/stretchr/testify/require"
)

// TestServePayoutsSEPA runs serve's payout service on a real database: a
// EUR payout above the approval threshold waits for a second operator,
// then goes into a pain.001 file written at shutdown; bad configurations
// are refused with what to fix.
func TestServePayoutsSEPA(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := openMigrated(ctx, "sqlite:"+filepath.Join(dir, "c.db"), true)
	require.NoError(t, err)
	defer db.Close()
	eng := ledger.New(db, ledger.Options{ExpiryInterval: -1})
	require.NoError(t, eng.Start(ctx))
	defer eng.Stop()
	_, err = eng.CreateAsset(ctx, chengdui.Asset{Code: "EUR", Network: "fiat", Decimals: 2})
	require.NoError(t, err)
	for _, a := range []chengdui.Account{{ID: "funding", Asset: "EUR"}, {ID: payout.StoreAccount("s1", "EUR"), Asset: "EUR", Flags: chengdui.DebitsMustNotExceedCredits}} {
		_, err := eng.CreateAccount(ctx, a)
		require.NoError(t, err)
	}
	res, err := eng.CreateTransfers(ctx, []chengdui.Transfer{{ID: "fund", DebitAccountID: "funding", CreditAccountID: payout.StoreAccount("s1", "EUR"),
		Amount: chengdui.Amount{Lo: 5_000_000}, Code: 1}})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)

	sepaDir := filepath.Join(dir, "sepa")
	cfg := payoutsConfig{ApprovalAbove: map[string]string{"EUR": "10000.00"},
		SEPA: &sepaConfig{Dir: sepaDir, DebtorName: "Chengdui Payments", IBAN: "DE89 3704 0044 0532 0130 00", BIC: "COBADEFFXXX"}}
	require.NoError(t, cfg.check())
	log := slog.New(slog.DiscardHandler)
	svc, stop, err := startServePayouts(ctx, cfg, db, eng, nil, log)
	require.NoError(t, err)
	p, err := svc.Create(ctx, payout.CreateRequest{ID: "big-1", StoreID: "s1", Asset: "EUR", Amount: "12000.00", Method: payout.Bank,
		Creditor: rail.Party{Name: "Müller GmbH", IBAN: "FR1420041010050500013M02606"}, CreatedBy: "alice"})
	require.NoError(t, err)
	require.Equal(t, payout.AwaitingApproval, p.State, "above 10,000.00 EUR a second operator approves")
	_, err = svc.Approve(ctx, p.ID, "alice")
	require.Equal(t, chengdui.EUnauthorized, chengdui.ErrorCode(err))
	_, err = svc.Approve(ctx, p.ID, "bob")
	require.NoError(t, err)
	_, err = svc.Dispatch(ctx)
	require.NoError(t, err)
	require.Eventually(t, func() bool { // sent by this call or the service's own dispatcher
		got, err := svc.Get(ctx, p.ID)
		return err == nil && !got.SubmittedAt.IsZero()
	}, 10*time.Second, 10*time.Millisecond)
	stop()
	files, err := filepath.Glob(filepath.Join(sepaDir, "*.xml"))
	require.NoError(t, err)
	require.Len(t, files, 1, "the queued payout is written at shutdown")
	xml, err := os.ReadFile(files[0])
	require.NoError(t, err)
	require.Contains(t, string(xml), "<EndToEndId>"+p.ID+"</EndToEndId>")
	require.Contains(t, string(xml), `<InstdAmt Ccy="EUR">12000.00</InstdAmt>`)

	// A process that stopped before its flush lost its queue: the payout
	// is InProgress, accepted, in no file. The next start submits it
	// again. (Here the first file is moved away to stand for the lost
	// queue.)
	require.NoError(t, os.Rename(files[0], files[0]+".uploaded"))
	svc, stop, err = startServePayouts(ctx, cfg, db, eng, nil, log)
	require.NoError(t, err)
	got, err := svc.Get(ctx, p.ID)
	require.NoError(t, err)
	require.Equal(t, payout.InProgress, got.State)
	// It is no longer counted as accepted, so a dispatcher (this call, or
	// the service's own, which runs from the start) submits it again.
	// The service's own dispatcher (it runs from the start) or this call
	// sends it, once.
	_, err = svc.Dispatch(ctx)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		got, err = svc.Get(ctx, p.ID)
		return err == nil && !got.SubmittedAt.IsZero()
	}, 10*time.Second, 10*time.Millisecond, "payout %+v", got)
	stop()
	files, err = filepath.Glob(filepath.Join(sepaDir, "*.xml"))
	require.NoError(t, err)
	require.Len(t, files, 1)
	xml, err = os.ReadFile(files[0])
	require.NoError(t, err)
	require.Contains(t, string(xml), "<EndToEndId>"+p.ID+"</EndToEndId>")
	// A payout the rail knows (in a file) is not submitted again.
	svc, stop, err = startServePayouts(ctx, cfg, db, eng, nil, log)
	require.NoError(t, err)
	got, err = svc.Get(ctx, p.ID)
	require.NoError(t, err)
	require.False(t, got.SubmittedAt.IsZero())
	stop()

	for _, tc := range []struct {
		cfg  payoutsConfig
		want string
	}{
		{payoutsConfig{SEPA: &sepaConfig{DebtorName: "X", IBAN: "DE89370400440532013000"}}, "payouts.sepa.dir"},
		{payoutsConfig{SEPA: &sepaConfig{Dir: "d", DebtorName: "X", IBAN: "DE89370400440532013001"}}, "payouts.sepa.iban"},
		{payoutsConfig{SEPA: &sepaConfig{Dir: "d", DebtorName: "X", IBAN: "DE89370400440532013000", BIC: "NOTABIC!"}}, "payouts.sepa.bic"},
		{payoutsConfig{SEPA: &sepaConfig{Dir: "d", IBAN: "DE89370400440532013000"}}, "debtor_name"},
	} {
		err := tc.cfg.check()
		require.Error(t, err)
		require.Contains(t, err.Error(), tc.want)
	}
	for _, bad := range []map[string]string{{"XYZ": "1"}, {"EUR": "1.001"}, {"EUR": "-5"}} {
		_, _, err := startServePayouts(ctx, payoutsConfig{ApprovalAbove: bad}, db, eng, nil, log)
		require.Error(t, err)
		require.True(t, strings.Contains(err.Error(), "approval_above"), err.Error())
	}
}

// TestServePayoutsConfig reads serve's payouts: and
// settlement_change_delay keys from the config file, and refuses bad ones
// with the key to fix.
func TestServePayoutsConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "c.yaml")
		require.NoError(t, os.WriteFile(p, []byte("db: sqlite:/x.db\n"+body), 0o600))
		return p
	}
	e := &env{getenv: func(string) string { return "" }, stdout: io.Discard, stderr: io.Discard}
	cfg, err := loadServeConfig(e, []string{"--config", write(`settlement_change_delay: 48h
payouts:
  approval_above: {EUR: "10000.00"}
  sepa: {dir: /var/lib/chengdui/sepa, debtor_name: Chengdui Payments, iban: DE89370400440532013000, bic: COBADEFFXXX, flush_every: 30m, execution_days: 1}
`)})
	require.NoError(t, err)
	require.Equal(t, 48*time.Hour, cfg.SettlementChangeDelay)
	require.NotNil(t, cfg.Payouts)
	require.Equal(t, "10000.00", cfg.Payouts.ApprovalAbove["EUR"])
	require.Equal(t, 30*time.Minute, cfg.Payouts.SEPA.FlushEvery)
	require.Equal(t, 1, cfg.Payouts.SEPA.ExecutionDays)
	for body, want := range map[string]string{
		"settlement_change_delay: -1h\n":                          "settlement_change_delay",
		"payouts: {sepa: {dir: d, debtor_name: X, iban: DE00}}\n": "payouts.sepa.iban",
		"payouts: {sepa: {iban: DE89370400440532013000}}\n":       "payouts.sepa.dir",
		"payouts: {unknown: 1}\n":                                 "unknown",
	} {
		_, err := loadServeConfig(e, []string{"--config", write(body)})
		require.Error(t, err, body)
		require.Contains(t, err.Error(), want, body)
	}
}
