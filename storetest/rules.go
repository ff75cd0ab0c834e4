package storetest

import (
	"testing"

	"chengdui"

	"github.com/stretchr/testify/require"
)

// setupBasic creates USD accounts: "bank" (no limits, the source of money),
// "alice" and "bob" (no overdraft), "cap" (credits must not exceed debits),
// and a BTC account "btc".
func setupBasic(v *env) {
	v.asset("USD", 2)
	v.asset("BTC", 8)
	v.account("bank", "USD", 0)
	v.account("alice", "USD", chengdui.DebitsMustNotExceedCredits)
	v.account("bob", "USD", chengdui.DebitsMustNotExceedCredits)
	v.account("cap", "USD", chengdui.CreditsMustNotExceedDebits)
	v.account("btc", "BTC", 0)
	v.ok(chengdui.Transfer{ID: "fund-alice", DebitAccountID: "bank", CreditAccountID: "alice", Amount: amt(1000)})
}

func testRefusals(t *testing.T, f Factory) {
	v := start(t, f)
	setupBasic(v)
	v.ok(chengdui.Transfer{ID: "hold", DebitAccountID: "alice", CreditAccountID: "bob", Amount: amt(10), Flags: chengdui.Pending})
	v.ok(chengdui.Transfer{ID: "hold-posted", DebitAccountID: "alice", CreditAccountID: "bob", Amount: amt(10), Flags: chengdui.Pending})
	v.ok(chengdui.Transfer{ID: "post-1", PendingID: "hold-posted", Flags: chengdui.PostPending})
	v.ok(chengdui.Transfer{ID: "hold-voided", DebitAccountID: "alice", CreditAccountID: "bob", Amount: amt(10), Flags: chengdui.Pending})
	v.ok(chengdui.Transfer{ID: "void-1", PendingID: "hold-voided", Flags: chengdui.VoidPending})
	v.ok(chengdui.Transfer{ID: "hold-expiring", DebitAccountID: "alice", CreditAccountID: "bob", Amount: amt(10), Flags: chengdui.Pending, Timeout: 60})
	head, err := v.e.Head(v.ctx)
	require.NoError(t, err)
	before := map[string][4]uint64{}
	for _, a := range []string{"bank", "alice", "bob", "cap", "btc"} {
		dp, dpo, cp, cpo := v.balance(a)
		before[a] = [4]uint64{dp, dpo, cp, cpo}
	}

	tests := []struct {
		name string
		tr   chengdui.Transfer
		code string
	}{
		{"unknown debit account", chengdui.Transfer{ID: "r1", DebitAccountID: "nobody", CreditAccountID: "bob", Amount: amt(1)}, chengdui.EAccountNotFound},
		{"unknown credit account", chengdui.Transfer{ID: "r2", DebitAccountID: "alice", CreditAccountID: "nobody", Amount: amt(1)}, chengdui.EAccountNotFound},
		{"asset mismatch", chengdui.Transfer{ID: "r3", DebitAccountID: "bank", CreditAccountID: "btc", Amount: amt(1)}, chengdui.EAssetMismatch},
		{"named asset differs", chengdui.Transfer{ID: "r3b", DebitAccountID: "bank", CreditAccountID: "bob", Amount: amt(1), Asset: "BTC"}, chengdui.EAssetMismatch},
		{"zero amount", chengdui.Transfer{ID: "r4", DebitAccountID: "bank", CreditAccountID: "bob"}, chengdui.EZeroAmount},
		{"same account", chengdui.Transfer{ID: "r5", DebitAccountID: "bob", CreditAccountID: "bob", Amount: amt(1)}, chengdui.ESameAccount},
		{"overdraft", chengdui.Transfer{ID: "r6", DebitAccountID: "alice", CreditAccountID: "bob", Amount: amt(1000)}, chengdui.EExceedsCredits},
		{"pending overdraft", chengdui.Transfer{ID: "r6b", DebitAccountID: "alice", CreditAccountID: "bob", Amount: amt(981), Flags: chengdui.Pending}, chengdui.EExceedsCredits},
		{"credit cap", chengdui.Transfer{ID: "r7", DebitAccountID: "bank", CreditAccountID: "cap", Amount: amt(1)}, chengdui.EExceedsDebits},
		{"id reused, other body", chengdui.Transfer{ID: "fund-alice", DebitAccountID: "bank", CreditAccountID: "alice", Amount: amt(999)}, chengdui.EIDConflict},
		{"id reused, other code", chengdui.Transfer{ID: "fund-alice", DebitAccountID: "bank", CreditAccountID: "alice", Amount: amt(1000), Code: 7}, chengdui.EIDConflict},
		{"post unknown pending", chengdui.Transfer{ID: "r8", PendingID: "nope", Flags: chengdui.PostPending}, chengdui.EPendingNotFound},
		{"post a posted transfer", chengdui.Transfer{ID: "r9", PendingID: "fund-alice", Flags: chengdui.PostPending}, chengdui.EPendingNotFound},
		{"post already posted", chengdui.Transfer{ID: "r10", PendingID: "hold-posted", Flags: chengdui.PostPending}, chengdui.EPendingPosted},
		{"void already posted", chengdui.Transfer{ID: "r10b", PendingID: "hold-posted", Flags: chengdui.VoidPending}, chengdui.EPendingPosted},
		{"post already voided", chengdui.Transfer{ID: "r11", PendingID: "hold-voided", Flags: chengdui.PostPending}, chengdui.EPendingVoided},
		{"post more than pending", chengdui.Transfer{ID: "r12", PendingID: "hold", Amount: amt(11), Flags: chengdui.PostPending}, chengdui.EExceedsPendingAmount},
		{"partial void", chengdui.Transfer{ID: "r12b", PendingID: "hold", Amount: amt(5), Flags: chengdui.VoidPending}, chengdui.EInvalidAmount},
		{"post with other accounts", chengdui.Transfer{ID: "r12c", PendingID: "hold", DebitAccountID: "bank", Flags: chengdui.PostPending}, chengdui.EInvalid},
		{"pending and post", chengdui.Transfer{ID: "r13", DebitAccountID: "bank", CreditAccountID: "bob", Amount: amt(1), Flags: chengdui.Pending | chengdui.PostPending}, chengdui.EInvalidFlags},
		{"unknown flag", chengdui.Transfer{ID: "r14", DebitAccountID: "bank", CreditAccountID: "bob", Amount: amt(1), Flags: 1 << 20}, chengdui.EInvalidFlags},
		{"client sets expiry", chengdui.Transfer{ID: "r15", PendingID: "hold", Flags: chengdui.VoidPending | chengdui.Expiry}, chengdui.EInvalidFlags},
		{"timeout on posted", chengdui.Transfer{ID: "r16", DebitAccountID: "bank", CreditAccountID: "bob", Amount: amt(1), Timeout: 5}, chengdui.EInvalid},
		{"pending id on plain", chengdui.Transfer{ID: "r17", DebitAccountID: "bank", CreditAccountID: "bob", Amount: amt(1), PendingID: "hold"}, chengdui.EInvalid},
		{"NUL in id", chengdui.Transfer{ID: "a\x00b", DebitAccountID: "bank", CreditAccountID: "bob", Amount: amt(1)}, chengdui.EInvalid},
		{"NUL in account", chengdui.Transfer{ID: "r19", DebitAccountID: "bank\x00", CreditAccountID: "bob", Amount: amt(1)}, chengdui.EInvalid},
		{"invalid UTF-8 pending id", chengdui.Transfer{ID: "r20", PendingID: "\xff", Flags: chengdui.PostPending}, chengdui.EInvalid},
		{"empty id", chengdui.Transfer{DebitAccountID: "bank", CreditAccountID: "bob", Amount: amt(1)}, chengdui.EInvalid},
		{"id too long", chengdui.Transfer{ID: string(make([]byte, 129)), DebitAccountID: "bank", CreditAccountID: "bob", Amount: amt(1)}, chengdui.EInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := v.one(tc.tr)
			require.Error(t, r.Err)
			require.Equal(t, tc.code, chengdui.ErrorCode(r.Err), "message: %v", r.Err)
		})
	}
	t.Run("expired pending", func(t *testing.T) {
		v.clock.Advance(61e9)
		r := v.one(chengdui.Transfer{ID: "r18", PendingID: "hold-expiring", Flags: chengdui.PostPending})
		require.Equal(t, chengdui.EPendingExpired, chengdui.ErrorCode(r.Err))
	})
	// Nothing changed: no journal entry, no balance moved.
	after, err := v.e.Head(v.ctx)
	require.NoError(t, err)
	require.Equal(t, head.Size, after.Size)
	require.Equal(t, head.MerkleRoot, after.MerkleRoot)
	for a, b := range before {
		dp, dpo, cp, cpo := v.balance(a)
		require.Equal(t, b, [4]uint64{dp, dpo, cp, cpo}, "account %s", a)
	}
	require.True(t, v.verify().OK())

	t.Run("open chain", func(t *testing.T) {
		_, err := v.e.CreateTransfers(v.ctx, []chengdui.Transfer{{ID: "c", DebitAccountID: "bank", CreditAccountID: "bob", Amount: amt(1), Flags: chengdui.Linked}})
		require.Equal(t, chengdui.ELinkedChainOpen, chengdui.ErrorCode(err))
		_, err = v.e.CreateTransfers(v.ctx, nil)
		require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
	})
}

