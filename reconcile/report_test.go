package reconcile_test

import (
	"bytes"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"chengdui"
	"chengdui/evm"
	"chengdui/reconcile"
)

func TestFormatSigned(t *testing.T) {
	for _, c := range []struct {
		x    int64
		d    uint8
		want string
	}{
		{0, 8, "0.00000000"},
		{1, 8, "+0.00000001"},
		{-1, 8, "-0.00000001"},
		{-150_000_000, 8, "-1.50000000"},
		{12345, 2, "+123.45"},
		{7, 0, "+7"},
		{-7, 0, "-7"},
	} {
		require.Equal(t, c.want, reconcile.FormatSigned(big.NewInt(c.x), c.d), "%d with %d decimals", c.x, c.d)
	}
	require.Equal(t, "0.00", reconcile.FormatSigned(nil, 2))
}

// TestExplain: the residual is the difference less the explaining
// items' effects; unexplained items do not reduce it.
func TestExplain(t *testing.T) {
	item := func(k reconcile.Kind, effect int64) reconcile.Item {
		return reconcile.Item{Kind: k, Ref: string(k), Effect: big.NewInt(effect)}
	}
	for _, c := range []struct {
		name                  string
		ledger, float, actual int64
		explained             []reconcile.Item
		unexplained           []reconcile.Item
		residual              int64
	}{
		{name: "clean", ledger: 100, actual: 100},
		{name: "float is the ledger's side", ledger: 100, float: 50, actual: 150},
		{name: "deposit below depth", ledger: 100, actual: 130,
			explained: []reconcile.Item{item(reconcile.DepositNotCredited, 30)}},
		{name: "withdrawal and its fee in flight", ledger: 100, actual: 68,
			explained: []reconcile.Item{item(reconcile.WithdrawalInFlight, -30), item(reconcile.FeeNotBooked, -2)}},
		{name: "unbooked payment in", ledger: 100, actual: 107, residual: 7,
			unexplained: []reconcile.Item{item(reconcile.UnexpectedDeposit, 7)}},
		{name: "ledger credit without a coin", ledger: 100, actual: 90, residual: -10},
		{name: "explanations that overshoot leave a residual", ledger: 100, actual: 130, residual: -20,
			explained: []reconcile.Item{item(reconcile.DepositNotCredited, 50)}},
		{name: "negative ledger", ledger: -5, actual: 0, residual: 5},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := reconcile.Asset{Asset: "BTC", Ledger: big.NewInt(c.ledger), Float: chengdui.Amount{Lo: uint64(c.float)},
				Actual: big.NewInt(c.actual), Explained: c.explained, Unexplained: c.unexplained}
			reconcile.Explain(&a)
			require.Zero(t, a.Residual.Cmp(big.NewInt(c.residual)), "residual %s, want %d", a.Residual, c.residual)
			require.Equal(t, c.residual == 0, a.OK())
			require.Zero(t, a.Difference().Cmp(big.NewInt(c.actual-c.ledger-c.float)))
		})
	}
}

func amt(n int64) *big.Int { return big.NewInt(n) }

