package wallet

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"time"

	"chengdui"
	"chengdui/audit"
	"chengdui/auth"
	"chengdui/keys"
	"chengdui/ledger"
)

// Ledger is what the service needs of the ledger.
type Ledger interface {
	CreateAccount(ctx context.Context, a chengdui.Account) (chengdui.Account, error)
	Account(ctx context.Context, id string) (chengdui.Account, error)
}

// Assets lists the ledger's assets.
type Assets interface {
	Assets(ctx context.Context) ([]chengdui.Asset, error)
}

// Config configures the service.
type Config struct {
	// Network of the Bitcoin addresses (regtest in dev).
	Network keys.Network
	// XPubs are the account-level extended public keys per scheme, from
	// `chengdui keys show-xpub`. A scheme without one gets no addresses.
	XPubs map[keys.Scheme]string
	// SessionTTL is how long a login lasts; 24 h by default.
	SessionTTL time.Duration
	// Password hashing cost; auth.DefaultParams() by default.
	Password auth.Params
	Now      func() time.Time
	// Audit records registrations, logins, failed logins and logouts.
	Audit *audit.Recorder
}

// Service implements chengdui.Wallets.
type Service struct {
	store    Store
	ledger   Ledger
	assets   Assets
	cfg      Config
	watchers map[keys.Scheme]*keys.Watcher
	// resolved holds the accounts Resolve has made sure exist.
	resolved sync.Map
	// dummy is a hash to verify against when the email is unknown, so a
	// login takes as long whether or not the account exists.
	dummy string
}

var _ chengdui.Wallets = (*Service)(nil)

// New returns a service. It fails when an xpub does not parse or does not
// belong to the configured network.
func New(store Store, l Ledger, assets Assets, cfg Config) (*Service, error) {
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 24 * time.Hour
	}
	if cfg.Password == (auth.Params{}) {
		cfg.Password = auth.DefaultParams()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Service{store: store, ledger: l, assets: assets, cfg: cfg, watchers: map[keys.Scheme]*keys.Watcher{}}
	for scheme, xpub := range cfg.XPubs {
		w, err := keys.NewWatcher(scheme, cfg.Network, xpub)
		if err != nil {
			return nil, err
		}
		s.watchers[scheme] = w
	}
	dummy, err := auth.HashPassword("not a password: timing equaliser", cfg.Password)
	if err != nil {
		return nil, err
	}
	s.dummy = dummy
	return s, nil
}

// MaxEmailLength is RFC 5321's limit on a forward path.
const MaxEmailLength = 254

// normaliseEmail accepts a bare address ("a@b.example"), trimmed.
func normaliseEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" || len(email) > MaxEmailLength || !strings.Contains(email[strings.LastIndex(email, "@"):], ".") {
		return "", chengdui.Errorf(chengdui.EInvalid, "email: give an address like name@example.com")
	}
	return email, nil
}

// Register implements chengdui.Wallets.
func (s *Service) Register(ctx context.Context, email, password string) (chengdui.User, error) {
	email, err := normaliseEmail(email)
	if err != nil {
		return chengdui.User{}, err
	}
	if err := auth.CheckPassword(password, email); err != nil {
		return chengdui.User{}, err
	}
	hash, err := auth.HashPassword(password, s.cfg.Password)
	if err != nil {
		return chengdui.User{}, err
	}
	u := chengdui.User{ID: ledger.NewID(), Email: email, PasswordHash: hash, CreatedAt: s.cfg.Now().UTC().Truncate(time.Microsecond)}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return chengdui.User{}, err
	}
	s.cfg.Audit.Record(ctx, chengdui.AuditRegistered, u.ID, map[string]string{"email": u.Email})
	if err := s.ensureWallet(ctx, u.ID); err != nil {
		return u, err
	}
	return u, nil
}

// Login implements chengdui.Wallets.
func (s *Service) Login(ctx context.Context, email, password string) (string, chengdui.Session, error) {
	refused := chengdui.Errorf(chengdui.EUnauthorized, "wrong email or password")
	u, err := s.store.UserByEmail(ctx, strings.TrimSpace(email))
	if chengdui.ErrorCode(err) == chengdui.ENotFound {
		_, _, _ = auth.VerifyPassword(s.dummy, password)
		s.cfg.Audit.Record(ctx, chengdui.AuditLoginFailed, "", map[string]string{"email": clip(email), "reason": "unknown email"})
		return "", chengdui.Session{}, refused
	} else if err != nil {
		return "", chengdui.Session{}, err
	}
	ok, _, err := auth.VerifyPassword(u.PasswordHash, password)
	if err != nil || !ok {
		s.cfg.Audit.Record(ctx, chengdui.AuditLoginFailed, u.ID, map[string]string{"email": u.Email, "reason": "wrong password"})
		return "", chengdui.Session{}, refused
	}
	token, hash, err := auth.NewSessionToken()
	if err != nil {
		return "", chengdui.Session{}, err
	}
	now := s.cfg.Now().UTC().Truncate(time.Microsecond)
	sess := chengdui.Session{TokenHash: hash, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return "", chengdui.Session{}, err
	}
	s.cfg.Audit.Record(ctx, chengdui.AuditLogin, u.ID, nil)
	return token, sess, nil
}

// Authenticate implements chengdui.Wallets.
func (s *Service) Authenticate(ctx context.Context, token string) (chengdui.User, error) {
	refused := chengdui.Errorf(chengdui.EUnauthorized, "not logged in, or the session expired: log in again")
	if token == "" {
		return chengdui.User{}, refused
	}
	hash := auth.HashToken(token)
	sess, err := s.store.Session(ctx, hash)
	if chengdui.ErrorCode(err) == chengdui.ENotFound {
		return chengdui.User{}, refused
	} else if err != nil {
		return chengdui.User{}, err
	}
	if subtle.ConstantTimeCompare([]byte(sess.TokenHash), []byte(hash)) != 1 || !s.cfg.Now().Before(sess.ExpiresAt) {
		return chengdui.User{}, refused
	}
	return s.store.User(ctx, sess.UserID)
}