func testIdempotency(t *testing.T, f Factory) {
	v := start(t, f)
	setupBasic(v)
	tr := chengdui.Transfer{ID: "pay-1", DebitAccountID: "alice", CreditAccountID: "bob", Amount: amt(100), Code: 3,
		Metadata: map[string]string{"order": "42", "note": "书"}}
	first := v.one(tr)
	require.NoError(t, first.Err)
	require.False(t, first.Existed)
	for i := 0; i < 3; i++ {
		again := v.one(tr)
		require.NoError(t, again.Err)
		require.True(t, again.Existed)
		require.Equal(t, first.Transfer.Seq, again.Transfer.Seq)
		require.Equal(t, first.Transfer.Hash, again.Transfer.Hash)
		require.True(t, first.Transfer.Timestamp.Equal(again.Transfer.Timestamp))
	}
	// The same id twice in one request: the second sees the first.
	res, err := v.e.CreateTransfers(v.ctx, []chengdui.Transfer{
		{ID: "dup", DebitAccountID: "alice", CreditAccountID: "bob", Amount: amt(1)},
		{ID: "dup", DebitAccountID: "alice", CreditAccountID: "bob", Amount: amt(1)},
		{ID: "dup", DebitAccountID: "alice", CreditAccountID: "bob", Amount: amt(2)},
	})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
	require.True(t, res[1].Existed)
	require.Equal(t, chengdui.EIDConflict, chengdui.ErrorCode(res[2].Err))
	_, dpo, _, _ := v.balance("alice")
	require.Equal(t, uint64(101), dpo)
	// A retried post that left out the accounts and amount still matches.
	v.ok(chengdui.Transfer{ID: "h", DebitAccountID: "alice", CreditAccountID: "bob", Amount: amt(10), Flags: chengdui.Pending})
	p := chengdui.Transfer{ID: "h-post", PendingID: "h", Flags: chengdui.PostPending}
	v.ok(p)
	r := v.one(p)
	require.NoError(t, r.Err)
	require.True(t, r.Existed)
	require.True(t, v.verify().OK())
}

