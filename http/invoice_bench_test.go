package http_test

import (
	"context"
	"fmt"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"chengdui"
	"chengdui/auth"
	chttp "chengdui/http"
	"chengdui/invoice/invoicetest"
	"chengdui/merchant"
	"chengdui/postgres/pgtest"
)

// benchDB is what the benchmark's server needs of a database.
type benchDB interface {
	invoicetest.Database
	merchant.Store
	chengdui.IdempotencyStore
	Accounts(ctx context.Context, afterID string, limit int) ([]chengdui.Account, error)
}

// BenchmarkCreateInvoiceHTTP creates invoices through the Greenfield
// endpoint over loopback HTTP with 8 and 32 concurrent keep-alive clients, each
// invoice quoted in BTC, ETH, USDT and USDC with its own BTC and EVM
// addresses and three signed router intents, on SQLite and PostgreSQL.
// It reports invoices/s and the p50 and p99 request latency.
func BenchmarkCreateInvoiceHTTP(b *testing.B) {
	for _, clients := range []int{8, 32} {
		b.Run(fmt.Sprintf("sqlite/clients=%d", clients), func(b *testing.B) {
			h := invoicetest.New(b)
			benchCreate(b, h, h.DB, clients)
		})
		b.Run(fmt.Sprintf("postgres/clients=%d", clients), func(b *testing.B) {
			db, _ := pgtest.Fresh(b)
			h := invoicetest.NewOn(b, db, nil)
			benchCreate(b, h, db, clients)
		})
	}
}

func benchCreate(b *testing.B, h *invoicetest.Harness, db benchDB, clients int) {
	srv := httptest.NewServer(chttp.NewServer(chttp.Config{Ledger: h.Ledger, Store: db, Merchants: merchant.New(db, merchant.Config{}),
		Invoices: h.Invoices, Idempotency: db}).Handler())
	b.Cleanup(srv.Close)
	plain, prefix, hash, err := auth.NewAPIKey()
	require.NoError(b, err)
	require.NoError(b, db.CreateAPIKey(context.Background(), chengdui.APIKey{ID: "bench-key", StoreID: h.StoreID, Label: "bench",
		Prefix: prefix, Hash: hash, Scopes: []string{string(auth.ScopeInvoiceCreate)}, CreatedAt: h.Now()}))
	transport := &nethttp.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	b.Cleanup(transport.CloseIdleConnections)
	client := &nethttp.Client{Transport: transport, Timeout: 30 * time.Second}
	path := srv.URL + "/api/v1/stores/" + h.StoreID + "/invoices"

	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	work := make(chan int)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for i := range work {
				body := fmt.Sprintf(`{"amount":"%d.00","currency":"CNY","metadata":{"orderId":"bench-%d"}}`, 10+i%1000, i)
				t0 := time.Now()
				req, _ := nethttp.NewRequest("POST", path, strings.NewReader(body))
				req.Header.Set("Authorization", "token "+plain)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != nethttp.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
				}
				d := time.Since(t0)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		})
	}
	for i := range b.N {
		work <- i
	}
	close(work)
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	ms := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))]) / float64(time.Millisecond) }
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "invoices/s")
	b.ReportMetric(ms(0.5), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
}
