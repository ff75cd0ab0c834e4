package invoice

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"chengdui"
	"chengdui/contracts"

	"github.com/btcsuite/btcd/btcutil/base58"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// Ledger is what the service needs of the ledger.
type Ledger interface {
	CreateAccount(ctx context.Context, a chengdui.Account) (chengdui.Account, error)
	CreateTransfers(ctx context.Context, ts []chengdui.Transfer) ([]chengdui.TransferResult, error)
	Account(ctx context.Context, id string) (chengdui.Account, error)
}

// Quoter prices an amount of a currency in an asset: fx.Rates adapted.
type Quoter interface {
	// Quote returns the rate (currency per whole asset unit, spread
	// included, an exact decimal string), its sources, and price in the
	// asset's smallest unit rounded down. Codes: EUnavailable when no
	// healthy rate exists, EInvalid for an unknown pair.
	Quote(ctx context.Context, price chengdui.Amount, currency string, currencyDecimals uint8, asset string, assetDecimals uint8, spreadBps uint32) (Quote, error)
}

// Deriver derives watch-only addresses of one scheme: keys.Watcher.
type Deriver interface {
	Address(change, index uint32) (string, error)
}

// Allocator hands out derivation indexes shared with users' deposit
// addresses, so an invoice address is never anyone else's.
type Allocator interface {
	AllocateAddressIndex(ctx context.Context, scheme, network string) (uint32, error)
}

// Stores finds merchants' stores.
type Stores interface {
	Store(ctx context.Context, id string) (chengdui.Store, error)
}

// Assets lists the ledger's assets.
type Assets interface {
	Assets(ctx context.Context) ([]chengdui.Asset, error)
}

// MethodConfig is a payment method the platform offers.
type MethodConfig struct {
	ID    string // MethodBTC, MethodETH, MethodUSDT, MethodUSDC
	Asset string // the ledger asset it pays
	Chain string // the deposit chain key its payments are seen on
	// Scheme and Network name the address tree (as wallet addresses:
	// "p2wpkh"/"regtest", "evm"/"evm"); Deriver derives it.
	Scheme, Network string
	Deriver         Deriver
	// EVM only: the chain id and the token contract ("" for ether). With
	// Router set, invoices with an amount carry a signed router intent.
	ChainID uint64
	Token   string
}

// RouterConfig signs PaymentRouter intents.
type RouterConfig struct {
	Address   string // the PaymentRouter contract
	ChainID   uint64
	Recipient string // where router payments go: the platform's hot wallet
	// Sign signs an intent's EIP-712 digest (contracts.SignIntent with the
	// operator's intent key).
	Sign func(in contracts.Intent) ([]byte, error)
}

// Config configures a Service.
type Config struct {
	Store     Store
	Ledger    Ledger
	Quoter    Quoter
	Stores    Stores
	Assets    Assets
	Allocator Allocator
	// Deposits finds the deposits of invoices for Recover and retries.
	Deposits DepositSource
	Methods  []MethodConfig
	Router   *RouterConfig // nil: no router intents
	// Settler, if set, settles invoices (conversion); nil passes payments
	// to the store in the asset paid.
	Settler Settler
	// SpreadBps is the spread of every quote, in hundredths of a percent,
	// unless the store's settlement preference sets its own.
	SpreadBps uint32
	// Expiry (15 min), Monitoring (24 h) and Speed (MediumSpeed) are the
	// defaults of invoices that do not set them.
	Expiry     time.Duration
	Monitoring time.Duration
	Speed      SpeedPolicy
	// Notify is called after events were committed (webhook.Service.Notify).
	Notify func()
	Now    func() time.Time
	Log    *slog.Logger
}

// Service runs invoices: creation at a locked quote, payments from chains
// and balances, the clock, and manual marking.
type Service struct {
	cfg     Config
	methods map[string]MethodConfig

	mu       sync.Mutex
	subs     map[string]map[chan Invoice]bool // live watchers per invoice
	accounts sync.Map                         // clearing and store accounts known to exist
	policies sync.Map                         // invoice id → deposit.Policy
	dirty    map[string]bool                  // invoices whose deposit change failed to apply

	poolMu sync.Mutex
	pools  map[string]*indexPool // derivation indexes taken in blocks, by tree

	cm committer
}

