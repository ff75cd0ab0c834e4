package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"chengdui"
	"chengdui/invoice"

	"github.com/stretchr/testify/require"
)

// Outbox is a store whose outbox takes events of changes stored without
// them (refunds) and gives them to the webhook sender.
type Outbox interface {
	AppendEvents(ctx context.Context, events []invoice.Event) error
	Events(ctx context.Context, invoiceID string, after int64, limit int) ([]invoice.Event, error)
}

// RunOutbox checks AppendEvents: events come out in order with their
// fields, an id already in the outbox is skipped, a bad event is refused
// and adds nothing.
func RunOutbox(t *testing.T, s Outbox) {
	ctx := context.Background()
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	ev := func(id, typ string) invoice.Event {
		return invoice.Event{ID: id, StoreID: "s1", Type: typ, Data: json.RawMessage(`{"refundId":"rf1"}`), CreatedAt: at}
	}
	require.NoError(t, s.AppendEvents(ctx, []invoice.Event{ev("rf:rf1:0:created", "RefundCreated"), ev("rf:rf1:1:claimed", "PayoutCreated")}))
	require.NoError(t, s.AppendEvents(ctx, []invoice.Event{ev("rf:rf1:0:created", "RefundCreated"), ev("rf:rf1:1:completed", "PayoutUpdated")}))
	bad := ev("", "RefundCreated")
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(s.AppendEvents(ctx, []invoice.Event{ev("rf:rf1:x", "T"), bad})))
	got, err := s.Events(ctx, "", 0, 10)
	require.NoError(t, err)
	var ids []string
	for i, e := range got {
		ids = append(ids, e.ID)
		require.Equal(t, "s1", e.StoreID)
		require.Empty(t, e.InvoiceID)
		require.JSONEq(t, `{"refundId":"rf1"}`, string(e.Data))
		require.True(t, e.CreatedAt.Equal(at))
		if i > 0 {
			require.Greater(t, e.Seq, got[i-1].Seq)
		}
	}
	require.Equal(t, []string{"rf:rf1:0:created", "rf:rf1:1:claimed", "rf:rf1:1:completed"}, ids)
}
