package refund_test

import (
	"encoding/json"
	"testing"

	"chengdui/refund"

	"github.com/stretchr/testify/require"
)

// TestEvent checks the event announcing each refund state: type, id
// (stable per state and claim attempt) and payload.
func TestEvent(t *testing.T) {
	r := refund.Refund{ID: "rfX", StoreID: "s1", InvoiceID: "inv1", Asset: "USDT-ERC20", State: refund.Creating}
	_, ok := refund.Event(r)
	require.False(t, ok, "a refund being created is not announced")
	ids := map[string]bool{}
	for _, tc := range []struct {
		state   refund.State
		attempt uint32
		typ     string
		payout  string
	}{
		{refund.AwaitingClaim, 0, refund.EventCreated, ""},
		{refund.InProgress, 1, refund.EventPayoutCreated, "InProgress"},
		{refund.AwaitingClaim, 1, refund.EventPayoutUpdated, "Cancelled"},
		{refund.InProgress, 2, refund.EventPayoutCreated, "InProgress"},
		{refund.Completed, 2, refund.EventPayoutUpdated, "Completed"},
		{refund.Cancelled, 0, refund.EventCancelled, ""},
	} {
		r.State, r.Attempt = tc.state, tc.attempt
		ev, ok := refund.Event(r)
		require.True(t, ok)
		require.Equal(t, tc.typ, ev.Type, "%s/%d", tc.state, tc.attempt)
		require.Equal(t, "s1", ev.StoreID)
		require.Empty(t, ev.InvoiceID)
		require.False(t, ids[ev.ID], "ids differ per state and attempt: %s", ev.ID)
		ids[ev.ID] = true
		again, _ := refund.Event(r)
		require.Equal(t, ev.ID, again.ID, "the same state is the same event")
		var d map[string]any
		require.NoError(t, json.Unmarshal(ev.Data, &d))
		require.Equal(t, "rfX", d["refundId"])
		require.Equal(t, "inv1", d["refundedInvoiceId"])
		if tc.payout != "" {
			require.Equal(t, tc.payout, d["payoutState"])
			require.Equal(t, "rfX", d["pullPaymentId"])
			require.Equal(t, refund.WithdrawalID("rfX", tc.attempt), d["payoutId"])
		} else {
			require.NotContains(t, d, "payoutState")
		}
	}
}

// TestClaimHoldID: a claim's withdrawal id names the claim's hold; other
// ids name none.
func TestClaimHoldID(t *testing.T) {
	id := refund.ID("s1", "client-1")
	h, ok := refund.ClaimHoldID(refund.WithdrawalID(id, 2))
	require.True(t, ok)
	require.Equal(t, "rf:"+id+":hold:2", h)
	for _, bad := range []string{"", "rf-", "rf-x", "po-abc", "rf-" + id + "-", "rf-" + id + "-x", "rf-" + id + "-01", "rf-" + id + "-99999999999"} {
		_, ok := refund.ClaimHoldID(bad)
		require.False(t, ok, bad)
	}
}
