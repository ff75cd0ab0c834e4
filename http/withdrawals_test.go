package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	nethttp "net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"

	"chengdui"
	"chengdui/auth"
	chttp "chengdui/http"
	"chengdui/keys"
	"chengdui/ledger"
	"chengdui/merchant"
	"chengdui/sqlite"
	"chengdui/wallet"
	"chengdui/withdraw"
)

// ethPayer is the test's chain: it pays ETH, checks addresses with the
// real EVM parser and records what it is handed.
type ethPayer struct {
	mu        sync.Mutex
	submitted []withdraw.Withdrawal
}

func (p *ethPayer) Chain() string          { return "evm:1337" }
func (p *ethPayer) NativeAsset() string    { return "ETH" }
func (p *ethPayer) Pays(asset string) bool { return asset == "ETH" }
func (p *ethPayer) CheckAddress(to string) (string, error) {
	a, err := keys.ParseEVMAddress(to)
	if err != nil {
		return "", err
	}
	if a == (common.Address{}) {
		return "", chengdui.Errorf(chengdui.EInvalid, "the zero address burns what it receives")
	}
	return a.Hex(), nil
}
func (p *ethPayer) CheckAmount(string, chengdui.Amount) error { return nil }
func (p *ethPayer) Submit(_ context.Context, w withdraw.Withdrawal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.submitted = append(p.submitted, w)
	return nil
}

func (p *ethPayer) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.submitted)
}

// withdrawHarness is a server with wallets, two-factor enrolment and a
// real withdraw.Service on the SQLite store and ledger, paying ETH through
// an ethPayer. Its limiter's clock is now.
type withdrawHarness struct {
	*harness
	payer *ethPayer
	now   *atomic.Int64 // unix nanoseconds
}

func newWithdrawHarness(t *testing.T) *withdrawHarness {
	t.Helper()
	seed, err := keys.MnemonicToSeed("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about", "", keys.English)
	require.NoError(t, err)
	xpubs := map[keys.Scheme]string{}
	for _, s := range []keys.Scheme{keys.P2WPKH, keys.EVM} {
		xpubs[s], err = keys.SchemeXPub(seed, s, keys.Regtest, 0)
		require.NoError(t, err)
	}
	wh := &withdrawHarness{payer: &ethPayer{}, now: &atomic.Int64{}}
	wh.now.Store(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC).UnixNano())
	wh.harness = newHarnessWith(t, func(db *sqlite.DB, eng *ledger.Engine, c *chttp.Config) {
		ctx := context.Background()
		// ETH pays; BTC is a ledger asset without a payer.
		for _, a := range []chengdui.Asset{{Code: "ETH", Network: "ethereum", Decimals: 18}, {Code: "BTC", Network: "bitcoin", Decimals: 8}} {
			_, err := eng.CreateAsset(ctx, a)
			require.NoError(t, err)
		}
		_, err := eng.CreateAccount(ctx, chengdui.Account{ID: "platform:ETH:chain", Asset: "ETH"})
		require.NoError(t, err)
		svc, err := wallet.New(db, eng, db, wallet.Config{Network: keys.Regtest, XPubs: xpubs, Password: auth.TestParams()})
		require.NoError(t, err)
		c.Wallets = svc
		c.Merchants = merchant.New(db, merchant.Config{})
		w := withdraw.New(db, eng, db, auth.Guard{F: db}, withdraw.Config{})
		w.AddPayer(wh.payer)
		c.Withdrawals = w
		c.Now = func() time.Time { return time.Unix(0, wh.now.Load()) }
	})
	return wh
}

// withdrawUser is a registered, logged-in user of a withdrawHarness.
type withdrawUser struct {
	id, token, secret string
	step              int // the next TOTP step offset to use
}

