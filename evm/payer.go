package evm

import (
	"context"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"lukechampine.com/uint128"

	"chengdui"
	"chengdui/keys"
	"chengdui/withdraw"
)

// sendPrefix marks the Sender ids of withdrawals.
const sendPrefix = "wd:"

// PayerConfig configures a Payer.
type PayerConfig struct {
	Chain       string                    // e.g. evm:1337, the Sender's
	NativeAsset string                    // e.g. ETH
	Tokens      map[string]common.Address // ERC-20 asset code → token contract
	Sender      *Sender
	Hot         Account // the hot wallet that pays
	Withdrawals *withdraw.Service
}

// Payer pays withdrawals on an EVM chain from the hot wallet, one
// transaction each, through the Sender (which makes them durable before
// broadcast, manages nonces and replaces stuck transactions). It
// implements withdraw.Payer; its OnFinal completes or fails the withdrawal
// when the Sender reports the transaction final.
type Payer struct {
	cfg PayerConfig
}

var _ withdraw.Payer = (*Payer)(nil)

// NewPayer returns a Payer. Give the Sender OnFinal: p.OnFinal.
func NewPayer(cfg PayerConfig) *Payer { return &Payer{cfg: cfg} }

// Chain implements withdraw.Payer.
func (p *Payer) Chain() string { return p.cfg.Chain }

// NativeAsset implements withdraw.Payer.
func (p *Payer) NativeAsset() string { return p.cfg.NativeAsset }

// Pays implements withdraw.Payer.
func (p *Payer) Pays(asset string) bool {
	_, ok := p.cfg.Tokens[asset]
	return ok || asset == p.cfg.NativeAsset
}

// CheckAddress implements withdraw.Payer: the EIP-55 form of an EVM
// address.
func (p *Payer) CheckAddress(to string) (string, error) {
	a, err := keys.ParseEVMAddress(to)
	if err != nil {
		return "", err
	}
	if a == (common.Address{}) {
		return "", chengdui.Errorf(chengdui.EInvalid, "the zero address burns what it receives; give a real address")
	}
	return a.Hex(), nil
}

// CheckAmount implements withdraw.Payer; EVM chains have no dust limit.
func (p *Payer) CheckAmount(string, chengdui.Amount) error { return nil }

// Submit implements withdraw.Payer: it sends the withdrawal through the
// Sender (idempotent by id) and marks it sent.
func (p *Payer) Submit(ctx context.Context, w withdraw.Withdrawal) error {
	to := common.HexToAddress(w.To)
	req := SendRequest{ID: sendPrefix + w.ID, From: p.cfg.Hot, To: to, Value: w.Amount.Big(), Asset: w.Asset}
	if w.Asset != p.cfg.NativeAsset {
		token, ok := p.cfg.Tokens[w.Asset]
		if !ok {
			return chengdui.Errorf(chengdui.EInvalid, "chain %s has no token %s", p.cfg.Chain, w.Asset)
		}
		req.To, req.Value, req.Data = token, new(big.Int), TransferData(to, w.Amount.Big())
	}
	tx, err := p.cfg.Sender.Send(ctx, req)
	if err != nil {
		return err
	}
	return p.cfg.Withdrawals.MarkSent(ctx, w.ID, tx.Hash.Hex())
}

// OnFinal is the Sender's hook: a mined withdrawal completes with its gas
// fee booked; a failed one (reverted, dropped) is voided.
func (p *Payer) OnFinal(ctx context.Context, tx OutTx) error {
	id, ok := strings.CutPrefix(tx.ID, sendPrefix)
	if !ok {
		return nil // a sweep or top-up: not a withdrawal
	}
	if tx.Status != SendMined {
		return p.cfg.Withdrawals.Fail(ctx, id, "transaction failed: "+tx.Error)
	}
	fee := chengdui.Amount{}
	if tx.Fee != nil {
		fee = uint128.FromBig(tx.Fee)
	}
	return p.cfg.Withdrawals.Complete(ctx, id, tx.Hash.Hex(), fee)
}
