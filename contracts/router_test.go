package contracts_test

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"

	"chengdui/contracts"
	"chengdui/evm"
)

func TestPayETH(t *testing.T) {
	f := newFixture(t)
	amount, fee := ether(3), big.NewInt(1_500_000_000_000_000) // 3 ETH and 0.0015 ETH
	in := f.intent(t, 1, common.Address{}, amount, fee)
	payerBefore := f.ethBalance(t, f.payer.Address)

	r, err := f.pay(t, f.payer, in, f.sign(t, in), sum(amount, fee))
	require.NoError(t, err)
	t.Logf("gas used by an ETH payment with a fee: %d", r.GasUsed)
	require.LessOrEqual(t, r.GasUsed, uint64(maxGasETH))

	require.Equal(t, amount.String(), f.ethBalance(t, f.recipient).String())
	require.Equal(t, fee.String(), f.ethBalance(t, f.feeRecipient).String())
	require.Zero(t, f.ethBalance(t, f.routerAddr).Sign(), "the router keeps nothing")
	spent := new(big.Int).Sub(payerBefore, f.ethBalance(t, f.payer.Address))
	require.Equal(t, sum(sum(amount, fee), gasCost(r)).String(), spent.String(), "payer pays amount + fee + gas")
	require.True(t, f.isPaid(t, in.ID))

	// The Paid event.
	require.Len(t, r.Logs, 1)
	ev, err := f.router.ParsePaid(*r.Logs[0])
	require.NoError(t, err)
	require.Equal(t, in.ID, ev.Id)
	require.Equal(t, f.payer.Address, ev.Payer)
	require.Equal(t, common.Address{}, ev.Token)
	require.Equal(t, amount.String(), ev.Amount.String())
	require.Equal(t, fee.String(), ev.Fee.String())
	require.Equal(t, f.recipient, ev.Recipient)

	// Recipients that hold ether already cost less to pay.
	in = f.intent(t, 2, common.Address{}, amount, fee)
	r, err = f.pay(t, f.payer, in, f.sign(t, in), sum(amount, fee))
	require.NoError(t, err)
	t.Logf("gas used by an ETH payment with a fee, to funded recipients: %d", r.GasUsed)
	require.LessOrEqual(t, r.GasUsed, uint64(maxGasETHFunded))

	// Without a fee the fee recipient may be left out.
	in = f.intent(t, 3, common.Address{}, ether(1), new(big.Int))
	in.FeeRecipient = common.Address{}
	r, err = f.pay(t, f.payer, in, f.sign(t, in), ether(1))
	require.NoError(t, err)
	t.Logf("gas used by an ETH payment without a fee, to a funded recipient: %d", r.GasUsed)
	require.Equal(t, sum(sum(amount, amount), ether(1)).String(), f.ethBalance(t, f.recipient).String())
	require.Equal(t, sum(fee, fee).String(), f.ethBalance(t, f.feeRecipient).String())
}

