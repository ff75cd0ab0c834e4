package http_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"chengdui"
	"chengdui/auth"
	"chengdui/invoice"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"
)

// The conformance tests hold the merchant API to two contracts: BTCPay's
// published Greenfield documents (shared/greenfield, beside the
// repository) and our own openapi.yaml. Every response of the scenario is
// validated against the schema both give for its route and status.

// greenfieldDir is where the Greenfield documents are: shared/ beside the
// repository, as on developers' machines and in CI.
var greenfieldDir = filepath.Join("..", "..", "shared", "greenfield")

// contract is an OpenAPI document responses are checked against.
type contract struct {
	name string
	doc  *openapi3.T
	// path maps one of our route templates to the document's.
	path func(tmpl string) string
	// events names the payload schema of each webhook event type
	// (Greenfield's x-webhooks).
	events map[string]string
	// serverErrors checks error bodies by status as BTCPay's server sends
	// them, whatever the route's document says: 422 with
	// ValidationProblemDetails, any other error with ProblemDetails. The
	// published document gives some routes' 400 a ValidationProblemDetails
	// body, but BTCPay answers validation errors with 422, and its clients
	// read a 422 as that array and other errors as {code, message}.
	serverErrors bool
}

// loadGreenfield merges BTCPay's fragments into one document: the shared
// components of swagger.template.json and every fragment's paths and
// components, as BTCPay does when it serves them.
func loadGreenfield(t *testing.T) contract {
	t.Helper()
	if _, err := os.Stat(greenfieldDir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the Greenfield documents are missing from %s (CI must have shared/ beside the repository): %v", greenfieldDir, err)
		}
		t.Skipf("%s is absent here (it comes with the project's shared/ folder); the Greenfield conformance checks did not run", greenfieldDir)
	}
	read := func(name string) map[string]any {
		b, err := os.ReadFile(filepath.Join(greenfieldDir, name))
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		return m
	}
	doc := read("swagger.template.json")
	paths := map[string]any{}
	components := doc["components"].(map[string]any)
	events := map[string]string{}
	// The invoices and webhooks fragments, and pull payments for the
	// refund's answer. (The other fragments refer to documents shared/
	// does not hold.)
	for _, f := range []string{"swagger.template.invoices.json", "swagger.template.webhooks.json", "swagger.template.pull-payments.json"} {
		frag := read(f)
		for typ, hook := range asMap(frag["x-webhooks"]) {
			body := asMap(asMap(asMap(asMap(asMap(hook)["post"])["requestBody"])["content"])["application/json"])
			if ref, ok := asMap(body["schema"])["$ref"].(string); ok {
				events[typ] = strings.TrimPrefix(ref, "#/components/schemas/")
			}
		}
		for p, item := range asMap(frag["paths"]) {
			paths[p] = item
		}
		for kind, entries := range asMap(frag["components"]) {
			into := asMap(components[kind])
			if into == nil {
				into = map[string]any{}
				components[kind] = into
			}
			for k, v := range asMap(entries) {
				into[k] = v
			}
		}
	}
	doc["paths"] = paths
	// BTCPay defines this parameter in its store payment methods fragment,
	// which shared/ does not hold; the invoices fragment refers to it.
	params := asMap(components["parameters"])
	if _, ok := params["PaymentMethodId"]; !ok {
		params["PaymentMethodId"] = map[string]any{"name": "paymentMethodId", "in": "path", "required": true,
			"schema": map[string]any{"$ref": "#/components/schemas/PaymentMethodId"}}
	}
	data, err := json.Marshal(doc)
	require.NoError(t, err)
	spec, err := openapi3.NewLoader().LoadFromData(data)
	require.NoError(t, err)
	seen := map[*openapi3.Schema]bool{}
	for _, s := range spec.Components.Schemas {
		flattenAllOf(s.Value, seen)
	}
	for _, item := range spec.Paths.Map() {
		for _, op := range item.Operations() {
			for _, r := range op.Responses.Map() {
				for _, mt := range r.Value.Content {
					if mt.Schema != nil {
						flattenAllOf(mt.Schema.Value, seen)
					}
				}
			}
		}
	}
	require.NotEmpty(t, events["InvoiceCreated"])
	return contract{name: "Greenfield", doc: spec, serverErrors: true, events: events, path: func(tmpl string) string {
		if spec.Paths.Value(tmpl) != nil {
			return tmpl
		}
		// The newer document names most routes without the store.
		return regexp.MustCompile(`^/api/v1/stores/\{storeId\}/(invoices/|webhooks/)`).ReplaceAllString(tmpl, "/api/v1/$1")
	}}
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// flattenAllOf merges an allOf of object schemas into one object schema.
// BTCPay writes InvoiceData as allOf(InvoiceDataBase, {…,
// additionalProperties: false}); under JSON Schema each branch is checked
// alone, so that branch would refuse InvoiceDataBase's metadata, checkout
// and receipt, and no InvoiceData could pass. The document means the
// union: merged, the object stays closed (a branch's
// additionalProperties: false closes it) and keeps every branch's
// properties and required names, so a field in none of them still fails.
func flattenAllOf(s *openapi3.Schema, seen map[*openapi3.Schema]bool) {
	if s == nil || seen[s] {
		return
	}
	seen[s] = true
	for _, b := range s.AllOf {
		flattenAllOf(b.Value, seen)
	}
	objects := len(s.AllOf) > 0
	for _, b := range s.AllOf {
		if b.Value == nil || !(b.Value.Type.Is(openapi3.TypeObject) || (b.Value.Type.IsEmpty() && len(b.Value.Properties) > 0)) {
			objects = false
		}
	}
	if objects {
		props := openapi3.Schemas{}
		for k, v := range s.Properties {
			props[k] = v
		}
		closed := s.AdditionalProperties.Has != nil && !*s.AdditionalProperties.Has
		for _, b := range s.AllOf {
			for k, v := range b.Value.Properties {
				props[k] = v
			}
			s.Required = append(s.Required, b.Value.Required...)
			if h := b.Value.AdditionalProperties.Has; h != nil && !*h {
				closed = true
			}
		}
		s.Properties, s.AllOf = props, nil
		s.Type = &openapi3.Types{openapi3.TypeObject}
		if closed {
			no := false
			s.AdditionalProperties = openapi3.AdditionalProperties{Has: &no}
		}
	}
	for _, p := range s.Properties {
		flattenAllOf(p.Value, seen)
	}
	if s.Items != nil {
		flattenAllOf(s.Items.Value, seen)
	}
	for _, x := range append(append(s.AnyOf, s.OneOf...), s.AllOf...) {
		flattenAllOf(x.Value, seen)
	}
	if a := s.AdditionalProperties.Schema; a != nil {
		flattenAllOf(a.Value, seen)
	}
}

