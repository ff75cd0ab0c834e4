package http

import (
	nethttp "net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes lists every route the server answers.
func (s *Server) routes(mux *nethttp.ServeMux) {
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.HandleFunc("GET /readyz", s.handleReadyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{}))

	mux.HandleFunc("GET /api/v1/ledger/assets", s.handleAssets)
	mux.HandleFunc("GET /api/v1/ledger/accounts", s.handleAccounts)
	mux.HandleFunc("GET /api/v1/ledger/accounts/{id}", s.handleAccount)
	mux.HandleFunc("GET /api/v1/ledger/accounts/{id}/transfers", s.handleAccountTransfers)
	mux.HandleFunc("GET /api/v1/ledger/transfers", s.handleTransfers)
	mux.HandleFunc("GET /api/v1/ledger/head", s.handleHead)
	if s.cfg.Wallets != nil {
		mux.HandleFunc("POST /api/v1/users", s.handleRegister)
		mux.HandleFunc("POST /api/v1/sessions", s.handleLogin)
		mux.HandleFunc("DELETE /api/v1/sessions/current", s.handleLogout)
		mux.HandleFunc("GET /api/v1/wallet", s.handleWallet)
		mux.HandleFunc("GET /register", s.handleRegisterPage)
		mux.HandleFunc("POST /register", s.handleRegisterForm)
		mux.HandleFunc("GET /login", s.handleLoginPage)
		mux.HandleFunc("POST /login", s.handleLoginForm)
		mux.HandleFunc("POST /logout", s.handleLogoutForm)
		mux.HandleFunc("GET /wallet", s.handleWalletPage)
		if s.cfg.Merchants != nil {
			mux.HandleFunc("POST /api/v1/users/me/2fa/totp", s.handleEnrollTOTP)
			mux.HandleFunc("POST /api/v1/users/me/2fa/totp/confirm", s.handleConfirmTOTP)
			mux.HandleFunc("POST /api/v1/stores", s.handleCreateStore)
			mux.HandleFunc("GET /api/v1/stores", s.handleStores)
			mux.HandleFunc("POST /api/v1/stores/{storeId}/api-keys", s.handleCreateAPIKey)
			mux.HandleFunc("GET /api/v1/stores/{storeId}/api-keys", s.handleAPIKeys)
			mux.HandleFunc("DELETE /api/v1/stores/{storeId}/api-keys/{keyId}", s.handleRevokeAPIKey)
			mux.HandleFunc("GET /api/v1/api-keys/current", s.handleCurrentAPIKey)
			mux.HandleFunc("GET /merchant", s.handleMerchantPage)
		}
		if s.cfg.Deposits != nil {
			mux.HandleFunc("GET /api/v1/deposits", s.handleDeposits)
		}
		if s.cfg.Withdrawals != nil {
			mux.HandleFunc("POST /api/v1/withdrawals", s.handleWithdraw)
			mux.HandleFunc("GET /api/v1/withdrawals", s.handleWithdrawals)
			mux.HandleFunc("GET /api/v1/withdrawals/{id}", s.handleWithdrawal)
		}
	}
	if s.cfg.Invoices != nil {
		s.invoiceRoutes(mux)  // http/invoices.go, http/greenfield.go, http/webhooks.go
		s.checkoutRoutes(mux) // http/checkout.go
		s.refundRoutes(mux)   // http/refunds.go
	}
	if s.cfg.Faucet != nil {
		mux.HandleFunc("POST /api/v1/dev/faucet", s.handleFaucet)
	}
	if s.cfg.Balance != nil {
		mux.HandleFunc("GET /api/v1/dev/evm/balance/{address}", s.handleEVMBalance)
	}
	mux.HandleFunc("GET /api/", s.handleAPINotFound)

	mux.HandleFunc("GET /{$}", s.handleIndex)
}
