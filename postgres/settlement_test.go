package postgres_test

import (
	"testing"

	"chengdui/storetest"
)

func TestSettlementConformance(t *testing.T) {
	storetest.RunSettlement(t, func(t testing.TB) storetest.SettlementStore { return Fresh(t) })
}
