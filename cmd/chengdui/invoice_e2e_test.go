package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/big"
	nethttp "net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"

	"chengdui/contracts"
	"chengdui/evm"
	"chengdui/keys"
)

// devChainsByDir holds the chains of each dev a test starts, by data
// directory (see devStarted).
var devChainsByDir sync.Map

func init() {
	devStarted = func(dir string, e *devChain, _ *devBitcoin) { devChainsByDir.Store(dir, e) }
}

var demoMerchantLine = regexp.MustCompile(`(?m)^\s+merchant\s+(\S+)\s+password: (\S+)$`)

// hookReceiver is a shop's webhook endpoint: it checks every signature and
// keeps the events in the order they arrive.
type hookReceiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	events []hookEvent
	bad    []string
}

type hookEvent struct {
	Type, InvoiceID, DeliveryID string
	PayoutID, PayoutState       string
	At                          time.Time
}

func newHookReceiver(t testing.TB) *hookReceiver {
	h := &hookReceiver{}
	h.srv = httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		mac := hmac.New(sha256.New, []byte(h.secret))
		mac.Write(body)
		if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); r.Header.Get("BTCPay-Sig") != want {
			h.bad = append(h.bad, string(body))
			w.WriteHeader(nethttp.StatusUnauthorized)
			return
		}
		var ev struct {
			Type        string `json:"type"`
			InvoiceID   string `json:"invoiceId"`
			DeliveryID  string `json:"deliveryId"`
			PayoutID    string `json:"payoutId"`
			PayoutState string `json:"payoutState"`
		}
		if err := json.Unmarshal(body, &ev); err != nil {
			h.bad = append(h.bad, string(body))
		}
		h.events = append(h.events, hookEvent{Type: ev.Type, InvoiceID: ev.InvoiceID, DeliveryID: ev.DeliveryID,
			PayoutID: ev.PayoutID, PayoutState: ev.PayoutState, At: time.Now()})
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// of lists the types received for an invoice, in order, without
// duplicates (a delivery retried after a lost answer).
func (h *hookReceiver) of(id string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[string]bool{}
	out := []string{}
	for _, e := range h.events {
		if e.InvoiceID == id && !seen[e.DeliveryID] {
			seen[e.DeliveryID] = true
			out = append(out, e.Type)
		}
	}
	return out
}

// payout lists the "type payoutState" of a payout's webhooks, in order,
// without duplicates.
func (h *hookReceiver) payout(id string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[string]bool{}
	out := []string{}
	for _, e := range h.events {
		if e.PayoutID == id && !seen[e.DeliveryID] {
			seen[e.DeliveryID] = true
			out = append(out, e.Type+" "+e.PayoutState)
		}
	}
	return out
}

// waitEvents waits until the invoice's webhooks include want, in order.
func (h *hookReceiver) waitEvents(t testing.TB, id string, want ...string) {
	t.Helper()
	waitFor(t, "webhooks "+strings.Join(want, ", ")+" for "+id, func() (bool, string) {
		got := h.of(id)
		i := 0
		for _, typ := range got {
			if i < len(want) && typ == want[i] {
				i++
			}
		}
		h.mu.Lock()
		bad := len(h.bad)
		h.mu.Unlock()
		require.Zero(t, bad, "webhooks with a bad signature")
		return i == len(want), strings.Join(got, ", ")
	})
}

// greenfield is a Greenfield API client with a store API key.
type greenfield struct {
	t     testing.TB
	url   string
	key   string
	store string
	// owner is the merchant's session; otp gives the TOTP code of a step
	// (0 was spent making the key).
	owner *devSession
	otp   func(step int) string
}