func TestMatchPayouts(t *testing.T) {
	for _, c := range []struct {
		name        string
		ledger      map[string]reconcile.PayoutLedger
		bank        map[string]reconcile.PayoutBank
		explained   []reconcile.Kind
		unexplained []reconcile.Kind
	}{
		{name: "completed on both sides",
			ledger: map[string]reconcile.PayoutLedger{"po-1": {Held: amt(100), Posted: amt(100)}},
			bank:   map[string]reconcile.PayoutBank{"po-1": {Paid: amt(100)}}},
		{name: "held, not paid yet",
			ledger: map[string]reconcile.PayoutLedger{"po-1": {Held: amt(100)}}},
		{name: "paid by the bank, callback not applied",
			ledger:    map[string]reconcile.PayoutLedger{"po-1": {Held: amt(100)}},
			bank:      map[string]reconcile.PayoutBank{"po-1": {Paid: amt(100)}},
			explained: []reconcile.Kind{reconcile.PayoutInFlight}},
		{name: "returned on both sides",
			ledger: map[string]reconcile.PayoutLedger{"po-1": {Held: amt(100), Posted: amt(100), Returned: amt(100)}},
			bank:   map[string]reconcile.PayoutBank{"po-1": {Paid: amt(100), Returned: amt(100)}}},
		{name: "returned by the bank, not booked",
			ledger:    map[string]reconcile.PayoutLedger{"po-1": {Held: amt(100), Posted: amt(100)}},
			bank:      map[string]reconcile.PayoutBank{"po-1": {Paid: amt(100), Returned: amt(100)}},
			explained: []reconcile.Kind{reconcile.ReturnNotBooked}},
		{name: "failed and voided: nothing moved",
			ledger: map[string]reconcile.PayoutLedger{"po-1": {Held: amt(100), Voided: true}}},
		{name: "posted in the ledger, never paid by the bank",
			ledger:      map[string]reconcile.PayoutLedger{"po-1": {Held: amt(100), Posted: amt(100)}},
			unexplained: []reconcile.Kind{reconcile.BankMismatch}},
		{name: "paid by the bank, no payout in the ledger",
			bank:        map[string]reconcile.PayoutBank{"po-9": {Paid: amt(40)}},
			unexplained: []reconcile.Kind{reconcile.BankMismatch}},
		{name: "paid a different amount than held",
			ledger:      map[string]reconcile.PayoutLedger{"po-1": {Held: amt(100)}},
			bank:        map[string]reconcile.PayoutBank{"po-1": {Paid: amt(90)}},
			unexplained: []reconcile.Kind{reconcile.BankMismatch}},
		{name: "voided in the ledger, paid by the bank",
			ledger:      map[string]reconcile.PayoutLedger{"po-1": {Held: amt(100), Voided: true}},
			bank:        map[string]reconcile.PayoutBank{"po-1": {Paid: amt(100)}},
			unexplained: []reconcile.Kind{reconcile.BankMismatch}},
		{name: "return booked that the bank never made",
			ledger:      map[string]reconcile.PayoutLedger{"po-1": {Held: amt(100), Posted: amt(100), Returned: amt(100)}},
			bank:        map[string]reconcile.PayoutBank{"po-1": {Paid: amt(100)}},
			unexplained: []reconcile.Kind{reconcile.BankMismatch}},
		{name: "several orders, each its own item",
			ledger: map[string]reconcile.PayoutLedger{
				"po-1": {Held: amt(100)}, "po-2": {Held: amt(5), Posted: amt(5)}, "po-3": {Held: amt(7), Posted: amt(7)}},
			bank:        map[string]reconcile.PayoutBank{"po-1": {Paid: amt(100)}, "po-2": {Paid: amt(5)}},
			explained:   []reconcile.Kind{reconcile.PayoutInFlight},
			unexplained: []reconcile.Kind{reconcile.BankMismatch}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ex, un := reconcile.MatchPayouts(c.ledger, c.bank)
			require.Equal(t, c.explained, kinds(ex))
			require.Equal(t, c.unexplained, kinds(un))
		})
	}
}

func kinds(its []reconcile.Item) []reconcile.Kind {
	var out []reconcile.Kind
	for _, it := range its {
		out = append(out, it.Kind)
	}
	return out
}

// TestMatchPayoutsListsEveryDifference: whatever the two sides did, the
// items' effects add up to the bank's net minus the ledger's, so every
// difference is listed, and a difference is never both explained and
// unexplained.
func TestMatchPayoutsListsEveryDifference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 8).Draw(t, "orders")
		ledger := map[string]reconcile.PayoutLedger{}
		bank := map[string]reconcile.PayoutBank{}
		maybe := func(label string) *big.Int {
			if rapid.Bool().Draw(t, label+"?") {
				return big.NewInt(rapid.Int64Range(1, 1000).Draw(t, label))
			}
			return nil
		}
		for i := range n {
			id := "po-" + string(rune('a'+i))
			if rapid.Bool().Draw(t, "in ledger") {
				ledger[id] = reconcile.PayoutLedger{Held: maybe("held"), Posted: maybe("posted"), Voided: rapid.Bool().Draw(t, "voided"), Returned: maybe("returned")}
			}
			if rapid.Bool().Draw(t, "at bank") {
				bank[id] = reconcile.PayoutBank{Paid: maybe("paid"), Returned: maybe("bank returned")}
			}
		}
		want := new(big.Int)
		for _, b := range bank {
			want.Add(want, orZero(b.Paid)).Sub(want, orZero(b.Returned))
		}
		for _, l := range ledger {
			want.Sub(want, orZero(l.Posted)).Add(want, orZero(l.Returned))
		}
		ex, un := reconcile.MatchPayouts(ledger, bank)
		got := new(big.Int)
		refs := map[string]bool{}
		for _, it := range append(ex, un...) {
			require.NotZero(t, it.Effect.Sign(), "an item without effect: %+v", it)
			require.False(t, refs[it.Ref], "order %s listed twice", it.Ref)
			refs[it.Ref] = true
			got.Add(got, it.Effect)
		}
		require.Zero(t, got.Cmp(want), "items add up to %s, the sides differ by %s", got, want)
	})
}

func orZero(x *big.Int) *big.Int {
	if x == nil {
		return new(big.Int)
	}
	return x
}

func TestDecodeTransfer(t *testing.T) {
	to := common.HexToAddress("0x9858EfFD232B4033E47d90003D41EC34EcaEda94")
	got, amount, ok := reconcile.DecodeTransfer(evm.TransferData(to, big.NewInt(1_234_567)))
	require.True(t, ok)
	require.Equal(t, to, got)
	require.Zero(t, amount.Cmp(big.NewInt(1_234_567)))
	for _, bad := range [][]byte{nil, {0xa9, 0x05, 0x9c, 0xbb}, append([]byte{1, 2, 3, 4}, make([]byte, 64)...),
		append(evm.TransferData(to, big.NewInt(1)), 0), append([]byte{0xa9, 0x05, 0x9c, 0xbb}, bytes.Repeat([]byte{0xff}, 64)...)} {
		_, _, ok := reconcile.DecodeTransfer(bad)
		require.False(t, ok, "%x", bad)
	}
}

