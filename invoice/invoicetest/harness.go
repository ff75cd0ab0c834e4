// Package invoicetest builds a real invoice service for tests: SQLite, the
// ledger engine, the deposit service, a merchant's store and a funded
// payer. Prices come from a fixed table (prices cannot be live here).
package invoicetest

import (
	"context"
	"fmt"
	"math/big"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chengdui"
	"chengdui/contracts"
	"chengdui/deposit"
	"chengdui/invoice"
	"chengdui/keys"
	"chengdui/ledger"
	"chengdui/sqlite"

	"github.com/ethereum/go-ethereum/common"
	"github.com/stretchr/testify/require"
	"lukechampine.com/uint128"
)

// Mnemonic is the test wallet's (BIP39 test vector).
const Mnemonic = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"

// Fixed quotes from a table of rates: currency per whole unit of asset.
type Fixed struct {
	mu    sync.Mutex
	Rates map[string]map[string]string // asset → currency → rate
}

// DefaultRates are the harness's prices.
func DefaultRates() map[string]map[string]string {
	return map[string]map[string]string{
		"BTC":        {"USD": "60000", "CNY": "432000"},
		"ETH":        {"USD": "3000", "CNY": "21600"},
		"USDT-ERC20": {"USD": "1", "CNY": "7.2"},
		"USDC-ERC20": {"USD": "1", "CNY": "7.2"},
	}
}

// Set changes a rate.
func (f *Fixed) Set(asset, currency, rate string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Rates[asset][currency] = rate
}

// Quote implements invoice.Quoter: due = price / rate, rounded down, the
// rate lowered by the spread (the payer pays the spread).
func (f *Fixed) Quote(_ context.Context, price chengdui.Amount, currency string, cd uint8, asset string, ad uint8, spreadBps uint32) (invoice.Quote, error) {
	f.mu.Lock()
	rs := f.Rates[asset][currency]
	f.mu.Unlock()
	if asset == currency {
		rs = "1"
	}
	rate, ok := new(big.Rat).SetString(rs)
	if rs == "" || !ok {
		return invoice.Quote{}, chengdui.Errorf(chengdui.EUnavailable, "no rate for %s/%s", asset, currency)
	}
	rate.Mul(rate, big.NewRat(int64(10000-spreadBps), 10000))
	due := new(big.Rat).SetInt(price.Big())
	due.Mul(due, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(ad)), nil)))
	due.Quo(due, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(cd)), nil)))
	due.Quo(due, rate)
	n := new(big.Int).Quo(due.Num(), due.Denom())
	return invoice.Quote{Rate: rate.FloatString(12), Sources: []string{"fixed"}, SpreadBps: spreadBps, Due: uint128.FromBig(n)}, nil
}

// Database is what the harness needs of a database: *sqlite.DB and
// *postgres.DB.
type Database interface {
	ledger.Store
	invoice.Store
	deposit.Store
	CreateUser(ctx context.Context, u chengdui.User) error
	CreateStore(ctx context.Context, s chengdui.Store) error
	Store(ctx context.Context, id string) (chengdui.Store, error)
	Assets(ctx context.Context) ([]chengdui.Asset, error)
	AllocateAddressIndex(ctx context.Context, scheme, network string) (uint32, error)
}

// Harness is a running invoice service and what it stands on.
type Harness struct {
	// DB is the SQLite database (nil on PostgreSQL); Store is the
	// database either way.
	DB       *sqlite.DB
	Store    Database
	Ledger   *ledger.Engine
	Deposits *deposit.Service
	Invoices *invoice.Service
	Rates    *Fixed
	Seed     keys.Seed
	// Clock is the services' time in unix nanoseconds; Advance moves it.
	Clock   *atomic.Int64
	StoreID string // a store owned by Merchant, default currency CNY
	Owner   string // the merchant's user id
	Payer   string // a user holding 1 BTC, 10 ETH and 10,000 USDT/USDC
	Router  common.Address
	// Notified counts Notify calls.
	Notified atomic.Int64
}

// Now is the harness clock.
func (h *Harness) Now() time.Time { return time.Unix(0, h.Clock.Load()).UTC() }

// Advance moves the clock.
func (h *Harness) Advance(d time.Duration) { h.Clock.Add(int64(d)) }

// Options change the harness.
type Options struct {
	// DB is an already open, migrated database; nil: a new SQLite file.
	DB *sqlite.DB
}