func (g *greenfield) do(method, path, body string, v any) int {
	g.t.Helper()
	req, err := nethttp.NewRequest(method, g.url+path, strings.NewReader(body))
	require.NoError(g.t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "token "+g.key)
	resp, err := (&nethttp.Client{Timeout: 10 * time.Second}).Do(req)
	require.NoError(g.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(g.t, err)
	if v != nil && resp.StatusCode < 300 {
		require.NoError(g.t, json.Unmarshal(b, v), "%s %s: %s", method, path, b)
	}
	if resp.StatusCode >= 300 {
		g.t.Logf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode
}

// paymentMethod is the part of Greenfield's payment method the test reads.
type paymentMethod struct {
	PaymentMethodID string `json:"paymentMethodId"`
	Destination     string `json:"destination"`
	Due             string `json:"due"`
	Amount          string `json:"amount"`
	AdditionalData  struct {
		Intent *struct {
			Router, ID, Token, Amount, Fee, Recipient, FeeRecipient, Signature string
			Deadline                                                           int64
		} `json:"intent"`
	} `json:"additionalData"`
}

func (g *greenfield) createInvoice(amount string, methods ...string) string {
	g.t.Helper()
	var inv struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	body := `{"amount":"` + amount + `","currency":"CNY","metadata":{"orderId":"e2e-` + amount + `"},"checkout":{"paymentMethods":["` + strings.Join(methods, `","`) + `"]}}`
	require.Equal(g.t, nethttp.StatusOK, g.do("POST", "/api/v1/stores/"+g.store+"/invoices", body, &inv))
	require.Equal(g.t, "New", inv.Status)
	return inv.ID
}

func (g *greenfield) method(id, method string) paymentMethod {
	g.t.Helper()
	var pms []paymentMethod
	require.Equal(g.t, nethttp.StatusOK, g.do("GET", "/api/v1/stores/"+g.store+"/invoices/"+id+"/payment-methods", "", &pms))
	for _, pm := range pms {
		if pm.PaymentMethodID == method {
			return pm
		}
	}
	g.t.Fatalf("invoice %s has no %s method: %+v", id, method, pms)
	return paymentMethod{}
}

func (g *greenfield) status(id string) string {
	var inv struct {
		Status string `json:"status"`
	}
	require.Equal(g.t, nethttp.StatusOK, g.do("GET", "/api/v1/stores/"+g.store+"/invoices/"+id, "", &inv))
	return inv.Status
}

// merchantAPI logs in as the demo merchant, enables TOTP and makes a store
// API key with the Greenfield permissions a shop plugin asks for.
func merchantAPI(t testing.TB, dev *server) *greenfield {
	m := demoMerchantLine.FindStringSubmatch(dev.Stdout.String())
	require.NotNil(t, m, "no demo merchant in the banner:\n%s", dev.Stdout)
	s := &devSession{t: t, url: dev.URL}
	status, body := s.do("POST", "/api/v1/sessions", "", `{"email":"`+m[1]+`","password":"`+m[2]+`"}`)
	require.Equal(t, nethttp.StatusCreated, status, "%s", body)
	var sess struct {
		Token string `json:"token"`
	}
	require.NoError(t, json.Unmarshal(body, &sess))
	s.token = sess.Token

	status, body = s.do("POST", "/api/v1/users/me/2fa/totp", "", "")
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
	status, body = s.do("POST", "/api/v1/users/me/2fa/totp/confirm", "", `{"code":"`+code(-1)+`"}`)
	require.Equal(t, nethttp.StatusOK, status, "%s", body)

	var stores struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	s.getJSON("/api/v1/stores", &stores)
	require.Len(t, stores.Data, 1)
	store := stores.Data[0].ID
	status, body = s.do("POST", "/api/v1/stores/"+store+"/api-keys", "", `{"label":"shop plugin","otp":"`+code(0)+`","permissions":[`+
		`"btcpay.store.cancreateinvoice","btcpay.store.canviewinvoices","btcpay.store.canmodifyinvoices","btcpay.store.webhooks.canmodifywebhooks","payout:create"]}`)
	require.Equal(t, nethttp.StatusCreated, status, "%s", body)
	var key struct {
		Key string `json:"api_key"`
	}
	require.NoError(t, json.Unmarshal(body, &key))
	return &greenfield{t: t, url: dev.URL, key: key.Key, store: store, owner: s, otp: code}
}

// outsideWallet is an EVM wallet no platform key owns.
func outsideWallet(t testing.TB) evm.Account {
	b := make([]byte, 32)
	_, err := rand.Read(b)
	require.NoError(t, err)
	seed, err := keys.NewSeed(b)
	require.NoError(t, err)
	signer, err := keys.NewSeedSigner(seed)
	require.NoError(t, err)
	t.Cleanup(func() { signer.Close() })
	acct, err := evm.NewAccount(signer, keys.EVM.Path(keys.Mainnet, 0, 0, 0))
	require.NoError(t, err)
	return acct
}

// storeBalance reads a store account's balance through the ledger API.
func storeBalance(t testing.TB, s *devSession, store, asset string) string {
	return accountBalance(t, s, "store:"+store+":"+asset)
}

// accountBalance reads an account's balance through the ledger API.
func accountBalance(t testing.TB, s *devSession, id string) string {
	var a struct {
		Balance string `json:"balance"`
	}
	status, body := s.do("GET", "/api/v1/ledger/accounts/"+id, "", "")
	if status == nethttp.StatusNotFound {
		return "0"
	}
	require.Equal(t, nethttp.StatusOK, status, "%s", body)
	require.NoError(t, json.Unmarshal(body, &a))
	return a.Balance
}

// TestInvoiceEndToEnd is issue 6's end-to-end test on dev: a shop creates
// invoices through the Greenfield API and receives signed webhooks while
// they are paid with USDT through the PaymentRouter, with BTC on regtest,
// and from a payer's balance; the ledger moves exactly the amounts due.
func TestInvoiceEndToEnd(t *testing.T) {
	t.Parallel()
	dev, dir := startShopDev(t)
	v, ok := devChainsByDir.Load(dir)
	require.True(t, ok)
	chain := v.(*devChain)
	ctx := context.Background()
	gf := merchantAPI(t, dev)
	hooks := gf.subscribe(t)
	reader := &devSession{t: t, url: dev.URL}
	usdtInventory := units(t, accountBalance(t, reader, "platform:USDT-ERC20:inventory"))
	btcInventory := units(t, accountBalance(t, reader, "platform:BTC:inventory"))

	t.Run("USDT through the PaymentRouter", func(t *testing.T) {
		gf.t = t
		id := gf.createInvoice("72.00", "USDT-ERC20") // 10 USDT at 7.2 CNY
		pm := gf.method(id, "USDT-ERC20")
		require.Equal(t, "10.000000", pm.Due)
		in := pm.AdditionalData.Intent
		require.NotNil(t, in, "the USDT method carries a signed router intent")
		require.Equal(t, "10000000", in.Amount)
		payer := outsideWallet(t)
		token := payThroughRouter(t, chain, payer, pm, "25")

		hooks.waitEvents(t, id, "InvoiceCreated", "InvoiceReceivedPayment", "InvoiceProcessing", "InvoiceSettled")
		require.Equal(t, "Settled", gf.status(id))
		bal, err := token.BalanceOf(&bind.CallOpts{Context: ctx}, payer.Address)
		require.NoError(t, err)
		require.Equal(t, "15000000", bal.String(), "the payer paid exactly 10 USDT")
		// Converted at the locked quote into the store's CNY, less dev's 1 % fee.
		require.Equal(t, "7128", storeBalance(t, reader, gf.store, "CNY"), "72.00 CNY less 0.72, to the fen")
		inventory := new(big.Int).Sub(units(t, accountBalance(t, reader, "platform:USDT-ERC20:inventory")), usdtInventory)
		require.Equal(t, "10000000", inventory.String(), "the platform holds the USDT paid")
	})

	t.Run("BTC on regtest", func(t *testing.T) {
		gf.t = t
		id := gf.createInvoice("43.20", "BTC-CHAIN") // 0.0001 BTC at 432,000 CNY
		pm := gf.method(id, "BTC-CHAIN")
		require.Equal(t, "0.00010000", pm.Due)
		require.True(t, strings.HasPrefix(pm.Destination, "bcrt1q"), pm.Destination)
		s := &devSession{t: t, url: dev.URL}
		status, body := s.do("POST", "/api/v1/dev/faucet", "", `{"asset":"BTC","address":"`+pm.Destination+`","amount":"0.0001"}`)
		require.Equal(t, nethttp.StatusAccepted, status, "%s", body)
		hooks.waitEvents(t, id, "InvoiceCreated", "InvoiceReceivedPayment", "InvoiceProcessing", "InvoiceSettled")
		require.Equal(t, "Settled", gf.status(id))
		require.Equal(t, "11405", storeBalance(t, reader, gf.store, "CNY"), "plus 43.20 less 0.43")
		inventory := new(big.Int).Sub(units(t, accountBalance(t, reader, "platform:BTC:inventory")), btcInventory)
		require.Equal(t, "10000", inventory.String())
	})

	t.Run("from the payer's balance", func(t *testing.T) {
		gf.t = t
		id := gf.createInvoice("36.00", "USDT-ERC20", "BALANCE") // 5 USDT
		payer := loginDemoPayer(t, dev)
		before, _ := payer.wallet()
		status, body := payer.do("POST", "/api/v1/invoices/"+id+"/pay", "pay-"+id, `{"asset":"USDT-ERC20"}`)
		require.Equal(t, nethttp.StatusOK, status, "%s", body)
		hooks.waitEvents(t, id, "InvoiceCreated", "InvoiceReceivedPayment", "InvoiceProcessing", "InvoiceSettled")
		after, _ := payer.wallet()
		spent := new(big.Int).Sub(units(t, before["USDT-ERC20"].AvailableUnits), units(t, after["USDT-ERC20"].AvailableUnits))
		require.Equal(t, "5000000", spent.String(), "the payer is debited exactly 5 USDT")
		require.Equal(t, "14969", storeBalance(t, reader, gf.store, "CNY"), "plus 36.00 less 0.36")
		// Paying again changes nothing.
		status, _ = payer.do("POST", "/api/v1/invoices/"+id+"/pay", "pay-"+id, `{"asset":"USDT-ERC20"}`)
		require.Equal(t, nethttp.StatusOK, status)
		again, _ := payer.wallet()
		require.Equal(t, after["USDT-ERC20"].AvailableUnits, again["USDT-ERC20"].AvailableUnits)
	})

	t.Run("the store's CNY paid out to the sandbox bank", func(t *testing.T) {
		gf.t = t
		var p struct {
			ID    string `json:"id"`
			State string `json:"state"`
		}
		body := `{"id":"daily-1","asset":"CNY","amount":"100.00","method":"BANK","creditor":{"name":"Demo Teahouse","account":"6222020200001234567","bank_code":"102100099996","country":"CN"}}`
		require.Equal(t, nethttp.StatusCreated, gf.do("POST", "/api/v1/stores/"+gf.store+"/payouts", body, &p))
		var bal struct {
			Balances []struct {
				Asset     string `json:"asset"`
				Available struct {
					Units string `json:"units"`
				} `json:"available"`
			} `json:"balances"`
		}
		require.Equal(t, nethttp.StatusOK, gf.do("GET", "/api/v1/stores/"+gf.store+"/balances", "", &bal))
		for _, b := range bal.Balances {
			if b.Asset == "CNY" && p.State != "Completed" {
				require.Equal(t, "4969", b.Available.Units, "the payout is held at once")
			}
		}
		waitFor(t, "the bank completing the payout by callback", func() (bool, string) {
			require.Equal(t, nethttp.StatusOK, gf.do("GET", "/api/v1/stores/"+gf.store+"/payouts/"+p.ID, "", &p))
			require.NotEqual(t, "Failed", p.State)
			return p.State == "Completed", p.State
		})
		require.Equal(t, "4969", storeBalance(t, reader, gf.store, "CNY"))
		require.Equal(t, "10000", accountBalance(t, reader, "platform:CNY:payouts"), "paid out: 100.00 CNY")
		want := []string{"PayoutCreated AwaitingPayment", "PayoutUpdated InProgress", "PayoutUpdated Completed"}
		waitFor(t, "the payout's webhooks", func() (bool, string) {
			got := hooks.payout(p.ID)
			return strings.Join(got, ", ") == strings.Join(want, ", "), strings.Join(got, ", ")
		})
		// The same request again is the same payout; an overdraft holds nothing.
		require.Equal(t, nethttp.StatusCreated, gf.do("POST", "/api/v1/stores/"+gf.store+"/payouts", body, &p))
		require.Equal(t, "Completed", p.State)
		over := strings.Replace(strings.Replace(body, "daily-1", "daily-2", 1), "100.00", "50.00", 1)
		require.Equal(t, nethttp.StatusUnprocessableEntity, gf.do("POST", "/api/v1/stores/"+gf.store+"/payouts", over, nil))
		require.Equal(t, "4969", storeBalance(t, reader, gf.store, "CNY"))
	})
}

// startShopDev starts dev with both chains (blocks every 300 ms) in a
// fresh data directory, logging its warnings and errors if the test
// fails.
func startShopDev(t *testing.T) (*server, string) {
	dir := t.TempDir()
	dev := startDevChains(t, "--addr", "127.0.0.1:0", "--data-dir", dir, "--btc-block-time", "300ms", "--block-time", "300ms")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("dev's warnings and errors:\n%s", grepLines(dev.Stderr.String(), "level=WARN", "level=ERROR"))
		}
	})
	return dev, dir
}

