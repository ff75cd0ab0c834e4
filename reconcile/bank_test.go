package reconcile_test

import (
	"context"
	"log/slog"
	"math/big"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"chengdui"
	"chengdui/bitcoin"
	"chengdui/deposit"
	"chengdui/evm"
	"chengdui/ledger"
	"chengdui/payout"
	"chengdui/postgres/pgtest"
	"chengdui/rail"
	"chengdui/rail/sandbox"
	"chengdui/reconcile"
	"chengdui/sqlite"
	"chengdui/wallet"
	"chengdui/withdraw"
)

// store is what the tests need of a database; the sqlite and postgres
// packages implement it.
type store interface {
	ledger.Store
	deposit.Store
	bitcoin.CoinStore
	withdraw.Store
	evm.SendStore
	wallet.Store
	payout.Store
}

// engines are the databases the tests run on.
var engines = []string{"sqlite", "postgres"}

// ledgerEnv is a fresh database with a running ledger.
type ledgerEnv struct {
	t   testing.TB
	ctx context.Context
	db  store
	eng *ledger.Engine
}

// newLedgerEnv opens a fresh database of an engine (sqlite or postgres)
// and starts a ledger on it.
func newLedgerEnv(t testing.TB, engine string, assets ...chengdui.Asset) *ledgerEnv {
	t.Helper()
	ctx := t.Context()
	var db store
	switch engine {
	case "sqlite":
		s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "chengdui.db"))
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		_, err = s.Migrate(ctx)
		require.NoError(t, err)
		db = s
	case "postgres":
		db, _ = pgtest.Fresh(t)
	default:
		t.Fatalf("no engine %q", engine)
	}
	eng := ledger.New(db, ledger.Options{ExpiryInterval: -1, HistoryInterval: -1})
	require.NoError(t, eng.Start(ctx))
	t.Cleanup(eng.Stop)
	for _, a := range assets {
		_, err := eng.CreateAsset(ctx, a)
		require.NoError(t, err)
	}
	return &ledgerEnv{t: t, ctx: ctx, db: db, eng: eng}
}

func (e *ledgerEnv) account(a chengdui.Account) {
	e.t.Helper()
	_, err := e.eng.CreateAccount(e.ctx, a)
	if chengdui.ErrorCode(err) == chengdui.EExists {
		return
	}
	require.NoError(e.t, err)
}

func (e *ledgerEnv) transfer(t chengdui.Transfer) {
	e.t.Helper()
	res, err := e.eng.CreateTransfers(e.ctx, []chengdui.Transfer{t})
	require.NoError(e.t, err)
	require.NoError(e.t, res[0].Err)
}

func (e *ledgerEnv) run(cfg reconcile.Config) reconcile.Report {
	e.t.Helper()
	cfg.Ledger = e.db
	rep, err := reconcile.Run(e.ctx, cfg)
	require.NoError(e.t, err)
	return rep
}

// only returns the report's one asset of that code.
func only(t testing.TB, rep reconcile.Report, asset string) reconcile.Asset {
	t.Helper()
	var out []reconcile.Asset
	for _, a := range rep.Assets {
		if a.Asset == asset {
			out = append(out, a)
		}
	}
	require.Len(t, out, 1, "asset %s in %+v", asset, rep.Assets)
	return out[0]
}

func eur(t testing.TB, s string) chengdui.Amount {
	t.Helper()
	a, err := chengdui.ParseDecimal(s, 2)
	require.NoError(t, err)
	return a
}

// TestBank reconciles payouts through the sandbox bank, started in
// process, with its updates applied by polling, as a platform without
// callbacks would: payouts the bank completed or returned before the
// platform applied it are explained; a payout the ledger booked that the
// bank never paid is not.
func TestBank(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) { testBank(t, engine) })
	}
}

