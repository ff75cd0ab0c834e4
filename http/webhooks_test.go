package http_test

import (
	"context"
	"encoding/json"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"testing"
	"time"

	"chengdui/auth"
	"chengdui/webhook"

	"github.com/stretchr/testify/require"
)

// received is one request a webhook receiver got.
type received struct {
	body []byte
	sig  string
}

// receiver is a webhook endpoint on loopback that records what it gets.
func receiver(t *testing.T) (string, <-chan received) {
	t.Helper()
	ch := make(chan received, 16)
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		b, _ := io.ReadAll(r.Body)
		ch <- received{body: b, sig: r.Header.Get("BTCPay-Sig")}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/hook", ch
}

func waitFor(t *testing.T, ch <-chan received) received {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook delivery")
		return received{}
	}
}

type gfWebhook struct {
	ID                  string `json:"id"`
	Enabled             bool   `json:"enabled"`
	AutomaticRedelivery bool   `json:"automaticRedelivery"`
	URL                 string `json:"url"`
	AuthorizedEvents    struct {
		Everything     bool     `json:"everything"`
		SpecificEvents []string `json:"specificEvents"`
	} `json:"authorizedEvents"`
	Secret *string `json:"secret"`
}

type gfDelivery struct {
	ID           string `json:"id"`
	Timestamp    int64  `json:"timestamp"`
	DeliveryTime *int64 `json:"deliveryTime"`
	HTTPCode     *int   `json:"httpCode"`
	Status       string `json:"status"`
	EventType    string `json:"eventType"`
	IsRedelivery bool   `json:"isRedelivery"`
}

// deliveries polls a webhook's deliveries until n are final.
func (m *merchantHarness) deliveries(t *testing.T, key, path string, n int) []gfDelivery {
	t.Helper()
	var ds []gfDelivery
	require.Eventually(t, func() bool {
		status, _, b := m.do(t, "GET", path, key, "")
		require.Equal(t, 200, status, "%s", b)
		ds = decodeAs[[]gfDelivery](t, b)
		final := 0
		for _, d := range ds {
			if d.Status != "Pending" {
				final++
			}
		}
		return final == n && len(ds) == n
	}, 10*time.Second, 20*time.Millisecond)
	return ds
}