// subscribe registers a webhook receiving every event of the store, as a
// shop does, and returns its receiver.
func (g *greenfield) subscribe(t *testing.T) *hookReceiver {
	hooks := newHookReceiver(t)
	var created struct {
		Secret string `json:"secret"`
	}
	require.Equal(t, nethttp.StatusOK, g.do("POST", "/api/v1/stores/"+g.store+"/webhooks",
		`{"url":"`+hooks.srv.URL+`/shop","authorizedEvents":{"everything":true}}`, &created))
	require.NotEmpty(t, created.Secret)
	hooks.mu.Lock()
	hooks.secret = created.Secret
	hooks.mu.Unlock()
	return hooks
}

// payThroughRouter pays an invoice's EVM token method as a wallet outside
// the platform does: funded with gas and mint tokens by dev's faucet, it
// approves the PaymentRouter and calls pay with the method's signed
// intent, and waits for the receipt. It returns the token's binding.
func payThroughRouter(t *testing.T, chain *devChain, payer evm.Account, pm paymentMethod, mint string) *contracts.TestToken {
	t.Helper()
	ctx := context.Background()
	in := pm.AdditionalData.Intent
	require.NotNil(t, in, "the method carries a signed router intent")
	_, err := chain.Faucet(ctx, payer.Address.Hex(), big.NewInt(1e17))
	require.NoError(t, err)
	_, err = chain.MintToken(ctx, pm.PaymentMethodID, payer.Address.Hex(), mint)
	require.NoError(t, err)
	client := chain.sim.Client()
	token, err := contracts.NewTestToken(common.HexToAddress(in.Token), client)
	require.NoError(t, err)
	waitFor(t, "the payer funded", func() (bool, string) {
		bal, err := token.BalanceOf(&bind.CallOpts{Context: ctx}, payer.Address)
		eth, err2 := client.BalanceAt(ctx, payer.Address, nil)
		return err == nil && err2 == nil && bal.Sign() > 0 && eth.Sign() > 0, "not yet"
	})
	amount, _ := new(big.Int).SetString(in.Amount, 10)
	opts, err := contracts.TransactOpts(ctx, client, payer)
	require.NoError(t, err)
	approve, err := token.Approve(opts, common.HexToAddress(in.Router), amount)
	require.NoError(t, err)
	_, err = bind.WaitMined(ctx, client, approve.Hash())
	require.NoError(t, err)
	router, err := contracts.NewPaymentRouter(common.HexToAddress(in.Router), client)
	require.NoError(t, err)
	idBytes, err := hex.DecodeString(strings.TrimPrefix(in.ID, "0x"))
	require.NoError(t, err)
	sig, err := hex.DecodeString(strings.TrimPrefix(in.Signature, "0x"))
	require.NoError(t, err)
	fee, _ := new(big.Int).SetString(in.Fee, 10)
	intent := contracts.PaymentRouterIntent{Token: common.HexToAddress(in.Token), Amount: amount, Fee: fee,
		Recipient: common.HexToAddress(in.Recipient), FeeRecipient: common.HexToAddress(in.FeeRecipient), Deadline: big.NewInt(in.Deadline)}
	copy(intent.Id[:], idBytes)
	opts, err = contracts.TransactOpts(ctx, client, payer)
	require.NoError(t, err)
	tx, err := router.Pay(opts, intent, sig)
	require.NoError(t, err)
	receipt, err := bind.WaitMined(ctx, client, tx.Hash())
	require.NoError(t, err)
	require.Equal(t, uint64(1), receipt.Status)
	return token
}