func TestPayToken(t *testing.T) {
	tests := []struct {
		name   string
		deploy func(f *fixture, supply *big.Int) token
		amount *big.Int
		fee    *big.Int
	}{
		{"6 decimals (USDC stand-in)", func(f *fixture, s *big.Int) token { return f.testToken(t, "USDC", 6, s) }, units(125, 6), big.NewInt(375_000)},
		{"18 decimals", func(f *fixture, s *big.Int) token { return f.testToken(t, "DAI", 18, s) }, units(125, 18), units(1, 17)},
		{"no return value (USDT-like)", func(f *fixture, s *big.Int) token { return f.noReturnToken(t, s) }, units(125, 6), big.NewInt(375_000)},
		{"no fee", func(f *fixture, s *big.Int) token { return f.testToken(t, "USDC", 6, s) }, units(40, 6), new(big.Int)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			supply := units(1_000, 18)
			tok := tt.deploy(f, supply)
			in := f.intent(t, 7, tok.addr, tt.amount, tt.fee)
			payerETH := f.ethBalance(t, f.payer.Address)

			r, err := f.pay(t, f.payer, in, f.sign(t, in), nil)
			require.NoError(t, err)
			t.Logf("gas used by an ERC-20 payment (%s): %d", tt.name, r.GasUsed)
			require.LessOrEqual(t, r.GasUsed, uint64(maxGasToken))

			require.Equal(t, tt.amount.String(), tok.balance(t, f.recipient).String())
			require.Equal(t, tt.fee.String(), tok.balance(t, f.feeRecipient).String())
			require.Equal(t, new(big.Int).Sub(supply, sum(tt.amount, tt.fee)).String(), tok.balance(t, f.payer.Address).String())
			require.Zero(t, tok.balance(t, f.routerAddr).Sign(), "the router keeps nothing")
			require.Zero(t, f.ethBalance(t, f.routerAddr).Sign())
			spent := new(big.Int).Sub(payerETH, f.ethBalance(t, f.payer.Address))
			require.Equal(t, gasCost(r).String(), spent.String(), "payer spends only gas in ether")
			require.True(t, f.isPaid(t, in.ID))

			// Transfer, Transfer (when there is a fee), Paid.
			ev, err := f.router.ParsePaid(*r.Logs[len(r.Logs)-1])
			require.NoError(t, err)
			require.Equal(t, tok.addr, ev.Token)
			require.Equal(t, f.payer.Address, ev.Payer)

			// Recipients that hold the token already cost less to pay.
			in = f.intent(t, 8, tok.addr, tt.amount, tt.fee)
			r, err = f.pay(t, f.payer, in, f.sign(t, in), nil)
			require.NoError(t, err)
			t.Logf("gas used by an ERC-20 payment (%s), to funded recipients: %d", tt.name, r.GasUsed)
			require.LessOrEqual(t, r.GasUsed, uint64(maxGasTokenFunded))
			require.Equal(t, new(big.Int).Mul(tt.amount, big.NewInt(2)).String(), tok.balance(t, f.recipient).String())
		})
	}
}

// TestPayOneRecipientForBoth: the shortfall check measures each transfer on
// its own, so a recipient that also takes the fee is paid, not refused.
func TestPayOneRecipientForBoth(t *testing.T) {
	f := newFixture(t)
	tok := f.testToken(t, "USDC", 6, units(1_000, 6))
	in := f.intent(t, 1, tok.addr, units(10, 6), units(1, 6))
	in.FeeRecipient = in.Recipient
	_, err := f.pay(t, f.payer, in, f.sign(t, in), nil)
	require.NoError(t, err)
	require.Equal(t, units(11, 6).String(), tok.balance(t, f.recipient).String())

	in = f.intent(t, 2, common.Address{}, ether(1), ether(1))
	in.FeeRecipient = in.Recipient
	_, err = f.pay(t, f.payer, in, f.sign(t, in), ether(2))
	require.NoError(t, err)
	require.Equal(t, ether(2).String(), f.ethBalance(t, f.recipient).String())
}

