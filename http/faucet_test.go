package http_test

import (
	"context"
	"encoding/json"
	"io"
	"math/big"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"

	"chengdui/evm"
	chttp "chengdui/http"
	"chengdui/keys"
)

// faucetHarness is a Server whose faucet pays from a real simulated chain
// and seals each transaction into a block at once.
type faucetHarness struct {
	url   string
	sim   *evm.Simulated
	from  evm.Account
	sends atomic.Int32 // faucet calls that reached the chain
}

func newFaucetHarness(t *testing.T) *faucetHarness {
	t.Helper()
	seed, err := keys.MnemonicToSeed("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about", "", keys.English)
	require.NoError(t, err)
	signer, err := keys.NewSeedSigner(seed)
	require.NoError(t, err)
	t.Cleanup(func() { signer.Close() })
	h := &faucetHarness{}
	h.from, err = evm.NewAccount(signer, keys.EVM.Path(keys.Mainnet, 0, 0, 0))
	require.NoError(t, err)
	h.sim, err = evm.NewSimulated(evm.SimulatedConfig{
		Funds: map[common.Address]*big.Int{h.from.Address: new(big.Int).Mul(big.NewInt(1000), big.NewInt(params.Ether))},
	})
	require.NoError(t, err)
	t.Cleanup(func() { h.sim.Close() })

	srv := chttp.NewServer(chttp.Config{
		Faucet: func(ctx context.Context, to string, amountWei *big.Int) (string, error) {
			h.sends.Add(1)
			hash, err := evm.Faucet(ctx, h.sim.Client(), h.from, common.HexToAddress(to), amountWei)
			if err != nil {
				return "", err
			}
			h.sim.Commit()
			return hash.Hex(), nil
		},
		Balance: func(ctx context.Context, address string) (*big.Int, error) {
			return h.sim.Client().BalanceAt(ctx, common.HexToAddress(address), nil)
		},
	})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	h.url = ts.URL
	return h
}

func (h *faucetHarness) post(t *testing.T, body string) (int, []byte) {
	t.Helper()
	resp, err := nethttp.Post(h.url+"/api/v1/dev/faucet", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

func (h *faucetHarness) balance(t *testing.T, addr common.Address) *big.Int {
	t.Helper()
	bal, err := h.sim.Client().BalanceAt(t.Context(), addr, nil)
	require.NoError(t, err)
	return bal
}

func TestFaucet(t *testing.T) {
	h := newFaucetHarness(t)
	to := common.HexToAddress("0x00000000000000000000000000000000000c0ffe")

	status, body := h.post(t, `{"address":"`+strings.ToLower(to.Hex())+`","amount":"1.5"}`)
	require.Equal(t, nethttp.StatusAccepted, status, "%s", body)
	var got struct {
		TxHash string `json:"tx_hash"`
	}
	require.NoError(t, json.Unmarshal(body, &got))
	want, _ := new(big.Int).SetString("1500000000000000000", 10)
	require.Equal(t, want, h.balance(t, to), "the recipient gets exactly the amount")
	receipt, err := h.sim.Client().TransactionReceipt(t.Context(), common.HexToHash(got.TxHash))
	require.NoError(t, err, "tx_hash names the mined transaction")
	require.EqualValues(t, 1, receipt.Status)

	// An empty amount is 1 ETH.
	status, body = h.post(t, `{"address":"`+to.Hex()+`"}`)
	require.Equal(t, nethttp.StatusAccepted, status, "%s", body)
	want.Add(want, big.NewInt(params.Ether))
	require.Equal(t, want, h.balance(t, to))

	// The balance route shows the same.
	resp, err := nethttp.Get(h.url + "/api/v1/dev/evm/balance/" + to.Hex())
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, nethttp.StatusOK, resp.StatusCode)
	var bal struct{ Wei string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&bal))
	require.Equal(t, "2500000000000000000", bal.Wei)
	require.EqualValues(t, 2, h.sends.Load())
}

func TestFaucetRefuses(t *testing.T) {
	h := newFaucetHarness(t)
	good := "0x00000000000000000000000000000000000c0ffe"
	tests := []struct {
		name string
		body string
	}{
		{"bad address", `{"address":"0x1234","amount":"1"}`},
		{"bad checksum", `{"address":"0x00000000000000000000000000000000000C0ffe","amount":"1"}`},
		{"no address", `{"amount":"1"}`},
		{"bad amount", `{"address":"` + good + `","amount":"one"}`},
		{"negative amount", `{"address":"` + good + `","amount":"-1"}`},
		{"too precise", `{"address":"` + good + `","amount":"0.0000000000000000001"}`},
		{"zero", `{"address":"` + good + `","amount":"0"}`},
		{"too much", `{"address":"` + good + `","amount":"100.000000000000000001"}`},
		{"unknown field", `{"address":"` + good + `","amount":"1","token":"USDT"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := h.post(t, tt.body)
			require.Equal(t, nethttp.StatusBadRequest, status, "%s", body)
			var e struct{ Code string }
			require.NoError(t, json.Unmarshal(body, &e))
			require.Equal(t, "invalid", e.Code)
		})
	}
	require.Zero(t, h.sends.Load(), "no request reached the chain")
	nonce, err := h.sim.Client().PendingNonceAt(t.Context(), h.from.Address)
	require.NoError(t, err)
	require.Zero(t, nonce, "no transaction was sent")

	// 100 ETH exactly is allowed.
	status, body := h.post(t, `{"address":"`+good+`","amount":"100"}`)
	require.Equal(t, nethttp.StatusAccepted, status, "%s", body)

	resp, err := nethttp.Get(h.url + "/api/v1/dev/evm/balance/nope")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, nethttp.StatusBadRequest, resp.StatusCode)
}

func TestFaucetRouteOnlyInDev(t *testing.T) {
	ts := httptest.NewServer(chttp.NewServer(chttp.Config{}).Handler())
	defer ts.Close()
	resp, err := nethttp.Post(ts.URL+"/api/v1/dev/faucet", "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.NotEqual(t, nethttp.StatusAccepted, resp.StatusCode)
	resp, err = nethttp.Get(ts.URL + "/api/v1/dev/evm/balance/0x00000000000000000000000000000000000c0ffe")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, nethttp.StatusNotFound, resp.StatusCode)
}
