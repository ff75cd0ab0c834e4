package sqlite_test

import (
	"context"
	"testing"

	"chengdui/payout"
	"chengdui/sqlite"
	"chengdui/storetest"

	"github.com/stretchr/testify/require"
)

func TestPayoutConformance(t *testing.T) {
	storetest.RunPayout(t, func(t testing.TB) payout.Store { return open(t) })
}

// TestPayoutClaimsAcrossHandles races claims through two handles on one
// file, as two processes would.
func TestPayoutClaimsAcrossHandles(t *testing.T) {
	a := open(t)
	b, err := sqlite.Open(context.Background(), a.Path())
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	storetest.RunPayoutClaims(t, a, b)
}
