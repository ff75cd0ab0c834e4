// Package http is the platform's HTTP edge: the read API over the ledger,
// health and readiness probes, Prometheus metrics and a small HTML page.
//
// Every route is listed in routes.go. Handlers return domain errors through
// Error, the one place where error codes become HTTP statuses. Amounts
// leave this package as decimal strings of smallest units: 128-bit values do
// not survive a JSON number in most clients.
package http
