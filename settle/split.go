package settle

import (
	"math/big"

	"chengdui"
)

// Divide splits amount into shares by basis points (which sum to
// TotalBps): each share is amount × bps / 10000 rounded down, and what
// rounding leaves (less than one smallest unit per share) goes to the
// share at index rest. The shares always sum to amount exactly.
func Divide(amount chengdui.Amount, bps []uint32, rest int) []chengdui.Amount {
	out := make([]chengdui.Amount, len(bps))
	if len(bps) == 0 {
		return out
	}
	total := amount.Big()
	left := new(big.Int).Set(total)
	for i, b := range bps {
		share := new(big.Int).Mul(total, big.NewInt(int64(b)))
		share.Quo(share, big.NewInt(TotalBps))
		out[i] = amountOf(share)
		left.Sub(left, share)
	}
	if rest < 0 || rest >= len(bps) {
		rest = 0
	}
	out[rest] = amountOf(new(big.Int).Add(out[rest].Big(), left))
	return out
}

// restIndex is the share that takes Divide's remainder: the split in the
// base asset (the one not converted) if there is one, else the largest
// (the first of equals).
func restIndex(splits []chengdui.SettlementSplit, base string) int {
	best := 0
	for i, s := range splits {
		if s.Asset == base {
			return i
		}
		if s.Bps > splits[best].Bps {
			best = i
		}
	}
	return best
}

// ConvertShare converts value (smallest units of an asset with fromDec
// decimals) at rate (units of the target per whole unit of the source)
// into the target's smallest units (toDec decimals), rounded up: in the
// platform's disfavour, by less than one smallest unit.
// It reports false when the result does not fit 128 bits.
func ConvertShare(value chengdui.Amount, fromDec uint8, rate *big.Rat, toDec uint8) (chengdui.Amount, bool) {
	r := new(big.Rat).Mul(new(big.Rat).SetInt(value.Big()), rate)
	r.Mul(r, new(big.Rat).SetFrac(pow10(toDec), pow10(fromDec)))
	if r.Sign() > 0 && new(big.Int).Quo(r.Num(), r.Denom()).BitLen() >= 128 {
		return chengdui.Amount{}, false
	}
	return ceilRat(r), true
}

func amountOf(b *big.Int) chengdui.Amount {
	if b.Sign() <= 0 {
		return chengdui.Amount{}
	}
	return ceilRat(new(big.Rat).SetInt(b))
}