func TestPayRefused(t *testing.T) {
	f := newFixture(t)
	usdc := f.testToken(t, "USDC", 6, units(1_000, 6))
	taxed := f.feeToken(t, units(1_000, 18))
	noAllowance, tx, _, err := contracts.DeployTestToken(f.opts(t, f.owner, nil), f.chain, "Unapproved", "NOA", 18)
	f.mine(t)(tx, err)
	// Approved but never minted to the payer.
	unfunded, tx, unfundedToken, err := contracts.DeployTestToken(f.opts(t, f.owner, nil), f.chain, "Unfunded", "NIL", 18)
	f.mine(t)(tx, err)
	f.mine(t)(unfundedToken.Approve(f.opts(t, f.payer, nil), f.routerAddr, units(1, 30)))

	// A paid intent, to pay again.
	paid := f.intent(t, 200, common.Address{}, ether(1), new(big.Int))
	_, err = f.pay(t, f.payer, paid, f.sign(t, paid), ether(1))
	require.NoError(t, err)

	// A second router, to present its signature to the first.
	otherRouter, hash, err := contracts.DeployRouter(ctx(t), f.chain, f.owner, f.owner.Address, f.operator.Address)
	require.NoError(t, err)
	f.sim.Commit()
	f.receipt(t, hash)

	head, err := f.chain.HeaderByNumber(ctx(t), nil)
	require.NoError(t, err)

	eth := func(id byte) contracts.Intent { return f.intent(t, id, common.Address{}, ether(2), ether(1)) }
	signWith := func(account evm.Account, chainID *big.Int, router common.Address, in contracts.Intent) []byte {
		sig, err := contracts.SignIntent(f.signer, account.Path, chainID, router, in)
		require.NoError(t, err)
		return sig
	}
	// raw signs without SignIntent's checks, for intents it refuses.
	raw := func(in contracts.Intent) []byte {
		d := contracts.IntentDigest(f.chainID, f.routerAddr, in)
		sig, err := f.signer.SignDigest(f.operator.Path, d[:])
		require.NoError(t, err)
		sig[64] += 27
		return sig
	}

	type payment struct {
		in    contracts.Intent
		sig   []byte
		value *big.Int
	}
	tests := []struct {
		name   string
		make   func() payment
		revert string
	}{
		{"signed by another key", func() payment {
			in := eth(1)
			return payment{in, signWith(f.other, f.chainID, f.routerAddr, in), ether(3)}
		}, "InvalidSignature"},
		{"amount changed after signing", func() payment {
			in := eth(2)
			sig := f.sign(t, in)
			in.Amount = ether(1)
			return payment{in, sig, ether(2)}
		}, "InvalidSignature"},
		{"recipient changed after signing", func() payment {
			in := eth(3)
			sig := f.sign(t, in)
			in.Recipient = f.other.Address
			return payment{in, sig, ether(3)}
		}, "InvalidSignature"},
		{"deadline changed after signing", func() payment {
			in := eth(4)
			sig := f.sign(t, in)
			in.Deadline = new(big.Int).Add(in.Deadline, big.NewInt(1))
			return payment{in, sig, ether(3)}
		}, "InvalidSignature"},
		{"signed for another chain", func() payment {
			in := eth(5)
			return payment{in, signWith(f.operator, big.NewInt(1), f.routerAddr, in), ether(3)}
		}, "InvalidSignature"},
		{"signed for another router", func() payment {
			in := eth(6)
			return payment{in, signWith(f.operator, f.chainID, otherRouter, in), ether(3)}
		}, "InvalidSignature"},
		{"high s (malleated twin)", func() payment {
			in := eth(7)
			return payment{in, malleate(f.sign(t, in)), ether(3)}
		}, "InvalidSignature"},
		{"v 0 or 1", func() payment {
			in := eth(8)
			sig := f.sign(t, in)
			sig[64] -= 27
			return payment{in, sig, ether(3)}
		}, "InvalidSignature"},
		{"64-byte signature", func() payment {
			in := eth(9)
			return payment{in, f.sign(t, in)[:64], ether(3)}
		}, "InvalidSignature"},
		{"garbage signature", func() payment {
			in := eth(10)
			sig := make([]byte, 65)
			sig[64] = 27
			return payment{in, sig, ether(3)}
		}, "InvalidSignature"},
		{"expired", func() payment {
			in := eth(11)
			in.Deadline = new(big.Int).SetUint64(head.Time - 1)
			return payment{in, f.sign(t, in), ether(3)}
		}, "Expired"},
		{"paid before", func() payment {
			return payment{paid, f.sign(t, paid), ether(1)}
		}, "AlreadyPaid"},
		{"too little ether", func() payment {
			in := eth(12)
			return payment{in, f.sign(t, in), new(big.Int).Sub(ether(3), big.NewInt(1))}
		}, "WrongValue"},
		{"too much ether", func() payment {
			in := eth(13)
			return payment{in, f.sign(t, in), sum(ether(3), big.NewInt(1))}
		}, "WrongValue"},
		{"no ether", func() payment {
			in := eth(14)
			return payment{in, f.sign(t, in), nil}
		}, "WrongValue"},
		{"ether with a token payment", func() payment {
			in := f.intent(t, 15, usdc.addr, units(10, 6), units(1, 6))
			return payment{in, f.sign(t, in), big.NewInt(1)}
		}, "WrongValue"},
		{"fee-on-transfer token", func() payment {
			in := f.intent(t, 16, taxed.addr, units(10, 18), units(1, 18))
			return payment{in, f.sign(t, in), nil}
		}, "TransferShortfall"},
		{"token without allowance", func() payment {
			in := f.intent(t, 17, noAllowance, units(10, 18), new(big.Int))
			return payment{in, f.sign(t, in), nil}
		}, "InsufficientAllowance"}, // the token's own error, passed on
		{"fee beyond the allowance", func() payment {
			in := f.intent(t, 18, usdc.addr, units(999, 6), units(2, 6))
			return payment{in, f.sign(t, in), nil}
		}, "InsufficientAllowance"},
		{"more tokens than the payer holds", func() payment {
			in := f.intent(t, 22, unfunded, units(10, 18), new(big.Int))
			return payment{in, f.sign(t, in), nil}
		}, "InsufficientBalance"},
		{"token without code", func() payment {
			in := f.intent(t, 19, f.other.Address, units(10, 18), new(big.Int))
			return payment{in, f.sign(t, in), nil}
		}, "NotAContract"},
		{"no recipient", func() payment {
			in := eth(20)
			in.Recipient = common.Address{}
			return payment{in, raw(in), ether(3)}
		}, "ZeroAddress"},
		{"fee without a fee recipient", func() payment {
			in := eth(21)
			in.FeeRecipient = common.Address{}
			return payment{in, raw(in), ether(3)}
		}, "ZeroAddress"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.make()
			_, err := f.pay(t, f.payer, p.in, p.sig, p.value)
			r := requireRevert(t, err, tt.revert)
			t.Logf("%s%v", r.Name, r.Args)
			if p.in.ID != paid.ID {
				require.False(t, f.isPaid(t, p.in.ID))
			}
		})
	}

	t.Run("error arguments", func(t *testing.T) {
		in := f.intent(t, 30, taxed.addr, units(100, 18), new(big.Int))
		_, err := f.pay(t, f.payer, in, f.sign(t, in), nil)
		r := requireRevert(t, err, "TransferShortfall")
		require.Equal(t, []any{taxed.addr, f.recipient, units(100, 18), units(99, 18)}, r.Args)

		in = eth(31)
		_, err = f.pay(t, f.payer, in, f.sign(t, in), ether(1))
		r = requireRevert(t, err, "WrongValue")
		require.Equal(t, []any{ether(3), ether(1)}, r.Args)

		_, err = f.pay(t, f.payer, paid, f.sign(t, paid), ether(1))
		r = requireRevert(t, err, "AlreadyPaid")
		require.Equal(t, []any{paid.ID}, r.Args)
	})

	// Nothing moved: only the first payment reached the recipient.
	require.Equal(t, ether(1).String(), f.ethBalance(t, f.recipient).String())
	require.Zero(t, usdc.balance(t, f.recipient).Sign())
	require.Zero(t, taxed.balance(t, f.recipient).Sign())
	require.Zero(t, f.ethBalance(t, f.routerAddr).Sign())
}