// New starts a harness.
func New(t testing.TB) *Harness { return NewWith(t, nil) }

// NewWith starts a harness whose invoice service configuration mod may
// change first (a Settler, the spread).
func NewWith(t testing.TB, mod func(h *Harness, cfg *invoice.Config)) *Harness {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "invoice.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	_, err = db.Migrate(ctx)
	require.NoError(t, err)
	return NewOn(t, db, mod)
}

// NewOn starts a harness on an open, migrated, empty database.
func NewOn(t testing.TB, db Database, mod func(h *Harness, cfg *invoice.Config)) *Harness {
	t.Helper()
	ctx := context.Background()
	eng := ledger.New(db, ledger.Options{ExpiryInterval: -1, HistoryInterval: -1})
	require.NoError(t, eng.Start(ctx))
	t.Cleanup(eng.Stop)
	var err error
	sq, _ := db.(*sqlite.DB)
	h := &Harness{Store: db, DB: sq, Ledger: eng, Rates: &Fixed{Rates: DefaultRates()}, Clock: &atomic.Int64{},
		Router: common.HexToAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3")}
	h.Clock.Store(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC).UnixNano())
	for _, a := range []chengdui.Asset{{Code: "BTC", Network: "bitcoin", Decimals: 8}, {Code: "ETH", Network: "ethereum", Decimals: 18},
		{Code: "USDT-ERC20", Network: "ethereum", Decimals: 6}, {Code: "USDC-ERC20", Network: "ethereum", Decimals: 6},
		{Code: "CNY", Network: "fiat", Decimals: 2}, {Code: "USD", Network: "fiat", Decimals: 2}} {
		_, err := eng.CreateAsset(ctx, a)
		require.NoError(t, err)
	}
	h.Seed, err = keys.MnemonicToSeed(Mnemonic, "", keys.English)
	require.NoError(t, err)
	watcher := func(s keys.Scheme) *keys.Watcher {
		xpub, err := keys.SchemeXPub(h.Seed, s, keys.Regtest, 0)
		require.NoError(t, err)
		w, err := keys.NewWatcher(s, keys.Regtest, xpub)
		require.NoError(t, err)
		return w
	}
	btc, evmw := watcher(keys.P2WPKH), watcher(keys.EVM)

	h.Owner, h.Payer, h.StoreID = "merchant-1", "payer-1", "store-1"
	for _, id := range []string{h.Owner, h.Payer} {
		require.NoError(t, db.CreateUser(ctx, chengdui.User{ID: id, Email: id + "@example.com", PasswordHash: "x", CreatedAt: h.Now()}))
	}
	require.NoError(t, db.CreateStore(ctx, chengdui.Store{ID: h.StoreID, OwnerID: h.Owner, Name: "Tea House 茶馆", DefaultCurrency: "CNY",
		Settlement: chengdui.StoreSettlement{Mode: "balance"}, CreatedAt: h.Now()}))
	for asset, amount := range map[string]string{"BTC": "1", "ETH": "10", "USDT-ERC20": "10000", "USDC-ERC20": "10000"} {
		dec := map[string]uint8{"BTC": 8, "ETH": 18, "USDT-ERC20": 6, "USDC-ERC20": 6}[asset]
		amt, err := chengdui.ParseDecimal(amount, dec)
		require.NoError(t, err)
		for _, a := range []chengdui.Account{{ID: "platform:" + asset + ":chain", Asset: asset},
			{ID: invoice.UserAccount(h.Payer, asset), Asset: asset, Flags: chengdui.DebitsMustNotExceedCredits}} {
			_, err := eng.CreateAccount(ctx, a)
			require.NoError(t, err)
		}
		res, err := eng.CreateTransfers(ctx, []chengdui.Transfer{{ID: "fund:" + asset, DebitAccountID: "platform:" + asset + ":chain",
			CreditAccountID: invoice.UserAccount(h.Payer, asset), Amount: amt, Code: 1}})
		require.NoError(t, err)
		require.NoError(t, res[0].Err)
	}

	signPath := keys.EVM.Path(keys.Regtest, 3, 0, 0)
	signer, err := keys.NewSeedSigner(h.Seed)
	require.NoError(t, err)
	var invSvc *invoice.Service
	h.Deposits = deposit.New(db, eng, resolverFunc(func(ctx context.Context, p deposit.Payment) (string, error) {
		return invSvc.Resolver(nil).Resolve(ctx, p)
	}), deposit.Config{Now: h.Now,
		PolicyFor: func(ctx context.Context, d deposit.Deposit) (deposit.Policy, bool, error) {
			return invSvc.Policy(ctx, d)
		},
		OnChange: func(ctx context.Context, ds []deposit.Deposit) { invSvc.DepositsChanged(ctx, ds) }})
	evmMethod := func(id, asset, token string) invoice.MethodConfig {
		return invoice.MethodConfig{ID: id, Asset: asset, Chain: "evm:1337", Scheme: keys.EVM.String(), Network: "evm", Deriver: evmw, ChainID: 1337, Token: token}
	}
	cfg := invoice.Config{Store: db, Ledger: eng, Quoter: h.Rates, Stores: db, Assets: db, Allocator: db, Deposits: db,
		Methods: []invoice.MethodConfig{
			{ID: invoice.MethodBTC, Asset: "BTC", Chain: "bitcoin:regtest", Scheme: keys.P2WPKH.String(), Network: "regtest", Deriver: btc},
			evmMethod(invoice.MethodETH, "ETH", ""),
			evmMethod(invoice.MethodUSDT, "USDT-ERC20", common.HexToAddress("0x00000000000000000000000000000000000000a1").Hex()),
			evmMethod(invoice.MethodUSDC, "USDC-ERC20", common.HexToAddress("0x00000000000000000000000000000000000000a2").Hex()),
		},
		Router: &invoice.RouterConfig{Address: h.Router.Hex(), ChainID: 1337, Recipient: common.HexToAddress("0x00000000000000000000000000000000000000b0").Hex(),
			Sign: func(in contracts.Intent) ([]byte, error) {
				return contracts.SignIntent(signer, signPath, big.NewInt(1337), h.Router, in)
			}},
		Notify: func() { h.Notified.Add(1) },
		Now:    h.Now,
	}
	if mod != nil {
		mod(h, &cfg)
	}
	invSvc, err = invoice.NewService(cfg)
	require.NoError(t, err)
	h.Invoices = invSvc
	return h
}

