package payout_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"chengdui"
	"chengdui/payout"
	"chengdui/rail"
	"chengdui/rail/sandbox"
)

// TestSandboxBank pays through the sandbox bank over loopback HTTP, its
// signed callbacks applied as they come: a payout completes, one to a
// closed account fails, one is returned; the ledger agrees with the
// bank's statement of the operating account.
func TestSandboxBank(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	const secret = "callback-secret"
	callbacks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil {
			http.Error(w, "read", http.StatusBadRequest)
			return
		}
		u, err := sandbox.VerifyCallback(secret, body, r.Header.Get(sandbox.SignatureHeader))
		if err != nil {
			http.Error(w, chengdui.ErrorMessage(err), http.StatusUnauthorized)
			return
		}
		if _, err := f.svc.Apply(r.Context(), u); err != nil {
			t.Errorf("applying %+v: %v", u, err)
			http.Error(w, "apply", http.StatusInternalServerError)
		}
	}))
	t.Cleanup(callbacks.Close)
	const closed = "FR1420041010050500013M02606"
	funding := f.amount("EUR", "10000")
	b, err := sandbox.NewBank(sandbox.Config{APIKey: "api-key", CallbackURL: callbacks.URL, CallbackSecret: secret,
		ConfirmDelay: 20 * time.Millisecond, Funding: map[string]chengdui.Amount{"EUR": funding}, FailAccounts: []string{closed},
		CallbackBackoff: 10 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	base, stop, err := b.Start("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(stop)
	client := sandbox.NewClient(base, "api-key", &http.Client{Timeout: 5 * time.Second})
	f.svc = f.service(f.store, func(c *payout.Config) { c.Rails = map[string]rail.Rail{"EUR": client} })

	paid := f.create(eurRequest("paid", "125.50"))
	require.Equal(t, "sandbox", paid.Rail)
	failing := eurRequest("closed", "40")
	failing.Creditor.IBAN = closed
	failed := f.create(failing)
	returned := f.create(eurRequest("returned", "300"))
	f.dispatch(3)

	state := func(id string) payout.State { return f.get(id).State }
	require.Eventually(t, func() bool {
		return state(paid.ID) == payout.Completed && state(failed.ID) == payout.Failed && state(returned.ID) == payout.Completed
	}, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, "failed at the bank: "+sandbox.ReasonClosedAccount, f.get(failed.ID).Reason)
	require.Equal(t, f.amount("EUR", "574.50"), f.available("EUR"))

	_, err = client.Return(ctx, returned.ID, "")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return state(returned.ID) == payout.Failed }, 10*time.Second, 10*time.Millisecond)
	got := f.get(returned.ID)
	require.Equal(t, payout.ReasonReturned+": "+sandbox.ReasonReturned, got.Reason)
	require.NotEmpty(t, got.Ref)

	// The store paid out exactly the one completed payout; the payouts
	// account's net credit is what left the bank's operating account.
	require.Equal(t, f.amount("EUR", "874.50"), f.available("EUR"))
	require.True(t, f.held("EUR").IsZero())
	acct := f.account(payout.Account("EUR"))
	net := acct.CreditsPosted.Sub(acct.DebitsPosted)
	require.Equal(t, f.amount("EUR", "125.50"), net)
	st, err := client.Statement(ctx, sandbox.OperatingAccountID("EUR"), 0)
	require.NoError(t, err)
	require.Equal(t, funding.Sub(net), st.Balance)
}