func TestWebhookAPI(t *testing.T) {
	m := newMerchantHarness(t)
	key := m.key(t, m.StoreID, auth.ScopeWebhookManage, auth.ScopeInvoiceWrite)
	hookURL, got := receiver(t)
	base := "/api/v1/stores/" + m.StoreID + "/webhooks"

	status, hdr, b := m.do(t, "POST", base, key, `{"url":"`+hookURL+`","authorizedEvents":{"specificEvents":["InvoiceCreated","InvoiceSettled"]}}`)
	require.Equal(t, 200, status, "%s", b)
	require.Equal(t, "no-store", hdr.Get("Cache-Control"))
	created := decodeAs[gfWebhook](t, b)
	require.NotEmpty(t, created.ID)
	require.True(t, created.Enabled, "enabled by default")
	require.True(t, created.AutomaticRedelivery, "redelivered by default")
	require.False(t, created.AuthorizedEvents.Everything, "naming events means those")
	require.Equal(t, []string{"InvoiceCreated", "InvoiceSettled"}, created.AuthorizedEvents.SpecificEvents)
	require.NotNil(t, created.Secret)
	secret := *created.Secret
	require.NotEmpty(t, secret, "generated")

	// The secret is shown once.
	for _, path := range []string{base + "/" + created.ID, "/api/v1/webhooks/" + created.ID} {
		status, _, b = m.do(t, "GET", path, key, "")
		require.Equal(t, 200, status, "%s", b)
		require.NotContains(t, string(b), secret)
		require.Equal(t, created.ID, decodeAs[gfWebhook](t, b).ID)
	}
	status, _, b = m.do(t, "GET", base, key, "")
	require.Equal(t, 200, status, "%s", b)
	list := decodeAs[[]gfWebhook](t, b)
	require.Len(t, list, 1)
	require.Nil(t, list[0].Secret)

	// An invoice's creation is delivered, signed with the secret.
	inv := m.create(t, key, `{"amount":"10","metadata":{"orderId":"W-1"}}`)
	first := waitFor(t, got)
	require.Equal(t, webhook.Sign(secret, first.body), first.sig)
	var payload struct {
		DeliveryID, WebhookID, Type, StoreID, InvoiceID string
		IsRedelivery                                    bool
	}
	require.NoError(t, json.Unmarshal(first.body, &payload))
	require.Equal(t, "InvoiceCreated", payload.Type)
	require.Equal(t, inv.ID, payload.InvoiceID)
	require.Equal(t, created.ID, payload.WebhookID)

	deliveriesPath := "/api/v1/webhooks/" + created.ID + "/deliveries"
	ds := m.deliveries(t, key, deliveriesPath, 1)
	d := ds[0]
	require.Equal(t, payload.DeliveryID, d.ID)
	require.Equal(t, "HttpSuccess", d.Status)
	require.Equal(t, 200, *d.HTTPCode)
	require.NotNil(t, d.DeliveryTime)
	require.Equal(t, "InvoiceCreated", d.EventType)
	for _, path := range []string{deliveriesPath + "/" + d.ID, base + "/" + created.ID + "/deliveries/" + d.ID} {
		status, _, b = m.do(t, "GET", path, key, "")
		require.Equal(t, 200, status, "%s", b)
		require.Equal(t, d.ID, decodeAs[gfDelivery](t, b).ID)
	}
	status, hdr, b = m.do(t, "GET", deliveriesPath+"/"+d.ID+"/request", key, "")
	require.Equal(t, 200, status, "%s", b)
	require.Contains(t, hdr.Get("Content-Type"), "application/json")
	require.Equal(t, string(first.body), string(b), "the exact bytes signed")

	// Redelivery: a new delivery of the same event.
	status, _, b = m.do(t, "POST", deliveriesPath+"/"+d.ID+"/redeliver", key, "", "Idempotency-Key", "redeliver-1")
	require.Equal(t, 200, status, "%s", b)
	newID := decodeAs[string](t, b)
	require.NotEqual(t, d.ID, newID)
	again := waitFor(t, got)
	require.NoError(t, json.Unmarshal(again.body, &payload))
	require.True(t, payload.IsRedelivery)
	require.Equal(t, newID, payload.DeliveryID)
	status, hdr, b = m.do(t, "POST", deliveriesPath+"/"+d.ID+"/redeliver", key, "", "Idempotency-Key", "redeliver-1")
	require.Equal(t, 200, status, "%s", b)
	require.Equal(t, "true", hdr.Get("Idempotent-Replayed"))
	require.Equal(t, newID, decodeAs[string](t, b), "replayed, not sent again")
	ds = m.deliveries(t, key, deliveriesPath+"?count=5", 2)
	require.Equal(t, newID, ds[0].ID, "newest first")
	require.True(t, ds[0].IsRedelivery)
	require.Len(t, m.deliveries(t, key, deliveriesPath+"?count=1", 1), 1)

	// Update: settings replaced, an empty secret keeps the old one.
	status, _, b = m.do(t, "PUT", "/api/v1/webhooks/"+created.ID, key, `{"url":"`+hookURL+`/v2","enabled":false,"authorizedEvents":{"everything":true}}`)
	require.Equal(t, 200, status, "%s", b)
	updated := decodeAs[gfWebhook](t, b)
	require.False(t, updated.Enabled)
	require.True(t, updated.AuthorizedEvents.Everything)
	require.Equal(t, hookURL+"/v2", updated.URL)
	require.Nil(t, updated.Secret)
	stored, err := m.hooks.Get(context.Background(), m.StoreID, created.ID)
	require.NoError(t, err)
	require.Equal(t, secret, stored.Secret)
	status, _, b = m.do(t, "PUT", base+"/"+created.ID, key, `{"url":"`+hookURL+`","secret":"a new secret"}`)
	require.Equal(t, 200, status, "%s", b)
	stored, err = m.hooks.Get(context.Background(), m.StoreID, created.ID)
	require.NoError(t, err)
	require.Equal(t, "a new secret", stored.Secret)
	require.True(t, stored.Enabled, "omitted flags take their defaults")

	// Delete.
	status, _, b = m.do(t, "DELETE", "/api/v1/webhooks/"+created.ID, key, "")
	require.Equal(t, 200, status, "%s", b)
	require.Empty(t, b)
	status, _, b = m.do(t, "GET", "/api/v1/webhooks/"+created.ID, key, "")
	require.Equal(t, 404, status, "%s", b)
	require.Equal(t, "not_found", decodeAs[problem](t, b).Code)
}