func FuzzDecodeTransfer(f *testing.F) {
	f.Add(evm.TransferData(common.Address{1}, big.NewInt(5)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		to, amount, ok := reconcile.DecodeTransfer(data)
		if ok {
			require.Equal(t, data, evm.TransferData(to, amount))
		}
	})
}

func TestReportRendering(t *testing.T) {
	a := reconcile.Asset{Asset: "BTC", Decimals: 8, Source: "bitcoin:regtest", Account: "platform:BTC:chain",
		Ledger: big.NewInt(100_000_000), Actual: big.NewInt(100_050_000),
		Holdings:    []reconcile.Holding{{Role: "deposit", Where: "ab:0", Amount: chengdui.Amount{Lo: 100_050_000}}},
		Unexplained: []reconcile.Item{{Kind: reconcile.UnknownCoin, Ref: "ab:0", TxID: "ab", Effect: big.NewInt(50_000), Detail: "from outside"}}}
	reconcile.Explain(&a)
	ok := reconcile.Asset{Asset: "CNY", Decimals: 2, Source: "bank:sandbox", Account: "platform:CNY:payouts", Ledger: big.NewInt(500), Actual: big.NewInt(500)}
	reconcile.Explain(&ok)
	r := reconcile.Report{At: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), Assets: []reconcile.Asset{a, ok}}
	require.False(t, r.OK())
	require.Equal(t, []string{"BTC on bitcoin:regtest"}, r.Unexplained())

	var text bytes.Buffer
	require.NoError(t, r.WriteText(&text))
	for _, want := range []string{"BTC on bitcoin:regtest", "ledger      1.00000000", "chain       1.00050000 (deposit ×1)",
		"difference  +0.00050000", "UNEXPLAINED +0.00050000", "unknown_coin ab:0", "CNY on bank:sandbox", "  OK",
		"UNEXPLAINED: 1 of 2 asset(s): BTC on bitcoin:regtest"} {
		require.Contains(t, text.String(), want)
	}

	b, err := json.Marshal(r)
	require.NoError(t, err)
	var got struct {
		OK     bool `json:"ok"`
		Assets []struct {
			Asset       string `json:"asset"`
			Difference  string `json:"difference"`
			Unexplained string `json:"unexplained"`
			OK          bool   `json:"ok"`
			Items       []struct {
				Kind   string `json:"kind"`
				Effect string `json:"effect"`
			} `json:"unexplained_items"`
		} `json:"assets"`
	}
	require.NoError(t, json.Unmarshal(b, &got))
	require.False(t, got.OK)
	require.Equal(t, "+0.00050000", got.Assets[0].Difference)
	require.Equal(t, "+0.00050000", got.Assets[0].Unexplained)
	require.Equal(t, "unknown_coin", got.Assets[0].Items[0].Kind)
	require.True(t, got.Assets[1].OK)
	require.False(t, strings.Contains(string(b), "e+"), "no floats: %s", b)
}

func TestRunRefusesIncompleteConfig(t *testing.T) {
	e := newLedgerEnv(t, "sqlite")
	for name, cfg := range map[string]reconcile.Config{
		"no ledger":       {},
		"bitcoin no node": {Ledger: e.db, Bitcoin: &reconcile.Bitcoin{Chain: "bitcoin:regtest", Coins: e.db, Deposits: e.db, Withdrawals: e.db}},
		"evm no client":   {Ledger: e.db, EVM: []reconcile.EVM{{Chain: "evm:1", NativeAsset: "ETH", Deposits: e.db}}},
		"bank no source":  {Ledger: e.db, Bank: &reconcile.Bank{Currencies: []string{"EUR"}}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := reconcile.Run(t.Context(), cfg)
			require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
		})
	}
}

// TestOKNeedsNoUnexplainedItem: unexplained items that cancel out (a
// payout the bank never paid, a bank payment of nobody's order) leave no
// residual, and still the asset is not OK.
func TestOKNeedsNoUnexplainedItem(t *testing.T) {
	a := reconcile.Asset{Asset: "CNY", Source: "bank:sandbox", Residual: big.NewInt(0), Unexplained: []reconcile.Item{
		{Kind: reconcile.Kind("bank_mismatch"), Ref: "po-1", Effect: big.NewInt(-500)},
		{Kind: reconcile.Kind("bank_mismatch"), Ref: "stray", Effect: big.NewInt(500)}}}
	require.False(t, a.OK())
	r := reconcile.Report{Assets: []reconcile.Asset{a}}
	require.False(t, r.OK())
	require.Equal(t, []string{"CNY on bank:sandbox"}, r.Unexplained())
	a.Unexplained = nil
	require.True(t, reconcile.Report{Assets: []reconcile.Asset{a}}.OK())
}
