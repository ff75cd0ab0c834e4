package http_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"chengdui"
	"chengdui/auth"
	chttp "chengdui/http"
	"chengdui/invoice/invoicetest"
	"chengdui/merchant"
	"chengdui/settle"

	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"
)

type settlementBody struct {
	StoreID   string                     `json:"store_id"`
	Splits    []chengdui.SettlementSplit `json:"splits"`
	Schedule  chengdui.PayoutSchedule    `json:"schedule"`
	MinPayout map[string]string          `json:"min_payout"`
	Pending   *chengdui.SettlementChange `json:"pending"`
}

// TestSettlementAPI: the owner reads and changes the profile (a new
// destination with the second factor, pending, cancelled), a store key
// with invoice:read reads it, and bad input is 422 with the fields and
// changes nothing.
func TestSettlementAPI(t *testing.T) {
	h := invoicetest.New(t)
	ctx := context.Background()
	en, err := auth.NewEnrolment("Chengdui", h.Owner)
	require.NoError(t, err)
	require.NoError(t, h.DB.SaveTOTP(ctx, h.Owner, en.Secret))
	require.NoError(t, h.DB.EnableTOTP(ctx, h.Owner, 0, []string{"x"}))
	profiles, err := settle.NewProfiles(settle.ProfileConfig{Store: h.DB, Assets: h.DB, Guard: auth.Guard{F: h.DB, Now: h.Now}, Now: h.Now})
	require.NoError(t, err)
	srv := httptest.NewServer(chttp.NewServer(chttp.Config{Ledger: h.Ledger, Store: h.DB,
		Wallets:   sessionWallets{users: map[string]string{payerSession: h.Payer, ownerSession: h.Owner}},
		Merchants: merchant.New(h.DB, merchant.Config{}), Invoices: h.Invoices, Idempotency: h.DB, Settlement: profiles, Now: h.Now}).Handler())
	t.Cleanup(srv.Close)
	m := &merchantHarness{Harness: h, url: srv.URL}
	path := "/api/v1/stores/" + h.StoreID + "/settlement"
	owner := "Bearer " + ownerSession

	status, _, body := m.do(t, "GET", path, owner, "")
	require.Equal(t, 200, status, "%s", body)
	got := decodeAs[settlementBody](t, body)
	require.Equal(t, h.StoreID, got.StoreID)
	require.Equal(t, "manual", got.Schedule.Kind)
	require.Empty(t, got.Splits)

	reader := m.key(t, h.StoreID, auth.ScopeInvoiceRead)
	status, _, _ = m.do(t, "GET", path, reader, "")
	require.Equal(t, 200, status)
	status, _, _ = m.do(t, "GET", path, m.key(t, h.StoreID, auth.ScopeInvoiceCreate), "")
	require.Equal(t, 403, status, "no read permission")
	status, _, _ = m.do(t, "GET", path, "Bearer "+payerSession, "")
	require.Equal(t, 404, status, "not the owner")
	status, _, _ = m.do(t, "GET", path, "", "")
	require.Equal(t, 401, status)
	status, _, _ = m.do(t, "PUT", path, reader, `{"splits":[]}`)
	require.Equal(t, 401, status, "changes need the owner's session")

	// Bad input: 422 with every field at fault, nothing changed.
	status, _, body = m.do(t, "PUT", path, owner, `{"splits":[{"bps":7000,"asset":"CNY","destination":{"type":"BANK","creditor":{"name":"A","iban":"DE00"}}}],"schedule":{"kind":"daily","at":"25:00"}}`)
	require.Equal(t, 422, status, "%s", body)
	var problems []struct{ Path, Message string }
	require.NoError(t, json.Unmarshal(body, &problems))
	var paths []string
	for _, p := range problems {
		paths = append(paths, p.Path)
	}
	require.Equal(t, []string{"splits[0].destination.creditor", "splits", "schedule.at"}, paths)
	status, _, _ = m.do(t, "PUT", path, owner, `{"splits":[],"fee_bps":0}`)
	require.Equal(t, 400, status, "operator fields are not the merchant's")

	// A bank destination: the second factor, then pending.
	dest := `{"splits":[{"bps":10000,"asset":"CNY","destination":{"type":"BANK","creditor":{"name":"Tea House","account":"6222020200112233","bank_code":"102100099996"}}}],"schedule":{"kind":"daily","at":"18:00","time_zone":"Asia/Shanghai"}`
	status, _, body = m.do(t, "PUT", path, owner, dest+`}`)
	require.Equal(t, 401, status, "%s", body)
	code, err := totp.GenerateCode(en.Secret, h.Now())
	require.NoError(t, err)
	status, _, body = m.do(t, "PUT", path, owner, dest+`,"otp":"`+code+`"}`)
	require.Equal(t, 200, status, "%s", body)
	got = decodeAs[settlementBody](t, body)
	require.Empty(t, got.Splits)
	require.NotNil(t, got.Pending)
	require.Equal(t, h.Now().Add(24*time.Hour), got.Pending.EffectiveAt)
	require.Equal(t, "daily", got.Schedule.Kind)

	status, _, body = m.do(t, "DELETE", path+"/pending", owner, "")
	require.Equal(t, 200, status, "%s", body)
	require.Nil(t, decodeAs[settlementBody](t, body).Pending)
	status, _, _ = m.do(t, "DELETE", path+"/pending", owner, "")
	require.Equal(t, 404, status)
}