// loadOurs loads openapi.yaml.
func loadOurs(t *testing.T) contract {
	t.Helper()
	b, err := os.ReadFile("openapi.yaml")
	require.NoError(t, err)
	doc, err := openapi3.NewLoader().LoadFromData(b)
	require.NoError(t, err)
	return contract{name: "openapi.yaml", doc: doc, path: func(tmpl string) string { return tmpl }}
}

var decimalRE = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// validation options: Greenfield's "decimal" strings must be decimals and
// its int32 timestamps whole numbers.
var schemaOptions = []openapi3.SchemaValidationOption{
	openapi3.VisitAsResponse(), openapi3.MultiErrors(), openapi3.EnableFormatValidation(),
	openapi3.WithStringFormatValidator("decimal", openapi3.NewCallbackValidator(func(s string) error {
		if !decimalRE.MatchString(s) {
			return errors.New("not a decimal string")
		}
		return nil
	})),
	openapi3.WithNumberFormatValidator("int32", openapi3.NewCallbackValidator(func(f float64) error {
		if f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
			return errors.New("not a 32-bit whole number")
		}
		return nil
	})),
}

// schemaFor is the schema the document gives a response, or nil when it
// gives none for that status (then the error component applies).
func (c contract) schemaFor(t *testing.T, method, tmpl string, status int) *openapi3.Schema {
	t.Helper()
	path := c.path(tmpl)
	item := c.doc.Paths.Value(path)
	require.NotNil(t, item, "%s has no path %s", c.name, path)
	op := item.GetOperation(method)
	require.NotNil(t, op, "%s has no %s %s", c.name, method, path)
	r := op.Responses.Status(status)
	if r == nil {
		r = op.Responses.Default()
	}
	if r == nil || r.Value == nil {
		return nil
	}
	mt := r.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return nil
	}
	return mt.Schema.Value
}