func testLinked(t *testing.T, f Factory) {
	v := start(t, f)
	setupBasic(v)
	v.account("inv-usd", "USD", 0)
	v.account("inv-btc", "BTC", 0)
	v.account("alice-btc", "BTC", chengdui.DebitsMustNotExceedCredits)
	// A conversion: alice pays 500 USD, receives 1000 sat from inventory,
	// fee 10 USD to bob (revenue). The last leg overdraws: nothing moves.
	chain := []chengdui.Transfer{
		{ID: "x1", DebitAccountID: "alice", CreditAccountID: "inv-usd", Amount: amt(500), Flags: chengdui.Linked},
		{ID: "x2", DebitAccountID: "inv-btc", CreditAccountID: "alice-btc", Amount: amt(1000), Flags: chengdui.Linked},
		{ID: "x3", DebitAccountID: "alice", CreditAccountID: "bob", Amount: amt(600)},
	}
	res, err := v.e.CreateTransfers(v.ctx, chain)
	require.NoError(t, err)
	require.Equal(t, chengdui.ELinkedEventFailed, chengdui.ErrorCode(res[0].Err))
	require.Equal(t, chengdui.ELinkedEventFailed, chengdui.ErrorCode(res[1].Err))
	require.Equal(t, chengdui.EExceedsCredits, chengdui.ErrorCode(res[2].Err))
	for _, a := range []string{"inv-usd", "inv-btc", "alice-btc", "bob"} {
		dp, dpo, cp, cpo := v.balance(a)
		require.Zero(t, dp+dpo+cp+cpo, a)
	}
	_, dpo, _, _ := v.balance("alice")
	require.Zero(t, dpo)
	// A chain and an independent transfer in one request: the failure of
	// the independent one does not touch the chain.
	chain[2].Amount = amt(10)
	chain = append(chain, chengdui.Transfer{ID: "x4", DebitAccountID: "bob", CreditAccountID: "alice", Amount: amt(100)})
	res, err = v.e.CreateTransfers(v.ctx, chain)
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		require.NoError(t, res[i].Err)
	}
	require.Equal(t, chengdui.EExceedsCredits, chengdui.ErrorCode(res[3].Err))
	require.Equal(t, res[0].Transfer.Seq+1, res[1].Transfer.Seq)
	_, dpo, _, _ = v.balance("alice")
	require.Equal(t, uint64(510), dpo)
	_, _, _, cpo := v.balance("alice-btc")
	require.Equal(t, uint64(1000), cpo)
	require.True(t, v.verify().OK())
}