// Logout implements chengdui.Wallets.
func (s *Service) Logout(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	hash := auth.HashToken(token)
	if sess, err := s.store.Session(ctx, hash); err == nil {
		s.cfg.Audit.Record(ctx, chengdui.AuditLogout, sess.UserID, nil)
	}
	return s.store.DeleteSession(ctx, hash)
}

// clip keeps what a stranger typed short in the audit log.
func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > MaxEmailLength {
		return s[:MaxEmailLength]
	}
	return s
}

// AccountID is the ledger account of a user's asset.
func AccountID(userID, asset string) string { return "user:" + userID + ":" + asset }

// schemesFor maps an asset's network to the address scheme that receives
// it: Bitcoin assets to P2WPKH, EVM assets (ETH and ERC-20 tokens, on any
// EVM chain: one address serves them all) to EVM. Fiat has no address.
func schemeFor(network string) (keys.Scheme, bool) {
	switch network {
	case "bitcoin":
		return keys.P2WPKH, true
	case "ethereum", "polygon", "base", "bsc", "arbitrum", "optimism":
		return keys.EVM, true
	}
	return 0, false
}

// addressNetwork names where a scheme's addresses live: the Bitcoin
// network, or "evm" — an EVM address is the same on every EVM chain.
func (s *Service) addressNetwork(scheme keys.Scheme) string {
	if scheme == keys.EVM {
		return "evm"
	}
	return s.cfg.Network.String()
}

// ensureWallet creates whatever of the user's wallet is missing.
func (s *Service) ensureWallet(ctx context.Context, userID string) error {
	assets, err := s.assets.Assets(ctx)
	if err != nil {
		return err
	}
	for _, a := range assets {
		_, err := s.ledger.CreateAccount(ctx, chengdui.Account{ID: AccountID(userID, a.Code), Asset: a.Code,
			Flags: chengdui.DebitsMustNotExceedCredits, Metadata: map[string]string{"user": userID}})
		if err != nil && chengdui.ErrorCode(err) != chengdui.EExists {
			return err
		}
	}
	have, err := s.store.DepositAddresses(ctx, userID)
	if err != nil {
		return err
	}
	for _, scheme := range keys.Schemes {
		w, ok := s.watchers[scheme]
		network := s.addressNetwork(scheme)
		if !ok || slices.ContainsFunc(have, func(d chengdui.DepositAddress) bool {
			return d.Scheme == scheme.String() && d.Network == network
		}) {
			continue
		}
		idx, err := s.store.AllocateAddressIndex(ctx, scheme.String(), network)
		if err != nil {
			return err
		}
		addr, err := w.Address(0, idx)
		if err != nil {
			return err
		}
		err = s.store.AddDepositAddress(ctx, chengdui.DepositAddress{Address: addr, UserID: userID, Scheme: scheme.String(),
			Network: network, Index: idx, CreatedAt: s.cfg.Now().UTC().Truncate(time.Microsecond)})
		if err != nil {
			return err
		}
	}
	return nil
}

// Wallet implements chengdui.Wallets.
func (s *Service) Wallet(ctx context.Context, userID string) (chengdui.Wallet, error) {
	if err := s.ensureWallet(ctx, userID); err != nil {
		return chengdui.Wallet{}, err
	}
	assets, err := s.assets.Assets(ctx)
	if err != nil {
		return chengdui.Wallet{}, err
	}
	w := chengdui.Wallet{UserID: userID, Balances: []chengdui.Balance{}, Addresses: []chengdui.WalletAddress{}}
	receives := map[keys.Scheme][]string{}
	for _, a := range assets {
		acc, err := s.ledger.Account(ctx, AccountID(userID, a.Code))
		if err != nil {
			return chengdui.Wallet{}, err
		}
		debits, _ := chengdui.AddAmounts(acc.DebitsPosted, acc.DebitsPending)
		avail, ok := chengdui.SubAmounts(acc.CreditsPosted, debits)
		if !ok {
			return chengdui.Wallet{}, errors.New("wallet: account " + acc.ID + " is overdrawn")
		}
		w.Balances = append(w.Balances, chengdui.Balance{Asset: a.Code, Network: a.Network, Decimals: a.Decimals, AccountID: acc.ID,
			Available: chengdui.FormatDecimal(avail, a.Decimals), AvailableUnits: avail.String(),
			Pending: chengdui.FormatDecimal(acc.DebitsPending, a.Decimals), PendingUnits: acc.DebitsPending.String()})
		if scheme, ok := schemeFor(a.Network); ok {
			receives[scheme] = append(receives[scheme], a.Code)
		}
	}
	addrs, err := s.store.DepositAddresses(ctx, userID)
	if err != nil {
		return chengdui.Wallet{}, err
	}
	for _, d := range addrs {
		wa := chengdui.WalletAddress{DepositAddress: d}
		switch d.Scheme {
		case keys.P2WPKH.String(), keys.P2TR.String():
			wa.Assets, wa.URI = receives[keys.P2WPKH], keys.BIP21(d.Address, 0, "Chengdui deposit", "")
		case keys.EVM.String():
			wa.Assets, wa.URI = receives[keys.EVM], "ethereum:"+d.Address
		}
		if wa.Assets == nil {
			wa.Assets = []string{}
		}
		w.Addresses = append(w.Addresses, wa)
	}
	return w, nil
}
