package evm

import (
	"context"
	"errors"
	"math/big"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"

	"chengdui"
	"chengdui/keys"
)

// ERC-20 function selectors, the first four bytes of the Keccak-256 of
// their signatures.
var (
	selectorTransfer  = []byte{0xa9, 0x05, 0x9c, 0xbb} // transfer(address,uint256)
	selectorBalanceOf = []byte{0x70, 0xa0, 0x82, 0x31} // balanceOf(address)
)

// TransferData is the calldata of an ERC-20 transfer(to, amount).
func TransferData(to common.Address, amount *big.Int) []byte {
	data := make([]byte, 0, 4+32+32)
	data = append(data, selectorTransfer...)
	data = append(data, common.LeftPadBytes(to.Bytes(), 32)...)
	return append(data, common.LeftPadBytes(amount.Bytes(), 32)...)
}

// TokenBalance is owner's balance of the ERC-20 token, in its smallest
// units, at the head.
//
// Errors: EInvalid when token answers no uint256 (not an ERC-20, no
// code), those of FormatError.
func TokenBalance(ctx context.Context, c Chain, token, owner common.Address) (*big.Int, error) {
	data := append(append([]byte{}, selectorBalanceOf...), common.LeftPadBytes(owner.Bytes(), 32)...)
	out, err := c.CallContract(ctx, ethereum.CallMsg{To: &token, Data: data}, nil)
	if err != nil {
		return nil, FormatError(err)
	}
	if len(out) != 32 {
		return nil, chengdui.Errorf(chengdui.EInvalid, "%s answers balanceOf with %d bytes, not a uint256: is it an ERC-20 on this chain?", token.Hex(), len(out))
	}
	return new(big.Int).SetBytes(out), nil
}

// DepositAccount is the deposit address at index of the platform's seed:
// keys.EVM at m/44'/60'/0'/0/index, the key the wallet's xpub derives the
// address from.
//
// Errors: those of NewAccount.
func DepositAccount(s *keys.SeedSigner, index uint32) (Account, error) {
	return NewAccount(s, keys.EVM.Path(keys.Mainnet, 0, 0, index))
}

// SweepToken is an ERC-20 token the Sweeper moves.
type SweepToken struct {
	Asset    string // ledger asset, e.g. USDT-ERC20
	Contract common.Address
	// Threshold is the smallest balance swept, in the token's smallest
	// units; smaller ones wait for more. nil: any positive balance.
	Threshold *big.Int
}

// SweeperConfig configures a Sweeper.
type SweeperConfig struct {
	// Sender sends every sweep, top-up included.
	Sender *Sender
	// Hot is the hot wallet: it receives the sweeps and pays the top-ups.
	Hot Account
	// NativeAsset is the ledger asset of the chain's ether; "" means ETH.
	NativeAsset string
	// Threshold is the least wei an ether sweep must deliver, its fee
	// paid; below it the ether waits for more. nil: any positive amount.
	Threshold *big.Int
	// Tokens are the ERC-20 tokens swept, in this order.
	Tokens []SweepToken
}

// Sweeper moves what deposit addresses received to the hot wallet, one
// step per address and call of Sweep, every step a transaction of the
// Sender:
//
//   - ERC-20: the address sends its whole token balance to the hot wallet.
//     A deposit address holds no ether to pay that transaction's gas, so
//     the hot wallet first tops it up with exactly the gas limit × fee cap
//     the transfer may cost (less what the address holds); the transfer
//     then goes with those fees fixed, at the next Sweep, once the top-up
//     is mined. What the transfer's gas does not use (the fee cap above
//     the base fee, the estimate's margin) stays on the address and pays
//     the next token sweep.
//   - Ether: the address sends its balance less the exact fee, 21,000 gas
//     × the fee cap, fees fixed. The part of the fee cap above the base
//     fee comes back to the address: dust below the threshold, swept with
//     the next deposit.
//
// An address with an unfinished transaction from or to it is skipped, so
// that every step starts from settled balances. A sweep's fees are never
// raised (the address could not pay more): it waits for the base fee to
// come back under its fee cap. IDs are "sweep:<chain>:<address>:<asset>:<n>"
// with n the address's nonce, and for a top-up that id + ":gas:" + the
// address's wei, so two sweepers, or one after a crash, send the same
// transaction once.
//
// Why top-ups rather than CREATE2 forwarders: deposit addresses stay plain
// keys of the platform's seed (keys.EVM at m/44'/60'/0'/0/index), derived
// watch-only from the xpub like every other chain's, recoverable from the
// mnemonic with any wallet, receiving ether and every token alike on every
// EVM chain; there is no factory to deploy and audit per chain and no
// contract code standing between users and their deposits. Forwarders save
// the top-up (a 21,000-gas transfer from the hot wallet) and the dust left
// on the address, and can batch; they cost a deployment per address (a
// minimal proxy, about 45,000 gas, plus the flush call) and bind deposits
// to contract code. Measured on the simulated chain (mainnet's rules,
// Osaka) with the repository's TestToken (6 decimals): an ether sweep
// uses 21,000 gas; a token sweep a 21,000-gas top-up, paid by the hot
// wallet, then a transfer of 46,647 gas when the hot wallet holds none of
// the token yet and 29,535 once it does (the dust of the first top-up
// usually pays that one, no second top-up).
type Sweeper struct {
	cfg SweeperConfig
}

