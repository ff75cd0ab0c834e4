package withdraw_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"chengdui"
	"chengdui/withdraw"
)

// TestMarkSentDoesNotUndoComplete: the payer marking a batch sent while
// the sender completes it (an EVM batch finishing as the payer's loop
// catches up after a restart) ends Completed, not Sent again.
func TestMarkSentDoesNotUndoComplete(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	inSent, release := make(chan struct{}), make(chan struct{})
	f.svc.OnOutcome(withdraw.OriginPayout, func(_ context.Context, w withdraw.Withdrawal) error {
		if w.Status == withdraw.Sent {
			close(inSent)
			<-release
		}
		return nil
	})
	_, err := f.svc.Enqueue(ctx, withdraw.Withdrawal{ID: "po-x", Origin: withdraw.OriginPayout, Asset: "ETH", To: dest, Amount: eth(t, "0.1")})
	require.NoError(t, err)
	marked := make(chan error)
	go func() { marked <- f.svc.MarkSent(ctx, "po-x", "0xhash") }()
	<-inSent
	completed := make(chan error)
	go func() { completed <- f.svc.Complete(ctx, "po-x", "0xhash", chengdui.Amount{Lo: 7}) }()
	select {
	case err := <-completed:
		t.Fatalf("Complete ran while MarkSent was deciding: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	require.NoError(t, <-marked)
	require.NoError(t, <-completed)
	w, err := f.svc.Store().Withdrawal(ctx, "po-x")
	require.NoError(t, err)
	require.Equal(t, withdraw.Completed, w.Status)
}
