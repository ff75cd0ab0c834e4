package merchant

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"chengdui"
	"chengdui/audit"
	"chengdui/auth"
	"chengdui/ledger"
)

// Config configures the service.
type Config struct {
	// Issuer names the platform in authenticator apps; "Chengdui" by default.
	Issuer string
	Now    func() time.Time
	// Audit records 2FA changes, API keys created and revoked, and refused
	// second factors.
	Audit *audit.Recorder
}

// Service implements chengdui.Merchants.
type Service struct {
	store Store
	guard auth.Guard
	cfg   Config
}

var _ chengdui.Merchants = (*Service)(nil)

// New returns a service over store.
func New(store Store, cfg Config) *Service {
	if cfg.Issuer == "" {
		cfg.Issuer = "Chengdui"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{store: store, guard: auth.Guard{F: store, Now: cfg.Now}, cfg: cfg}
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

// CreateStore implements chengdui.Merchants.
func (s *Service) CreateStore(ctx context.Context, ownerID, name, currency string) (chengdui.Store, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 || !utf8.ValidString(name) {
		return chengdui.Store{}, chengdui.Errorf(chengdui.EInvalid, "store name: 1 to 100 characters")
	}
	if err := ledger.ValidateAsset(chengdui.Asset{Code: currency, Network: "any"}); err != nil {
		return chengdui.Store{}, chengdui.Errorf(chengdui.EInvalid, "default_currency %q: use an asset code such as CNY, USD or USDT-ERC20", currency)
	}
	cur := strings.ToUpper(currency)
	st := chengdui.Store{ID: ledger.NewID(), OwnerID: ownerID, Name: name, DefaultCurrency: cur,
		Settlement: chengdui.StoreSettlement{Mode: "balance", Asset: cur}, CreatedAt: s.now()}
	if err := s.store.CreateStore(ctx, st); err != nil {
		return chengdui.Store{}, err
	}
	return st, nil
}

// Stores implements chengdui.Merchants.
func (s *Service) Stores(ctx context.Context, ownerID string) ([]chengdui.Store, error) {
	return s.store.StoresOf(ctx, ownerID)
}

// owned returns the store if ownerID owns it, else ENotFound.
func (s *Service) owned(ctx context.Context, ownerID, storeID string) (chengdui.Store, error) {
	st, err := s.store.Store(ctx, storeID)
	if err == nil && st.OwnerID != ownerID {
		err = chengdui.Errorf(chengdui.ENotFound, "store %q does not exist", storeID)
	}
	return st, err
}

// CreateAPIKey implements chengdui.Merchants.
func (s *Service) CreateAPIKey(ctx context.Context, ownerID, storeID, label string, permissions []string, otp string) (string, chengdui.APIKey, error) {
	if _, err := s.owned(ctx, ownerID, storeID); err != nil {
		return "", chengdui.APIKey{}, err
	}
	label = strings.TrimSpace(label)
	if utf8.RuneCountInString(label) > 100 || !utf8.ValidString(label) {
		return "", chengdui.APIKey{}, chengdui.Errorf(chengdui.EInvalid, "label: at most 100 characters")
	}
	scopes, err := auth.ParseScopes(permissions)
	if err != nil {
		return "", chengdui.APIKey{}, err
	}
	// The second factor last: a refused request must not burn a code.
	if err := s.guard.Require(ctx, ownerID, otp); err != nil {
		if c := chengdui.ErrorCode(err); c == chengdui.EUnauthorized || c == chengdui.ESecondFactorRequired {
			s.cfg.Audit.Record(ctx, chengdui.AuditSecondFactorNo, ownerID, map[string]string{"action": "create_api_key", "store_id": storeID, "code": c})
		}
		return "", chengdui.APIKey{}, err
	}
	plain, prefix, hash, err := auth.NewAPIKey()
	if err != nil {
		return "", chengdui.APIKey{}, err
	}
	k := chengdui.APIKey{ID: ledger.NewID(), StoreID: storeID, Label: label, Prefix: prefix, Hash: hash,
		Scopes: scopes.Strings(), CreatedAt: s.now()}
	if err := s.store.CreateAPIKey(ctx, k); err != nil {
		return "", chengdui.APIKey{}, err
	}
	s.cfg.Audit.Record(ctx, chengdui.AuditAPIKeyCreated, ownerID, map[string]string{"store_id": storeID, "key_id": k.ID,
		"label": k.Label, "permissions": strings.Join(k.Scopes, " ")})
	return plain, k, nil
}

// APIKeys implements chengdui.Merchants.
func (s *Service) APIKeys(ctx context.Context, ownerID, storeID string) ([]chengdui.APIKey, error) {
	if _, err := s.owned(ctx, ownerID, storeID); err != nil {
		return nil, err
	}
	return s.store.APIKeys(ctx, storeID)
}

// RevokeAPIKey implements chengdui.Merchants.
func (s *Service) RevokeAPIKey(ctx context.Context, ownerID, storeID, keyID string) error {
	if _, err := s.owned(ctx, ownerID, storeID); err != nil {
		return err
	}
	if err := s.store.RevokeAPIKey(ctx, storeID, keyID, s.now()); err != nil {
		return err
	}
	s.cfg.Audit.Record(ctx, chengdui.AuditAPIKeyRevoked, ownerID, map[string]string{"store_id": storeID, "key_id": keyID})
	return nil
}

// AuthenticateAPIKey implements chengdui.Merchants.
func (s *Service) AuthenticateAPIKey(ctx context.Context, authorization string) (chengdui.APIKey, error) {
	refused := chengdui.Errorf(chengdui.EUnauthorized, "missing, malformed, unknown or revoked API key")
	_, credential, err := auth.ParseAuthorization(authorization)
	if err != nil {
		return chengdui.APIKey{}, refused
	}
	prefix, err := auth.ParseAPIKey(credential)
	if err != nil {
		return chengdui.APIKey{}, refused
	}
	k, err := s.store.APIKeyByPrefix(ctx, prefix)
	if chengdui.ErrorCode(err) == chengdui.ENotFound {
		return chengdui.APIKey{}, refused
	} else if err != nil {
		return chengdui.APIKey{}, err
	}
	if !auth.CheckAPIKey(credential, k.Hash) || k.RevokedAt != nil {
		return chengdui.APIKey{}, refused
	}
	// The last use is recorded to the minute: a write per request would
	// serialise every API call on the database's writer.
	now := s.now()
	if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) >= time.Minute || now.Before(*k.LastUsedAt) {
		if err := s.store.TouchAPIKey(ctx, k.ID, now); err != nil {
			return chengdui.APIKey{}, err
		}
		k.LastUsedAt = &now
	}
	return k, nil
}

// EnrollTOTP implements chengdui.Merchants.
func (s *Service) EnrollTOTP(ctx context.Context, u chengdui.User) (chengdui.TOTPEnrolment, error) {
	e, err := auth.NewEnrolment(s.cfg.Issuer, u.Email)
	if err != nil {
		return chengdui.TOTPEnrolment{}, err
	}
	if err := s.store.SaveTOTP(ctx, u.ID, e.Secret); err != nil {
		if chengdui.ErrorCode(err) == chengdui.EConflict {
			return chengdui.TOTPEnrolment{}, chengdui.Errorf(chengdui.EConflict, "two-factor authentication is already enabled")
		}
		return chengdui.TOTPEnrolment{}, err
	}
	s.cfg.Audit.Record(ctx, chengdui.AuditTOTPEnrolled, u.ID, nil)
	return chengdui.TOTPEnrolment{Secret: e.Secret, URL: e.URL, PNG: e.PNG}, nil
}

// ConfirmTOTP implements chengdui.Merchants.
func (s *Service) ConfirmTOTP(ctx context.Context, userID, code string) ([]string, error) {
	secret, _, enabled, err := s.store.TOTPSecret(ctx, userID)
	if chengdui.ErrorCode(err) == chengdui.ENotFound {
		return nil, chengdui.Errorf(chengdui.ENotFound, "no two-factor enrolment to confirm: start one first")
	} else if err != nil {
		return nil, err
	}
	if enabled {
		return nil, chengdui.Errorf(chengdui.EConflict, "two-factor authentication is already enabled")
	}
	step, err := auth.VerifyTOTP(secret, code, s.cfg.Now(), 0)
	if err != nil {
		return nil, err
	}
	plain, hashes, err := auth.NewRecoveryCodes()
	if err != nil {
		return nil, err
	}
	if err := s.store.EnableTOTP(ctx, userID, step, hashes); err != nil {
		return nil, err
	}
	s.cfg.Audit.Record(ctx, chengdui.AuditTOTPEnabled, userID, nil)
	return plain, nil
}
