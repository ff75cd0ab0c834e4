package statement

import (
	"context"
	"encoding/json"

	"chengdui"
	"chengdui/invoice"
)

// Balance is a store's balance of one asset now. Total is the posted
// balance (credits − debits), OnHold what pending debits hold of it (a
// payout on its way), Available what is left: Total − OnHold.
type Balance struct {
	Asset     string
	Decimals  uint8
	Available chengdui.Amount
	OnHold    chengdui.Amount
	Total     chengdui.Amount
}

// Balances reads a store's balances, one per asset it has an account of,
// in asset code order. Codes: EInternal (an account overdrawn: it never
// is), and the Source's.
func Balances(ctx context.Context, src Accounts, storeID string) ([]Balance, error) {
	if storeID == "" {
		return nil, chengdui.Errorf(chengdui.EInvalid, "a store id is required")
	}
	assets, err := sortedAssets(ctx, src)
	if err != nil {
		return nil, err
	}
	out := []Balance{}
	for _, a := range assets {
		id := invoice.StoreAccount(storeID, a.Code)
		acct, ok, err := account(ctx, src, id)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		total, ok1 := chengdui.SubAmounts(acct.CreditsPosted, acct.DebitsPosted)
		avail, ok2 := chengdui.SubAmounts(total, acct.DebitsPending)
		if !ok1 || !ok2 {
			return nil, chengdui.Errorf(chengdui.EInternal, "account %s is overdrawn: credits %s, debits %s posted and %s pending",
				id, acct.CreditsPosted, acct.DebitsPosted, acct.DebitsPending)
		}
		out = append(out, Balance{Asset: a.Code, Decimals: a.Decimals, Available: avail, OnHold: acct.DebitsPending, Total: total})
	}
	return out, nil
}

type balanceJSON struct {
	Asset     string `json:"asset"`
	Decimals  uint8  `json:"decimals"`
	Available Money  `json:"available"`
	OnHold    Money  `json:"on_hold"`
	Total     Money  `json:"total"`
}

// MarshalJSON writes the balance with amounts as Money.
func (b Balance) MarshalJSON() ([]byte, error) {
	return json.Marshal(balanceJSON{Asset: b.Asset, Decimals: b.Decimals,
		Available: NewMoney(b.Available, b.Decimals), OnHold: NewMoney(b.OnHold, b.Decimals), Total: NewMoney(b.Total, b.Decimals)})
}
