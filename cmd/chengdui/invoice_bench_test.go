package main

import (
	"context"
	"encoding/hex"
	"math/big"
	nethttp "net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/stretchr/testify/require"

	"chengdui/contracts"
)

// BenchmarkSettledWebhook measures, on dev with its in-process EVM chain
// (no sealing timer: the benchmark seals), the time from sealing the block
// that confirms a router payment of an invoice (MediumSpeed: one
// confirmation) to its InvoiceSettled webhook arriving at the shop: the
// watcher, the deposit credit, the invoice transition with its outbox
// event, the webhook fan-out and the signed POST, all through dev's real
// wiring. Reported as p50 and p99 in milliseconds.
func BenchmarkSettledWebhook(b *testing.B) {
	dir := b.TempDir()
	dev := startDevChains(b, "--addr", "127.0.0.1:0", "--data-dir", dir, "--no-bitcoin", "--block-time", "0", "--log-level", "warn")
	v, ok := devChainsByDir.Load(dir)
	require.True(b, ok)
	chain := v.(*devChain)
	ctx := context.Background()
	gf := merchantAPI(b, dev)
	hooks := newHookReceiver(b)
	var created struct {
		Secret string `json:"secret"`
	}
	require.Equal(b, nethttp.StatusOK, gf.do("POST", "/api/v1/stores/"+gf.store+"/webhooks",
		`{"url":"`+hooks.srv.URL+`","authorizedEvents":{"everything":false,"specificEvents":["InvoiceSettled"]}}`, &created))
	hooks.mu.Lock()
	hooks.secret = created.Secret
	hooks.mu.Unlock()

	client := chain.sim.Client()
	payer := outsideWallet(b)
	mine := func(tx *types.Transaction) {
		chain.sim.Commit()
		r, err := bind.WaitMined(ctx, client, tx.Hash())
		require.NoError(b, err)
		require.Equal(b, uint64(1), r.Status)
	}
	_, err := chain.Faucet(ctx, payer.Address.Hex(), big.NewInt(1e18))
	require.NoError(b, err)
	_, err = chain.MintToken(ctx, "USDT-ERC20", payer.Address.Hex(), "1000000")
	require.NoError(b, err)
	chain.sim.Commit()
	token, err := contracts.NewTestToken(chain.tokens["USDT-ERC20"], client)
	require.NoError(b, err)
	opts, err := contracts.TransactOpts(ctx, client, payer)
	require.NoError(b, err)
	approve, err := token.Approve(opts, chain.router, new(big.Int).Lsh(big.NewInt(1), 200))
	require.NoError(b, err)
	mine(approve)
	router, err := contracts.NewPaymentRouter(chain.router, client)
	require.NoError(b, err)

	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		id := gf.createInvoice("7.20", "USDT-ERC20")
		in := gf.method(id, "USDT-ERC20").AdditionalData.Intent
		amount, _ := new(big.Int).SetString(in.Amount, 10)
		idBytes, _ := hex.DecodeString(strings.TrimPrefix(in.ID, "0x"))
		sig, _ := hex.DecodeString(strings.TrimPrefix(in.Signature, "0x"))
		intent := contracts.PaymentRouterIntent{Token: common.HexToAddress(in.Token), Amount: amount, Fee: new(big.Int),
			Recipient: common.HexToAddress(in.Recipient), FeeRecipient: common.HexToAddress(in.FeeRecipient), Deadline: big.NewInt(in.Deadline)}
		copy(intent.Id[:], idBytes)
		opts, err := contracts.TransactOpts(ctx, client, payer)
		require.NoError(b, err)
		tx, err := router.Pay(opts, intent, sig)
		require.NoError(b, err)
		b.StartTimer()
		start := time.Now()
		chain.sim.Commit()
		deadline := start.Add(10 * time.Second)
		for {
			hooks.mu.Lock()
			var at time.Time
			for _, e := range hooks.events {
				if e.InvoiceID == id && e.Type == "InvoiceSettled" {
					at = e.At
				}
			}
			hooks.mu.Unlock()
			if !at.IsZero() {
				lat = append(lat, at.Sub(start))
				break
			}
			require.True(b, time.Now().Before(deadline), "InvoiceSettled for %s (tx %s) not within 10 s", id, tx.Hash().Hex())
			time.Sleep(200 * time.Microsecond)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	ms := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))]) / float64(time.Millisecond) }
	b.ReportMetric(ms(0.5), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
}
