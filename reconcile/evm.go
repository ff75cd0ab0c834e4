package reconcile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"lukechampine.com/uint128"

	"chengdui"
	"chengdui/deposit"
	"chengdui/evm"
	"chengdui/withdraw"
)

// Address is one of the platform's addresses on an EVM chain, with its
// role: hot, deposit, invoice or cold.
type Address struct {
	Address common.Address
	Role    string
}

// EVM is an EVM chain the platform holds its native coin and tokens on.
type EVM struct {
	Chain       string // e.g. evm:1337, as the watcher's
	Client      evm.Chain
	NativeAsset string
	Tokens      map[string]common.Address // asset → contract
	// Addresses lists every address of the platform on the chain: the
	// hot wallet, users' and invoices' deposit addresses (they hold what
	// is not swept yet), cold addresses.
	Addresses func(ctx context.Context) ([]Address, error)
	Deposits  deposit.Store
	// Sends, if set, are the Sender's transactions: those mined but not
	// final have moved money the ledger does not show yet.
	Sends evm.SendStore
	// Withdrawals, if set, name what a mined transaction paid out: the
	// withdrawals sent in it (a BatchPayer call pays many). Without them,
	// or for a transaction no withdrawal names, its plain value or ERC-20
	// transfer to an outside address is what it paid.
	Withdrawals withdraw.Store
}

// normTx is the form transaction ids are compared in.
func normTx(txid string) string { return strings.ToLower(txid) }

var (
	selectorTransfer  = []byte{0xa9, 0x05, 0x9c, 0xbb} // transfer(address,uint256)
	selectorBalanceOf = []byte{0x70, 0xa0, 0x82, 0x31} // balanceOf(address)
)

// DecodeTransfer reads the calldata of an ERC-20 transfer(to, amount);
// ok is false for any other calldata.
func DecodeTransfer(data []byte) (to common.Address, amount *big.Int, ok bool) {
	if len(data) != 4+32+32 || !bytes.Equal(data[:4], selectorTransfer) {
		return common.Address{}, nil, false
	}
	if !bytes.Equal(data[4:16], make([]byte, 12)) {
		return common.Address{}, nil, false
	}
	return common.BytesToAddress(data[16:36]), new(big.Int).SetBytes(data[36:68]), true
}

// evm reconciles a chain's native asset and each token.
func (r *runner) evm(ctx context.Context, e EVM) ([]Asset, error) {
	head, err := e.Client.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, evm.FormatError(err)
	}
	at := head.Number
	tip := at.Uint64()
	addrs, err := e.Addresses(ctx)
	if err != nil {
		return nil, err
	}
	platform := map[common.Address]bool{}
	var uniq []Address
	for _, a := range addrs {
		if !platform[a.Address] {
			platform[a.Address] = true
			uniq = append(uniq, a)
		}
	}
	r.progress("  %d address(es) at block %d", len(uniq), tip)

	assets := []string{e.NativeAsset}
	tokenAsset := map[common.Address]string{}
	for asset, c := range e.Tokens {
		assets = append(assets, asset)
		tokenAsset[c] = asset
	}
	sort.Strings(assets[1:])
	reps := map[string]*Asset{}
	for _, asset := range assets {
		a := &Asset{Asset: asset, Source: e.Chain, Account: deposit.ChainAccount(asset), Actual: new(big.Int)}
		if a.Ledger, err = r.chainSide(ctx, asset); err != nil {
			return nil, err
		}
		reps[asset] = a
	}

	for i, ad := range uniq {
		if i > 0 && i%200 == 0 {
			r.progress("  read %d of %d addresses", i, len(uniq))
		}
		wei, err := e.Client.BalanceAt(ctx, ad.Address, at)
		if err != nil {
			return nil, evm.FormatError(err)
		}
		addHolding(reps[e.NativeAsset], ad, wei)
		for _, asset := range assets[1:] {
			bal, err := tokenBalance(ctx, e.Client, e.Tokens[asset], ad.Address, at)
			if err != nil {
				return nil, fmt.Errorf("%s balance of %s: %w", asset, ad.Address.Hex(), err)
			}
			addHolding(reps[asset], ad, bal)
		}
	}

	// Payments on the chain at the head that are not credited, and those
	// nobody's.
	unsettled, err := e.Deposits.Unsettled(ctx, e.Chain)
	if err != nil {
		return nil, err
	}
	for _, d := range unsettled {
		a := reps[d.Asset]
		if a == nil || d.Status != deposit.Seen || d.Height == 0 || d.Height > tip {
			continue
		}
		a.Explained = append(a.Explained, Item{Kind: DepositNotCredited, Ref: d.Key.String(), TxID: d.TxID, Effect: d.Amount.Big(),
			Detail: fmt.Sprintf("to %s, %s, not credited yet", d.Address, confirmations(d, tip))})
	}
	unexpected, err := e.Deposits.Deposits(ctx, deposit.Filter{Chain: e.Chain, Status: deposit.Unexpected, Limit: maxList})
	if err != nil {
		return nil, err
	}
	for _, d := range unexpected {
		a := reps[d.Asset]
		if a == nil || d.Height == 0 || d.Height > tip {
			continue
		}
		a.Unexplained = append(a.Unexplained, Item{Kind: UnexpectedDeposit, Ref: d.Key.String(), TxID: d.TxID, Effect: d.Amount.Big(),
			Detail: "to " + d.Address + ", which resolves to no account: recorded, never credited"})
	}

	// The platform's own transactions mined by the head whose end is not
	// booked yet: what they sent out, and their gas.
	if e.Sends != nil {
		sends, err := e.Sends.UnfinishedSends(ctx, e.Chain)
		if err != nil {
			return nil, err
		}
		booked, err := r.bookedFees(ctx, e.NativeAsset)
		if err != nil {
			return nil, err
		}
		// The withdrawals sent, by their send's id and by transaction hash.
		sentByID, sentByHash := map[string][]withdraw.Withdrawal{}, map[string][]withdraw.Withdrawal{}
		if e.Withdrawals != nil {
			ws, err := e.Withdrawals.Withdrawals(ctx, withdraw.Filter{Chain: e.Chain, Status: withdraw.Sent, Limit: maxList})
			if err != nil {
				return nil, err
			}
			for _, w := range ws {
				sentByID["wd:"+w.ID] = append(sentByID["wd:"+w.ID], w)
				if w.TxID != "" {
					sentByHash[normTx(w.TxID)] = append(sentByHash[normTx(w.TxID)], w)
				}
			}
		}
		for _, tx := range sends {
			rc, err := minedReceipt(ctx, e.Client, tx, tip)
			if err != nil {
				return nil, err
			}
			if rc == nil {
				continue
			}
			hash := rc.TxHash.Hex()
			price := new(big.Int)
			if rc.EffectiveGasPrice != nil {
				price.Set(rc.EffectiveGasPrice)
			}
			fee := new(big.Int).Mul(new(big.Int).SetUint64(rc.GasUsed), price)
			if unbooked := new(big.Int).Sub(fee, bigOr0(booked[normTx(hash)])); unbooked.Sign() > 0 {
				reps[e.NativeAsset].Explained = append(reps[e.NativeAsset].Explained, Item{Kind: FeeNotBooked, Ref: tx.ID, TxID: hash,
					Effect: neg(unbooked), Detail: fmt.Sprintf("gas of a transaction mined in block %d, not final yet", rc.BlockNumber)})
			}
			if rc.Status != types.ReceiptStatusSuccessful {
				continue
			}
			if ws := sentIn(tx, sentByID, sentByHash); len(ws) > 0 {
				for _, w := range ws {
					if a := reps[w.Asset]; a != nil {
						a.Explained = append(a.Explained, Item{Kind: WithdrawalInFlight, Ref: w.ID, TxID: hash, Effect: neg(w.Amount.Big()),
							Detail: fmt.Sprintf("to %s, mined in block %d, not final yet", w.To, rc.BlockNumber)})
					}
				}
				continue
			}
			asset, to, amount := e.NativeAsset, tx.To, tx.Value
			if t, v, ok := DecodeTransfer(tx.Data); ok && tokenAsset[tx.To] != "" {
				asset, to, amount = tokenAsset[tx.To], t, v
			}
			if platform[to] || amount == nil || amount.Sign() == 0 {
				continue
			}
			reps[asset].Explained = append(reps[asset].Explained, Item{Kind: WithdrawalInFlight, Ref: tx.ID, TxID: hash, Effect: neg(amount),
				Detail: fmt.Sprintf("to %s, mined in block %d, not final yet", to.Hex(), rc.BlockNumber)})
		}
	}
	out := make([]Asset, 0, len(assets))
	for _, asset := range assets {
		out = append(out, *reps[asset])
	}
	return out, nil
}

