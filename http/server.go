package http

import (
	"context"
	"crypto/rand"
	"html/template"
	"log/slog"
	"math/big"
	nethttp "net/http"
	"strconv"
	"sync"
	"time"

	"chengdui"
	"chengdui/auth"
	"chengdui/invoice"

	"github.com/prometheus/client_golang/prometheus"
)

// Config holds a Server's dependencies.
type Config struct {
	Ledger chengdui.Ledger
	// Store lists what the Ledger interface does not: accounts in id order
	// and assets. The sqlite and postgres databases satisfy it.
	Store interface {
		Accounts(ctx context.Context, afterID string, limit int) ([]chengdui.Account, error)
		Assets(ctx context.Context) ([]chengdui.Asset, error)
	}
	// Ready reports whether the server should take traffic: nil once
	// migrations ran and the store answers. A nil Ready is always ready.
	Ready func(ctx context.Context) error
	// Registry receives the HTTP metrics and is served at /metrics. A nil
	// Registry gets a fresh one.
	Registry *prometheus.Registry
	Logger   *slog.Logger // nil: discard
	Version  string
	// Wallets serves users, sessions and wallets; nil leaves those routes
	// out (a server without a keystore).
	Wallets chengdui.Wallets
	// Merchants serves stores, API keys and two-factor enrolment; it
	// needs Wallets for logins. nil leaves those routes out.
	Merchants chengdui.Merchants
	// CSRFKey signs the pages' CSRF tokens: 32 bytes or more, the same on
	// every server behind one address. nil: a random key per process.
	CSRFKey []byte
	// Limiter limits failed logins, registrations and second-factor codes
	// per client address and per account; nil: 5 per minute.
	Limiter *auth.Limiter
	// Now is the clock of the limiter; time.Now if nil.
	Now func() time.Time
	// Faucet, dev only, sends amountWei of a chain's native coin to the
	// EVM address to and returns the transaction hash; nil leaves the
	// faucet route out. Balance, dev only, is an address's balance in wei
	// on the same chain; nil leaves its route out.
	// AssetFaucet, dev only, sends amount (whole units) of a non-ETH asset
	// (BTC, test tokens) to an address for the faucet route.
	AssetFaucet func(ctx context.Context, asset, to, amount string) (txid string, err error)
	// Deposits, if set, serves GET /api/v1/deposits.
	Deposits Deposits
	// Withdrawals, if set, serves POST/GET /api/v1/withdrawals.
	Withdrawals Withdrawals
	// Invoices, if set, serves the merchant API (native and Greenfield
	// invoices), the hosted checkout and, with Webhooks, webhooks.
	Invoices *invoice.Service
	// Webhooks manages stores' webhooks and their deliveries.
	Webhooks Webhooks
	// Idempotency keeps Idempotency-Key answers of POST requests.
	Idempotency chengdui.IdempotencyStore
	// Payouts, if set, serves a store's payouts API.
	Payouts Payouts
	// Refunds, if set, serves Greenfield's invoice refunds, the refund
	// pages and claims, and a store's refunds (http/refunds.go); nil
	// answers the refund route 501.
	Refunds Refunds
	// Settlement, if set (with Wallets), serves stores' settlement
	// profiles (settle.Profiles).
	Settlement Settlement
	// PublicURL is the server's external base URL (checkout links), e.g.
	// https://pay.example.com; "" : taken from each request's Host.
	PublicURL string
	Faucet    func(ctx context.Context, to string, amountWei *big.Int) (txHash string, err error)
	Balance   func(ctx context.Context, address string) (wei *big.Int, err error)
}

// Server serves the HTTP API. Build it with NewServer.
type Server struct {
	csrfKey []byte
	cfg     Config
	log     *slog.Logger
	index   *template.Template
	handler nethttp.Handler

	// streamsDone is closed by StopStreams: long-lived responses (the
	// checkout's event streams) end so that a graceful shutdown can finish.
	streamsDone chan struct{}
	stopOnce    sync.Once

	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewServer returns a server and registers its metrics in cfg.Registry; it
// panics if they are already registered there, as a second Server on the
// same registry would double-count.
func NewServer(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Ready == nil {
		cfg.Ready = func(context.Context) error { return nil }
	}
	if len(cfg.CSRFKey) < 32 {
		cfg.CSRFKey = make([]byte, 32)
		if _, err := rand.Read(cfg.CSRFKey); err != nil {
			panic("http: no randomness for the CSRF key: " + err.Error())
		}
	}
	if cfg.Limiter == nil {
		cfg.Limiter = &auth.Limiter{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{
		streamsDone: make(chan struct{}),
		csrfKey:     cfg.CSRFKey,
		cfg:         cfg,
		log:         cfg.Logger,
		index:       parseTemplates(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chengdui_http_requests_total",
			Help: "HTTP requests served, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "chengdui_http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
	}
	cfg.Registry.MustRegister(s.requests, s.duration)

	mux := nethttp.NewServeMux()
	s.routes(mux)
	s.handler = s.observe(s.recoverPanics(mux))
	return s
}

// StopStreams ends the long-lived responses (Server-Sent Events): register
// it with http.Server.RegisterOnShutdown, as Shutdown does not wait for
// them to end on their own.
func (s *Server) StopStreams() { s.stopOnce.Do(func() { close(s.streamsDone) }) }

// Handler returns the server's root handler, to be passed to an
// http.Server.
func (s *Server) Handler() nethttp.Handler { return s.handler }

// observe records metrics and a debug log line for each request. It reads
// r.Pattern after the inner handler returns: the ServeMux sets it on the
// request it was given, and the pattern, unlike the path, keeps the route
// label's cardinality bounded.
func (s *Server) observe(next nethttp.Handler) nethttp.Handler {
	return nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		start := time.Now()
		ctx := context.WithValue(r.Context(), loggerKey{}, s.log)
		r = r.WithContext(chengdui.WithRequestInfo(ctx, chengdui.RequestInfo{IP: clientIP(r)}))
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)

		elapsed := time.Since(start)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		status := rec.status
		if status == 0 {
			status = nethttp.StatusOK
		}
		s.requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
		s.duration.WithLabelValues(route).Observe(elapsed.Seconds())
		s.log.LogAttrs(r.Context(), slog.LevelDebug, "http request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Int64("bytes", rec.bytes),
			slog.Duration("duration", elapsed))
	})
}

// recoverPanics turns a handler's panic into a 500 so one bad request does
// not take the process down.
func (s *Server) recoverPanics(next nethttp.Handler) nethttp.Handler {
	return nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == nethttp.ErrAbortHandler {
				panic(v) // the server's own signal to drop the connection
			}
			s.log.ErrorContext(r.Context(), "http handler panicked",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Any("panic", v))
			if rec, ok := w.(*statusRecorder); ok && rec.status != 0 {
				return // headers are out; nothing truthful left to send
			}
			writeJSON(w, nethttp.StatusInternalServerError, errorJSON{Code: chengdui.EInternal, Message: "internal error"})
		}()
		next.ServeHTTP(w, r)
	})
}

// statusRecorder remembers the status and size of a response.
type statusRecorder struct {
	nethttp.ResponseWriter
	status int
	bytes  int64
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = nethttp.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusRecorder) Unwrap() nethttp.ResponseWriter { return w.ResponseWriter }
