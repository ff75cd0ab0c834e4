package webhook

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"chengdui/invoice"
	"chengdui/payout"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files")

// sampleEvents are events as the invoice lifecycle writes them, with the
// Greenfield schema each payload must match.
var sampleEvents = []struct {
	schema string
	ev     invoice.Event
}{
	{"WebhookInvoiceEvent", sampleEvent(invoice.EventCreated, `{}`)},
	{"WebhookInvoiceReceivedPaymentEvent", sampleEvent(invoice.EventReceivedPayment, `{"afterExpiration":false,"paymentMethodId":"BTC-CHAIN",
		"payment":{"id":"bitcoin:regtest:ab12:0","receivedDate":1795694400,"value":"0.00150000","fee":"0","status":"Processing","destination":"bcrt1qexample"}}`)},
	{"WebhookInvoicePaymentSettledEvent", sampleEvent(invoice.EventPaymentSettled, `{"afterExpiration":true,"paymentMethodId":"USDT-ERC20",
		"payment":{"id":"evm:1337:0xab:3","receivedDate":1795694400,"value":"25.5","fee":"0","status":"Settled","destination":"0x52908400098527886E0F7030069857D2E4169EE7"}}`)},
	{"WebhookInvoiceProcessingEvent", sampleEvent(invoice.EventProcessing, `{"overPaid":false}`)},
	{"WebhookInvoiceExpiredEvent", sampleEvent(invoice.EventExpired, `{"partiallyPaid":true}`)},
	{"WebhookInvoiceSettledEvent", sampleEvent(invoice.EventSettled, `{"manuallyMarked":false,"overPaid":true}`)},
	{"WebhookInvoiceInvalidEvent", sampleEvent(invoice.EventInvalid, `{"manuallyMarked":true}`)},
}

func sampleEvent(typ, data string) invoice.Event {
	return invoice.Event{Seq: 7, ID: "ev-" + typ, StoreID: "store1", InvoiceID: "inv1", Type: typ, Data: json.RawMessage(data),
		CreatedAt: time.Date(2026, 11, 26, 12, 0, 0, 999, time.UTC)}
}

const sampleMetadata = `{ "orderId": "order-42", "buyerEmail": "a@example.com", "itemDesc": "<tea> & cake", "nested": {"n": [1, 2.5, null]} }`

