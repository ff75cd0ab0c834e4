package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"lukechampine.com/uint128"

	"chengdui"
	"chengdui/audit"
	"chengdui/auth"
	"chengdui/bitcoin"
	"chengdui/bitcoin/cold"
	"chengdui/deposit"
	"chengdui/evm"
	"chengdui/invoice"
	"chengdui/keys"
	"chengdui/ledger"
	"chengdui/merchant"
	"chengdui/wallet"
	"chengdui/withdraw"
)

// chainsSetup is what the platform follows and sends on: dev builds it from
// its in-process chains, serve from its configuration.
type chainsSetup struct {
	Bitcoin *btcSetup
	EVM     []*evmSetup
	// Signer is the hot wallets' seed. nil (serve's watch-only mode): the
	// watchers credit deposits, but nothing is sent: no withdrawals, no
	// sweeps.
	Signer *keys.SeedSigner
	// Policies are the confirmation policies by asset.
	Policies map[string]deposit.Policy
	// Assets are created in the ledger if missing (tokens of configured
	// chains).
	Assets []chengdui.Asset
}

// btcSetup is a Bitcoin node to follow.
type btcSetup struct {
	Chain       string // bitcoin:<network>
	Node        *bitcoin.Node
	Network     keys.Network
	StartHeight uint64
	// Cold, with MaxHot, turns on the hot → cold sweep: the hot wallet
	// keeps at most MaxHot satoshis; above it, the excess down to MaxHot/2
	// goes to the next address of the 2-of-3 cold wallet.
	Cold   *cold.Wallet
	MaxHot int64
}

// evmSetup is an EVM chain to follow.
type evmSetup struct {
	Chain       string // evm:<chain id>
	Name        string // the ledger assets' network, e.g. ethereum
	Client      evm.Chain
	NativeAsset string
	Tokens      map[string]common.Address // asset → contract
	Router      common.Address
	// BatchPayer, if set, is the BatchPayer contract the hot wallet pays
	// withdrawals and crypto payouts of one asset through, up to 100
	// recipients per transaction.
	BatchPayer  common.Address
	StartHeight uint64
	// Hot is the key the hot wallet pays from (with Signer).
	HotPath keys.Path
	// IntentPath is the key that signs PaymentRouter intents (the
	// router's signer); nil: invoices carry no intents.
	IntentPath keys.Path
}

var zeroAddress common.Address

// evmHotAddress is the hot wallet's address.
func evmHotAddress(s *keys.SeedSigner, path keys.Path) (string, error) {
	a, err := evm.NewAccount(s, path)
	return a.Address.Hex(), err
}

