package http

import (
	"context"
	nethttp "net/http"
	"slices"
	"strings"
	"time"

	"chengdui"
	"chengdui/payout"
	"chengdui/refund"
	"chengdui/statement"
)

// dashboardRows bounds each list of the merchant dashboard.
const dashboardRows = 20

// storeView is one store on the merchant dashboard: what it holds, what it
// was paid (its settlements of the last 30 days), what left it (payouts,
// refunds) and how it is settled.
type storeView struct {
	chengdui.Store
	Balances    []moneyRow
	Settlements []settlementRow
	Payouts     []payoutRow
	Refunds     []refundRow
	Splits      []string // "70.00 % CNY → BANK Teahouse (CN…)"
	Schedule    string
	Pending     string // a destination change waiting, "" if none
}

type moneyRow struct{ Asset, Available, OnHold, Total string }

type settlementRow struct {
	Time, InvoiceID, Paid, Rate, Gross, Fee, Spread, Net string
}

type payoutRow struct{ ID, Time, Amount, Method, To, State, Reason string }

type refundRow struct{ ID, Time, InvoiceID, Amount, State string }

// handleMerchantPage shows the logged-in user's stores: balances,
// settlements, payouts, refunds and settlement profile. Read-only; every
// change goes through the API (second factor included).
func (s *Server) handleMerchantPage(w nethttp.ResponseWriter, r *nethttp.Request) {
	u, ok := s.pageUser(w, r)
	if !ok {
		return
	}
	stores, err := s.cfg.Merchants.Stores(r.Context(), u.ID)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := pageData{Title: "Merchant", TitleZH: "商户", User: &u, CSRF: s.csrf(w, r)}
	for _, st := range stores {
		v, err := s.storeView(r.Context(), u.ID, st)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		d.Stores = append(d.Stores, v)
	}
	s.render(w, r, nethttp.StatusOK, "merchant.html", d)
}

func (s *Server) storeView(ctx context.Context, userID string, st chengdui.Store) (storeView, error) {
	v := storeView{Store: st}
	src := s.statementSource()
	bs, err := statement.Balances(ctx, src, st.ID)
	if err != nil {
		return v, err
	}
	for _, b := range bs {
		f := func(a chengdui.Amount) string { return chengdui.FormatDecimal(a, b.Decimals) }
		v.Balances = append(v.Balances, moneyRow{Asset: b.Asset, Available: f(b.Available), OnHold: f(b.OnHold), Total: f(b.Total)})
	}
	now := s.cfg.Now().UTC()
	stmt, err := statement.Build(ctx, src, st.ID, now.Add(-30*24*time.Hour), now)
	if err != nil {
		return v, err
	}
	ss := stmt.Settlements()
	slices.Reverse(ss)
	for _, x := range ss[:min(len(ss), dashboardRows)] {
		m := func(a chengdui.Amount) string { return chengdui.FormatDecimal(a, x.Decimals) + " " + x.Asset }
		p := x.Payment
		v.Settlements = append(v.Settlements, settlementRow{Time: x.Time.Format(time.DateTime), InvoiceID: p.InvoiceID,
			Paid: chengdui.FormatDecimal(p.Amount, p.Decimals) + " " + p.Asset, Rate: p.Rate, Gross: m(p.Gross), Fee: m(p.Fee), Spread: m(p.Spread), Net: m(p.Net)})
	}
	if s.cfg.Payouts != nil {
		ps, err := s.cfg.Payouts.List(ctx, payout.Filter{StoreID: st.ID, Limit: payout.MaxLimit})
		if err != nil {
			return v, err
		}
		slices.Reverse(ps)
		decimals := s.payoutDecimals(ctx)
		for _, p := range ps[:min(len(ps), dashboardRows)] {
			j := newPayoutJSON(p, decimals)
			to := p.Address
			if p.Method == payout.Bank {
				to = strings.TrimSpace(p.Creditor.Name + " " + p.Creditor.IBAN + p.Creditor.Account)
			}
			v.Payouts = append(v.Payouts, payoutRow{ID: p.ID, Time: p.CreatedAt.UTC().Format(time.DateTime), Amount: j.Amount + " " + p.Asset,
				Method: string(p.Method), To: to, State: string(p.State), Reason: p.Reason})
		}
	}
	if s.cfg.Refunds != nil {
		rs, err := s.cfg.Refunds.List(ctx, refund.Filter{StoreID: st.ID, Limit: refund.MaxLimit})
		if err != nil {
			return v, err
		}
		slices.Reverse(rs)
		decimals := s.payoutDecimals(ctx)
		for _, x := range rs[:min(len(rs), dashboardRows)] {
			amount := chengdui.FormatDecimal(x.Amount, decimals[x.Asset]) + " " + x.Asset
			if !x.Converted() {
				amount = chengdui.FormatDecimal(x.FiatAmount, decimals[x.Currency]) + " " + x.Currency
			}
			v.Refunds = append(v.Refunds, refundRow{ID: x.ID, Time: x.CreatedAt.UTC().Format(time.DateTime), InvoiceID: x.InvoiceID,
				Amount: amount, State: string(x.State)})
		}
	}
	set := st.Settlement
	if s.cfg.Settlement != nil {
		if got, err := s.cfg.Settlement.Get(ctx, userID, st.ID); err == nil {
			set = got
		}
	}
	v.Splits = splitLines(set.Splits)
	switch set.Schedule.Kind {
	case chengdui.ScheduleDaily:
		v.Schedule = "daily at " + set.Schedule.At + " " + zoneName(set.Schedule.TimeZone)
	case chengdui.ScheduleInstant:
		v.Schedule = "instant"
	default:
		v.Schedule = "manual"
	}
	if p := set.Pending; p != nil {
		v.Pending = strings.Join(splitLines(p.Splits), "; ") + " — from " + p.EffectiveAt.UTC().Format(time.DateTime) + " UTC"
	}
	return v, nil
}

// splitLines describes splits, one line each.
func splitLines(splits []chengdui.SettlementSplit) []string {
	var out []string
	for _, sp := range splits {
		pct := chengdui.FormatDecimal(chengdui.Amount{Lo: uint64(sp.Bps)}, 2) + " % " + sp.Asset + " → " + sp.Destination.Type
		switch {
		case sp.Destination.Creditor != nil:
			c := sp.Destination.Creditor
			pct += " " + strings.TrimSpace(c.Name+" "+c.IBAN+c.Account)
		case sp.Destination.Address != "":
			pct += " " + sp.Destination.Address
		}
		out = append(out, pct)
	}
	return out
}

func zoneName(z string) string {
	if z == "" {
		return "UTC"
	}
	return z
}