func TestWebhookBadInputs(t *testing.T) {
	m := newMerchantHarness(t)
	key := m.key(t, m.StoreID, auth.ScopeWebhookManage)
	otherKey := m.key(t, otherStore, auth.ScopeWebhookManage)
	invoiceKey := m.key(t, m.StoreID, auth.ScopeInvoiceWrite)
	base := "/api/v1/stores/" + m.StoreID + "/webhooks"
	hookURL, _ := receiver(t)

	status, _, b := m.do(t, "POST", "/api/v1/stores/"+otherStore+"/webhooks", otherKey, `{"url":"`+hookURL+`"}`)
	require.Equal(t, 200, status, "%s", b)
	othersHook := decodeAs[gfWebhook](t, b)
	require.True(t, othersHook.AuthorizedEvents.Everything)
	require.Empty(t, othersHook.AuthorizedEvents.SpecificEvents)
	hooks := func() int {
		ws, err := m.hooks.List(context.Background(), m.StoreID)
		require.NoError(t, err)
		return len(ws)
	}

	for _, tc := range []struct {
		name, method, path, key, body string
		status                        int
		code, field                   string
	}{
		{"no url", "POST", base, key, `{}`, 422, "", "url"},
		{"blank url", "POST", base, key, `{"url":"  "}`, 422, "", "url"},
		{"ftp url", "POST", base, key, `{"url":"ftp://example.com/x"}`, 422, "", "url"},
		{"url with password", "POST", base, key, `{"url":"http://u:p@127.0.0.1/x"}`, 422, "", "url"},
		{"unknown event", "POST", base, key, `{"url":"` + hookURL + `","authorizedEvents":{"specificEvents":["InvoicePaid"]}}`, 422, "", "authorizedEvents.specificEvents[0]"},
		{"nothing to receive", "POST", base, key, `{"url":"` + hookURL + `","authorizedEvents":{"everything":false}}`, 422, "", "authorizedEvents.specificEvents"},
		{"long secret", "POST", base, key, `{"url":"` + hookURL + `","secret":"` + longString(1025) + `"}`, 422, "", "secret"},
		{"url of the wrong type", "POST", base, key, `{"url":42}`, 422, "", "url"},
		{"unknown field", "POST", base, key, `{"url":"` + hookURL + `","id":"mine"}`, 400, "invalid", ""},
		{"bad JSON", "POST", base, key, `{"url":`, 400, "invalid", ""},
		{"oversize", "POST", base, key, `{"url":"` + longString(70<<10) + `"}`, 413, "too_large", ""},
		{"no key", "POST", base, "", `{"url":"` + hookURL + `"}`, 401, "unauthorized", ""},
		{"other store's key", "POST", base, otherKey, `{"url":"` + hookURL + `"}`, 403, "forbidden", ""},
		{"invoice key", "POST", base, invoiceKey, `{"url":"` + hookURL + `"}`, 403, "forbidden", ""},
		{"other store's webhook", "GET", "/api/v1/webhooks/" + othersHook.ID, key, "", 404, "not_found", ""},
		{"other store's webhook updated", "PUT", "/api/v1/webhooks/" + othersHook.ID, key, `{"url":"` + hookURL + `"}`, 404, "not_found", ""},
		{"other store's webhook deleted", "DELETE", "/api/v1/webhooks/" + othersHook.ID, key, "", 404, "not_found", ""},
		{"other store's deliveries", "GET", "/api/v1/webhooks/" + othersHook.ID + "/deliveries", key, "", 404, "not_found", ""},
		{"unknown webhook", "GET", base + "/nope", key, "", 404, "not_found", ""},
		{"unknown delivery", "GET", "/api/v1/webhooks/" + othersHook.ID + "/deliveries/nope", otherKey, "", 404, "not_found", ""},
		{"unknown delivery request", "GET", "/api/v1/webhooks/" + othersHook.ID + "/deliveries/nope/request", otherKey, "", 404, "not_found", ""},
		{"unknown delivery redelivered", "POST", "/api/v1/webhooks/" + othersHook.ID + "/deliveries/nope/redeliver", otherKey, "", 404, "not_found", ""},
		{"count zero", "GET", "/api/v1/webhooks/" + othersHook.ID + "/deliveries?count=0", otherKey, "", 400, "invalid", ""},
		{"count too big", "GET", "/api/v1/webhooks/" + othersHook.ID + "/deliveries?count=1001", otherKey, "", 400, "invalid", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, b := m.do(t, tc.method, tc.path, tc.key, tc.body)
			require.Equal(t, tc.status, status, "%s", b)
			if tc.field != "" {
				fields := decodeAs[[]fieldProblem](t, b)
				require.Equal(t, tc.field, fields[0].Path, "%s", b)
				require.NotEmpty(t, fields[0].Message)
			} else {
				p := decodeAs[problem](t, b)
				require.Equal(t, tc.code, p.Code)
				require.NotEmpty(t, p.Message)
			}
			require.Zero(t, hooks(), "nothing created")
			w, err := m.hooks.Get(context.Background(), otherStore, othersHook.ID)
			require.NoError(t, err, "the other store's webhook is untouched")
			require.Equal(t, hookURL, w.URL)
		})
	}
}

func longString(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a'
	}
	return string(b)
}