// user registers email, logs in and credits eth ETH (if not empty) to the
// user's wallet.
func (wh *withdrawHarness) user(t *testing.T, email, eth string) *withdrawUser {
	t.Helper()
	creds := `{"email":"` + email + `","password":"a long enough passphrase"}`
	status, _, body := wh.send(t, "POST", "/api/v1/users", "", creds)
	require.Equal(t, 201, status, "%s", body)
	var u struct{ ID string }
	require.NoError(t, json.Unmarshal(body, &u))
	status, _, body = wh.send(t, "POST", "/api/v1/sessions", "", creds)
	require.Equal(t, 201, status, "%s", body)
	var s struct{ Token string }
	require.NoError(t, json.Unmarshal(body, &s))
	if eth != "" {
		amount, err := chengdui.ParseDecimal(eth, 18)
		require.NoError(t, err)
		res, err := wh.eng.CreateTransfers(context.Background(), []chengdui.Transfer{{ID: "fund:" + u.ID, DebitAccountID: "platform:ETH:chain",
			CreditAccountID: wallet.AccountID(u.ID, "ETH"), Amount: amount, Code: 1}})
		require.NoError(t, err)
		require.NoError(t, res[0].Err)
	}
	return &withdrawUser{id: u.ID, token: s.Token}
}

// enrol turns on TOTP for u, confirming with the previous step's code.
func (wh *withdrawHarness) enrol(t *testing.T, u *withdrawUser) {
	t.Helper()
	status, _, body := wh.send(t, "POST", "/api/v1/users/me/2fa/totp", u.token, "")
	require.Equal(t, 201, status, "%s", body)
	var e struct{ Secret string }
	require.NoError(t, json.Unmarshal(body, &e))
	u.secret, u.step = e.Secret, -1
	status, _, body = wh.send(t, "POST", "/api/v1/users/me/2fa/totp/confirm", u.token, `{"code":"`+u.code(t)+`"}`)
	require.Equal(t, 200, status, "%s", body)
}

// code returns a fresh TOTP code: each is usable once, so every call
// takes the next step (three are accepted: the previous, the current and
// the next).
func (u *withdrawUser) code(t *testing.T) string {
	t.Helper()
	require.LessOrEqual(t, u.step, 1, "TOTP accepts one step either side of now: no code left")
	c, err := totp.GenerateCode(u.secret, time.Now().Add(time.Duration(u.step)*30*time.Second))
	require.NoError(t, err)
	u.step++
	return c
}

// wrongCode is a well-formed code that is not one TOTP accepts now.
func (u *withdrawUser) wrongCode(t *testing.T) string {
	t.Helper()
	valid := map[string]bool{}
	for step := -2; step <= 2; step++ {
		c, err := totp.GenerateCode(u.secret, time.Now().Add(time.Duration(step)*30*time.Second))
		require.NoError(t, err)
		valid[c] = true
	}
	for i := 0; ; i++ {
		if c := fmt.Sprintf("%06d", i*111111%1000000); !valid[c] {
			return c
		}
	}
}

