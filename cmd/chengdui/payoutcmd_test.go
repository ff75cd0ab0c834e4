package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"chengdui"
	"chengdui/payout"
	"chengdui/rail"

	"github.com/stretchr/testify/require"
)

// TestPayoutApproveCancel drives the operators' payout commands on a data
// directory holding two payouts above the approval threshold, as the
// payout service leaves them (the hold in the ledger, the payout stored):
// the creator cannot approve, a second operator can; cancelling releases
// the hold; bad input changes nothing.
func TestPayoutApproveCancel(t *testing.T) {
	c := newLedger(t)
	c.ok("asset create", "--code", "CNY", "--network", "fiat", "--decimals", "2")
	c.ok("account create", "--id", "funding", "--asset", "CNY")
	c.ok("account create", "--id", "store:s1:CNY", "--asset", "CNY", "--no-overdraft")
	c.ok("account create", "--id", payout.Account("CNY"), "--asset", "CNY")
	c.ok("transfer", "--id", "fund", "--from", "funding", "--to", "store:s1:CNY", "--amount", "1000")

	ctx := context.Background()
	db, err := openMigrated(ctx, "sqlite:"+c.dir+"/chengdui.db", false)
	require.NoError(t, err)
	now := time.Now().UTC().Truncate(time.Microsecond)
	for _, id := range []string{"po-one", "po-two"} {
		c.ok("pending", "--id", payout.HoldID(id), "--from", "store:s1:CNY", "--to", payout.Account("CNY"), "--amount", "300")
		require.NoError(t, db.(payout.Store).CreatePayout(ctx, payout.Payout{ID: id, StoreID: "s1", Asset: "CNY", Amount: chengdui.Amount{Lo: 30000},
			Method: payout.Bank, Rail: "sandbox", Creditor: rail.Party{Name: "Shop Ltd", IBAN: "DE89370400440532013000"}, Reference: "Payout " + id,
			State: payout.AwaitingApproval, CreatedBy: "alice", CreatedAt: now, UpdatedAt: now, Version: 1}))
	}
	require.NoError(t, db.Close())
	run := func(args ...string) (string, string, int) {
		t.Helper()
		return runCmd(t, ctx, nil, "", append(append([]string{"payout"}, args[:1]...), append([]string{"--data-dir", c.dir}, args[1:]...)...)...)
	}

	out, errOut, code := run("list", "--state", "AwaitingApproval")
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "po-one")
	require.Contains(t, out, "300.00 CNY")

	before := c.journal()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"approve", "--operator", "alice", "po-one"}, "second operator"},
		{[]string{"approve", "po-one"}, "--operator"},
		{[]string{"approve", "--operator", "bob"}, "one payout id"},
		{[]string{"approve", "--operator", "bob", "po-nope"}, "no payout"},
		{[]string{"approve", "--operator", "b:ob", "po-one"}, "operator"},
		{[]string{"list", "--state", "Lost"}, "not valid"},
	} {
		_, errOut, code := run(tc.args...)
		require.Equal(t, exitUsage, code, "%q: %s", tc.args, errOut)
		require.Contains(t, errOut, tc.want, "%q", tc.args)
	}
	require.Equal(t, before, c.journal(), "refused commands change nothing")

	out, errOut, code = run("approve", "--operator", "bob", "po-one")
	require.Equal(t, exitOK, code, errOut)
	require.Equal(t, "po-one AwaitingPayment: 300.00 CNY, s1\n", out)
	_, errOut, code = run("cancel", "--operator", "bob", "po-two")
	require.Equal(t, exitOK, code, errOut)
	bal := c.balances("store:s1:CNY")["store:s1:CNY"]
	require.Equal(t, []string{"CNY", "1000.00"}, bal[:2])
	require.Equal(t, "300.00", bal[4], "only the approved payout's hold is left pending; the cancelled one's is released")
	_, errOut, code = runCmd(t, ctx, map[string]string{"CHENGDUI_OPERATOR": "carol"}, "", "payout", "cancel", "--data-dir", c.dir, "po-two")
	require.Equal(t, exitOK, code, "cancelling again is a no-op: %s", errOut)
	out, _, _ = run("list", "--store", "s1")
	require.True(t, strings.Contains(out, "Cancelled") && strings.Contains(out, "AwaitingPayment"), out)
}