// check validates one response body.
func (c contract) check(t *testing.T, method, tmpl string, status int, body []byte) {
	t.Helper()
	var schema *openapi3.Schema
	if !c.serverErrors || status < 400 {
		schema = c.schemaFor(t, method, tmpl, status)
	}
	if schema == nil {
		switch {
		case status == 422:
			schema = c.component(t, "ValidationProblemDetails")
		case status >= 400:
			schema = c.component(t, "ProblemDetails", "Error")
		case len(body) == 0:
			return // documented without a body: none sent
		default:
			t.Fatalf("%s documents no body for %s %s %d, got %s", c.name, method, tmpl, status, body)
		}
	}
	var v any
	require.NoError(t, json.Unmarshal(body, &v), "%s %s: %s", method, tmpl, body)
	if err := schema.VisitJSON(v, schemaOptions...); err != nil {
		t.Errorf("%s %s %d does not conform to %s:\n%v\nbody: %s", method, tmpl, status, c.name, err, body)
	}
}

// component is a named schema of the document (the first of names it has).
func (c contract) component(t *testing.T, names ...string) *openapi3.Schema {
	t.Helper()
	for _, n := range names {
		if s, ok := c.doc.Components.Schemas[n]; ok {
			return s.Value
		}
	}
	t.Fatalf("%s has none of the schemas %v", c.name, names)
	return nil
}

// conformance sends requests and checks every answer against contracts.
type conformance struct {
	m         *merchantHarness
	contracts []contract
	vars      map[string]string
	seen      map[string]bool // method and template checked, per status
}

func (c *conformance) call(t *testing.T, method, tmpl, key, body string, want int) []byte {
	t.Helper()
	path := tmpl
	for k, v := range c.vars {
		path = strings.ReplaceAll(path, "{"+k+"}", v)
	}
	require.NotContains(t, path, "{", "unset path variable in %s", tmpl)
	status, _, b := c.m.do(t, method, path, key, body)
	require.Equal(t, want, status, "%s %s: %s", method, path, b)
	route, _, _ := strings.Cut(tmpl, "?")
	for _, ct := range c.contracts {
		ct.check(t, method, route, status, b)
	}
	c.seen[fmt.Sprintf("%s %s %d", method, route, status)] = true
	return b
}

