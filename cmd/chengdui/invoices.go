package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/big"
	"time"

	"chengdui"
	"chengdui/contracts"
	"chengdui/invoice"
	"chengdui/keys"
	"chengdui/ledger"
	"chengdui/settle"
	"chengdui/wallet"
	"chengdui/webhook"
)

// invoiceDeps are what the invoice service is built from.
type invoiceDeps struct {
	DB      database
	Ledger  *ledger.Engine
	Wallets *wallet.Service
	Chains  *chainsSetup // nil: balance payments only
	Quoter  invoice.Quoter
	Notify  func()
	Log     *slog.Logger
	// FeeBps is the platform's fee on conversions (hundredths of a
	// percent), unless a store has its own.
	FeeBps uint32
	Alerts settle.Alerter
}

// newInvoices builds the invoice service: a payment method per asset of
// each followed chain (BTC-CHAIN, ETH, the tokens) with addresses from the
// wallet's trees, router intents signed with the chain's intent key, and
// BALANCE.
func newInvoices(d invoiceDeps) (*invoice.Service, error) {
	store, ok1 := d.DB.(invoice.Store)
	stores, ok2 := d.DB.(invoice.Stores)
	assets, ok3 := d.DB.(invoice.Assets)
	alloc, ok4 := d.DB.(invoice.Allocator)
	deps, ok5 := d.DB.(invoice.DepositSource)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
		return nil, fmt.Errorf("database %T does not store invoices", d.DB)
	}
	cfg := invoice.Config{Store: store, Ledger: d.Ledger, Quoter: d.Quoter, Stores: stores, Assets: assets, Allocator: alloc,
		Deposits: deps, Notify: d.Notify, Log: d.Log,
		Settler: settle.New(settle.Config{Ledger: d.Ledger, Stores: stores, FeeBps: d.FeeBps, Alerts: d.Alerts, Log: d.Log})}
	if cs := d.Chains; cs != nil && d.Wallets != nil {
		if b := cs.Bitcoin; b != nil {
			if w := d.Wallets.AddressWatcher(keys.P2WPKH); w != nil {
				cfg.Methods = append(cfg.Methods, invoice.MethodConfig{ID: invoice.MethodBTC, Asset: "BTC", Chain: b.Chain,
					Scheme: keys.P2WPKH.String(), Network: d.Wallets.AddressNetwork(keys.P2WPKH), Deriver: w})
			}
		}
		w := d.Wallets.AddressWatcher(keys.EVM)
		for _, e := range cs.EVM {
			if w == nil {
				break
			}
			chainID, err := e.Client.ChainID(context.Background())
			if err != nil {
				return nil, fmt.Errorf("evm %s: chain id: %w", e.Chain, err)
			}
			method := func(id, asset, token string) invoice.MethodConfig {
				return invoice.MethodConfig{ID: id, Asset: asset, Chain: e.Chain, Scheme: keys.EVM.String(), Network: d.Wallets.AddressNetwork(keys.EVM),
					Deriver: w, ChainID: chainID.Uint64(), Token: token}
			}
			if e.NativeAsset == "ETH" {
				cfg.Methods = append(cfg.Methods, method(invoice.MethodETH, "ETH", ""))
			}
			for _, asset := range []string{"USDT-ERC20", "USDC-ERC20"} {
				if addr, ok := e.Tokens[asset]; ok {
					cfg.Methods = append(cfg.Methods, method(asset, asset, addr.Hex()))
				}
			}
			if cs.Signer != nil && e.IntentPath != nil && e.Router.Cmp(zeroAddress) != 0 && cfg.Router == nil {
				hot, err := evmHotAddress(cs.Signer, e.HotPath)
				if err != nil {
					return nil, err
				}
				router, signer, path := e.Router, cs.Signer, e.IntentPath
				cfg.Router = &invoice.RouterConfig{Address: router.Hex(), ChainID: chainID.Uint64(), Recipient: hot,
					Sign: func(in contracts.Intent) ([]byte, error) {
						return contracts.SignIntent(signer, path, new(big.Int).Set(chainID), router, in)
					}}
			}
		}
	}
	return invoice.NewService(cfg)
}

// invoiceAddresses lists the invoice addresses of a tree as deposit
// addresses, for watchers and sweeps (the owner is "invoice:<id>").
func invoiceAddresses(ctx context.Context, store invoice.Store, scheme, network string) ([]chengdui.DepositAddress, error) {
	as, err := store.InvoiceAddresses(ctx, scheme, network)
	if err != nil {
		return nil, err
	}
	out := make([]chengdui.DepositAddress, len(as))
	for i, a := range as {
		out[i] = chengdui.DepositAddress{Address: a.Address, UserID: "invoice:" + a.InvoiceID, Scheme: a.Scheme, Network: a.Network, Index: a.Index, CreatedAt: a.CreatedAt}
	}
	return out, nil
}

// invoiceTick is how often the invoice clock runs (expiries, monitoring).
const invoiceTick = time.Second

// newWebhooks builds the webhook service over the database's outbox.
func newWebhooks(db database, allowPrivate bool, log *slog.Logger) (*webhook.Service, error) {
	store, ok1 := db.(webhook.Store)
	events, ok2 := db.(webhook.EventSource)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("database %T does not store webhooks", db)
	}
	return webhook.New(webhook.Config{Store: store, Events: events, AllowPrivate: allowPrivate, Log: log})
}

// fundInventory moves amount (whole units) of a fiat currency from the
// platform's capital into its inventory, once (the id makes a rerun a
// no-op): dev's operator has CNY and USD to pay merchants out of.
func fundInventory(ctx context.Context, eng *ledger.Engine, asset, amount string, decimals uint8) error {
	amt, err := chengdui.ParseDecimal(amount, decimals)
	if err != nil {
		return err
	}
	for _, a := range []chengdui.Account{{ID: "platform:" + asset + ":capital", Asset: asset},
		settle.InventoryAccount(asset)} {
		if _, err := eng.CreateAccount(ctx, a); err != nil && chengdui.ErrorCode(err) != chengdui.EExists {
			return err
		}
	}
	res, err := eng.CreateTransfers(ctx, []chengdui.Transfer{{ID: "dev:inventory:" + asset, DebitAccountID: "platform:" + asset + ":capital",
		CreditAccountID: settle.Inventory(asset), Amount: amt, Code: 1, Metadata: map[string]string{"kind": "dev inventory funding"}}})
	if err != nil {
		return err
	}
	return res[0].Err
}
