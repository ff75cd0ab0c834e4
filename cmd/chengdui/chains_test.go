package main

import (
	"context"
	"encoding/json"
	"io"
	"math/big"
	nethttp "net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"

	"chengdui"
	"chengdui/deposit"
	"chengdui/sqlite"
)

// demoPayerLine is the demo payer's login in dev's banner.
var demoPayerLine = regexp.MustCompile(`(?m)^\s+payer\s+(\S+)\s+password: (\S+)$`)

// chainDeadline bounds every wait on a chain: generous, but each wait
// polls and returns as soon as its condition holds.
const chainDeadline = 60 * time.Second

// Outside addresses: a regtest P2WPKH (BIP173's test vector) and an EVM
// address no dev key owns (EIP-55's test vector).
const (
	outsideBTC = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"
	outsideEVM = "0x52908400098527886E0F7030069857D2E4169EE7"
)

// startDevChains is startServer for a dev with its chains: it waits up to
// chainDeadline, not startTimeout, for the banner and /readyz, as dev
// starts btcd and mines its first 500 blocks before it listens, and the
// race detector on a loaded machine makes that take more than 10 s.
func startDevChains(t testing.TB, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{Stdout: &syncBuffer{}, Stderr: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	args = append([]string{"dev"}, args...)
	go func() {
		s.done <- run(ctx, args, mapEnv(nil), strings.NewReader(""), s.Stdout, s.Stderr)
	}()
	t.Cleanup(func() { s.shutdown() })
	waitFor(t, "dev printing its URL", func() (bool, string) {
		select {
		case err := <-s.done:
			s.done <- err // for shutdown
			t.Fatalf("%v exited before printing its URL: %v\nstdout:\n%s\nstderr:\n%s", args, err, s.Stdout, s.Stderr)
		default:
		}
		m := devURLLine.FindStringSubmatch(s.Stdout.String())
		if m != nil {
			s.URL = m[1]
		}
		return m != nil, "stderr:\n" + s.Stderr.String()
	})
	client := &nethttp.Client{Timeout: 2 * time.Second}
	waitFor(t, "dev answering /readyz", func() (bool, string) {
		resp, err := client.Get(s.URL + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == nethttp.StatusOK, resp.Status
	})
	return s
}

// devSession is a logged-in user of a running dev.
type devSession struct {
	t     testing.TB
	url   string
	token string
}

// loginDemoPayer logs in with the demo payer's credentials from dev's
// banner.
func loginDemoPayer(t testing.TB, dev *server) *devSession {
	t.Helper()
	m := demoPayerLine.FindStringSubmatch(dev.Stdout.String())
	require.NotNil(t, m, "no demo payer in the banner:\n%s", dev.Stdout)
	s := &devSession{t: t, url: dev.URL}
	status, body := s.do("POST", "/api/v1/sessions", "", `{"email":"`+m[1]+`","password":"`+m[2]+`"}`)
	require.Equal(t, nethttp.StatusCreated, status, "%s", body)
	var sess struct {
		Token string `json:"token"`
	}
	require.NoError(t, json.Unmarshal(body, &sess))
	require.NotEmpty(t, sess.Token)
	s.token = sess.Token
	return s
}

// do sends a request with the session (if any) and an Idempotency-Key (if
// not empty) and returns the status and body.
func (s *devSession) do(method, path, idempotencyKey, body string) (int, []byte) {
	s.t.Helper()
	req, err := nethttp.NewRequest(method, s.url+path, strings.NewReader(body))
	require.NoError(s.t, err)
	req.Header.Set("Content-Type", "application/json")
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}
	client := &nethttp.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	return resp.StatusCode, b
}

// getJSON requires 200 from path and decodes its body into v.
func (s *devSession) getJSON(path string, v any) {
	s.t.Helper()
	status, body := s.do("GET", path, "", "")
	require.Equal(s.t, nethttp.StatusOK, status, "GET %s: %s", path, body)
	require.NoError(s.t, json.Unmarshal(body, v), "GET %s: %s", path, body)
}

// wallet returns the user's wallet: balances by asset, and deposit
// addresses by scheme.
func (s *devSession) wallet() (map[string]chengdui.Balance, map[string]string) {
	s.t.Helper()
	var w chengdui.Wallet
	s.getJSON("/api/v1/wallet", &w)
	balances := map[string]chengdui.Balance{}
	for _, b := range w.Balances {
		balances[b.Asset] = b
	}
	addrs := map[string]string{}
	for _, a := range w.Addresses {
		addrs[a.Scheme] = a.Address
	}
	return balances, addrs
}

// units parses a decimal string of smallest units.
func units(t testing.TB, s string) *big.Int {
	t.Helper()
	n, ok := new(big.Int).SetString(s, 10)
	require.True(t, ok, "%q is not a whole number", s)
	return n
}

// amountUnits is a decimal amount of whole units in smallest units.
func amountUnits(t testing.TB, amount string, decimals uint8) *big.Int {
	t.Helper()
	a, err := chengdui.ParseDecimal(amount, decimals)
	require.NoError(t, err)
	return a.Big()
}

// waitFor polls cond until it holds, failing after chainDeadline with
// what cond last reported.
func waitFor(t testing.TB, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(chainDeadline)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s; last: %s", what, chainDeadline, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// withdrawalJSON is a withdrawal as the API shows it.
type withdrawalJSON struct {
	ID       string `json:"id"`
	Asset    string `json:"asset"`
	Chain    string `json:"chain"`
	To       string `json:"to"`
	Amount   string `json:"amount"`
	Status   string `json:"status"`
	TxID     string `json:"txid"`
	Fee      string `json:"fee"`
	FeeAsset string `json:"fee_asset"`
	Reason   string `json:"reason"`
}

// TestDevDepositAndWithdraw is issues 4 and 5's "done", end to end on dev:
// the demo payer deposits BTC, ETH and USDC from outside, sees them
// credited once the confirmation policy is met, and withdraws each to an
// outside address with a second factor; the platform pays the network
// fees; retries are idempotent; and the journal verifies afterwards.
func TestDevDepositAndWithdraw(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dev := startDevChains(t, "--addr", "127.0.0.1:0", "--data-dir", dir, "--btc-block-time", "200ms", "--block-time", "200ms")
	require.Contains(t, dev.Stdout.String(), "Bitcoin:      btcd regtest at")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("dev's warnings and errors:\n%s", grepLines(dev.Stderr.String(), "level=WARN", "level=ERROR"))
		}
	})
	payer := loginDemoPayer(t, dev)

	type asset struct {
		code     string
		decimals uint8
		scheme   string // of the deposit address
		deposit  string // whole units, from the faucet
		withdraw string // whole units, to outside
		to       string
		fees     string // the native asset whose network-fees account pays
	}
	assets := []asset{
		{"BTC", 8, "p2wpkh", "0.3", "0.1", outsideBTC, "BTC"},
		{"ETH", 18, "evm", "2", "0.75", outsideEVM, "ETH"},
		{"USDC-ERC20", 6, "evm", "250", "100.5", outsideEVM, "ETH"},
	}

	// Deposits from outside: the dev faucets pay the payer's addresses.
	before, addrs := payer.wallet()
	require.Regexp(t, `^bcrt1q`, addrs["p2wpkh"])
	require.Regexp(t, `^0x[0-9a-fA-F]{40}$`, addrs["evm"])
	for _, a := range assets {
		body := `{"asset":"` + a.code + `","address":"` + addrs[a.scheme] + `","amount":"` + a.deposit + `"}`
		if a.code == "ETH" {
			body = `{"address":"` + addrs[a.scheme] + `","amount":"` + a.deposit + `"}` // ETH is the default asset
		}
		status, resp := payer.do("POST", "/api/v1/dev/faucet", "", body)
		require.Equal(t, nethttp.StatusAccepted, status, "faucet %s: %s", a.code, resp)
	}
	// Credited at depth (BTC 2, EVM 3), each by exactly its amount.
	require.Equal(t, uint32(2), devPolicies["BTC"].Depth)
	require.Equal(t, uint32(3), devPolicies["ETH"].Depth)
	require.Equal(t, uint32(3), devPolicies["USDC-ERC20"].Depth)
	credited := map[string]*big.Int{}
	for _, a := range assets {
		was := units(t, before[a.code].AvailableUnits)
		want := new(big.Int).Add(was, amountUnits(t, a.deposit, a.decimals))
		waitFor(t, a.code+" deposit credited", func() (bool, string) {
			now, _ := payer.wallet()
			got := units(t, now[a.code].AvailableUnits)
			require.True(t, got.Cmp(want) <= 0, "%s credited %s, more than the %s deposited", a.code, new(big.Int).Sub(got, was), a.deposit)
			return got.Cmp(want) == 0, now[a.code].Available
		})
		credited[a.code] = want
	}

	// The deposits API shows each one credited, with its chain and block.
	var deps struct {
		Deposits []struct {
			Asset, Status, Amount, TxID string
			Height                      uint64
		} `json:"deposits"`
	}
	payer.getJSON("/api/v1/deposits", &deps)
	byAsset := map[string]int{}
	for _, d := range deps.Deposits {
		require.Equal(t, "credited", d.Status, "%+v", d)
		require.NotZero(t, d.Height, "%+v", d)
		require.NotEmpty(t, d.TxID)
		byAsset[d.Asset]++
	}
	for _, a := range assets {
		require.Equal(t, 1, byAsset[a.code], "one %s deposit listed: %+v", a.code, deps.Deposits)
	}

	// Two-factor enrolment: withdrawals need a code, each usable once.
	status, body := payer.do("POST", "/api/v1/users/me/2fa/totp", "", "")
	require.Equal(t, nethttp.StatusCreated, status, "%s", body)
	var enrol struct {
		Secret string `json:"secret"`
	}
	require.NoError(t, json.Unmarshal(body, &enrol))
	now := time.Now()
	code := func(step int) string {
		c, err := totp.GenerateCode(enrol.Secret, now.Add(time.Duration(step)*30*time.Second))
		require.NoError(t, err)
		return c
	}
	status, body = payer.do("POST", "/api/v1/users/me/2fa/totp/confirm", "", `{"code":"`+code(-1)+`"}`)
	require.Equal(t, nethttp.StatusOK, status, "%s", body)
	var recovery struct {
		Codes []string `json:"recovery_codes"`
	}
	require.NoError(t, json.Unmarshal(body, &recovery))
	require.NotEmpty(t, recovery.Codes)
	// TOTP accepts the steps next to the current one, each once and in
	// order: the confirmation used the previous step, the withdrawals use
	// this one, the next, and then a recovery code.
	codes := []string{code(0), code(1), recovery.Codes[0]}

	// The withdrawals, one per asset, each with its own key and code.
	reqs := map[string]string{}
	for i, a := range assets {
		reqs[a.code] = `{"asset":"` + a.code + `","to":"` + a.to + `","amount":"` + a.withdraw + `","code":"` + codes[i] + `"}`
		status, body := payer.do("POST", "/api/v1/withdrawals", "wd-"+a.code, reqs[a.code])
		require.Equal(t, nethttp.StatusCreated, status, "withdraw %s: %s", a.code, body)
		var w withdrawalJSON
		require.NoError(t, json.Unmarshal(body, &w))
		require.Equal(t, a.code, w.Asset)
		require.Equal(t, a.to, w.To)
		require.Equal(t, amountUnits(t, a.withdraw, a.decimals).String(), w.Amount)
		require.Equal(t, a.fees, w.FeeAsset)
	}

	// A retry with the same key and body answers the same withdrawal and
	// holds nothing more; the same key for another amount is refused.
	for _, a := range assets {
		status, body := payer.do("POST", "/api/v1/withdrawals", "wd-"+a.code, reqs[a.code])
		require.Equal(t, nethttp.StatusOK, status, "retry %s: %s", a.code, body)
		var w withdrawalJSON
		require.NoError(t, json.Unmarshal(body, &w))
		require.Equal(t, a.code, w.Asset)
		other := strings.Replace(reqs[a.code], `"amount":"`+a.withdraw+`"`, `"amount":"0.01"`, 1)
		status, body = payer.do("POST", "/api/v1/withdrawals", "wd-"+a.code, other)
		require.Equal(t, nethttp.StatusConflict, status, "same key, other amount, %s: %s", a.code, body)
		require.Contains(t, string(body), `"code":"conflict"`)
	}
	// Held or already paid, each amount is taken from the available
	// balance once.
	after, _ := payer.wallet()
	for _, a := range assets {
		want := new(big.Int).Sub(credited[a.code], amountUnits(t, a.withdraw, a.decimals))
		require.Equal(t, want.String(), after[a.code].AvailableUnits, "%s: a retry held again", a.code)
	}

	// Paid and confirmed: every withdrawal completes with a txid and the
	// fee the platform paid.
	var ws []withdrawalJSON
	waitFor(t, "withdrawals completed", func() (bool, string) {
		var list struct {
			Withdrawals []withdrawalJSON `json:"withdrawals"`
		}
		payer.getJSON("/api/v1/withdrawals", &list)
		ws = list.Withdrawals
		done := len(ws) == len(assets)
		for _, w := range ws {
			require.NotEqual(t, "failed", w.Status, "withdrawal %s failed: %s", w.ID, w.Reason)
			done = done && w.Status == "completed"
		}
		return done, string(mustJSON(t, ws))
	})
	fees := map[string]*big.Int{"BTC": new(big.Int), "ETH": new(big.Int)}
	for i, w := range ws {
		a := assets[i] // oldest first, as requested
		require.Equal(t, a.code, w.Asset)
		require.NotEmpty(t, w.TxID, "%s completed without a txid", a.code)
		fee := units(t, w.Fee)
		require.Positive(t, fee.Sign(), "%s completed without a network fee", a.code)
		fees[w.FeeAsset].Add(fees[w.FeeAsset], fee)
	}
	require.NotEqual(t, ws[1].TxID, ws[2].TxID, "ETH and USDC are paid by separate transactions")

	// The outside address holds exactly the ETH withdrawn.
	var onChain struct {
		Wei string `json:"wei"`
	}
	payer.getJSON("/api/v1/dev/evm/balance/"+outsideEVM, &onChain)
	require.Equal(t, amountUnits(t, "0.75", 18).String(), onChain.Wei)

	// The user paid exactly the amounts, no fee; the platform booked the
	// fees as its expense.
	final, _ := payer.wallet()
	for _, a := range assets {
		want := new(big.Int).Sub(credited[a.code], amountUnits(t, a.withdraw, a.decimals))
		require.Equal(t, want.String(), final[a.code].AvailableUnits, "%s balance after withdrawing", a.code)
		require.Equal(t, "0", final[a.code].PendingUnits, "%s still held", a.code)
	}
	for native, fee := range fees {
		var acct struct {
			DebitsPosted  string `json:"debits_posted"`
			CreditsPosted string `json:"credits_posted"`
		}
		payer.getJSON("/api/v1/ledger/accounts/platform:"+native+":network-fees", &acct)
		require.Equal(t, fee.String(), acct.DebitsPosted, "platform:%s:network-fees", native)
		require.Equal(t, "0", acct.CreditsPosted)
	}

	dev.Stop(t)
	stdout, stderr, exit := runCmd(t, context.Background(), nil, "", "ledger", "verify", "--data-dir", dir)
	require.Equal(t, exitOK, exit, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	require.Contains(t, stdout, "OK:")

	// Each deposit was recorded in its block and credited once.
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "chengdui.db"))
	require.NoError(t, err)
	defer db.Close()
	for _, a := range assets {
		ds, err := db.Deposits(ctx, deposit.Filter{AccountID: before[a.code].AccountID})
		require.NoError(t, err)
		require.Len(t, ds, 1, "%s deposits", a.code)
		d := ds[0]
		require.Equal(t, deposit.Credited, d.Status, "%s deposit", a.code)
		require.Equal(t, uint32(1), d.Credits, "%s deposit credited more than once", a.code)
		require.Equal(t, amountUnits(t, a.deposit, a.decimals).String(), d.Amount.String())
		require.NotZero(t, d.Height, "%s deposit credited without a block", a.code)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// grepLines returns the lines of s that contain any of subs.
func grepLines(s string, subs ...string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		for _, sub := range subs {
			if strings.Contains(line, sub) {
				out = append(out, line)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}