// malleate returns the other valid signature of the same digest and key:
// s' = n - s with the recovery id flipped.
func malleate(sig []byte) []byte {
	out := append([]byte(nil), sig...)
	s := new(big.Int).SetBytes(out[32:64])
	s.Sub(crypto.S256().Params().N, s)
	s.FillBytes(out[32:64])
	out[64] = 27 + 28 - out[64] // 27 <-> 28
	return out
}

func TestMalleatedTwinRecovers(t *testing.T) {
	// The twin is a valid signature for ecrecover: only the router's s
	// check refuses it.
	f := newFixture(t)
	in := f.intent(t, 1, common.Address{}, ether(1), new(big.Int))
	d := contracts.IntentDigest(f.chainID, f.routerAddr, in)
	twin := malleate(f.sign(t, in))
	twin[64] -= 27
	pub, err := crypto.SigToPub(d[:], twin)
	require.NoError(t, err)
	require.Equal(t, f.operator.Address, crypto.PubkeyToAddress(*pub))
}

// TestRevertMined: a refused payment mined anyway (a fixed gas limit skips
// the estimate) fails and moves nothing.
func TestRevertMined(t *testing.T) {
	f := newFixture(t)
	in := f.intent(t, 1, common.Address{}, ether(2), ether(1))
	sig := f.sign(t, in)
	in.Amount = ether(1) // tampered
	o := f.opts(t, f.payer, ether(2))
	o.GasLimit = 200_000
	tx, err := f.router.Pay(o, in.Binding(), sig)
	require.NoError(t, err)
	f.sim.Commit()
	r, err := f.chain.TransactionReceipt(ctx(t), tx.Hash())
	require.NoError(t, err)
	require.Equal(t, types.ReceiptStatusFailed, r.Status)
	require.Zero(t, f.ethBalance(t, f.recipient).Sign())
	require.Zero(t, f.ethBalance(t, f.routerAddr).Sign())
	require.False(t, f.isPaid(t, in.ID))
}