// withdraw posts a withdrawal with an Idempotency-Key (none if empty).
func (wh *withdrawHarness) withdraw(t *testing.T, token, key, body string) (int, nethttp.Header, []byte) {
	t.Helper()
	req, err := nethttp.NewRequest("POST", wh.url+"/api/v1/withdrawals", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := nethttp.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, b
}

// withdrawalState is what a refusal must leave as it was: the user's ETH
// balance and hold, their withdrawals, and what the payer was handed.
type withdrawalState struct {
	Available, Pending string
	Withdrawals        string
	Submitted          int
}

func (wh *withdrawHarness) state(t *testing.T, u *withdrawUser) withdrawalState {
	t.Helper()
	status, _, body := wh.send(t, "GET", "/api/v1/wallet", u.token, "")
	require.Equal(t, 200, status, "%s", body)
	var w chengdui.Wallet
	require.NoError(t, json.Unmarshal(body, &w))
	var st withdrawalState
	for _, b := range w.Balances {
		if b.Asset == "ETH" {
			st.Available, st.Pending = b.AvailableUnits, b.PendingUnits
		}
	}
	require.NotEmpty(t, st.Available, "no ETH in the wallet: %s", body)
	status, _, body = wh.send(t, "GET", "/api/v1/withdrawals", u.token, "")
	require.Equal(t, 200, status, "%s", body)
	st.Withdrawals = string(body)
	st.Submitted = wh.payer.count()
	return st
}

// withdrawalBody is a JSON withdrawal request.
func withdrawalBody(asset, to, amount, code string) string {
	return fmt.Sprintf(`{"asset":%q,"to":%q,"amount":%q,"code":%q}`, asset, to, amount, code)
}

const ethDest = "0x52908400098527886E0F7030069857D2E4169EE7"

// withdrawalResponse is a withdrawal as the API shows it.
type withdrawalResponse struct {
	ID       string `json:"id"`
	UserID   string `json:"user_id"`
	Asset    string `json:"asset"`
	Chain    string `json:"chain"`
	To       string `json:"to"`
	Amount   string `json:"amount"`
	Status   string `json:"status"`
	Fee      string `json:"fee"`
	FeeAsset string `json:"fee_asset"`
}

func TestWithdrawalFlow(t *testing.T) {
	wh := newWithdrawHarness(t)
	alice := wh.user(t, "alice@example.com", "2")
	wh.enrol(t, alice)
	before := wh.state(t, alice)
	require.Equal(t, "2000000000000000000", before.Available)

	body := withdrawalBody("ETH", strings.ToLower(ethDest), "0.5", alice.code(t))
	status, _, resp := wh.withdraw(t, alice.token, "w-1", body)
	require.Equal(t, 201, status, "%s", resp)
	w := decode[withdrawalResponse](t, resp)
	require.Equal(t, withdrawalResponse{ID: "w-1", UserID: alice.id, Asset: "ETH", Chain: "evm:1337", To: ethDest,
		Amount: "500000000000000000", Status: "pending", Fee: "0", FeeAsset: "ETH"}, w, "the address in EIP-55 form, the amount in wei")
	held := wh.state(t, alice)
	require.Equal(t, "1500000000000000000", held.Available)
	require.Equal(t, "500000000000000000", held.Pending)
	require.Equal(t, 1, held.Submitted)

	// A retry (same key, same body) answers the same withdrawal with 200
	// and holds nothing more; the used code does not matter to it.
	status, _, resp = wh.withdraw(t, alice.token, "w-1", body)
	require.Equal(t, 200, status, "%s", resp)
	require.Equal(t, w, decode[withdrawalResponse](t, resp))
	require.Equal(t, held, wh.state(t, alice))
	// The same key for another amount or address is a conflict.
	for _, other := range []string{withdrawalBody("ETH", ethDest, "0.6", ""), withdrawalBody("ETH", "0x0000000000000000000000000000000000000001", "0.5", "")} {
		status, _, resp = wh.withdraw(t, alice.token, "w-1", other)
		require.Equal(t, 409, status, "%s", resp)
		require.Equal(t, chengdui.EConflict, decode[errorBody](t, resp).Code)
		require.Equal(t, held, wh.state(t, alice))
	}

	// The list and the withdrawal by its key.
	status, _, resp = wh.send(t, "GET", "/api/v1/withdrawals", alice.token, "")
	require.Equal(t, 200, status, "%s", resp)
	list := decode[struct {
		Withdrawals []withdrawalResponse `json:"withdrawals"`
	}](t, resp)
	require.Equal(t, []withdrawalResponse{w}, list.Withdrawals)
	status, _, resp = wh.send(t, "GET", "/api/v1/withdrawals/w-1", alice.token, "")
	require.Equal(t, 200, status, "%s", resp)
	require.Equal(t, w, decode[withdrawalResponse](t, resp))
	status, _, resp = wh.send(t, "GET", "/api/v1/withdrawals/w-2", alice.token, "")
	require.Equal(t, 404, status, "%s", resp)
	require.Equal(t, chengdui.ENotFound, decode[errorBody](t, resp).Code)

	// Another user sees none of it, by key or by id, and a request with
	// the same key is theirs, not a retry of alice's.
	bob := wh.user(t, "bob@example.com", "")
	for _, path := range []string{"/api/v1/withdrawals/w-1", "/api/v1/withdrawals/" + w.ID} {
		status, _, resp = wh.send(t, "GET", path, bob.token, "")
		require.Equal(t, 404, status, "%s: %s", path, resp)
		require.Equal(t, chengdui.ENotFound, decode[errorBody](t, resp).Code)
	}
	status, _, resp = wh.send(t, "GET", "/api/v1/withdrawals", bob.token, "")
	require.Equal(t, 200, status)
	require.JSONEq(t, `{"withdrawals":[]}`, string(resp))
	status, _, resp = wh.withdraw(t, bob.token, "w-1", body)
	require.Equal(t, 403, status, "bob has no second factor, and no retry of alice's: %s", resp)
	require.Equal(t, chengdui.ESecondFactorRequired, decode[errorBody](t, resp).Code)
	require.Equal(t, held, wh.state(t, alice))
}

func TestWithdrawalBadInput(t *testing.T) {
	wh := newWithdrawHarness(t)
	alice := wh.user(t, "alice@example.com", "1")
	wh.enrol(t, alice)
	carol := wh.user(t, "carol@example.com", "1") // no second factor
	good := func(code string) string { return withdrawalBody("ETH", ethDest, "0.25", code) }

	tests := []struct {
		name   string
		user   *withdrawUser
		token  string // instead of the user's
		key    string
		body   string
		status int
		code   string
	}{
		{name: "no session", token: "-", key: "k", body: good("123456"), status: 401, code: chengdui.EUnauthorized},
		{name: "bad session", token: "garbage", key: "k", body: good("123456"), status: 401, code: chengdui.EUnauthorized},
		{name: "no idempotency key", key: "", body: good("123456"), status: 400, code: chengdui.EInvalid},
		{name: "key too long", key: strings.Repeat("k", withdraw.MaxIDLength+1), body: good("123456"), status: 400, code: chengdui.EInvalid},
		{name: "key with a colon", key: "a:b", body: good("123456"), status: 400, code: chengdui.EInvalid},
		{name: "empty body", key: "k", body: ``, status: 400, code: chengdui.EInvalid},
		{name: "malformed JSON", key: "k", body: `{"asset":"ETH",`, status: 400, code: chengdui.EInvalid},
		{name: "not an object", key: "k", body: `["ETH"]`, status: 400, code: chengdui.EInvalid},
		{name: "amount as a number", key: "k", body: `{"asset":"ETH","to":"` + ethDest + `","amount":0.25,"code":"123456"}`, status: 400, code: chengdui.EInvalid},
		{name: "unknown field", key: "k", body: `{"asset":"ETH","to":"` + ethDest + `","amount":"0.25","code":"123456","fee":"0"}`, status: 400, code: chengdui.EInvalid},
		{name: "two objects", key: "k", body: good("123456") + `{}`, status: 400, code: chengdui.EInvalid},
		{name: "unknown asset", key: "k", body: withdrawalBody("DOGE", ethDest, "1", "123456"), status: 400, code: chengdui.EInvalid},
		{name: "asset without a payer", key: "k", body: withdrawalBody("BTC", "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", "0.1", "123456"), status: 400, code: chengdui.EInvalid},
		{name: "no asset", key: "k", body: withdrawalBody("", ethDest, "1", "123456"), status: 400, code: chengdui.EInvalid},
		{name: "short address", key: "k", body: withdrawalBody("ETH", "0x5290840009852788", "0.25", "123456"), status: 400, code: chengdui.EInvalid},
		{name: "not hex", key: "k", body: withdrawalBody("ETH", "0xZZ908400098527886E0F7030069857D2E4169EE7", "0.25", "123456"), status: 400, code: chengdui.EInvalid},
		{name: "bitcoin address", key: "k", body: withdrawalBody("ETH", "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", "0.25", "123456"), status: 400, code: chengdui.EInvalid},
		{name: "zero address", key: "k", body: withdrawalBody("ETH", "0x0000000000000000000000000000000000000000", "0.25", "123456"), status: 400, code: chengdui.EInvalid},
		{name: "no address", key: "k", body: withdrawalBody("ETH", "", "0.25", "123456"), status: 400, code: chengdui.EInvalid},
		{name: "zero amount", key: "k", body: withdrawalBody("ETH", ethDest, "0", "123456"), status: 400, code: chengdui.EZeroAmount},
		{name: "zero with decimals", key: "k", body: withdrawalBody("ETH", ethDest, "0.000", "123456"), status: 400, code: chengdui.EZeroAmount},
		{name: "negative amount", key: "k", body: withdrawalBody("ETH", ethDest, "-0.25", "123456"), status: 400, code: chengdui.EInvalidAmount},
		{name: "too many decimals", key: "k", body: withdrawalBody("ETH", ethDest, "0.0000000000000000001", "123456"), status: 400, code: chengdui.EInvalidAmount},
		{name: "exponent", key: "k", body: withdrawalBody("ETH", ethDest, "1e-3", "123456"), status: 400, code: chengdui.EInvalidAmount},
		{name: "no amount", key: "k", body: withdrawalBody("ETH", ethDest, "", "123456"), status: 400, code: chengdui.EInvalidAmount},
		{name: "amount overflows", key: "k", body: withdrawalBody("ETH", ethDest, strings.Repeat("9", 40), "123456"), status: 400, code: chengdui.EInvalidAmount},
		{name: "no second factor enrolled", user: carol, key: "k", body: good("123456"), status: 403, code: chengdui.ESecondFactorRequired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := tc.user
			if u == nil {
				u = alice
			}
			token := u.token
			switch tc.token {
			case "":
			case "-":
				token = ""
			default:
				token = tc.token
			}
			before := wh.state(t, u)
			status, hdr, resp := wh.withdraw(t, token, tc.key, tc.body)
			require.Equal(t, tc.status, status, "%s", resp)
			e := decode[errorBody](t, resp)
			require.Equal(t, tc.code, e.Code, "%s", resp)
			require.NotEmpty(t, e.Message)
			if status == 401 {
				require.Contains(t, hdr.Get("WWW-Authenticate"), "Bearer")
			}
			require.Equal(t, before, wh.state(t, u), "a refusal changed something")
		})
	}

	// More than the balance: refused by the ledger, nothing held; the key
	// is still free for a request the balance covers.
	t.Run("exceeds balance", func(t *testing.T) {
		before := wh.state(t, alice)
		status, _, resp := wh.withdraw(t, alice.token, "big", withdrawalBody("ETH", ethDest, "1.000000000000000001", alice.code(t)))
		require.Equal(t, 422, status, "%s", resp)
		require.Equal(t, chengdui.EExceedsCredits, decode[errorBody](t, resp).Code)
		require.Equal(t, before, wh.state(t, alice), "a refusal changed something")

		status, _, resp = wh.withdraw(t, alice.token, "big", withdrawalBody("ETH", ethDest, "1", alice.code(t)))
		require.Equal(t, 201, status, "the refused request left the key taken: %s", resp)
		after := wh.state(t, alice)
		require.Equal(t, "0", after.Available)
		require.Equal(t, "1000000000000000000", after.Pending)
	})
}