// committer batches concurrent invoice creations into one transaction
// (group commit): a database commit waits for the disk, and a batch of a
// hundred waits as long as one. The first caller leads: it commits what
// is queued, then hands the lead to the first caller still waiting.
type committer struct {
	mu    sync.Mutex
	busy  bool
	queue []*pendingCreation
}

type pendingCreation struct {
	c    Creation
	done chan error // the result, or errLead
}

// errLead tells a waiting creation that it now commits the queue.
var errLead = errors.New("lead")

// maxCommit is the most creations committed together.
const maxCommit = 256

// create stores a new invoice through the group commit.
func (s *Service) create(ctx context.Context, c Creation) error {
	p := &pendingCreation{c: c, done: make(chan error, 1)}
	s.cm.mu.Lock()
	s.cm.queue = append(s.cm.queue, p)
	lead := !s.cm.busy
	s.cm.busy = true
	s.cm.mu.Unlock()
	if !lead {
		if err := <-p.done; err != errLead {
			return err
		}
	}
	// Leading: p is first in the queue.
	s.cm.mu.Lock()
	batch := s.cm.queue[:min(len(s.cm.queue), maxCommit)]
	s.cm.queue = s.cm.queue[len(batch):]
	s.cm.mu.Unlock()
	cs := make([]Creation, len(batch))
	for i, b := range batch {
		cs[i] = b.c
	}
	// The batch is others' too: one caller's cancellation must not fail it.
	err := s.cfg.Store.CreateInvoices(context.WithoutCancel(ctx), cs)
	if err != nil && len(batch) > 1 {
		// One creation spoiled the batch (a conflict): each on its own.
		for _, b := range batch {
			b.done <- s.cfg.Store.CreateInvoices(context.WithoutCancel(ctx), []Creation{b.c})
		}
	} else {
		for _, b := range batch {
			b.done <- err
		}
	}
	s.cm.mu.Lock()
	if len(s.cm.queue) > 0 {
		s.cm.queue[0].done <- errLead
	} else {
		s.cm.busy = false
	}
	s.cm.mu.Unlock()
	return <-p.done
}

// indexPool is a block of allocated indexes not handed out yet: [next, end).
type indexPool struct{ next, end uint32 }

// BlockAllocator allocates n consecutive indexes in one write; the
// databases implement it. Indexes of a block lost in a crash are never
// issued: a gap below the highest issued index, which watchers cover.
type BlockAllocator interface {
	AllocateAddressIndexes(ctx context.Context, scheme, network string, n uint32) (first uint32, err error)
}

// indexBlock is how many indexes are taken at once.
const indexBlock = 64

// index hands out the next derivation index of a tree.
func (s *Service) index(ctx context.Context, scheme, network string) (uint32, error) {
	b, ok := s.cfg.Allocator.(BlockAllocator)
	if !ok {
		return s.cfg.Allocator.AllocateAddressIndex(ctx, scheme, network)
	}
	s.poolMu.Lock()
	defer s.poolMu.Unlock()
	key := scheme + "/" + network
	p := s.pools[key]
	if p == nil || p.next == p.end {
		first, err := b.AllocateAddressIndexes(ctx, scheme, network, indexBlock)
		if err != nil {
			return 0, err
		}
		p = &indexPool{next: first, end: first + indexBlock}
		s.pools[key] = p
	}
	idx := p.next
	p.next++
	return idx, nil
}