// TestPayoutReport applies a bank's report of a payout sent as a file:
// completed posts the hold, returned gives the store the amount back; bad
// input changes nothing.
func TestPayoutReport(t *testing.T) {
	c := newLedger(t)
	c.ok("asset create", "--code", "EUR", "--network", "fiat", "--decimals", "2")
	c.ok("account create", "--id", "funding", "--asset", "EUR")
	c.ok("account create", "--id", "store:s1:EUR", "--asset", "EUR", "--no-overdraft")
	c.ok("account create", "--id", payout.Account("EUR"), "--asset", "EUR")
	c.ok("transfer", "--id", "fund", "--from", "funding", "--to", "store:s1:EUR", "--amount", "1000")
	c.ok("pending", "--id", payout.HoldID("po-sepa"), "--from", "store:s1:EUR", "--to", payout.Account("EUR"), "--amount", "250")
	ctx := context.Background()
	db, err := openMigrated(ctx, "sqlite:"+c.dir+"/chengdui.db", false)
	require.NoError(t, err)
	now := time.Now().UTC().Truncate(time.Microsecond)
	p := payout.Payout{ID: "po-sepa", StoreID: "s1", Asset: "EUR", Amount: chengdui.Amount{Lo: 25000}, Method: payout.Bank, Rail: "sepa",
		Creditor: rail.Party{Name: "Müller GmbH", IBAN: "DE89370400440532013000"}, Reference: "Payout po-sepa",
		State: payout.AwaitingPayment, CreatedBy: "alice", CreatedAt: now, UpdatedAt: now, Version: 1}
	require.NoError(t, db.(payout.Store).CreatePayout(ctx, p))
	p.State, p.SubmittedAt = payout.InProgress, now // as Dispatch leaves it once the file took it
	_, err = db.(payout.Store).UpdatePayout(ctx, p)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	report := func(args ...string) (string, string, int) {
		t.Helper()
		return runCmd(t, ctx, map[string]string{"CHENGDUI_OPERATOR": "ops"}, "", append([]string{"payout", "report", "--data-dir", c.dir}, args...)...)
	}
	before := c.journal()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--status", "lost", "po-sepa"}, "completed, failed or returned"},
		{[]string{"--status", "completed"}, "one payout id"},
		{[]string{"--status", "completed", "po-nope"}, "no payout"},
	} {
		_, errOut, code := report(tc.args...)
		require.Equal(t, exitUsage, code, "%q: %s", tc.args, errOut)
		require.Contains(t, errOut, tc.want)
	}
	require.Equal(t, before, c.journal(), "refused reports change nothing")

	out, errOut, code := report("--status", "completed", "--bank-ref", "E2E-1", "po-sepa")
	require.Equal(t, exitOK, code, errOut)
	require.Equal(t, "po-sepa Completed: 250.00 EUR, s1\n", out)
	require.Equal(t, "750.00", c.balances("store:s1:EUR")["store:s1:EUR"][1])
	out, errOut, code = report("--status", "returned", "--reason", "account closed", "po-sepa")
	require.Equal(t, exitOK, code, errOut)
	require.Equal(t, "po-sepa Failed: 250.00 EUR, s1\n", out)
	require.Equal(t, "1000.00", c.balances("store:s1:EUR")["store:s1:EUR"][1], "the returned amount is the store's again")
	_, _, code = report("--status", "returned", "po-sepa")
	require.Equal(t, exitOK, code, "a report applied again changes nothing")
	require.Equal(t, "1000.00", c.balances("store:s1:EUR")["store:s1:EUR"][1])
}