// TestWithdrawalWrongCodeRateLimited: wrong second-factor codes are
// refused and counted; the sixth attempt in a minute is refused before the
// code is checked, even a right one, with Retry-After.
func TestWithdrawalWrongCodeRateLimited(t *testing.T) {
	wh := newWithdrawHarness(t)
	alice := wh.user(t, "alice@example.com", "1")
	wh.enrol(t, alice)
	before := wh.state(t, alice)
	wrong := alice.wrongCode(t)
	for i := range 5 {
		status, _, resp := wh.withdraw(t, alice.token, fmt.Sprintf("try-%d", i), withdrawalBody("ETH", ethDest, "0.25", wrong))
		require.Equal(t, 401, status, "attempt %d: %s", i+1, resp)
		require.Equal(t, chengdui.EUnauthorized, decode[errorBody](t, resp).Code)
	}
	// An empty code is a wrong code too, but the limit is reached first.
	right := alice.code(t)
	for _, code := range []string{"", right} {
		status, hdr, resp := wh.withdraw(t, alice.token, "try-6", withdrawalBody("ETH", ethDest, "0.25", code))
		require.Equal(t, 429, status, "%s", resp)
		require.Equal(t, chengdui.ERateLimited, decode[errorBody](t, resp).Code)
		require.Equal(t, "60", hdr.Get("Retry-After"))
	}
	require.Equal(t, before, wh.state(t, alice), "a refusal changed something")

	// A minute later the right code, not consumed by the limited request,
	// goes through.
	wh.now.Add(int64(61 * time.Second))
	status, _, resp := wh.withdraw(t, alice.token, "try-6", withdrawalBody("ETH", ethDest, "0.25", right))
	require.Equal(t, 201, status, "%s", resp)
	require.Equal(t, "250000000000000000", wh.state(t, alice).Pending)
}