func TestPause(t *testing.T) {
	f := newFixture(t)
	in := f.intent(t, 1, common.Address{}, ether(1), new(big.Int))
	sig := f.sign(t, in)

	r := f.mine(t)(f.router.Pause(f.opts(t, f.owner, nil)))
	ev, err := f.router.ParsePauseChanged(*r.Logs[0])
	require.NoError(t, err)
	require.True(t, ev.Paused)
	_, err = f.pay(t, f.payer, in, sig, ether(1))
	requireRevert(t, err, "Paused")

	f.mine(t)(f.router.Unpause(f.opts(t, f.owner, nil)))
	_, err = f.pay(t, f.payer, in, sig, ether(1))
	require.NoError(t, err, "the same intent pays once unpaused")
	require.True(t, f.isPaid(t, in.ID))
}

func TestAdmin(t *testing.T) {
	f := newFixture(t)
	call := &bind.CallOpts{Context: ctx(t)}
	stranger := f.opts(t, f.other, nil)

	t.Run("only the owner", func(t *testing.T) {
		for name, send := range map[string]func() (*types.Transaction, error){
			"pause":             func() (*types.Transaction, error) { return f.router.Pause(stranger) },
			"unpause":           func() (*types.Transaction, error) { return f.router.Unpause(stranger) },
			"setSigner":         func() (*types.Transaction, error) { return f.router.SetSigner(stranger, f.other.Address) },
			"transferOwnership": func() (*types.Transaction, error) { return f.router.TransferOwnership(stranger, f.other.Address) },
		} {
			_, err := send()
			requireRevert(t, err, "NotOwner")
			t.Log(name, "refused")
		}
		_, err := f.router.AcceptOwnership(stranger)
		requireRevert(t, err, "NotPendingOwner")
		_, err = f.router.SetSigner(f.opts(t, f.owner, nil), common.Address{})
		requireRevert(t, err, "ZeroAddress")
	})

	t.Run("rotate the signer", func(t *testing.T) {
		old := f.intent(t, 1, common.Address{}, ether(1), new(big.Int))
		oldSig := f.sign(t, old)
		r := f.mine(t)(f.router.SetSigner(f.opts(t, f.owner, nil), f.other.Address))
		ev, err := f.router.ParseSignerChanged(*r.Logs[0])
		require.NoError(t, err)
		require.Equal(t, f.operator.Address, ev.PreviousSigner)
		require.Equal(t, f.other.Address, ev.NewSigner)

		_, err = f.pay(t, f.payer, old, oldSig, ether(1))
		requireRevert(t, err, "InvalidSignature")
		sig, err := contracts.SignIntent(f.signer, f.other.Path, f.chainID, f.routerAddr, old)
		require.NoError(t, err)
		_, err = f.pay(t, f.payer, old, sig, ether(1))
		require.NoError(t, err)
	})

	t.Run("transfer ownership in two steps", func(t *testing.T) {
		f.mine(t)(f.router.TransferOwnership(f.opts(t, f.owner, nil), f.other.Address))
		owner, err := f.router.Owner(call)
		require.NoError(t, err)
		require.Equal(t, f.owner.Address, owner, "not the owner until it accepts")
		pending, err := f.router.PendingOwner(call)
		require.NoError(t, err)
		require.Equal(t, f.other.Address, pending)
		_, err = f.router.AcceptOwnership(f.opts(t, f.payer, nil))
		requireRevert(t, err, "NotPendingOwner")

		r := f.mine(t)(f.router.AcceptOwnership(f.opts(t, f.other, nil)))
		ev, err := f.router.ParseOwnershipTransferred(*r.Logs[0])
		require.NoError(t, err)
		require.Equal(t, f.owner.Address, ev.PreviousOwner)
		require.Equal(t, f.other.Address, ev.NewOwner)
		owner, err = f.router.Owner(call)
		require.NoError(t, err)
		require.Equal(t, f.other.Address, owner)

		_, err = f.router.Pause(f.opts(t, f.owner, nil))
		requireRevert(t, err, "NotOwner")
		f.mine(t)(f.router.Pause(f.opts(t, f.other, nil)))
		paused, err := f.router.Paused(call)
		require.NoError(t, err)
		require.True(t, paused)
	})
}

