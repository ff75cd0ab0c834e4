package main

import (
	"encoding/json"
	"io"
	nethttp "net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"chengdui/keys"
)

// TestDevFaucet: dev runs an EVM chain that seals blocks on a timer, its
// faucet pays a fresh address exactly what was asked, and dev still shuts
// down in order.
func TestDevFaucet(t *testing.T) {
	dev := startServer(t, nil, devURLLine, "/healthz",
		"dev", "--no-bitcoin", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--block-time", "100ms")
	require.Contains(t, dev.Stdout.String(), "EVM chain:    in-process, chain id 1337, block every 100ms; faucet POST "+dev.URL+"/api/v1/dev/faucet")

	mnemonic, err := keys.NewMnemonic(128, keys.English)
	require.NoError(t, err)
	seed, err := keys.MnemonicToSeed(mnemonic, "", keys.English)
	require.NoError(t, err)
	to, err := keys.DeriveAddress(seed, keys.EVM, keys.Mainnet, 0, 0, 0)
	require.NoError(t, err)

	resp, err := nethttp.Post(dev.URL+"/api/v1/dev/faucet", "application/json",
		strings.NewReader(`{"address":"`+to+`","amount":"2"}`))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, nethttp.StatusAccepted, resp.StatusCode, "%s", body)
	var tx struct {
		TxHash string `json:"tx_hash"`
	}
	require.NoError(t, json.Unmarshal(body, &tx))
	require.Regexp(t, `^0x[0-9a-f]{64}$`, tx.TxHash)

	var bal struct {
		Wei string `json:"wei"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		getJSON(t, dev.URL+"/api/v1/dev/evm/balance/"+to, &bal)
		if bal.Wei == "2000000000000000000" || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.Equal(t, "2000000000000000000", bal.Wei, "the faucet's transaction is sealed into a block")

	dev.Stop(t)
	requireInOrder(t, dev.Stderr.String(), "http stopped", "evm chain stopped", "ledger stopped", "database closed")
}
