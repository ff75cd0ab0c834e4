package postgres_test

import (
	"context"
	"testing"

	"chengdui/postgres"
	"chengdui/refund"
	"chengdui/storetest"

	"github.com/stretchr/testify/require"
)

func TestRefundConformance(t *testing.T) {
	storetest.RunRefund(t, func(t testing.TB) refund.Store { return Fresh(t) })
}

// TestRefundRaceAcrossPools races refunds of one invoice through two
// connection pools on one schema, as two processes would.
func TestRefundRaceAcrossPools(t *testing.T) {
	a, dsn := FreshDSN(t)
	b, err := postgres.Open(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	storetest.RunRefundRace(t, a, b)
}