type resolverFunc func(ctx context.Context, p deposit.Payment) (string, error)

func (f resolverFunc) Resolve(ctx context.Context, p deposit.Payment) (string, error) {
	return f(ctx, p)
}

// Pay simulates a watcher seeing a payment of amount (smallest units) of a
// method's asset to the invoice's destination, at height (0: mempool),
// and settles the chain at tip. It returns the deposit key.
func (h *Harness) Pay(t testing.TB, inv invoice.Invoice, method string, amount chengdui.Amount, txid string, height, tip uint64) deposit.Key {
	t.Helper()
	ctx := context.Background()
	m, ok := inv.Method(method)
	require.True(t, ok, "invoice has no method %s", method)
	kind := deposit.KindOutput
	if m.Scheme == keys.EVM.String() {
		kind = deposit.KindNative
		if m.Token != "" {
			kind = deposit.KindERC20
		}
	}
	p := deposit.Payment{Key: deposit.Key{Chain: m.Chain, TxID: txid, Kind: kind}, Address: m.Destination, Asset: m.Asset, Amount: amount, Height: height}
	if height > 0 {
		p.BlockHash = fmt.Sprintf("block-%d", height)
	}
	require.NoError(t, h.Deposits.Observe(ctx, []deposit.Payment{p}))
	_, err := h.Deposits.Settle(ctx, m.Chain, tip)
	require.NoError(t, err)
	return p.Key
}

// Confirm settles a chain at tip.
func (h *Harness) Confirm(t testing.TB, chain string, tip uint64) {
	t.Helper()
	_, err := h.Deposits.Settle(context.Background(), chain, tip)
	require.NoError(t, err)
}

// Balance is an account's posted balance (credits - debits).
func (h *Harness) Balance(t testing.TB, account string) chengdui.Amount {
	t.Helper()
	a, err := h.Ledger.Account(context.Background(), account)
	if chengdui.ErrorCode(err) == chengdui.ENotFound || chengdui.ErrorCode(err) == chengdui.EAccountNotFound {
		return chengdui.Amount{}
	}
	require.NoError(t, err)
	b, ok := chengdui.SubAmounts(a.CreditsPosted, a.DebitsPosted)
	require.True(t, ok, "%s is overdrawn", account)
	return b
}
