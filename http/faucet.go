package http

import (
	nethttp "net/http"

	"chengdui"
	"chengdui/keys"
)

// Faucet limits, in ETH: the default amount and the most one request gets.
const (
	defaultFaucetAmount = "1"
	maxFaucetAmount     = "100"
)

type faucetRequest struct {
	Asset   string `json:"asset"` // ETH when empty; BTC and test tokens through AssetFaucet
	Address string `json:"address"`
	Amount  string `json:"amount"` // ETH, a decimal string; defaultFaucetAmount if empty
}

type faucetJSON struct {
	TxHash string `json:"tx_hash"`
}

// handleFaucet sends dev ETH to an address. It answers 202 with the
// transaction's hash: the transaction is in the pool, not yet in a block.
//
// Invalid requests are not counted by the login limiter: the route exists
// only in dev, and a typo here should not lock the developer out of login.
func (s *Server) handleFaucet(w nethttp.ResponseWriter, r *nethttp.Request) {
	var req faucetRequest
	if err := decodeJSON(r, &req); err != nil {
		Error(w, r, err)
		return
	}
	if req.Asset != "" && req.Asset != "ETH" {
		if s.cfg.AssetFaucet == nil {
			Error(w, r, chengdui.Errorf(chengdui.EInvalid, "the faucet gives ETH only here"))
			return
		}
		txid, err := s.cfg.AssetFaucet(r.Context(), req.Asset, req.Address, req.Amount)
		if err != nil {
			Error(w, r, err)
			return
		}
		writeJSON(w, nethttp.StatusAccepted, faucetJSON{TxHash: txid})
		return
	}
	if _, err := keys.ParseEVMAddress(req.Address); err != nil {
		Error(w, r, chengdui.Errorf(chengdui.EInvalid, "address: %s", chengdui.ErrorMessage(err)))
		return
	}
	if req.Amount == "" {
		req.Amount = defaultFaucetAmount
	}
	amount, err := chengdui.ParseDecimal(req.Amount, 18)
	if err != nil {
		Error(w, r, chengdui.Errorf(chengdui.EInvalid, "amount: %s", chengdui.ErrorMessage(err)))
		return
	}
	limit, err := chengdui.ParseDecimal(maxFaucetAmount, 18)
	if err != nil {
		panic(err) // a constant
	}
	if amount.IsZero() || amount.Cmp(limit) > 0 {
		Error(w, r, chengdui.Errorf(chengdui.EInvalid, "amount: give more than 0 and at most %s ETH", maxFaucetAmount))
		return
	}
	hash, err := s.cfg.Faucet(r.Context(), req.Address, amount.Big())
	if err != nil {
		Error(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusAccepted, faucetJSON{TxHash: hash})
}

type evmBalanceJSON struct {
	Wei string `json:"wei"`
}

// handleEVMBalance shows an address's balance in wei on the dev chain.
func (s *Server) handleEVMBalance(w nethttp.ResponseWriter, r *nethttp.Request) {
	addr := r.PathValue("address")
	if _, err := keys.ParseEVMAddress(addr); err != nil {
		Error(w, r, chengdui.Errorf(chengdui.EInvalid, "address: %s", chengdui.ErrorMessage(err)))
		return
	}
	wei, err := s.cfg.Balance(r.Context(), addr)
	if err != nil {
		Error(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusOK, evmBalanceJSON{Wei: wei.String()})
}
