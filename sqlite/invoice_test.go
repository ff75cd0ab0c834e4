package sqlite_test

import (
	"testing"

	"chengdui"
	"chengdui/invoice"
	"chengdui/storetest"
)

func TestInvoiceConformance(t *testing.T) {
	storetest.RunInvoice(t, func(t testing.TB) invoice.Store { return open(t) })
}

func TestIdempotencyConformance(t *testing.T) {
	storetest.RunIdempotency(t, func(t testing.TB) chengdui.IdempotencyStore { return open(t) })
}

// BenchmarkCreateInvoice: see storetest.BenchCreateInvoice.
func BenchmarkCreateInvoice(b *testing.B) { storetest.BenchCreateInvoice(b, open(b)) }