// NewSweeper checks cfg.
//
// Errors: EInvalid for no sender, no hot account, a negative threshold, or
// a token without asset or contract, or listed twice.
func NewSweeper(cfg SweeperConfig) (*Sweeper, error) {
	switch {
	case cfg.Sender == nil:
		return nil, chengdui.Errorf(chengdui.EInvalid, "evm sweeper: no sender")
	case cfg.Hot.Signer == nil || len(cfg.Hot.Path) == 0 || cfg.Hot.Address == (common.Address{}):
		return nil, chengdui.Errorf(chengdui.EInvalid, "evm sweeper: the hot account needs a signer, a path and an address")
	case cfg.Threshold != nil && cfg.Threshold.Sign() < 0:
		return nil, chengdui.Errorf(chengdui.EInvalid, "evm sweeper: the ether threshold is negative")
	}
	if cfg.NativeAsset == "" {
		cfg.NativeAsset = "ETH"
	}
	seen := map[common.Address]bool{}
	for _, t := range cfg.Tokens {
		switch {
		case t.Asset == "" || strings.Contains(t.Asset, ":") || t.Contract == (common.Address{}):
			return nil, chengdui.Errorf(chengdui.EInvalid, "evm sweeper: a token needs an asset without colons and a contract address")
		case t.Threshold != nil && t.Threshold.Sign() < 0:
			return nil, chengdui.Errorf(chengdui.EInvalid, "evm sweeper: the threshold of %s is negative", t.Asset)
		case seen[t.Contract]:
			return nil, chengdui.Errorf(chengdui.EInvalid, "evm sweeper: token %s is listed twice", t.Contract.Hex())
		}
		seen[t.Contract] = true
	}
	cfg.Tokens = append([]SweepToken(nil), cfg.Tokens...)
	return &Sweeper{cfg: cfg}, nil
}

// Sweep takes each address one step (see Sweeper) and returns the
// transactions it sent: none for an address that is busy or holds nothing
// above the thresholds. It goes on past an address it cannot sweep and
// returns the errors joined.
func (s *Sweeper) Sweep(ctx context.Context, addrs ...Account) ([]OutTx, error) {
	unfinished, err := s.cfg.Sender.Unfinished(ctx)
	if err != nil {
		return nil, err
	}
	busy := map[common.Address]bool{}
	for _, tx := range unfinished {
		busy[tx.From], busy[tx.To] = true, true
	}
	var sent []OutTx
	var errs []error
	for _, a := range addrs {
		if busy[a.Address] {
			continue
		}
		if a.Address == s.cfg.Hot.Address {
			errs = append(errs, chengdui.Errorf(chengdui.EInvalid, "evm sweeper: %s is the hot wallet, not a deposit address", a.Address.Hex()))
			continue
		}
		tx, ok, err := s.step(ctx, a)
		if err != nil {
			if ctx.Err() != nil {
				return sent, ctx.Err()
			}
			errs = append(errs, chengdui.Errorf(chengdui.ErrorCode(err), "sweep %s: %s", a.Address.Hex(), message(err)))
			continue
		}
		if ok {
			sent = append(sent, tx)
		}
	}
	return sent, errors.Join(errs...)
}

// step sends the next transaction that sweeping a needs, if any.
func (s *Sweeper) step(ctx context.Context, a Account) (OutTx, bool, error) {
	c := s.cfg.Sender.Client()
	nonce, err := c.NonceAt(ctx, a.Address, nil)
	if err != nil {
		return OutTx{}, false, FormatError(err)
	}
	wei, err := c.BalanceAt(ctx, a.Address, nil)
	if err != nil {
		return OutTx{}, false, FormatError(err)
	}
	for _, t := range s.cfg.Tokens {
		amount, err := TokenBalance(ctx, c, t.Contract, a.Address)
		if err != nil {
			return OutTx{}, false, err
		}
		if !above(amount, t.Threshold) {
			continue
		}
		return s.sweepToken(ctx, a, t, amount, nonce, wei)
	}
	return s.sweepEther(ctx, a, nonce, wei)
}