// sentIn lists the withdrawals a send pays: its own (id wd:<id>) or those
// sent in any of its attempts (a batch), each once.
func sentIn(tx evm.OutTx, byID, byHash map[string][]withdraw.Withdrawal) []withdraw.Withdrawal {
	seen := map[string]bool{}
	var out []withdraw.Withdrawal
	add := func(ws []withdraw.Withdrawal) {
		for _, w := range ws {
			if !seen[w.ID] {
				seen[w.ID] = true
				out = append(out, w)
			}
		}
	}
	add(byID[tx.ID])
	for _, a := range tx.Attempts {
		add(byHash[normTx(a.Hash.Hex())])
	}
	return out
}

// addHolding adds a non-zero balance of an address to a.
func addHolding(a *Asset, ad Address, bal *big.Int) {
	if bal.Sign() == 0 {
		return
	}
	a.Actual.Add(a.Actual, bal)
	var amt chengdui.Amount
	if bal.BitLen() <= 128 {
		amt = uint128.FromBig(new(big.Int).Set(bal)) // FromBig shifts its argument
	}
	a.Holdings = append(a.Holdings, Holding{Role: ad.Role, Where: ad.Address.Hex(), Amount: amt})
}

// tokenBalance is owner's balance of an ERC-20 token at a block.
func tokenBalance(ctx context.Context, c evm.Chain, token, owner common.Address, at *big.Int) (*big.Int, error) {
	data := append(append([]byte{}, selectorBalanceOf...), common.LeftPadBytes(owner.Bytes(), 32)...)
	out, err := c.CallContract(ctx, ethereum.CallMsg{To: &token, Data: data}, at)
	if err != nil {
		return nil, evm.FormatError(err)
	}
	if len(out) != 32 {
		return nil, chengdui.Errorf(chengdui.EInvalid, "%s answers balanceOf with %d bytes, not a uint256: is it an ERC-20 on this chain?", token.Hex(), len(out))
	}
	return new(big.Int).SetBytes(out), nil
}

// minedReceipt is the receipt of the attempt of tx mined at or below
// tip, or nil when none is.
func minedReceipt(ctx context.Context, c evm.Chain, tx evm.OutTx, tip uint64) (*types.Receipt, error) {
	for i := len(tx.Attempts) - 1; i >= 0; i-- {
		rc, err := c.TransactionReceipt(ctx, tx.Attempts[i].Hash)
		if errors.Is(err, ethereum.NotFound) {
			continue
		} else if err != nil {
			return nil, evm.FormatError(err)
		}
		if rc.BlockNumber == nil || rc.BlockNumber.Uint64() > tip {
			return nil, nil
		}
		return rc, nil
	}
	return nil, nil
}