// NewService returns a Service.
func NewService(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Ledger == nil || cfg.Quoter == nil || cfg.Stores == nil || cfg.Assets == nil {
		return nil, fmt.Errorf("invoice: Store, Ledger, Quoter, Stores and Assets are required")
	}
	if cfg.Expiry == 0 {
		cfg.Expiry = 15 * time.Minute
	}
	if cfg.Monitoring == 0 {
		cfg.Monitoring = 24 * time.Hour
	}
	if cfg.Speed == "" {
		cfg.Speed = MediumSpeed
	}
	if cfg.Notify == nil {
		cfg.Notify = func() {}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	s := &Service{cfg: cfg, methods: map[string]MethodConfig{}, subs: map[string]map[chan Invoice]bool{}, dirty: map[string]bool{},
		pools: map[string]*indexPool{}}
	for _, m := range cfg.Methods {
		if m.ID == "" || m.Asset == "" || m.Deriver == nil || m.Scheme == "" || m.Chain == "" {
			return nil, fmt.Errorf("invoice: method %q needs an asset, a chain, a scheme and a deriver", m.ID)
		}
		if _, dup := s.methods[m.ID]; dup {
			return nil, fmt.Errorf("invoice: method %q configured twice", m.ID)
		}
		s.methods[m.ID] = m
	}
	return s, nil
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

// MethodIDs lists the offered methods, BALANCE last.
func (s *Service) MethodIDs() []string {
	var ids []string
	for _, m := range s.cfg.Methods {
		ids = append(ids, m.ID)
	}
	return append(ids, MethodBalance)
}

// ClearingAccount is the ledger account that holds what an invoice was
// paid in an asset until it is passed to the merchant.
func ClearingAccount(invoiceID, asset string) string { return "invoice:" + invoiceID + ":" + asset }

// StoreAccount is a store's balance of an asset.
func StoreAccount(storeID, asset string) string { return "store:" + storeID + ":" + asset }

// CreateRequest is what a merchant asks for.
type CreateRequest struct {
	StoreID string
	// Amount is a decimal string in Currency ("" or "0": a top-up invoice).
	Amount   string
	Currency string // "" : the store's default currency
	Metadata json.RawMessage
	// Checkout options; zero values take the defaults.
	SpeedPolicy       SpeedPolicy
	Methods           []string
	ExpirationMinutes float64
	MonitoringMinutes float64
	// TolerancePercent is a decimal string, 0 to 100.
	TolerancePercent      string
	RedirectURL           string
	RedirectAutomatically bool
	DefaultLanguage       string
	DefaultPaymentMethod  string
}

// FieldError names the request field a validation error is about.
type FieldError struct {
	Field   string `json:"path"`
	Message string `json:"message"`
}

// ValidationError lists what is wrong with a request. Its code is EInvalid.
type ValidationError struct{ Fields []FieldError }

func (e *ValidationError) Error() string {
	var b strings.Builder
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.Field + ": " + f.Message)
	}
	return b.String()
}

// Unwrap gives the error its code, so chengdui.ErrorCode reports EInvalid.
func (e *ValidationError) Unwrap() error { return chengdui.Errorf(chengdui.EInvalid, "%s", e.Error()) }

// MaxMetadata is the largest metadata document accepted, in bytes.
const MaxMetadata = 16 << 10