func TestReentrancy(t *testing.T) {
	f := newFixture(t)
	addr, tx, attacker, err := contracts.DeployReentrantRecipient(f.opts(t, f.owner, nil), f.chain, f.routerAddr)
	f.mine(t)(tx, err)

	// The inner intent is valid on its own: only the guard refuses it.
	router, err := contracts.PaymentRouterMetaData.GetAbi()
	require.NoError(t, err)
	inner := f.intent(t, 2, common.Address{}, new(big.Int), new(big.Int))
	payCall, err := router.Pack("pay", inner.Binding(), f.sign(t, inner))
	require.NoError(t, err)
	f.mine(t)(attacker.Arm(f.opts(t, f.owner, nil), payCall))

	outer := f.intent(t, 1, common.Address{}, ether(1), new(big.Int))
	outer.Recipient = addr
	_, err = f.pay(t, f.payer, outer, f.sign(t, outer), ether(1))
	require.NoError(t, err)

	call := &bind.CallOpts{Context: ctx(t)}
	n, err := attacker.Reentered(call)
	require.NoError(t, err)
	require.Zero(t, n.Sign())
	reason, err := attacker.LastRevert(call)
	require.NoError(t, err)
	id := router.Errors["Reentrancy"].ID
	require.Equal(t, id[:4], reason)
	require.True(t, f.isPaid(t, outer.ID))
	require.False(t, f.isPaid(t, inner.ID))
}

func TestDeployRouterRefused(t *testing.T) {
	f := newFixture(t)
	_, _, err := contracts.DeployRouter(ctx(t), f.chain, f.owner, common.Address{}, f.operator.Address)
	require.Error(t, err)
	_, _, err = contracts.DeployRouter(ctx(t), f.chain, f.owner, f.owner.Address, common.Address{})
	require.Error(t, err)

	// The constructor refuses too.
	_, _, _, err = contracts.DeployPaymentRouter(f.opts(t, f.owner, nil), f.chain, common.Address{}, f.operator.Address)
	requireRevert(t, err, "ZeroAddress")

	// Options sign for their own account only.
	o := f.opts(t, f.owner, nil)
	o.From = f.other.Address
	_, err = f.router.Pause(o)
	require.Error(t, err)
}
