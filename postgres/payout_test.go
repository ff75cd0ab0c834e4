package postgres_test

import (
	"context"
	"testing"

	"chengdui/payout"
	"chengdui/postgres"
	"chengdui/storetest"

	"github.com/stretchr/testify/require"
)

func TestPayoutConformance(t *testing.T) {
	storetest.RunPayout(t, func(t testing.TB) payout.Store { return Fresh(t) })
}

// TestPayoutClaimsAcrossPools races claims through two connection pools
// on one schema, as two processes would.
func TestPayoutClaimsAcrossPools(t *testing.T) {
	a, dsn := FreshDSN(t)
	b, err := postgres.Open(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	storetest.RunPayoutClaims(t, a, b)
}