func TestBuildBodyGolden(t *testing.T) {
	for _, tc := range sampleEvents {
		t.Run(tc.ev.Type, func(t *testing.T) {
			body, err := buildBody("deliv1", "hook1", tc.ev, json.RawMessage(sampleMetadata), time.Time{})
			require.NoError(t, err)
			golden := filepath.Join("testdata", tc.ev.Type+".json")
			if *update {
				require.NoError(t, os.WriteFile(golden, append(body, '\n'), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err)
			require.Equal(t, string(bytes.TrimSuffix(want, []byte("\n"))), string(body))
		})
	}
}

func TestBuildBodySchema(t *testing.T) {
	schemas := loadSchemas(t)
	for _, tc := range sampleEvents {
		t.Run(tc.ev.Type, func(t *testing.T) {
			body, err := buildBody("deliv1", "hook1", tc.ev, json.RawMessage(sampleMetadata), time.Time{})
			require.NoError(t, err)
			var v map[string]any
			require.NoError(t, json.Unmarshal(body, &v))
			for _, k := range envelope {
				require.Contains(t, v, k)
			}
			require.Equal(t, "deliv1", v["deliveryId"])
			require.Equal(t, "deliv1", v["originalDeliveryId"])
			require.Equal(t, false, v["isRedelivery"])
			require.Equal(t, float64(tc.ev.CreatedAt.Unix()), v["timestamp"])
			require.Equal(t, "order-42", v["metadata"].(map[string]any)["orderId"])
			require.NoError(t, schemas.validate(tc.schema, v, "$"))
		})
	}
	// The checker can fail.
	bad := map[string]any{"deliveryId": "d", "isRedelivery": "no"}
	require.Error(t, schemas.validate("WebhookInvoiceEvent", bad, "$"))
	require.Error(t, schemas.validate("WebhookInvoiceEvent", map[string]any{"extra": 1.0}, "$"))
	require.Error(t, schemas.validate("WebhookInvoiceExpiredEvent", map[string]any{"timestamp": 1.5}, "$"))
}

// TestBuildBodyPayout checks a payout's event against Greenfield's
// x-webhooks payload of its type (payoutId, pullPaymentId, payoutState)
// and the envelope against WebhookEvent; it names no invoice.
func TestBuildBodyPayout(t *testing.T) {
	schemas := loadSchemas(t)
	raw, err := os.ReadFile(filepath.Join("..", "..", "shared", "greenfield", "swagger.template.webhooks.json"))
	require.NoError(t, err)
	var doc struct {
		Hooks map[string]struct {
			Post struct {
				RequestBody struct {
					Content map[string]struct {
						Schema map[string]any `json:"schema"`
					} `json:"content"`
				} `json:"requestBody"`
			} `json:"post"`
		} `json:"x-webhooks"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		old  *payout.Payout
		next payout.State
		typ  string
	}{
		{nil, payout.AwaitingApproval, payout.EventCreated},
		{&payout.Payout{State: payout.AwaitingApproval}, payout.AwaitingPayment, payout.EventApproved},
		{&payout.Payout{State: payout.InProgress}, payout.Completed, payout.EventUpdated},
		{&payout.Payout{State: payout.InProgress}, payout.Failed, payout.EventUpdated},
	} {
		p := payout.Payout{ID: "po-abc", StoreID: "store1", Asset: "CNY", Method: payout.Bank, State: tc.next, UpdatedAt: at, Version: 3}
		ev, ok := payout.Event(tc.old, p)
		require.True(t, ok)
		require.Equal(t, tc.typ, ev.Type)
		body, err := buildBody("deliv1", "hook1", ev, nil, time.Time{})
		require.NoError(t, err)
		var v map[string]any
		require.NoError(t, json.Unmarshal(body, &v))
		require.NotContains(t, v, "invoiceId")
		require.NotContains(t, v, "metadata")
		require.Equal(t, "store1", v["storeId"])
		require.Equal(t, "po-abc", v["payoutId"])
		require.Nil(t, v["pullPaymentId"])
		require.Equal(t, string(tc.next), v["state"])
		hook, ok := doc.Hooks[tc.typ]
		require.True(t, ok, "Greenfield documents %s", tc.typ)
		require.NoError(t, schemas.check(hook.Post.RequestBody.Content["application/json"].Schema, v, "$"))
		env := map[string]any{}
		for _, k := range []string{"deliveryId", "webhookId", "originalDeliveryId", "isRedelivery", "type", "timestamp"} {
			env[k] = v[k]
		}
		require.NoError(t, schemas.validate("WebhookEvent", env, "$"))
	}
	// A change that keeps the state announces nothing.
	_, ok := payout.Event(&payout.Payout{State: payout.InProgress}, payout.Payout{State: payout.InProgress, Ref: "tx"})
	require.False(t, ok)
}

func TestBuildBodyEdges(t *testing.T) {
	ev := sampleEvent(invoice.EventSettled, `{"type":"Forged","deliveryId":"x","overPaid":false}`)
	for _, meta := range []string{"", "null", "[1]", `"s"`, "{broken"} {
		body, err := buildBody("d", "h", ev, json.RawMessage(meta), time.Time{})
		require.NoError(t, err, meta)
		var v map[string]any
		require.NoError(t, json.Unmarshal(body, &v))
		require.Equal(t, map[string]any{}, v["metadata"], "metadata %q", meta)
		require.Equal(t, "InvoiceSettled", v["type"], "data cannot override the envelope")
		require.Equal(t, "d", v["deliveryId"])
		require.Equal(t, false, v["overPaid"])
	}
	ev.Data = nil
	ev.CreatedAt = time.Time{}
	body, err := buildBody("d", "h", ev, nil, time.Unix(1795694400, 0))
	require.NoError(t, err)
	require.True(t, json.Valid(body))
	require.Contains(t, string(body), `"timestamp":1795694400,`, "an event without time gets now")
	ev.Data = json.RawMessage(`[1,2]`)
	_, err = buildBody("d", "h", ev, nil, time.Time{})
	require.Error(t, err)
}

func TestRedeliveryBody(t *testing.T) {
	first, err := buildBody("first", "hook1", sampleEvents[1].ev, json.RawMessage(sampleMetadata), time.Time{})
	require.NoError(t, err)
	re, err := redeliveryBody(first, "second", "hook1", "first")
	require.NoError(t, err)
	want := strings.Replace(string(first), `"deliveryId":"first"`, `"deliveryId":"second"`, 1)
	want = strings.Replace(want, `"isRedelivery":false`, `"isRedelivery":true`, 1)
	require.Equal(t, want, string(re), "only the delivery fields change, in place")
	again, err := redeliveryBody(re, "third", "hook1", "first")
	require.NoError(t, err)
	require.Contains(t, string(again), `"deliveryId":"third","webhookId":"hook1","originalDeliveryId":"first","isRedelivery":true`)

	for _, bad := range []string{"", "[]", `{"deliveryId":"x"}`, `{"a":1`, "{} junk"} {
		_, err := redeliveryBody([]byte(bad), "n", "h", "o")
		require.Error(t, err, bad)
	}
}

func TestSign(t *testing.T) {
	// RFC 4231, test case 2.
	require.Equal(t, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		Sign("Jefe", []byte("what do ya want for nothing?")))
	require.NotEqual(t, Sign("a", []byte("x")), Sign("b", []byte("x")))
}

func FuzzRedeliveryBody(f *testing.F) {
	first, _ := buildBody("first", "hook1", sampleEvents[1].ev, json.RawMessage(sampleMetadata), time.Time{})
	f.Add(first)
	f.Add([]byte(`{"deliveryId":1,"webhookId":null,"originalDeliveryId":"","isRedelivery":{}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := redeliveryBody(body, "n", "h", "o")
		if err != nil {
			return
		}
		var v map[string]any
		require.NoError(t, json.Unmarshal(out, &v), "%s", out)
		require.Equal(t, "n", v["deliveryId"])
		require.Equal(t, true, v["isRedelivery"])
	})
}

// schemaSet is a minimal JSON Schema checker for the OpenAPI subset
// Greenfield's webhook schemas use: $ref, allOf, type, format int32,
// nullable, enum, properties and additionalProperties false (taken, as
// BTCPay means it, over the union of an allOf's properties).
type schemaSet map[string]map[string]any

// loadSchemas reads the schemas of BTCPay's published Greenfield documents
// from ../shared/greenfield beside the repository (never copied into it).
// Without them the test is skipped, except under CI=true.
func loadSchemas(t *testing.T) schemaSet {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "greenfield")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the Greenfield documents are missing from %s (CI has shared/ beside the repository): %v", dir, err)
		}
		t.Skipf("no Greenfield documents at %s: %v", dir, err)
	}
	set := schemaSet{}
	for _, name := range []string{"swagger.template.json", "swagger.template.invoices.json", "swagger.template.webhooks.json", "swagger.template.pull-payments.json"} {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		var doc struct {
			Components struct {
				Schemas schemaSet `json:"schemas"`
			} `json:"components"`
		}
		require.NoError(t, json.Unmarshal(raw, &doc), name)
		for k, v := range doc.Components.Schemas {
			set[k] = v
		}
	}
	return set
}