func testTwoPhase(t *testing.T, f Factory) {
	v := start(t, f)
	setupBasic(v)
	v.ok(chengdui.Transfer{ID: "p1", DebitAccountID: "alice", CreditAccountID: "bob", Amount: amt(300), Flags: chengdui.Pending})
	dp, dpo, _, _ := v.balance("alice")
	require.Equal(t, [2]uint64{300, 0}, [2]uint64{dp, dpo})
	_, _, cp, cpo := v.balance("bob")
	require.Equal(t, [2]uint64{300, 0}, [2]uint64{cp, cpo})
	// The hold counts against the no-overdraft limit.
	r := v.one(chengdui.Transfer{ID: "too-much", DebitAccountID: "alice", CreditAccountID: "bob", Amount: amt(701)})
	require.Equal(t, chengdui.EExceedsCredits, chengdui.ErrorCode(r.Err))
	// Partial post: 200 of 300 moves, the rest is released.
	post := v.ok(chengdui.Transfer{ID: "p1-post", PendingID: "p1", Amount: amt(200), Flags: chengdui.PostPending})
	require.Equal(t, "alice", post.DebitAccountID)
	require.Equal(t, uint64(200), post.Amount.Lo)
	dp, dpo, _, _ = v.balance("alice")
	require.Equal(t, [2]uint64{0, 200}, [2]uint64{dp, dpo})
	st, err := v.h.Store.PendingStatus(v.ctx, "p1")
	require.NoError(t, err)
	require.Equal(t, chengdui.PendingPostedStatus, st)
	// Void.
	v.ok(chengdui.Transfer{ID: "p2", DebitAccountID: "alice", CreditAccountID: "bob", Amount: amt(50), Flags: chengdui.Pending})
	v.ok(chengdui.Transfer{ID: "p2-void", PendingID: "p2", Flags: chengdui.VoidPending})
	dp, dpo, _, _ = v.balance("alice")
	require.Equal(t, [2]uint64{0, 200}, [2]uint64{dp, dpo})
	// Pending and post in one linked request.
	res, err := v.e.CreateTransfers(v.ctx, []chengdui.Transfer{
		{ID: "p3", DebitAccountID: "alice", CreditAccountID: "bob", Amount: amt(5), Flags: chengdui.Pending | chengdui.Linked},
		{ID: "p3-post", PendingID: "p3", Flags: chengdui.PostPending},
	})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
	require.NoError(t, res[1].Err)
	require.True(t, v.verify().OK())
}

