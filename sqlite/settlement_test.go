package sqlite_test

import (
	"testing"

	"chengdui/storetest"
)

func TestSettlementConformance(t *testing.T) {
	storetest.RunSettlement(t, func(t testing.TB) storetest.SettlementStore { return open(t) })
}