// Create makes an invoice: quotes every method's asset at the current
// rate, issues its addresses and router intents, and records
// InvoiceCreated, in one transaction. Codes: EInvalid (a
// *ValidationError), ENotFound (store), EUnavailable (no healthy rate).
func (s *Service) Create(ctx context.Context, req CreateRequest) (Invoice, error) {
	st, err := s.cfg.Stores.Store(ctx, req.StoreID)
	if err != nil {
		return Invoice{}, err
	}
	assets, err := s.cfg.Assets.Assets(ctx)
	if err != nil {
		return Invoice{}, err
	}
	decimals := map[string]uint8{}
	for _, a := range assets {
		decimals[a.Code] = a.Decimals
	}
	now := s.now()
	inv := Invoice{StoreID: st.ID, Status: New, Additional: None, Metadata: req.Metadata, CreatedAt: now, UpdatedAt: now}
	var fields []FieldError
	bad := func(field, format string, args ...any) {
		fields = append(fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}

	inv.Currency = strings.ToUpper(strings.TrimSpace(req.Currency))
	if inv.Currency == "" {
		inv.Currency = st.DefaultCurrency
	}
	dec, ok := decimals[inv.Currency]
	if !ok {
		bad("currency", "unknown currency %q", inv.Currency)
	}
	inv.Decimals = dec
	switch a := strings.TrimSpace(req.Amount); {
	case a == "":
		inv.TopUp = true
	case ok:
		amt, err := chengdui.ParseDecimal(a, dec)
		if err != nil {
			bad("amount", "%s", chengdui.ErrorMessage(err))
		}
		inv.Amount, inv.TopUp = amt, amt.IsZero()
	}

	if len(req.Metadata) > 0 {
		var meta map[string]any
		switch {
		case len(req.Metadata) > MaxMetadata:
			bad("metadata", "is larger than %d bytes", MaxMetadata)
		case json.Unmarshal(req.Metadata, &meta) != nil || meta == nil:
			bad("metadata", "must be a JSON object")
		default:
			if id, ok := meta["orderId"].(string); ok {
				inv.OrderID = id
			}
		}
	}

	inv.SpeedPolicy = req.SpeedPolicy
	if inv.SpeedPolicy == "" {
		inv.SpeedPolicy = s.cfg.Speed
	}
	if _, ok := inv.SpeedPolicy.Depth(); !ok {
		bad("checkout.speedPolicy", "must be HighSpeed, MediumSpeed, LowMediumSpeed or LowSpeed")
	}
	expiry, monitoring := s.cfg.Expiry, s.cfg.Monitoring
	if m := req.ExpirationMinutes; m != 0 {
		if m < 1 || m > 60*24*30 {
			bad("checkout.expirationMinutes", "must be from 1 to 43200")
		}
		expiry = time.Duration(m * float64(time.Minute)).Truncate(time.Second)
	}
	if m := req.MonitoringMinutes; m != 0 {
		if m < 0 || m > 60*24*30 {
			bad("checkout.monitoringMinutes", "must be from 0 to 43200")
		}
		monitoring = time.Duration(m * float64(time.Minute)).Truncate(time.Second)
	}
	inv.ExpiresAt = now.Add(expiry)
	inv.MonitoringUntil = inv.ExpiresAt.Add(monitoring)
	if t := strings.TrimSpace(req.TolerancePercent); t != "" {
		bps, err := chengdui.ParseDecimal(t, 2)
		if err != nil || bps.Cmp64(10000) > 0 {
			bad("checkout.paymentTolerance", "must be a percentage from 0 to 100 with at most two decimals")
		} else {
			inv.ToleranceBps = uint32(bps.Lo)
		}
	}
	if u := req.RedirectURL; u != "" {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			bad("checkout.redirectURL", "must be an absolute http or https URL")
		}
	}
	switch l := req.DefaultLanguage; {
	case l == "", strings.HasPrefix(strings.ToLower(l), "en"), strings.HasPrefix(strings.ToLower(l), "zh"):
	default:
		bad("checkout.defaultLanguage", "must be en or zh-CN")
	}
	inv.Checkout = Checkout{RedirectURL: req.RedirectURL, RedirectAutomatically: req.RedirectAutomatically,
		DefaultLanguage: req.DefaultLanguage, DefaultPaymentMethod: req.DefaultPaymentMethod}

	ids := req.Methods
	if len(ids) == 0 {
		ids = s.MethodIDs()
	}
	var chosen []MethodConfig
	balance := false
	for _, id := range ids {
		if id == MethodBalance {
			balance = true
			continue
		}
		m, ok := s.methods[id]
		if !ok {
			bad("checkout.paymentMethods", "unknown payment method %q (offered: %s)", id, strings.Join(s.MethodIDs(), ", "))
			continue
		}
		if !slices.ContainsFunc(chosen, func(c MethodConfig) bool { return c.ID == id }) {
			chosen = append(chosen, m)
		}
	}
	if len(chosen) == 0 && !balance && len(fields) == 0 {
		bad("checkout.paymentMethods", "no payment method to pay with")
	}
	if d := req.DefaultPaymentMethod; d != "" && !slices.Contains(ids, d) {
		bad("checkout.defaultPaymentMethod", "%q is not one of the invoice's payment methods", d)
	}
	if len(fields) > 0 {
		return Invoice{}, &ValidationError{Fields: fields}
	}

	inv.ID = newID()
	spread := s.cfg.SpreadBps
	if st.Settlement.SpreadBps != nil {
		spread = *st.Settlement.SpreadBps
	}
	// Quotes: one per asset the invoice can be paid in. BALANCE alone is
	// paid in any asset with a chain method configured.
	quoteAssets := []string{}
	for _, m := range chosen {
		if !slices.Contains(quoteAssets, m.Asset) {
			quoteAssets = append(quoteAssets, m.Asset)
		}
	}
	if balance && len(chosen) == 0 {
		for _, m := range s.cfg.Methods {
			if !slices.Contains(quoteAssets, m.Asset) {
				quoteAssets = append(quoteAssets, m.Asset)
			}
		}
	}
	for _, a := range quoteAssets {
		ad, ok := decimals[a]
		if !ok {
			return Invoice{}, chengdui.Errorf(chengdui.EUnavailable, "asset %s is not in the ledger", a)
		}
		q, err := s.quote(ctx, inv, a, ad, spread)
		if err != nil {
			return Invoice{}, err
		}
		inv.Quotes = append(inv.Quotes, q)
	}
	// Addresses: one per address tree, shared by the methods of that tree
	// (ETH and the tokens are paid to the same EVM address).
	byTree := map[string]string{}
	for _, m := range chosen {
		tree := m.Scheme + "/" + m.Network
		method := Method{ID: m.ID, Asset: m.Asset, Scheme: m.Scheme, Network: m.Network, Chain: m.Chain, ChainID: m.ChainID, Token: m.Token}
		if addr, ok := byTree[tree]; ok {
			method.Destination = addr
			for _, prev := range inv.Methods {
				if prev.Destination == addr {
					method.Index = prev.Index
				}
			}
		} else {
			idx, err := s.index(ctx, m.Scheme, m.Network)
			if err != nil {
				return Invoice{}, err
			}
			addr, err := m.Deriver.Address(0, idx)
			if err != nil {
				return Invoice{}, err
			}
			byTree[tree], method.Destination, method.Index = addr, addr, idx
		}
		if r := s.cfg.Router; r != nil && !inv.TopUp && m.ChainID == r.ChainID && m.ChainID != 0 {
			q, _ := inv.Quote(m.Asset)
			in, err := s.intent(inv, m, q.Due)
			if err != nil {
				return Invoice{}, err
			}
			method.Intent = in
		}
		inv.Methods = append(inv.Methods, method)
	}
	if balance {
		inv.Methods = append(inv.Methods, Method{ID: MethodBalance})
	}
	ev := Event{StoreID: inv.StoreID, InvoiceID: inv.ID, Type: EventCreated, Data: json.RawMessage(`{}`), CreatedAt: now}
	if err := s.create(ctx, Creation{Invoice: inv, Events: s.stamp([]Event{ev})}); err != nil {
		return Invoice{}, err
	}
	inv.Version = 1
	s.cfg.Notify()
	return inv, nil
}

