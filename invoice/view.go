package invoice

import (
	"context"
	"fmt"
	"math/big"

	"chengdui"
	"chengdui/keys"

	"lukechampine.com/uint128"
)

// MethodView is a payment method as a payer or a merchant sees it now.
type MethodView struct {
	Method
	Quote Quote
	// Paid is what was paid through this method (valid payments), in the
	// asset's smallest unit; TotalPaid all valid payments converted to
	// this asset; Due what is left to pay in it (zero when paid), Overpaid
	// what was paid beyond the amount.
	Paid, TotalPaid, Due, Overpaid chengdui.Amount
	// Link is a payment URI: BIP21 for bitcoin, EIP-681 for EVM assets.
	Link string
}

// View is an invoice with its payments and what they add up to.
type View struct {
	Invoice
	Payments []Payment
	// Paid is what the valid payments are worth in the invoice currency's
	// smallest unit, at the locked rates, rounded down.
	Paid    chengdui.Amount
	Methods []MethodView
	// Marks are the statuses the merchant may mark it as.
	Marks []Status
}

// View builds the view of an invoice.
func (s *Service) View(ctx context.Context, inv Invoice) (View, error) {
	pays, err := s.cfg.Store.Payments(ctx, inv.ID)
	if err != nil {
		return View{}, err
	}
	return NewView(inv, pays), nil
}

// NewView computes a view.
func NewView(inv Invoice, pays []Payment) View {
	v := View{Invoice: inv, Payments: pays, Marks: AvailableMarks(inv)}
	all, _ := coverage(inv, pays)
	if inv.TopUp {
		sum := new(big.Rat)
		for _, p := range pays {
			if p.Status != PaymentInvalid {
				sum.Add(sum, valueOf(inv, p))
			}
		}
		v.Paid = floor(sum)
	} else {
		v.Paid = floor(new(big.Rat).Mul(all, new(big.Rat).SetInt(inv.Amount.Big())))
	}
	for _, m := range inv.Methods {
		mv := MethodView{Method: m}
		if q, ok := inv.Quote(m.Asset); ok {
			mv.Quote = q
			for _, p := range pays {
				if p.Method == m.ID && p.Status != PaymentInvalid {
					mv.Paid, _ = chengdui.AddAmounts(mv.Paid, p.Amount)
				}
			}
			due := new(big.Rat).SetInt(q.Due.Big())
			mv.TotalPaid = floor(new(big.Rat).Mul(all, due))
			if inv.TopUp {
				mv.TotalPaid = mv.Paid
			}
			mv.Due, _ = Remaining(inv, pays, m.Asset)
			if inv.TopUp {
				mv.Due = chengdui.Amount{}
			}
			if d, ok := chengdui.SubAmounts(mv.TotalPaid, q.Due); ok && !inv.TopUp {
				mv.Overpaid = d
			}
			mv.Link = link(m, mv.Due)
		}
		v.Methods = append(v.Methods, mv)
	}
	return v
}

// valueOf is what a payment is worth in the invoice currency's smallest
// unit at its asset's locked rate.
func valueOf(inv Invoice, p Payment) *big.Rat {
	q, ok := inv.Quote(p.Asset)
	if !ok {
		return new(big.Rat)
	}
	rate, ok := new(big.Rat).SetString(q.Rate)
	if !ok {
		return new(big.Rat)
	}
	v := new(big.Rat).SetInt(p.Amount.Big())
	v.Mul(v, rate)
	v.Mul(v, new(big.Rat).SetInt(pow10(inv.Decimals)))
	return v.Quo(v, new(big.Rat).SetInt(pow10(q.Decimals)))
}

func pow10(n uint8) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

func floor(r *big.Rat) chengdui.Amount {
	if r.Sign() <= 0 {
		return chengdui.Amount{}
	}
	n := new(big.Int).Quo(r.Num(), r.Denom())
	if n.BitLen() > 128 {
		return chengdui.Amount{Lo: ^uint64(0), Hi: ^uint64(0)}
	}
	return uint128.FromBig(n)
}

// link builds a method's payment URI for the amount left to pay.
func link(m Method, due chengdui.Amount) string {
	switch {
	case m.Destination == "":
		return ""
	case m.Scheme == keys.EVM.String() && m.Token != "":
		return fmt.Sprintf("ethereum:%s@%d/transfer?address=%s&uint256=%s", m.Token, m.ChainID, m.Destination, due.String())
	case m.Scheme == keys.EVM.String():
		return fmt.Sprintf("ethereum:%s@%d?value=%s", m.Destination, m.ChainID, due.String())
	default:
		sat := int64(0)
		if due.Hi == 0 && due.Lo < 1<<62 {
			sat = int64(due.Lo)
		}
		return keys.BIP21(m.Destination, sat, "", "")
	}
}