func testBank(t *testing.T, engine string) {
	e := newLedgerEnv(t, engine, chengdui.Asset{Code: "EUR", Network: "fiat", Decimals: 2})
	e.account(chengdui.Account{ID: "platform:EUR:funding", Asset: "EUR"})
	e.account(chengdui.Account{ID: "store:s1:EUR", Asset: "EUR", Flags: chengdui.DebitsMustNotExceedCredits})
	e.transfer(chengdui.Transfer{ID: "fund", DebitAccountID: "platform:EUR:funding", CreditAccountID: "store:s1:EUR", Amount: eur(t, "1000"), Code: 1})

	const closed = "FR1420041010050500013M02606"
	bank, err := sandbox.NewBank(sandbox.Config{APIKey: "api-key", ConfirmDelay: 10 * time.Millisecond,
		Funding: map[string]chengdui.Amount{"EUR": eur(t, "10000")}, FailAccounts: []string{closed}, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	base, stop, err := bank.Start("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { stop(); bank.Close() })
	client := sandbox.NewClient(base, "api-key", &http.Client{Timeout: 5 * time.Second})
	svc, err := payout.New(payout.Config{Store: e.db, Ledger: e.eng, Assets: e.db, Rails: map[string]rail.Rail{"EUR": client},
		Log: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	cfg := reconcile.Config{Bank: &reconcile.Bank{Statements: client, Currencies: []string{"EUR"}}}

	before := only(t, e.run(cfg), "EUR")
	require.True(t, before.OK())
	require.Zero(t, before.Difference().Sign())

	create := func(id, amount, iban string) payout.Payout {
		p, err := svc.Create(e.ctx, payout.CreateRequest{ID: id, StoreID: "s1", Asset: "EUR", Amount: amount, Method: payout.Bank,
			Creditor: rail.Party{Name: "Zoë Müller", IBAN: iban, BIC: "cobadeffxxx"}, Reference: "November", CreatedBy: "alice"})
		require.NoError(t, err)
		return p
	}
	const iban = "DE89370400440532013000"
	paid, failed, returned := create("paid", "100", iban), create("closed", "40", closed), create("returned", "300", iban)
	n, err := svc.Dispatch(e.ctx)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	final := func(ids ...string) []rail.Update {
		var us []rail.Update
		require.Eventually(t, func() bool {
			us = us[:0]
			for _, id := range ids {
				u, err := client.Status(e.ctx, id)
				require.NoError(t, err)
				if u.Status != rail.Completed && u.Status != rail.Failed && u.Status != rail.Returned {
					return false
				}
				us = append(us, u)
			}
			return true
		}, 10*time.Second, 10*time.Millisecond)
		return us
	}
	updates := final(paid.ID, failed.ID, returned.ID)

	// The bank paid two payouts whose holds are still pending.
	got := only(t, e.run(cfg), "EUR")
	require.True(t, got.OK(), "%+v", got)
	require.Zero(t, got.Difference().Cmp(eur(t, "400").Big()))
	require.Equal(t, []reconcile.Kind{reconcile.PayoutInFlight, reconcile.PayoutInFlight}, kinds(got.Explained))

	for _, u := range updates {
		_, err := svc.Apply(e.ctx, u)
		require.NoError(t, err)
	}
	got = only(t, e.run(cfg), "EUR")
	require.True(t, got.OK(), "%+v", got)
	require.Zero(t, got.Difference().Sign())
	require.Zero(t, got.Ledger.Cmp(eur(t, "400").Big()))
	require.Empty(t, got.Explained)

	// A return the platform has not heard of yet.
	_, err = client.Return(e.ctx, returned.ID, "")
	require.NoError(t, err)
	u := final(returned.ID)[0]
	require.Equal(t, rail.Returned, u.Status)
	got = only(t, e.run(cfg), "EUR")
	require.True(t, got.OK(), "%+v", got)
	require.Equal(t, []reconcile.Kind{reconcile.ReturnNotBooked}, kinds(got.Explained))
	require.Zero(t, got.Explained[0].Effect.Cmp(new(big.Int).Neg(eur(t, "300").Big())))
	_, err = svc.Apply(e.ctx, u)
	require.NoError(t, err)
	got = only(t, e.run(cfg), "EUR")
	require.True(t, got.OK())
	require.Zero(t, got.Difference().Sign())

	// A payout the ledger says left the bank, which the bank never paid.
	e.transfer(chengdui.Transfer{ID: "po:po-forged:post", DebitAccountID: "store:s1:EUR", CreditAccountID: payout.Account("EUR"),
		Amount: eur(t, "12.34"), Code: payout.CodePayout})
	rep := e.run(cfg)
	require.False(t, rep.OK())
	got = only(t, rep, "EUR")
	require.Zero(t, got.Residual.Cmp(new(big.Int).Neg(eur(t, "12.34").Big())))
	require.Len(t, got.Unexplained, 1)
	require.Equal(t, reconcile.BankMismatch, got.Unexplained[0].Kind)
	require.Equal(t, "po-forged", got.Unexplained[0].Ref)
}
