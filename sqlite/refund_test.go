package sqlite_test

import (
	"context"
	"testing"

	"chengdui/refund"
	"chengdui/sqlite"
	"chengdui/storetest"

	"github.com/stretchr/testify/require"
)

func TestRefundConformance(t *testing.T) {
	storetest.RunRefund(t, func(t testing.TB) refund.Store { return open(t) })
}

// TestRefundRaceAcrossHandles races refunds of one invoice through two
// handles on one file, as two processes would.
func TestRefundRaceAcrossHandles(t *testing.T) {
	a := open(t)
	b, err := sqlite.Open(context.Background(), a.Path())
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	storetest.RunRefundRace(t, a, b)
}
