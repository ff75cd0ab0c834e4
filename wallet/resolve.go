package wallet

import (
	"context"

	"chengdui"
	"chengdui/deposit"
	"chengdui/keys"
)

var _ deposit.Resolver = (*Service)(nil)

// Resolve implements deposit.Resolver for users' deposit addresses: a
// payment to a user's address credits that user's account for the asset,
// when the asset lives where the address does (a BTC payment to an EVM
// address is nobody's). It repairs the user's wallet first, so an asset
// added after the user registered still has an account to credit.
//
// Errors: ENotFound for an address issued to no one, an unknown asset, or
// an asset of another address scheme.
func (s *Service) Resolve(ctx context.Context, p deposit.Payment) (string, error) {
	addr, err := s.store.DepositAddress(ctx, p.Address)
	if err != nil {
		return "", err
	}
	assets, err := s.assets.Assets(ctx)
	if err != nil {
		return "", err
	}
	for _, a := range assets {
		if a.Code != p.Asset {
			continue
		}
		scheme, ok := schemeFor(a.Network)
		if !ok || scheme.String() != addr.Scheme {
			break
		}
		acct := AccountID(addr.UserID, a.Code)
		// Repair the wallet once per account and process: a block of a
		// thousand deposits must not re-create a thousand wallets.
		if _, ok := s.resolved.Load(acct); !ok {
			if err := s.ensureWallet(ctx, addr.UserID); err != nil {
				return "", err
			}
			s.resolved.Store(acct, true)
		}
		return acct, nil
	}
	return "", chengdui.Errorf(chengdui.ENotFound, "no account receives %s at %s", p.Asset, p.Address)
}

// AddressWatcher returns the watch-only deriver of a scheme's deposit
// addresses, nil when no xpub is configured for it.
func (s *Service) AddressWatcher(scheme keys.Scheme) *keys.Watcher { return s.watchers[scheme] }

// AddressNetwork names where a scheme's deposit addresses are recorded:
// the Bitcoin network (e.g. regtest), or "evm" for EVM addresses.
func (s *Service) AddressNetwork(scheme keys.Scheme) string { return s.addressNetwork(scheme) }