// quote locks the rate of one asset.
func (s *Service) quote(ctx context.Context, inv Invoice, asset string, assetDecimals uint8, spreadBps uint32) (Quote, error) {
	price := inv.Amount
	if inv.TopUp {
		// The rate is still locked: it prices what a top-up is paid.
		price = chengdui.Amount{}
	}
	q, err := s.cfg.Quoter.Quote(ctx, price, inv.Currency, inv.Decimals, asset, assetDecimals, spreadBps)
	if err != nil {
		return Quote{}, err
	}
	q.Asset, q.Decimals = asset, assetDecimals
	if !inv.TopUp && q.Due.IsZero() {
		return Quote{}, chengdui.Errorf(chengdui.EInvalid, "%s %s is less than one smallest unit of %s", chengdui.FormatDecimal(inv.Amount, inv.Decimals), inv.Currency, asset)
	}
	return q, nil
}

// intentID is the router intent id of an invoice's method.
func intentID(invoiceID, methodID string) [32]byte {
	return crypto.Keccak256Hash([]byte("chengdui:invoice:" + invoiceID + ":" + methodID))
}

// intent signs the router intent paying due of m's asset.
func (s *Service) intent(inv Invoice, m MethodConfig, due chengdui.Amount) (*Intent, error) {
	r := s.cfg.Router
	in := contracts.Intent{ID: intentID(inv.ID, m.ID), Amount: due.Big(), Fee: new(big.Int),
		Recipient: common.HexToAddress(r.Recipient), Deadline: big.NewInt(inv.ExpiresAt.Unix())}
	if m.Token != "" {
		in.Token = common.HexToAddress(m.Token)
	}
	sig, err := r.Sign(in)
	if err != nil {
		return nil, fmt.Errorf("invoice: sign router intent: %w", err)
	}
	return &Intent{Router: common.HexToAddress(r.Address).Hex(), ChainID: r.ChainID, ID: "0x" + hex.EncodeToString(in.ID[:]),
		Token: in.Token.Hex(), Amount: due, Recipient: in.Recipient.Hex(), FeeRecipient: in.FeeRecipient.Hex(),
		Deadline: inv.ExpiresAt.Unix(), Signature: "0x" + hex.EncodeToString(sig)}, nil
}