// chainRuntime runs the watchers, payers and senders of a chainsSetup.
type chainRuntime struct {
	Deposits    *deposit.Service
	UserDeps    userDeposits
	Withdrawals *withdraw.Service
	btcWatcher  *bitcoin.Watcher

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startChains builds the deposit and withdrawal services and starts a
// watcher per chain and, with a signer, the payers and EVM senders and
// sweepers. Stop it with stop.
//
// With invoices set, payments to invoice addresses and router payments
// credit invoices (at their speed policy), and invoice addresses are
// watched and swept like users' deposit addresses.
func startChains(ctx context.Context, cs *chainsSetup, db database, eng *ledger.Engine, wallets *wallet.Service, invoices *invoice.Service, log *slog.Logger) (*chainRuntime, error) {
	dstore, ok1 := db.(deposit.Store)
	coins, ok2 := db.(bitcoin.CoinStore)
	wstore, ok3 := db.(withdraw.Store)
	sends, ok4 := db.(evm.SendStore)
	astore, ok5 := db.(audit.Store)
	mstore, ok6 := db.(merchant.Store)
	ustore, ok7 := db.(wallet.Store)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || !ok7 {
		return nil, fmt.Errorf("database %T does not store deposits, coins, withdrawals and sends", db)
	}
	for _, a := range cs.Assets {
		if _, err := eng.CreateAsset(ctx, a); err != nil && chengdui.ErrorCode(err) != chengdui.EExists {
			return nil, err
		}
	}
	rec := &audit.Recorder{Store: astore, Log: log}
	var resolver deposit.Resolver = wallets
	dcfg := deposit.Config{Policies: cs.Policies, Alerts: rec, Log: log}
	istore, _ := db.(invoice.Store)
	if invoices != nil && istore != nil {
		resolver = invoices.Resolver(wallets)
		dcfg.PolicyFor, dcfg.OnChange = invoices.Policy, invoices.DepositsChanged
	} else {
		istore = nil
	}
	// addresses lists the watched addresses of a tree: users' and invoices'.
	addresses := func(ctx context.Context, scheme, network string) ([]chengdui.DepositAddress, error) {
		as, err := ustore.AddressesOf(ctx, scheme, network)
		if err != nil || istore == nil {
			return as, err
		}
		more, err := invoiceAddresses(ctx, istore, scheme, network)
		return append(as, more...), err
	}
	rt := &chainRuntime{
		Deposits:    deposit.New(dstore, eng, resolver, dcfg),
		Withdrawals: withdraw.New(wstore, eng, db, auth.Guard{F: mstore}, withdraw.Config{Log: log}),
	}
	rt.UserDeps = userDeposits{store: dstore, assets: db}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	rt.cancel = cancel
	var runs []func(context.Context) error

	if b := cs.Bitcoin; b != nil {
		recv := wallets.AddressWatcher(keys.P2WPKH)
		if recv == nil {
			cancel()
			return nil, errors.New("bitcoin: no p2wpkh xpub configured: deposit addresses cannot be derived")
		}
		network := wallets.AddressNetwork(keys.P2WPKH)
		w, err := bitcoin.NewWatcher(bitcoin.WatcherConfig{Chain: b.Chain, Node: b.Node, Asset: "BTC", Deposits: rt.Deposits, Coins: coins,
			Receive: recv, StartHeight: b.StartHeight, Log: log,
			Addresses: func(ctx context.Context) ([]chengdui.DepositAddress, error) {
				return addresses(ctx, keys.P2WPKH.String(), network)
			}})
		if err != nil {
			cancel()
			return nil, fmt.Errorf("bitcoin watcher: %w", err)
		}
		rt.btcWatcher = w
		runs = append(runs, w.Run)
		if cs.Signer != nil {
			changeAddress := func(ctx context.Context) (uint32, []byte, error) {
				idx, err := ustore.AllocateAddressIndex(ctx, "p2wpkh-change", network)
				if err != nil {
					return 0, nil, err
				}
				addr, err := recv.Address(1, idx)
				if err != nil {
					return 0, nil, err
				}
				if err := w.TrackChange(idx); err != nil {
					return 0, nil, err
				}
				a, err := keys.ParseBitcoinAddress(addr, b.Network)
				return idx, a.ScriptPubKey, err
			}
			p := bitcoin.NewPayer(bitcoin.PayerConfig{Chain: b.Chain, Network: b.Network, Asset: "BTC", Node: b.Node, Coins: coins, Signer: cs.Signer,
				Withdrawals: rt.Withdrawals, Log: log, ChangeAddress: changeAddress})
			rt.Withdrawals.AddPayer(p)
			runs = append(runs, p.Run, func(ctx context.Context) error { return rt.Withdrawals.ResumeEvery(ctx, b.Chain, resumeInterval) })
			if b.Cold != nil && b.MaxHot > 0 {
				sw, err := bitcoin.NewColdSweeper(bitcoin.ColdSweeperConfig{Chain: b.Chain, Network: b.Network, Node: b.Node, Coins: coins,
					Signer: cs.Signer, Cold: b.Cold, MaxHot: b.MaxHot, ChangeAddress: changeAddress, Log: log,
					ColdIndex: func(ctx context.Context) (uint32, error) {
						return ustore.AllocateAddressIndex(ctx, "cold-p2wsh", network)
					},
					OnSweep: func(ctx context.Context, s bitcoin.Sweep) error {
						return bookNetworkFee(ctx, eng, "BTC", "btc-sweep-fee:"+s.TxID, chengdui.Amount{Lo: uint64(s.Fee)}, map[string]string{"kind": "cold sweep fee", "txid": s.TxID})
					}})
				if err != nil {
					cancel()
					return nil, fmt.Errorf("cold sweep: %w", err)
				}
				runs = append(runs, sw.Run)
			}
		}
	}
	for _, e := range cs.EVM {
		tokens := map[common.Address]string{}
		for asset, addr := range e.Tokens {
			tokens[addr] = asset
		}
		var internal []common.Address
		if cs.Signer != nil {
			hot, err := evm.NewAccount(cs.Signer, e.HotPath)
			if err != nil {
				cancel()
				return nil, err
			}
			internal = append(internal, hot.Address)
		}
		w, err := evm.NewWatcher(evm.WatcherConfig{Chain: e.Chain, Client: e.Client, NativeAsset: e.NativeAsset, Tokens: tokens, Router: e.Router, Internal: internal,
			Deposits: rt.Deposits, StartHeight: e.StartHeight, Log: log,
			Addresses: func(ctx context.Context) ([]chengdui.DepositAddress, error) {
				return addresses(ctx, keys.EVM.String(), "evm")
			}})
		if err != nil {
			cancel()
			return nil, fmt.Errorf("evm watcher %s: %w", e.Chain, err)
		}
		runs = append(runs, w.Run)
		if cs.Signer == nil {
			continue
		}
		hot, err := evm.NewAccount(cs.Signer, e.HotPath)
		if err != nil {
			cancel()
			return nil, err
		}
		var payer *evm.Payer
		sender, err := evm.NewSender(ctx, evm.SenderConfig{Chain: e.Chain, Client: e.Client, Store: sends, Signer: cs.Signer, Log: log,
			OnFinal: func(ctx context.Context, tx evm.OutTx) error {
				if strings.HasPrefix(tx.ID, "sweep:") {
					// A sweep or its gas top-up: the platform's expense.
					return bookNetworkFee(ctx, eng, e.NativeAsset, "evm-fee:"+tx.Hash.Hex(), feeWei(tx), map[string]string{"kind": "sweep fee", "txid": tx.Hash.Hex(), "send": tx.ID})
				}
				return payer.OnFinal(ctx, tx)
			}})
		if err != nil {
			cancel()
			return nil, fmt.Errorf("evm sender %s: %w", e.Chain, err)
		}
		payer = evm.NewPayer(evm.PayerConfig{Chain: e.Chain, NativeAsset: e.NativeAsset, Tokens: e.Tokens, Sender: sender, Hot: hot, Withdrawals: rt.Withdrawals,
			Batcher: e.BatchPayer, Log: log})
		rt.Withdrawals.AddPayer(payer)
		var sweepTokens []evm.SweepToken
		for asset, addr := range e.Tokens {
			sweepTokens = append(sweepTokens, evm.SweepToken{Asset: asset, Contract: addr})
		}
		sweeper, err := evm.NewSweeper(evm.SweeperConfig{Sender: sender, Hot: hot, NativeAsset: e.NativeAsset, Tokens: sweepTokens})
		if err != nil {
			cancel()
			return nil, err
		}
		chain, signer := e.Chain, cs.Signer
		runs = append(runs, sender.Run, payer.Run,
			func(ctx context.Context) error { return rt.Withdrawals.ResumeEvery(ctx, chain, resumeInterval) },
			func(ctx context.Context) error {
				return sweepLoop(ctx, dstore, ustore, istore, sweeper, signer, chain, log)
			})
	}
	for _, run := range runs {
		rt.wg.Add(1)
		go func() {
			defer rt.wg.Done()
			if err := run(runCtx); err != nil && runCtx.Err() == nil {
				log.Error("chain service stopped", "err", err)
			}
		}()
	}
	return rt, nil
}

// bookNetworkFee records a network fee the platform paid outside a
// withdrawal (a cold sweep) as its expense: platform:<ASSET>:network-fees
// → platform:<ASSET>:chain. The id makes a retry a no-op.
func bookNetworkFee(ctx context.Context, eng *ledger.Engine, asset, id string, fee chengdui.Amount, md map[string]string) error {
	if fee.IsZero() {
		return nil
	}
	for _, a := range []string{"platform:" + asset + ":network-fees", deposit.ChainAccount(asset)} {
		if _, err := eng.CreateAccount(ctx, chengdui.Account{ID: a, Asset: asset}); err != nil && chengdui.ErrorCode(err) != chengdui.EExists {
			return err
		}
	}
	res, err := eng.CreateTransfers(ctx, []chengdui.Transfer{{ID: id, DebitAccountID: "platform:" + asset + ":network-fees",
		CreditAccountID: deposit.ChainAccount(asset), Amount: fee, Code: withdraw.CodeNetworkFee, Metadata: md}})
	if err != nil {
		return err
	}
	return res[0].Err
}

// feeWei is what a final EVM transaction paid in gas; zero when it was
// never mined.
func feeWei(tx evm.OutTx) chengdui.Amount {
	if tx.Fee == nil || tx.Fee.Sign() <= 0 || tx.Fee.BitLen() > 128 {
		return chengdui.Amount{}
	}
	return uint128.FromBig(new(big.Int).Set(tx.Fee)) // FromBig shifts its argument
}

// resumeInterval is how often withdrawals still pending are submitted
// again to their chain's payer.
const resumeInterval = 10 * time.Second

// sweepInterval is how often credited EVM deposit addresses are swept.
const sweepInterval = 30 * time.Second

// sweepLoop moves credited deposits from users' and invoices' EVM
// addresses to the hot wallet, so withdrawals can be paid from one place.
// is may be nil (no invoices).
func sweepLoop(ctx context.Context, ds deposit.Store, us wallet.Store, is invoice.Store, sw *evm.Sweeper, signer *keys.SeedSigner, chain string, log *slog.Logger) error {
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		credited, err := ds.Deposits(ctx, deposit.Filter{Chain: chain, Status: deposit.Credited, Limit: 1000})
		if err != nil {
			log.Warn("sweep: listing deposits", "err", err)
			continue
		}
		seen := map[string]bool{}
		var accts []evm.Account
		for _, d := range credited {
			if seen[d.Address] {
				continue
			}
			seen[d.Address] = true
			var index uint32
			if a, err := us.DepositAddress(ctx, d.Address); err == nil {
				index = a.Index
			} else if is == nil {
				continue
			} else if a, err := is.InvoiceAddress(ctx, d.Address); err == nil {
				index = a.Index
			} else {
				continue // a router payment to the hot wallet, or another kind
			}
			acct, err := evm.DepositAccount(signer, index)
			if err != nil {
				continue
			}
			accts = append(accts, acct)
		}
		if len(accts) == 0 {
			continue
		}
		if _, err := sw.Sweep(ctx, accts...); err != nil {
			log.Warn("sweep", "chain", chain, "err", err)
		}
	}
}

// userDeposits lists a user's deposits across their asset accounts.
type userDeposits struct {
	store  deposit.Store
	assets interface {
		Assets(ctx context.Context) ([]chengdui.Asset, error)
	}
}

// UserDeposits implements http.Deposits: the newest 100 per asset, newest
// first overall.
func (u userDeposits) UserDeposits(ctx context.Context, userID string) ([]deposit.Deposit, error) {
	as, err := u.assets.Assets(ctx)
	if err != nil {
		return nil, err
	}
	var out []deposit.Deposit
	for _, a := range as {
		ds, err := u.store.Deposits(ctx, deposit.Filter{AccountID: wallet.AccountID(userID, a.Code), Limit: 100})
		if err != nil {
			return nil, err
		}
		out = append(out, ds...)
	}
	slices.SortStableFunc(out, func(a, b deposit.Deposit) int { return b.FirstSeen.Compare(a.FirstSeen) })
	return out, nil
}

// stop ends every chain service and waits for them.
func (rt *chainRuntime) stop() {
	if rt == nil {
		return
	}
	rt.cancel()
	rt.wg.Wait()
}