func testExpiry(t *testing.T, f Factory) {
	v := start(t, f)
	setupBasic(v)
	v.ok(chengdui.Transfer{ID: "e1", DebitAccountID: "alice", CreditAccountID: "bob", Amount: amt(100), Flags: chengdui.Pending, Timeout: 30})
	v.ok(chengdui.Transfer{ID: "e2", DebitAccountID: "alice", CreditAccountID: "bob", Amount: amt(100), Flags: chengdui.Pending})
	n, err := v.e.ExpirePending(v.ctx)
	require.NoError(t, err)
	require.Zero(t, n)
	v.clock.Advance(31e9)
	n, err = v.e.ExpirePending(v.ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	st, err := v.h.Store.PendingStatus(v.ctx, "e1")
	require.NoError(t, err)
	require.Equal(t, chengdui.PendingExpiredStatus, st)
	dp, _, _, _ := v.balance("alice")
	require.Equal(t, uint64(100), dp)
	r := v.one(chengdui.Transfer{ID: "late", PendingID: "e1", Flags: chengdui.VoidPending})
	require.Equal(t, chengdui.EPendingExpired, chengdui.ErrorCode(r.Err))
	n, err = v.e.ExpirePending(v.ctx)
	require.NoError(t, err)
	require.Zero(t, n)
	require.True(t, v.verify().OK())
}

func testBigAmounts(t *testing.T, f Factory) {
	v := start(t, f)
	v.asset("ETH", 18)
	v.account("mint", "ETH", 0)
	v.account("whale", "ETH", chengdui.DebitsMustNotExceedCredits)
	v.account("shrimp", "ETH", chengdui.DebitsMustNotExceedCredits)
	big, err := chengdui.ParseDecimal("1000000000000", 18) // 10^30 wei
	require.NoError(t, err)
	v.ok(chengdui.Transfer{ID: "mint", DebitAccountID: "mint", CreditAccountID: "whale", Amount: big})
	one, _ := chengdui.ParseDecimal("0.000000000000000001", 18)
	v.ok(chengdui.Transfer{ID: "wei", DebitAccountID: "whale", CreditAccountID: "shrimp", Amount: one})
	a, err := v.e.Account(v.ctx, "whale")
	require.NoError(t, err)
	bal, _ := chengdui.SubAmounts(a.CreditsPosted, a.DebitsPosted)
	require.Equal(t, "999999999999.999999999999999999", chengdui.FormatDecimal(bal, 18))
	// Up to 2^128-1 fits; one more overflows and is refused.
	max, err := chengdui.ParseUnits("340282366920938463463374607431768211455")
	require.NoError(t, err)
	v.account("max", "ETH", 0)
	v.account("max2", "ETH", 0)
	v.ok(chengdui.Transfer{ID: "max", DebitAccountID: "max2", CreditAccountID: "max", Amount: max})
	r := v.one(chengdui.Transfer{ID: "over", DebitAccountID: "mint", CreditAccountID: "max", Amount: one})
	require.Equal(t, chengdui.EOverflow, chengdui.ErrorCode(r.Err))
	got, err := v.e.Account(v.ctx, "max")
	require.NoError(t, err)
	require.Equal(t, max, got.CreditsPosted)
	rep := v.verify()
	require.True(t, rep.OK(), "%v", rep.Problems)
}

func testAssetsAccounts(t *testing.T, f Factory) {
	v := start(t, f)
	v.asset("USDT-ERC20", 6)
	_, err := v.e.CreateAsset(v.ctx, chengdui.Asset{Code: "USDT-ERC20", Network: "test", Decimals: 6})
	require.NoError(t, err, "same asset again is a no-op")
	_, err = v.e.CreateAsset(v.ctx, chengdui.Asset{Code: "USDT-ERC20", Network: "test", Decimals: 18})
	require.Equal(t, chengdui.EExists, chengdui.ErrorCode(err))
	for _, bad := range []chengdui.Asset{{Code: "", Network: "x"}, {Code: "A B", Network: "x"}, {Code: "A", Network: ""}, {Code: "A", Network: "x", Decimals: 39}} {
		_, err = v.e.CreateAsset(v.ctx, bad)
		require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%+v", bad)
	}
	v.account("u1", "USDT-ERC20", chengdui.DebitsMustNotExceedCredits)
	_, err = v.e.CreateAccount(v.ctx, chengdui.Account{ID: "u1", Asset: "USDT-ERC20", Flags: chengdui.DebitsMustNotExceedCredits})
	require.NoError(t, err)
	_, err = v.e.CreateAccount(v.ctx, chengdui.Account{ID: "u1", Asset: "USDT-ERC20"})
	require.Equal(t, chengdui.EExists, chengdui.ErrorCode(err))
	_, err = v.e.CreateAccount(v.ctx, chengdui.Account{ID: "u2", Asset: "NOPE"})
	require.Equal(t, chengdui.EAssetNotFound, chengdui.ErrorCode(err))
	_, err = v.e.CreateAccount(v.ctx, chengdui.Account{ID: "u3", Asset: "USDT-ERC20", Flags: chengdui.DebitsMustNotExceedCredits | chengdui.CreditsMustNotExceedDebits})
	require.Equal(t, chengdui.EInvalidFlags, chengdui.ErrorCode(err))
	_, err = v.e.Account(v.ctx, "u2")
	require.Equal(t, chengdui.EAccountNotFound, chengdui.ErrorCode(err))
	assets, err := v.h.Store.Assets(v.ctx)
	require.NoError(t, err)
	require.Len(t, assets, 1)
}

func testHistory(t *testing.T, f Factory) {
	v := start(t, f)
	setupBasic(v)
	for i := 0; i < 25; i++ {
		v.ok(chengdui.Transfer{ID: id("h", i), DebitAccountID: "alice", CreditAccountID: "bob", Amount: amt(1)})
	}
	v.ok(chengdui.Transfer{ID: "other", DebitAccountID: "bank", CreditAccountID: "bob", Amount: amt(1)})
	history := func(account string) []uint64 {
		var got []uint64
		var after uint64
		for {
			page, err := v.e.Transfers(v.ctx, chengdui.TransferFilter{AccountID: account, AfterSeq: after, Limit: 10})
			require.NoError(t, err)
			if len(page) == 0 {
				break
			}
			for _, tr := range page {
				require.True(t, tr.DebitAccountID == account || tr.CreditAccountID == account)
				got = append(got, tr.Seq)
			}
			after = page[len(page)-1].Seq
		}
		return got
	}
	// The same history whether the index is behind, partly or wholly
	// caught up with the journal.
	want := history("alice")
	require.Len(t, want, 26) // the funding plus 25
	for i := 1; i < len(want); i++ {
		require.Less(t, want[i-1], want[i])
	}
	wantBob := history("bob")
	require.Len(t, wantBob, 26)
	n, err := v.h.Store.IndexHistory(v.ctx, 7)
	require.NoError(t, err)
	require.Equal(t, 7, n)
	require.Equal(t, want, history("alice"))
	require.Equal(t, wantBob, history("bob"))
	total, err := v.e.IndexHistory(v.ctx)
	require.NoError(t, err)
	require.Equal(t, 20, total) // 27 entries in all
	require.Equal(t, want, history("alice"))
	require.Equal(t, wantBob, history("bob"))
	n, err = v.h.Store.IndexHistory(v.ctx, 100)
	require.NoError(t, err)
	require.Zero(t, n)
	tr, err := v.h.Store.Transfer(v.ctx, "h-3")
	require.NoError(t, err)
	require.Equal(t, "alice", tr.DebitAccountID)
	_, err = v.h.Store.Transfer(v.ctx, "missing")
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err))
}