// newID returns a random invoice id: 22 base58 characters, like BTCPay's.
func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("invoice: no randomness: " + err.Error())
	}
	id := base58.Encode(b[:])
	for len(id) < 22 {
		id = "1" + id
	}
	return id
}

// stamp gives events their ids.
func (s *Service) stamp(evs []Event) []Event {
	for i := range evs {
		if evs[i].ID == "" {
			evs[i].ID = "evt_" + newID()
		}
	}
	return evs
}

// Get returns a store's invoice. Codes: ENotFound (also for another
// store's invoice).
func (s *Service) Get(ctx context.Context, storeID, id string) (Invoice, error) {
	inv, err := s.cfg.Store.Invoice(ctx, id)
	if err == nil && inv.StoreID != storeID {
		err = chengdui.Errorf(chengdui.ENotFound, "no invoice %q in this store", id)
	}
	return inv, err
}

// Invoice returns an invoice by id, for its public checkout page.
func (s *Service) Invoice(ctx context.Context, id string) (Invoice, error) {
	return s.cfg.Store.Invoice(ctx, id)
}

// List lists invoices.
func (s *Service) List(ctx context.Context, f Filter) ([]Invoice, error) {
	return s.cfg.Store.Invoices(ctx, f)
}

// Payments lists an invoice's payments.
func (s *Service) Payments(ctx context.Context, id string) ([]Payment, error) {
	return s.cfg.Store.Payments(ctx, id)
}

// UpdateMetadata replaces a store's invoice's metadata. Codes: ENotFound,
// EInvalid.
func (s *Service) UpdateMetadata(ctx context.Context, storeID, id string, meta json.RawMessage) (Invoice, error) {
	var m map[string]any
	if len(meta) > MaxMetadata || json.Unmarshal(meta, &m) != nil || m == nil {
		return Invoice{}, &ValidationError{Fields: []FieldError{{Field: "metadata", Message: fmt.Sprintf("must be a JSON object of at most %d bytes", MaxMetadata)}}}
	}
	return s.modify(ctx, storeID, id, func(inv *Invoice) ([]Event, error) {
		inv.Metadata = meta
		inv.OrderID, _ = m["orderId"].(string)
		return nil, nil
	})
}

// Archive hides (or, with archived false, shows again) a store's invoice
// from lists. Codes: ENotFound.
func (s *Service) Archive(ctx context.Context, storeID, id string, archived bool) (Invoice, error) {
	return s.modify(ctx, storeID, id, func(inv *Invoice) ([]Event, error) {
		inv.Archived = archived
		return nil, nil
	})
}

// Mark marks a store's invoice Settled or Invalid by hand. Marking it
// settled passes what it was paid to the merchant. Codes: ENotFound,
// EInvalid (status), EConflict (not allowed from its status).
func (s *Service) Mark(ctx context.Context, storeID, id string, to Status) (Invoice, error) {
	saved, err := s.modify(ctx, storeID, id, func(inv *Invoice) ([]Event, error) {
		c, err := mark(*inv, to, s.now())
		if err != nil {
			return nil, err
		}
		*inv = c.inv
		return c.events, nil
	})
	if err == nil && to == Settled {
		pays, perr := s.cfg.Store.Payments(ctx, saved.ID)
		if perr != nil {
			return saved, perr
		}
		s.settleOrRetry(ctx, saved, pays)
	}
	return saved, err
}

