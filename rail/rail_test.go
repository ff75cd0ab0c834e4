package rail_test

import (
	"strings"
	"testing"

	"lukechampine.com/uint128"

	"chengdui"
	"chengdui/rail"
)

func eurOrder() rail.Order {
	return rail.Order{
		ID:        "po-1",
		Currency:  "EUR",
		Amount:    uint128.From64(1234),
		Decimals:  2,
		Creditor:  rail.Party{Name: "Müller GmbH", IBAN: "DE89 3704 0044 0532 0130 00", BIC: "COBADEFFXXX"},
		Reference: "Settlement 2024-05",
	}
}

func TestOrderValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*rail.Order)
		code string // "" when valid
		msg  string
	}{
		{"valid EUR", func(*rail.Order) {}, "", ""},
		{"valid CNY domestic", func(o *rail.Order) {
			o.Currency = "CNY"
			o.Creditor = rail.Party{Name: "成都商户有限公司", Account: "6222021234567890123", BankCode: "102100099996", Country: "CN"}
		}, "", ""},
		{"valid USD domestic", func(o *rail.Order) {
			o.Currency = "USD"
			o.Creditor = rail.Party{Name: "Acme Inc", Account: "000123456789", BankCode: "021000021", Country: "US"}
		}, "", ""},
		{"valid USD to IBAN", func(o *rail.Order) { o.Currency = "USD" }, "", ""},
		{"max lengths", func(o *rail.Order) {
			o.ID = strings.Repeat("a", 35)
			o.Reference = strings.Repeat("é", 140)
			o.Creditor.Name = strings.Repeat("名", 140)
		}, "", ""},
		{"empty id", func(o *rail.Order) { o.ID = "" }, chengdui.EInvalid, "order id"},
		{"id too long", func(o *rail.Order) { o.ID = strings.Repeat("a", 36) }, chengdui.EInvalid, "order id"},
		{"id with underscore", func(o *rail.Order) { o.ID = "po_1" }, chengdui.EInvalid, "order id"},
		{"id with space", func(o *rail.Order) { o.ID = "po 1" }, chengdui.EInvalid, "order id"},
		{"unknown currency", func(o *rail.Order) { o.Currency = "GBP" }, chengdui.EInvalid, "not supported"},
		{"lower-case currency", func(o *rail.Order) { o.Currency = "eur" }, chengdui.EInvalid, "not supported"},
		{"wrong decimals", func(o *rail.Order) { o.Decimals = 18 }, chengdui.EInvalid, "decimals"},
		{"zero amount", func(o *rail.Order) { o.Amount = uint128.Zero }, chengdui.EZeroAmount, "positive"},
		{"reference too long", func(o *rail.Order) { o.Reference = strings.Repeat("x", 141) }, chengdui.EInvalid, "141 characters"},
		{"reference with newline", func(o *rail.Order) { o.Reference = "a\nb" }, chengdui.EInvalid, "control character"},
		{"reference not UTF-8", func(o *rail.Order) { o.Reference = "a\xffb" }, chengdui.EInvalid, "UTF-8"},
		{"no name", func(o *rail.Order) { o.Creditor.Name = "  " }, chengdui.EInvalid, "name is empty"},
		{"name too long", func(o *rail.Order) { o.Creditor.Name = strings.Repeat("x", 141) }, chengdui.EInvalid, "name has 141"},
		{"bad IBAN", func(o *rail.Order) { o.Creditor.IBAN = "DE88370400440532013000" }, chengdui.EInvalid, "checksum"},
		{"bad BIC", func(o *rail.Order) { o.Creditor.BIC = "COBADE" }, chengdui.EInvalid, "BIC"},
		{"EUR without IBAN", func(o *rail.Order) {
			o.Creditor = rail.Party{Name: "X", Account: "123", BankCode: "456"}
		}, chengdui.EInvalid, "IBAN for EUR"},
		{"CNY without bank code", func(o *rail.Order) {
			o.Currency = "CNY"
			o.Creditor = rail.Party{Name: "X", Account: "123"}
		}, chengdui.EInvalid, "bank code"},
		{"bad account", func(o *rail.Order) {
			o.Currency = "CNY"
			o.Creditor = rail.Party{Name: "X", Account: "12 34", BankCode: "456"}
		}, chengdui.EInvalid, "account"},
		{"bad bank code", func(o *rail.Order) {
			o.Currency = "CNY"
			o.Creditor = rail.Party{Name: "X", Account: "1234", BankCode: "45-6"}
		}, chengdui.EInvalid, "bank code"},
		{"bad country", func(o *rail.Order) { o.Creditor.Country = "de" }, chengdui.EInvalid, "country"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := eurOrder()
			tt.edit(&o)
			err := o.Validate()
			if tt.code == "" {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			if chengdui.ErrorCode(err) != tt.code || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Validate() = %v, want code %s and %q", err, tt.code, tt.msg)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	all := []rail.Status{rail.Accepted, rail.Completed, rail.Failed, rail.Returned}
	allowed := map[[2]rail.Status]bool{
		{rail.Accepted, rail.Completed}: true,
		{rail.Accepted, rail.Failed}:    true,
		{rail.Completed, rail.Returned}: true,
	}
	for _, from := range all {
		if !from.Valid() {
			t.Errorf("%s not valid", from)
		}
		for _, to := range all {
			if got := from.CanBecome(to); got != allowed[[2]rail.Status{from, to}] {
				t.Errorf("%s.CanBecome(%s) = %v", from, to, got)
			}
		}
	}
	if rail.Status("pending").Valid() || rail.Status("").Valid() {
		t.Error("unknown statuses are valid")
	}
	if !rail.Failed.Final() || !rail.Returned.Final() || rail.Completed.Final() || rail.Accepted.Final() {
		t.Error("Final is wrong")
	}
}

func TestCurrencyDecimals(t *testing.T) {
	for _, c := range []string{"EUR", "CNY", "USD"} {
		if d, ok := rail.CurrencyDecimals(c); !ok || d != 2 {
			t.Errorf("CurrencyDecimals(%s) = %d, %v", c, d, ok)
		}
	}
	if _, ok := rail.CurrencyDecimals("JPY"); ok {
		t.Error("JPY is not supported")
	}
}
