package invoice_test

import (
	"context"
	"testing"

	"chengdui/invoice"
	"chengdui/invoice/invoicetest"
)

// BenchmarkCreate creates invoices concurrently on SQLite: quotes, two
// addresses, two signed router intents, one transaction.
func BenchmarkCreate(b *testing.B) {
	h := invoicetest.New(b)
	ctx := context.Background()
	b.SetParallelism(16) // 32 concurrent callers, as many HTTP clients
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.Invoices.Create(ctx, invoice.CreateRequest{StoreID: h.StoreID, Amount: "100.00", Metadata: []byte(`{"orderId":"o"}`)}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