// flatten resolves refs and allOf into one list of schema objects.
func (s schemaSet) flatten(sch map[string]any) []map[string]any {
	if ref, ok := sch["$ref"].(string); ok {
		return s.flatten(s[strings.TrimPrefix(ref, "#/components/schemas/")])
	}
	out := []map[string]any{sch}
	if all, ok := sch["allOf"].([]any); ok {
		for _, sub := range all {
			out = append(out, s.flatten(sub.(map[string]any))...)
		}
	}
	return out
}

func (s schemaSet) validate(name string, v any, path string) error {
	sch, ok := s[name]
	if !ok {
		return fmt.Errorf("no schema %s", name)
	}
	return s.check(sch, v, path)
}

func (s schemaSet) check(sch map[string]any, v any, path string) error {
	parts := s.flatten(sch)
	props := map[string]map[string]any{}
	closed := false
	for _, p := range parts {
		if v == nil && p["nullable"] == false {
			return fmt.Errorf("%s: null not allowed", path)
		}
		if typ, ok := p["type"].(string); ok && v != nil {
			if err := checkType(typ, p["format"], v, path); err != nil {
				return err
			}
		}
		if enum, ok := p["enum"].([]any); ok && !slices.Contains(enum, v) {
			return fmt.Errorf("%s: %v not in %v", path, v, enum)
		}
		if ps, ok := p["properties"].(map[string]any); ok {
			for k, ps := range ps {
				props[k] = ps.(map[string]any)
			}
		}
		if p["additionalProperties"] == false {
			closed = true
		}
	}
	obj, ok := v.(map[string]any)
	if !ok || len(props) == 0 {
		return nil
	}
	for k, val := range obj {
		ps, ok := props[k]
		if !ok {
			if closed {
				return fmt.Errorf("%s: unknown field %q", path, k)
			}
			continue
		}
		if err := s.check(ps, val, path+"."+k); err != nil {
			return err
		}
	}
	return nil
}

func checkType(typ string, format any, v any, path string) error {
	ok := false
	switch typ {
	case "string":
		_, ok = v.(string)
	case "boolean":
		_, ok = v.(bool)
	case "number", "integer":
		var f float64
		f, ok = v.(float64)
		if ok && (typ == "integer" || format == "int32" || format == "int64") {
			ok = f == math.Trunc(f)
		}
	case "object":
		_, ok = v.(map[string]any)
	case "array":
		_, ok = v.([]any)
	}
	if !ok {
		return fmt.Errorf("%s: %v (%T) is not a %s %v", path, v, v, typ, format)
	}
	return nil
}