// modify applies fn to a store's invoice and saves it, retrying when a
// concurrent change moved its version on.
func (s *Service) modify(ctx context.Context, storeID, id string, fn func(inv *Invoice) ([]Event, error)) (Invoice, error) {
	for attempt := 0; ; attempt++ {
		inv, err := s.Get(ctx, storeID, id)
		if err != nil {
			return Invoice{}, err
		}
		evs, err := fn(&inv)
		if err != nil {
			return Invoice{}, err
		}
		inv.UpdatedAt = s.now()
		saved, err := s.cfg.Store.UpdateInvoice(ctx, inv, nil, s.stamp(evs))
		if chengdui.ErrorCode(err) == chengdui.EConflict && attempt < 10 {
			continue
		}
		if err != nil {
			return Invoice{}, err
		}
		s.changed(saved, len(evs) > 0)
		return saved, nil
	}
}

// changed tells live watchers and the webhook sender about a saved change.
func (s *Service) changed(inv Invoice, events bool) {
	if events {
		s.cfg.Notify()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.subs[inv.ID] {
		select {
		case ch <- inv:
		default: // a slow watcher gets the next change
		}
	}
}

// Watch returns a channel that receives an invoice's saved changes until
// cancel is called. Changes made by other processes are not seen: watchers
// should also poll.
func (s *Service) Watch(id string) (changes <-chan Invoice, cancel func()) {
	ch := make(chan Invoice, 4)
	s.mu.Lock()
	if s.subs[id] == nil {
		s.subs[id] = map[chan Invoice]bool{}
	}
	s.subs[id][ch] = true
	s.mu.Unlock()
	return ch, func() {
		s.mu.Lock()
		delete(s.subs[id], ch)
		if len(s.subs[id]) == 0 {
			delete(s.subs, id)
		}
		s.mu.Unlock()
	}
}

// forget drops what the process remembers of an invoice whose monitoring
// ended (its speed policy, its clearing accounts), so the caches do not
// grow with every invoice ever paid. A payment still arriving is served
// from storage again.
func (s *Service) forget(inv Invoice) {
	s.policies.Delete(inv.ID)
	for _, q := range inv.Quotes {
		s.accounts.Delete(ClearingAccount(inv.ID, q.Asset))
	}
}

// ensureAccount creates a ledger account once per process.
func (s *Service) ensureAccount(ctx context.Context, id, asset string, meta map[string]string) error {
	if _, ok := s.accounts.Load(id); ok {
		return nil
	}
	_, err := s.cfg.Ledger.CreateAccount(ctx, chengdui.Account{ID: id, Asset: asset, Flags: chengdui.DebitsMustNotExceedCredits, Metadata: meta})
	if err != nil && chengdui.ErrorCode(err) != chengdui.EExists {
		return err
	}
	s.accounts.Store(id, true)
	return nil
}

// Transfer codes of the ledger transfers this package writes.
const (
	CodeBalanceHold uint16 = 20 // payer → invoice clearing, pending then posted
	CodeToMerchant  uint16 = 21 // invoice clearing → store
)

// PassID is the ledger transfer id passing a settled payment to the store.
// Payment ids (chain, txid, kind, index) can be longer than a transfer id
// may be: the id carries a hash of it, the transfer's metadata the id.
func PassID(invoiceID, paymentID string) string {
	h := sha256.Sum256([]byte(paymentID))
	return "inv:" + invoiceID + ":pass:" + hex.EncodeToString(h[:16])
}

// pass moves every settled payment of a settled invoice from its clearing
// account to the store, one transfer per payment (idempotent by id, so a
// retry after a crash never pays twice).
func (s *Service) pass(ctx context.Context, inv Invoice, pays []Payment) error {
	var ts []chengdui.Transfer
	for _, p := range pays {
		if p.Status != PaymentSettled {
			continue
		}
		to := StoreAccount(inv.StoreID, p.Asset)
		if err := s.ensureAccount(ctx, to, p.Asset, map[string]string{"store": inv.StoreID}); err != nil {
			return err
		}
		ts = append(ts, chengdui.Transfer{ID: PassID(inv.ID, p.ID), DebitAccountID: ClearingAccount(inv.ID, p.Asset),
			CreditAccountID: to, Amount: p.Amount, Code: CodeToMerchant,
			Metadata: map[string]string{"invoice": inv.ID, "store": inv.StoreID, "payment": p.ID}})
	}
	if len(ts) == 0 {
		return nil
	}
	return s.transfers(ctx, ts)
}

// apply re-evaluates an invoice with changed payments (upserted by id) and
// saves it, retrying on concurrent changes. It is idempotent: applying
// what is stored changes nothing.
func (s *Service) apply(ctx context.Context, id string, upd []Payment) (Invoice, error) {
	for attempt := 0; ; attempt++ {
		inv, err := s.cfg.Store.Invoice(ctx, id)
		if err != nil {
			return Invoice{}, err
		}
		pays, err := s.cfg.Store.Payments(ctx, id)
		if err != nil {
			return Invoice{}, err
		}
		fresh, confirmed := map[string]bool{}, map[string]bool{}
		var write []Payment
		for _, u := range upd {
			i := slices.IndexFunc(pays, func(p Payment) bool { return p.ID == u.ID })
			switch {
			case i < 0:
				fresh[u.ID] = u.Status != PaymentInvalid
				if !fresh[u.ID] {
					delete(fresh, u.ID)
				}
				confirmed[u.ID] = u.Status == PaymentSettled
				pays = append(pays, u)
				write = append(write, u)
			case pays[i].Status != u.Status:
				confirmed[u.ID] = u.Status == PaymentSettled
				u.ReceivedAt = pays[i].ReceivedAt
				pays[i] = u
				write = append(write, u)
			}
		}
		for k, v := range confirmed {
			if !v {
				delete(confirmed, k)
			}
		}
		now := s.now()
		c := evaluate(inv, pays, fresh, confirmed, now)
		if len(write) == 0 && len(c.events) == 0 && c.inv.Status == inv.Status && c.inv.Additional == inv.Additional && c.inv.Closed == inv.Closed {
			if inv.Status == Settled {
				// Payments settled after the invoice are passed on too,
				// and a settlement that failed is tried again.
				s.settleOrRetry(ctx, inv, pays)
			}
			return inv, nil
		}
		c.inv.UpdatedAt = now
		saved, err := s.cfg.Store.UpdateInvoice(ctx, c.inv, write, s.stamp(c.events))
		if chengdui.ErrorCode(err) == chengdui.EConflict && attempt < 10 {
			continue
		}
		if err != nil {
			return Invoice{}, err
		}
		// Saved first: a settlement the ledger refuses (an inventory that
		// cannot cover a conversion) leaves the invoice settled and
		// unconverted, retried on every tick until it goes through.
		if saved.Status == Settled {
			s.settleOrRetry(ctx, saved, pays)
		}
		if saved.Closed {
			s.forget(saved)
		}
		s.changed(saved, len(c.events) > 0)
		return saved, nil
	}
}

// Settler passes a settled invoice's settled payments to its merchant:
// settle.Converter converts them at the locked quote, with fees. It must
// be idempotent (transfer ids derived from the payments): it is called
// again for every change of a settled invoice and after failures.
type Settler interface {
	Settle(ctx context.Context, inv Invoice, pays []Payment) error
}

// settleOrRetry settles inv's payments; a failure is logged and the
// invoice retried on the next tick.
func (s *Service) settleOrRetry(ctx context.Context, inv Invoice, pays []Payment) {
	var err error
	if s.cfg.Settler != nil {
		err = s.cfg.Settler.Settle(ctx, inv, pays)
	} else {
		err = s.pass(ctx, inv, pays)
	}
	if err != nil {
		s.cfg.Log.Error("invoice settled, its settlement failed; retried on the next tick", "invoice", inv.ID, "err", err)
		s.mu.Lock()
		s.dirty[inv.ID] = true
		s.mu.Unlock()
	}
}

// Tick applies the clock: expiries and the end of monitoring windows, for
// at most limit invoices. It returns how many it changed.
func (s *Service) Tick(ctx context.Context, limit int) (int, error) {
	ids, err := s.cfg.Store.Pending(ctx, s.now(), limit)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		if _, err := s.apply(ctx, id, nil); err != nil {
			return n, err
		}
		n++
	}
	s.retryDirty(ctx)
	return n, nil
}

// Run ticks every interval until ctx ends.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.Tick(ctx, 500); err != nil && ctx.Err() == nil {
			s.cfg.Log.Error("invoice clock", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