func TestGreenfieldConformance(t *testing.T) {
	gf := loadGreenfield(t)
	m := newMerchantHarness(t)
	c := &conformance{m: m, contracts: []contract{gf, loadOurs(t)}, vars: map[string]string{"storeId": m.StoreID}, seen: map[string]bool{}}
	key := m.key(t, m.StoreID, auth.ScopeInvoiceWrite, auth.ScopeWebhookManage, auth.ScopePayoutCreate)
	hookURL, got := receiver(t)

	// Webhooks first, so that they receive the invoices' events.
	b := c.call(t, "POST", "/api/v1/stores/{storeId}/webhooks", key, `{"url":"`+hookURL+`","secret":"s3cret"}`, 200)
	c.vars["webhookId"] = decodeAs[gfWebhook](t, b).ID
	c.call(t, "POST", "/api/v1/stores/{storeId}/webhooks", key, `{"url":"`+hookURL+`/2","enabled":false,"automaticRedelivery":false,
		"authorizedEvents":{"everything":false,"specificEvents":["InvoiceSettled"]}}`, 200)

	b = c.call(t, "POST", "/api/v1/stores/{storeId}/invoices", key, `{"amount":"72.00","currency":"CNY",
		"metadata":{"orderId":"G-1","itemDesc":"普洱茶","posData":{"cart":[{"id":"pu erh","count":1}]},"buyerEmail":"li@example.com"},
		"checkout":{"speedPolicy":"LowMediumSpeed","paymentMethods":["BTC-CHAIN","ETH","USDT-ERC20","USDC-ERC20","BALANCE"],
		"defaultPaymentMethod":"USDT-ERC20","lazyPaymentMethods":false,"expirationMinutes":90,"monitoringMinutes":60,"paymentTolerance":0.5,
		"redirectURL":"https://shop.example.com/{OrderId}","redirectAutomatically":true,"defaultLanguage":"en"},
		"receipt":{"enabled":true,"showQR":null},"additionalSearchTerms":["tea"]}`, 200)
	c.vars["invoiceId"] = decodeAs[gfInvoice](t, b).ID
	c.call(t, "POST", "/api/v1/stores/{storeId}/invoices", key, `{"metadata":{"orderId":"G-2"}}`, 200)
	b = c.call(t, "POST", "/api/v1/stores/{storeId}/invoices", key, `{"amount":"5","checkout":{"paymentMethods":["BALANCE"]}}`, 200)
	balanceOnly := decodeAs[gfInvoice](t, b).ID

	// Payments: part on chain (one confirmed, one not), the rest of another
	// invoice from a balance.
	inv, err := m.Invoices.Get(context.Background(), m.StoreID, c.vars["invoiceId"])
	require.NoError(t, err)
	m.Pay(t, inv, invoice.MethodETH, chengdui.Amount{Lo: 1_000_000_000_000_000}, "0xe1", 10, 20)
	m.Pay(t, inv, invoice.MethodBTC, chengdui.Amount{Lo: 10_000}, "b1", 0, 20)
	status, _, pb := m.do(t, "POST", "/api/v1/invoices/"+balanceOnly+"/pay", "Bearer "+payerSession, `{"asset":"USDC-ERC20"}`)
	require.Equal(t, 200, status, "%s", pb)

	for _, tmpl := range []string{"/api/v1/stores/{storeId}/invoices/{invoiceId}", "/api/v1/invoices/{invoiceId}"} {
		c.call(t, "GET", tmpl, key, "", 200)
		c.call(t, "GET", tmpl+"/payment-methods", key, "", 200)
	}
	c.vars["invoiceId"] = balanceOnly
	c.call(t, "GET", "/api/v1/invoices/{invoiceId}/payment-methods", key, "", 200)
	c.call(t, "GET", "/api/v1/stores/{storeId}/invoices", key, "", 200)
	c.call(t, "GET", "/api/v1/stores/{storeId}/invoices?includePaymentMethods=true&includeArchived=true&take=10", key, "", 200)
	c.vars["invoiceId"] = inv.ID
	c.call(t, "PUT", "/api/v1/invoices/{invoiceId}", key, `{"metadata":{"orderId":"G-1b","orderUrl":"https://shop.example.com/o/1"}}`, 200)
	c.call(t, "PUT", "/api/v1/stores/{storeId}/invoices/{invoiceId}", key, `{"metadata":{"orderId":"G-1c"}}`, 200)
	c.call(t, "DELETE", "/api/v1/invoices/{invoiceId}", key, "", 200)
	c.call(t, "POST", "/api/v1/invoices/{invoiceId}/unarchive", key, "", 200)
	c.call(t, "DELETE", "/api/v1/stores/{storeId}/invoices/{invoiceId}", key, "", 200)
	c.call(t, "POST", "/api/v1/stores/{storeId}/invoices/{invoiceId}/unarchive", key, "", 200)
	c.call(t, "POST", "/api/v1/invoices/{invoiceId}/status", key, `{"status":"Settled"}`, 200)
	c.call(t, "POST", "/api/v1/stores/{storeId}/invoices/{invoiceId}/status", key, `{"status":"Invalid"}`, 200)
	c.call(t, "POST", "/api/v1/invoices/{invoiceId}/refund", key, `{"refundVariant":"RateThen"}`, 501)
	c.call(t, "POST", "/api/v1/stores/{storeId}/invoices/{invoiceId}/refund", key, `{"refundVariant":"Fiat"}`, 501)

	// Webhooks and their deliveries.
	waitFor(t, got)
	for _, tmpl := range []string{"/api/v1/stores/{storeId}/webhooks/{webhookId}", "/api/v1/webhooks/{webhookId}"} {
		c.call(t, "GET", tmpl, key, "", 200)
		c.call(t, "PUT", tmpl, key, `{"url":"`+hookURL+`","automaticRedelivery":true,"authorizedEvents":{"everything":true}}`, 200)
	}
	c.call(t, "GET", "/api/v1/stores/{storeId}/webhooks", key, "", 200)
	wantTypes := []string{"InvoiceCreated", "InvoiceReceivedPayment", "InvoicePaymentSettled", "InvoiceSettled", "InvoiceInvalid"}
	require.Eventually(t, func() bool {
		status, _, b := m.do(t, "GET", "/api/v1/webhooks/"+c.vars["webhookId"]+"/deliveries?count=100", key, "")
		require.Equal(t, 200, status, "%s", b)
		types := map[string]bool{}
		for _, d := range decodeAs[[]gfDelivery](t, b) {
			types[d.EventType] = true
			if d.Status == "HttpSuccess" {
				c.vars["deliveryId"] = d.ID
			}
		}
		for _, typ := range wantTypes {
			if !types[typ] {
				return false
			}
		}
		return c.vars["deliveryId"] != ""
	}, 10*time.Second, 20*time.Millisecond)
	b = c.call(t, "GET", "/api/v1/webhooks/{webhookId}/deliveries?count=100", key, "", 200)
	// Every event's payload is Greenfield's.
	types := map[string]bool{}
	for _, d := range decodeAs[[]gfDelivery](t, b) {
		status, _, body := m.do(t, "GET", "/api/v1/webhooks/"+c.vars["webhookId"]+"/deliveries/"+d.ID+"/request", key, "")
		require.Equal(t, 200, status, "%s", body)
		var v any
		require.NoError(t, json.Unmarshal(body, &v))
		schema := gf.events[d.EventType]
		require.NotEmpty(t, schema, "Greenfield has no event %q", d.EventType)
		if err := gf.component(t, schema).VisitJSON(v, schemaOptions...); err != nil {
			t.Errorf("the %s payload does not conform to %s: %v\n%s", d.EventType, schema, err, body)
		}
		types[d.EventType] = true
	}
	for _, typ := range wantTypes {
		require.True(t, types[typ], "no %s delivered (got %v)", typ, types)
	}
	for _, tmpl := range []string{"/api/v1/stores/{storeId}/webhooks/{webhookId}/deliveries", "/api/v1/webhooks/{webhookId}/deliveries"} {
		c.call(t, "GET", tmpl, key, "", 200)
		c.call(t, "GET", tmpl+"/{deliveryId}", key, "", 200)
		body := c.call(t, "GET", tmpl+"/{deliveryId}/request", key, "", 200)
		var ev struct{ Type string }
		require.NoError(t, json.Unmarshal(body, &ev))
		require.True(t, strings.HasPrefix(ev.Type, "Invoice"), "%s", body)
		c.call(t, "POST", tmpl+"/{deliveryId}/redeliver", key, "", 200)
	}

	// Errors: ProblemDetails and ValidationProblemDetails.
	other := m.key(t, otherStore, auth.ScopeInvoiceWrite, auth.ScopeWebhookManage)
	readOnly := m.key(t, m.StoreID, auth.ScopeInvoiceRead)
	c.call(t, "POST", "/api/v1/stores/{storeId}/invoices", key, `{"amount":"abc","checkout":{"speedPolicy":"Fast"}}`, 422)
	c.call(t, "POST", "/api/v1/stores/{storeId}/invoices", key, `{"amount":`, 400)
	c.call(t, "POST", "/api/v1/stores/{storeId}/invoices", "", `{"amount":"1"}`, 401)
	c.call(t, "POST", "/api/v1/stores/{storeId}/invoices", other, `{"amount":"1"}`, 403)
	c.call(t, "POST", "/api/v1/stores/{storeId}/invoices", readOnly, `{"amount":"1"}`, 403)
	c.call(t, "GET", "/api/v1/stores/{storeId}/invoices?take=0", key, "", 400)
	c.call(t, "GET", "/api/v1/invoices/{invoiceId}", other, "", 404)
	c.call(t, "PUT", "/api/v1/invoices/{invoiceId}", key, `{"metadata":[]}`, 422)
	c.call(t, "POST", "/api/v1/invoices/{invoiceId}/status", key, `{"status":"Expired"}`, 422)
	c.call(t, "POST", "/api/v1/stores/{storeId}/webhooks", key, `{"url":"gopher://x"}`, 422)
	c.call(t, "GET", "/api/v1/webhooks/{webhookId}", other, "", 404)
	c.vars["deliveryId"] = "nope"
	c.call(t, "GET", "/api/v1/webhooks/{webhookId}/deliveries/{deliveryId}", key, "", 404)
	c.call(t, "DELETE", "/api/v1/webhooks/{webhookId}", key, "", 200)

	// Every Greenfield route of ours was answered and checked.
	var done []string
	for k := range c.seen {
		done = append(done, k)
	}
	sort.Strings(done)
	for _, want := range []string{
		"POST /api/v1/stores/{storeId}/invoices 200", "GET /api/v1/stores/{storeId}/invoices 200",
		"GET /api/v1/invoices/{invoiceId} 200", "GET /api/v1/invoices/{invoiceId}/payment-methods 200",
		"POST /api/v1/invoices/{invoiceId}/status 200", "PUT /api/v1/invoices/{invoiceId} 200",
		"POST /api/v1/stores/{storeId}/webhooks 200", "GET /api/v1/stores/{storeId}/webhooks 200",
		"GET /api/v1/webhooks/{webhookId} 200", "GET /api/v1/webhooks/{webhookId}/deliveries 200",
		"GET /api/v1/webhooks/{webhookId}/deliveries/{deliveryId} 200",
		"POST /api/v1/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver 200",
	} {
		require.Contains(t, done, want)
	}
}

// TestGreenfieldFlattening checks that the merge of allOf keeps the
// schemas strict: a field in no branch still fails.
func TestGreenfieldFlattening(t *testing.T) {
	gf := loadGreenfield(t)
	schema := gf.component(t, "InvoiceData")
	ok := map[string]any{"id": "x", "storeId": "s", "amount": "1.00", "metadata": map[string]any{}, "checkout": map[string]any{"speedPolicy": "HighSpeed"}}
	require.NoError(t, schema.VisitJSON(ok, schemaOptions...))
	for name, bad := range map[string]map[string]any{
		"an unknown field":          {"id": "x", "secretField": 1},
		"an unknown checkout field": {"id": "x", "checkout": map[string]any{"colour": "red"}},
		"a float amount":            {"id": "x", "amount": 1.5},
		"a non-decimal amount":      {"id": "x", "amount": "1e5"},
		"a fractional timestamp":    {"id": "x", "createdTime": 1.5},
		"an unknown status":         {"id": "x", "status": "Paid"},
	} {
		require.Error(t, schema.VisitJSON(bad, schemaOptions...), name)
	}
}