func testVerifyTamper(t *testing.T, f Factory) {
	t.Run("empty ledger", func(t *testing.T) {
		v := start(t, f)
		rep := v.verify()
		require.True(t, rep.OK(), "%v", rep.Problems)
		head, err := v.e.Head(v.ctx)
		require.NoError(t, err)
		require.Equal(t, rep.Head, head)
		require.Len(t, head.MerkleRoot, 32)
	})
	cases := []struct {
		name, sql string
		wantSeq   uint64
		account   string
	}{
		{"amount changed", "UPDATE transfers SET amount = '999' WHERE seq = 4", 4, ""},
		{"account swapped", "UPDATE transfers SET credit_account_id = 'alice' WHERE seq = 6", 6, ""},
		{"metadata changed", "UPDATE transfers SET metadata = '{\"k\":\"y\"}' WHERE seq = 3", 3, ""},
		{"row deleted", "DELETE FROM transfers WHERE seq = 5", 6, ""},
		{"balance changed", "UPDATE accounts SET credits_posted = '5' WHERE id = 'bob'", 0, "bob"},
		{"last row deleted", "DELETE FROM transfers WHERE seq = 8", 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := start(t, f)
			setupBasic(v) // seq 1
			for i := 0; i < 7; i++ {
				v.ok(chengdui.Transfer{ID: id("t", i), DebitAccountID: "alice", CreditAccountID: "bob", Amount: amt(uint64(i + 1)),
					Metadata: map[string]string{"k": "v"}})
			}
			rep := v.verify()
			require.True(t, rep.OK(), "%v", rep.Problems)
			require.EqualValues(t, 8, rep.Entries)
			require.NoError(t, v.h.Exec(v.ctx, tc.sql))
			rep = v.verify()
			require.False(t, rep.OK())
			switch {
			case tc.wantSeq != 0:
				require.NotNil(t, rep.First)
				require.Equal(t, tc.wantSeq, rep.First.Seq, "%v", rep.Problems)
			case tc.account != "":
				require.Equal(t, tc.account, rep.Problems[0].Account)
			}
		})
	}
}