// sweepToken sends amount of t from a to the hot wallet, or first the
// ether its gas needs.
func (s *Sweeper) sweepToken(ctx context.Context, a Account, t SweepToken, amount *big.Int, nonce uint64, wei *big.Int) (OutTx, bool, error) {
	id := s.id(a, t.Asset, nonce)
	if done, err := s.recorded(ctx, id); done || err != nil {
		return OutTx{}, false, err
	}
	data := TransferData(s.cfg.Hot.Address, amount)
	gas, err := s.cfg.Sender.EstimateGas(ctx, a.Address, t.Contract, new(big.Int), data)
	if err != nil {
		return OutTx{}, false, err
	}
	f, err := s.cfg.Sender.Fees(ctx)
	if err != nil {
		return OutTx{}, false, err
	}
	g := new(big.Int).SetUint64(gas)
	need := new(big.Int).Mul(g, f.FeeCap)
	tip, feeCap := f.TipCap, f.FeeCap
	if wei.Cmp(need) < 0 {
		// What the address holds pays the transfer when it covers the
		// base fee and the tip now: a top-up mined while fees rose a
		// little still does.
		least := new(big.Int).Mul(g, new(big.Int).Add(f.BaseFee, f.TipCap))
		if wei.Cmp(least) < 0 {
			topUpID, err := s.unused(ctx, id+":gas:"+wei.String())
			if err != nil {
				return OutTx{}, false, err
			}
			tx, err := s.cfg.Sender.Send(ctx, SendRequest{
				ID: topUpID, From: s.cfg.Hot, To: a.Address,
				Value: new(big.Int).Sub(need, wei), Asset: s.cfg.NativeAsset,
			})
			return tx, err == nil, err
		}
		feeCap = new(big.Int).Quo(wei, g)
		tip = bigMin(tip, feeCap)
	}
	tx, err := s.cfg.Sender.Send(ctx, SendRequest{
		ID: id, From: a, To: t.Contract, Value: new(big.Int), Data: data, Asset: t.Asset,
		Gas: gas, TipCap: tip, FeeCap: feeCap,
	})
	return tx, err == nil, err
}

// sweepEther sends a's ether less the fee to the hot wallet.
func (s *Sweeper) sweepEther(ctx context.Context, a Account, nonce uint64, wei *big.Int) (OutTx, bool, error) {
	if wei.Sign() == 0 {
		return OutTx{}, false, nil
	}
	id := s.id(a, s.cfg.NativeAsset, nonce)
	if done, err := s.recorded(ctx, id); done || err != nil {
		return OutTx{}, false, err
	}
	// 21,000 to a plain account; more when the hot wallet is a contract.
	gas, err := s.cfg.Sender.EstimateGas(ctx, a.Address, s.cfg.Hot.Address, new(big.Int), nil)
	if err != nil {
		return OutTx{}, false, err
	}
	f, err := s.cfg.Sender.Fees(ctx)
	if err != nil {
		return OutTx{}, false, err
	}
	value := new(big.Int).Sub(wei, new(big.Int).Mul(new(big.Int).SetUint64(gas), f.FeeCap))
	if value.Sign() <= 0 || !above(value, s.cfg.Threshold) {
		return OutTx{}, false, nil
	}
	tx, err := s.cfg.Sender.Send(ctx, SendRequest{
		ID: id, From: a, To: s.cfg.Hot.Address, Value: value, Asset: s.cfg.NativeAsset,
		Gas: gas, TipCap: f.TipCap, FeeCap: f.FeeCap,
	})
	return tx, err == nil, err
}

// id is the send id of a's sweep of asset at nonce.
func (s *Sweeper) id(a Account, asset string, nonce uint64) string {
	return "sweep:" + s.cfg.Sender.Chain() + ":" + a.Address.Hex() + ":" + asset + ":" + new(big.Int).SetUint64(nonce).String()
}

// recorded reports whether the sweep id exists: sent at this nonce
// already, by this sweeper or another, and the chain has not moved on.
func (s *Sweeper) recorded(ctx context.Context, id string) (bool, error) {
	_, err := s.cfg.Sender.Lookup(ctx, id)
	switch chengdui.ErrorCode(err) {
	case "":
		return true, nil
	case chengdui.ENotFound:
		return false, nil
	}
	return false, err
}

// unused is id, or when a top-up with that id failed (the address's wei
// did not change, so none was mined) id + ":2", ":3"….
func (s *Sweeper) unused(ctx context.Context, id string) (string, error) {
	for k := 1; ; k++ {
		try := id
		if k > 1 {
			try += ":" + strconv.Itoa(k)
		}
		done, err := s.recorded(ctx, try)
		if !done || err != nil {
			return try, err
		}
	}
}

// above reports whether x is positive and at least threshold (nil: any).
func above(x, threshold *big.Int) bool {
	return x.Sign() > 0 && (threshold == nil || x.Cmp(threshold) >= 0)
}

func bigMin(a, b *big.Int) *big.Int {
	if a.Cmp(b) <= 0 {
		return new(big.Int).Set(a)
	}
	return new(big.Int).Set(b)
}
