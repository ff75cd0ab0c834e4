package http

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	nethttp "net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"chengdui"
	"chengdui/invoice"
)

// The hosted checkout: the page a payer is sent to (GET /i/{invoiceId}),
// its live status (Server-Sent Events and a JSON snapshot) and the
// pay-from-balance form. The page works without JavaScript (method tabs
// are links, amounts and addresses are text, the expiry is printed); the
// small inline script adds copy buttons, a countdown and live updates.

// checkoutRoutes adds the hosted checkout pages and their live updates.
func (s *Server) checkoutRoutes(mux *nethttp.ServeMux) {
	mux.HandleFunc("GET /i/{invoiceId}", s.handleCheckout)
	mux.HandleFunc("GET /i/{invoiceId}/status.json", s.handleCheckoutStatus)
	mux.HandleFunc("GET /i/{invoiceId}/events", s.handleCheckoutEvents)
	if s.cfg.Wallets != nil {
		mux.HandleFunc("POST /i/{invoiceId}/pay", s.handleCheckoutPay)
	}
}

// Live updates: the store is polled for changes other processes made (the
// service's Watch only sees this process's), and a comment is sent now and
// then so proxies and browsers keep an idle stream open.
const (
	checkoutPoll      = 2 * time.Second
	checkoutHeartbeat = 15 * time.Second
	// checkoutRetryMs is the reconnection delay EventSource is told to use.
	checkoutRetryMs = 3000
)

// coLang is a checkout page language.
type coLang string

// The checkout's languages.
const (
	coEN coLang = "en"
	coZH coLang = "zh-CN"
)

// coText is one message in every language of the checkout.
type coText struct{ en, zh string }

// coMessages are the checkout's visible strings. Formats take their
// arguments by index so that each language may order them its own way.
var coMessages = map[string]coText{
	"title":               {"Pay invoice", "支付账单"},
	"store":               {"Store", "商户"},
	"order":               {"Order %[1]s", "订单 %[1]s"},
	"amount":              {"Amount", "金额"},
	"topup":               {"Top-up: pay any amount you like. It is credited at the rate shown.", "充值账单：可支付任意金额，按下方汇率入账。"},
	"topup.amount":        {"Any amount", "任意金额"},
	"status":              {"Status", "状态"},
	"status.New":          {"Awaiting payment", "等待付款"},
	"status.Processing":   {"Payment received, awaiting confirmation", "已收到付款，等待确认"},
	"status.Settled":      {"Settled", "已结算"},
	"status.Expired":      {"Expired", "已过期"},
	"status.Invalid":      {"Invalid", "无效"},
	"add.PaidPartial":     {"Partially paid", "部分付款"},
	"add.PaidOver":        {"Overpaid", "超额付款"},
	"add.PaidLate":        {"Paid after expiry", "过期后付款"},
	"add.Marked":          {"Marked by the merchant", "由商户标记"},
	"add.Invalid":         {"A payment was reversed or replaced", "有付款被撤销或替换"},
	"progress":            {"Paid %[1]s of %[2]s %[4]s, %[3]s %[4]s left.", "已付 %[1]s / %[2]s %[4]s，还需支付 %[3]s %[4]s。"},
	"paid":                {"Paid so far:", "已付："},
	"expires":             {"Expires at", "有效期至"},
	"timeleft":            {"Time left", "剩余时间"},
	"method":              {"Pay with", "支付方式"},
	"method.BTC-CHAIN":    {"Bitcoin", "比特币"},
	"method.ETH":          {"Ether", "以太币"},
	"method.USDT-ERC20":   {"USDT (ERC-20)", "USDT (ERC-20)"},
	"method.USDC-ERC20":   {"USDC (ERC-20)", "USDC (ERC-20)"},
	"method.BALANCE":      {"My balance", "账户余额"},
	"due":                 {"Amount to send", "应付金额"},
	"address":             {"Address", "收款地址"},
	"network":             {"Network", "网络"},
	"network.evm":         {"EVM chain id %[1]d. Send on this chain only.", "EVM 链 ID %[1]d，请仅在此链上转账。"},
	"network.bitcoin":     {"Bitcoin (%[1]s)", "比特币（%[1]s）"},
	"token":               {"Token contract", "代币合约"},
	"link":                {"Payment link", "支付链接"},
	"link.open":           {"Open in wallet", "在钱包中打开"},
	"qr":                  {"Scan with your wallet", "用钱包扫码"},
	"rate":                {"Rate", "汇率"},
	"copy":                {"Copy", "复制"},
	"copied":              {"Copied", "已复制"},
	"intent":              {"Paying through the PaymentRouter contract (for wallets that call it)", "通过 PaymentRouter 合约支付（适用于支持调用合约的钱包）"},
	"intent.router":       {"Router contract", "路由合约"},
	"intent.chain":        {"Chain id", "链 ID"},
	"intent.id":           {"Intent id", "意图 ID"},
	"intent.token":        {"Token (zero address: ether)", "代币（零地址：以太币）"},
	"intent.amount":       {"Amount (smallest units)", "金额（最小单位）"},
	"intent.fee":          {"Fee (smallest units)", "手续费（最小单位）"},
	"intent.recipient":    {"Recipient", "收款方"},
	"intent.feeRecipient": {"Fee recipient", "手续费收款方"},
	"intent.deadline":     {"Deadline", "截止时间"},
	"intent.signature":    {"Signature", "签名"},
	"balance.intro":       {"Pay at once from your Chengdui balance.", "使用您的承兑账户余额立即支付。"},
	"balance.user":        {"Logged in as %[1]s", "当前登录：%[1]s"},
	"balance.asset":       {"Pay in", "支付币种"},
	"balance.option":      {"%[1]s %[2]s (you hold %[3]s)", "%[1]s %[2]s（余额 %[3]s）"},
	"balance.pay":         {"Pay from my balance", "用余额支付"},
	"balance.login":       {"Log in to pay from your balance", "登录后使用余额支付"},
	"balance.loginhint":   {"After logging in, come back to this page.", "登录后请返回本页面。"},
	"balance.none":        {"Paying from a balance is not available on this server.", "本服务器不支持余额支付。"},
	"balance.topup":       {"A top-up invoice is paid on chain: pick another method.", "充值账单需链上支付，请选择其他方式。"},
	"processing":          {"Your payment was received. It is waiting for confirmation on the blockchain; this page updates by itself.", "已收到您的付款，正在等待区块链确认，本页面会自动更新。"},
	"settled":             {"Paid. Thank you!", "支付成功，谢谢！"},
	"settled.return":      {"Return to the store", "返回商户"},
	"settled.redirecting": {"Taking you back to the store…", "正在返回商户…"},
	"expired":             {"This invoice expired. Do not pay it. If you already sent a payment, contact the store.", "该账单已过期，请勿再支付。如您已付款，请联系商户。"},
	"invalid":             {"This invoice is invalid. Do not pay it; contact the store.", "该账单无效，请勿支付，并联系商户。"},
	"live":                {"This page updates by itself when a payment arrives.", "收到付款后本页面会自动更新。"},
	"language":            {"Language", "语言"},
	"notfound.title":      {"Invoice not found", "找不到该账单"},
	"notfound.text":       {"Check the link you were given, or ask the store for a new one.", "请检查链接是否正确，或向商户索取新的链接。"},
	"err.csrf":            {"This form expired. Reload the page and try again.", "表单已过期，请刷新页面后重试。"},
	"err.login":           {"Log in to pay from your balance.", "请先登录再使用余额支付。"},
	"err.balance":         {"Your %[1]s balance is too low to pay this invoice. Nothing was paid.", "您的 %[1]s 余额不足以支付该账单，未扣款。"},
	"err.expired":         {"This invoice has expired. Nothing was paid.", "该账单已过期，未扣款。"},
	"err.paid":            {"This invoice is already paid. Nothing more was charged.", "该账单已支付，未重复扣款。"},
	"err.closed":          {"This invoice can no longer be paid. Nothing was paid.", "该账单已无法支付，未扣款。"},
	"err.asset":           {"This invoice cannot be paid from a balance in that currency. Nothing was paid.", "该账单不能用此币种的余额支付，未扣款。"},
	"err.internal":        {"Something went wrong and nothing was paid. Try again in a moment.", "出现错误，未扣款。请稍后重试。"},
}

// T returns a message in l. An unknown or untranslated key is an error, so
// that a template's typo fails the render (and the tests) instead of
// showing nothing.
func (l coLang) T(key string) (string, error) { return message(coMessages, "checkout", l, key) }

// F formats a message in l.
func (l coLang) F(key string, args ...any) (string, error) {
	return formatMessage(coMessages, "checkout", l, key, args)
}

// t is F for code that knows its keys exist.
func (l coLang) t(key string, args ...any) string {
	return mustMessage(coMessages, "checkout", l, key, args)
}

// message is a page's message in a language; a key missing in either
// language fails the render.
func message(catalog map[string]coText, page string, l coLang, key string) (string, error) {
	m, ok := catalog[key]
	if !ok || m.en == "" || m.zh == "" {
		return "", fmt.Errorf("%s: no message %q in every language", page, key)
	}
	if l == coZH {
		return m.zh, nil
	}
	return m.en, nil
}

// formatMessage is message formatted with args.
func formatMessage(catalog map[string]coText, page string, l coLang, key string, args []any) (string, error) {
	f, err := message(catalog, page, l, key)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf(f, args...), nil
}

// mustMessage is formatMessage for keys the code names: a missing one is
// a bug the tests catch.
func mustMessage(catalog map[string]coText, page string, l coLang, key string, args []any) string {
	s, err := formatMessage(catalog, page, l, key, args)
	if err != nil {
		panic(err)
	}
	return s
}

// parseCoLang reads a language tag: en…, zh… (Simplified Chinese).
func parseCoLang(tag string) (coLang, bool) {
	tag = strings.ToLower(strings.TrimSpace(tag))
	switch {
	case tag == "en" || strings.HasPrefix(tag, "en-"):
		return coEN, true
	case tag == "zh" || strings.HasPrefix(tag, "zh-"):
		return coZH, true
	}
	return "", false
}

// acceptLanguage picks the checkout language an Accept-Language header
// prefers most (RFC 9110 §12.5.4), English when it names neither.
func acceptLanguage(header string) coLang {
	best, bestQ := coEN, -1.0
	for i, part := range strings.Split(header, ",") {
		if i >= 32 {
			break // a header this long is not a browser's
		}
		tag, params, _ := strings.Cut(part, ";")
		l, ok := parseCoLang(tag)
		if !ok {
			continue
		}
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || f < 0 || f > 1 {
					f = 0
				}
				q = f
			}
		}
		if q > 0 && q > bestQ {
			best, bestQ = l, q
		}
	}
	return best
}

// checkoutLang chooses the page language: ?lang= (or the form's lang), else
// the invoice's default language, else the browser's.
func checkoutLang(r *nethttp.Request, inv *invoice.Invoice) coLang {
	if l, ok := parseCoLang(r.URL.Query().Get("lang")); ok {
		return l
	}
	if r.Method == nethttp.MethodPost {
		if l, ok := parseCoLang(r.PostFormValue("lang")); ok {
			return l
		}
	}
	if inv != nil {
		if l, ok := parseCoLang(inv.Checkout.DefaultLanguage); ok {
			return l
		}
	}
	return acceptLanguage(r.Header.Get("Accept-Language"))
}

// coStatus is the status a payer should see: a New invoice past its
// expiry is Expired even before the clock's next tick records it.
func coStatus(inv invoice.Invoice, now time.Time) invoice.Status {
	if inv.Status == invoice.New && !now.Before(inv.ExpiresAt) {
		return invoice.Expired
	}
	return inv.Status
}

// coFinal reports whether the invoice will change no more as far as the
// payer is concerned: settled, invalid, or expired with its monitoring
// window over (late payments are no longer watched for).
func coFinal(inv invoice.Invoice, now time.Time) bool {
	switch coStatus(inv, now) {
	case invoice.Settled, invoice.Invalid:
		return true
	case invoice.Expired:
		return inv.Closed || !now.Before(inv.MonitoringUntil)
	}
	return false
}

// coUnits prints an asset amount in whole units, exactly, without
// trailing zeros: 46296 satoshis are "0.00046296", 10^18 wei "1".
func coUnits(a chengdui.Amount, decimals uint8) string {
	s := chengdui.FormatDecimal(a, decimals)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// coRate trims an exact decimal rate: "432000.000000000000" is "432000".
func coRate(rate string) string {
	if strings.Contains(rate, ".") {
		rate = strings.TrimRight(strings.TrimRight(rate, "0"), ".")
	}
	return rate
}

// coUnit is how an asset is named next to an amount: USDT-ERC20 is USDT.
func coUnit(asset string) string {
	unit, _, _ := strings.Cut(asset, "-")
	return unit
}

// coMethodLabel names a payment method in l.
func coMethodLabel(l coLang, id string) string {
	if s, err := l.T("method." + id); err == nil {
		return s
	}
	return id
}

// coStatusJSON is an invoice's state for the page's script, the event
// stream and status.json. Amounts are exact decimals in whole units.
type coStatusJSON struct {
	ID               string             `json:"id"`
	Status           invoice.Status     `json:"status"` // as the payer sees it (New past expiry is Expired)
	AdditionalStatus invoice.Additional `json:"additionalStatus"`
	// Final: the status will not change any more; the stream ends.
	Final    bool   `json:"final"`
	TopUp    bool   `json:"topUp"`
	Currency string `json:"currency"`
	Amount   string `json:"amount"`
	Paid     string `json:"paid"` // worth of the valid payments in Currency
	// ExpiresAt and SecondsLeft by the server's clock.
	ExpiresAt             time.Time      `json:"expiresAt"`
	SecondsLeft           int64          `json:"secondsLeft"`
	Methods               []coMethodJSON `json:"methods"`
	RedirectURL           string         `json:"redirectURL,omitempty"`
	RedirectAutomatically bool           `json:"redirectAutomatically"`
	// Lang and the texts in it; Method is the method chosen with
	// ?method=, Progress its "paid X of Y" line and QR its payment link as
	// a QR code (data: PNG).
	Lang           coLang `json:"lang"`
	StatusText     string `json:"statusText"`
	AdditionalText string `json:"additionalText"`
	Method         string `json:"method"`
	Progress       string `json:"progress"`
	QR             string `json:"qr,omitempty"`
}

// coMethodJSON is one payment method's amounts.
type coMethodJSON struct {
	ID    string `json:"id"`
	Asset string `json:"asset,omitempty"`
	Unit  string `json:"unit,omitempty"`
	// Amount is the whole invoice in Asset; Paid what was paid through
	// this method; TotalPaid every valid payment in Asset; Due what is
	// left to pay in Asset.
	Amount    string `json:"amount,omitempty"`
	Paid      string `json:"paid,omitempty"`
	TotalPaid string `json:"totalPaid,omitempty"`
	Due       string `json:"due,omitempty"`
	Link      string `json:"link,omitempty"`
}

// coState is what the page and the stream are built from.
type coState struct {
	view   invoice.View
	now    time.Time
	lang   coLang
	method string // chosen method id
}

// coChooseMethod picks the method to show: the requested one if the
// invoice has it, else the invoice's default, else its first.
func coChooseMethod(inv invoice.Invoice, requested string) string {
	if _, ok := inv.Method(requested); ok {
		return requested
	}
	if _, ok := inv.Method(inv.Checkout.DefaultPaymentMethod); ok {
		return inv.Checkout.DefaultPaymentMethod
	}
	if len(inv.Methods) > 0 {
		return inv.Methods[0].ID
	}
	return ""
}

// chosen returns the chosen method's view.
func (st coState) chosen() (invoice.MethodView, bool) {
	for _, m := range st.view.Methods {
		if m.ID == st.method {
			return m, true
		}
	}
	return invoice.MethodView{}, false
}

// progress is the "paid X of Y, Z left" line, in the chosen method's asset
// (or, paying from a balance, the invoice currency); "" unless the invoice
// is awaiting the rest of a partial payment.
func (st coState) progress() string {
	v := st.view
	if v.TopUp || v.Paid.IsZero() || coStatus(v.Invoice, st.now) != invoice.New {
		return ""
	}
	if m, ok := st.chosen(); ok && m.Quote.Asset != "" {
		d := m.Quote.Decimals
		return st.lang.t("progress", coUnits(m.TotalPaid, d), coUnits(m.Quote.Due, d), coUnits(m.Due, d), coUnit(m.Quote.Asset))
	}
	left, _ := chengdui.SubAmounts(v.Amount, v.Paid)
	d := v.Decimals
	return st.lang.t("progress", chengdui.FormatDecimal(v.Paid, d), chengdui.FormatDecimal(v.Amount, d), chengdui.FormatDecimal(left, d), v.Currency)
}

func (st coState) statusText() string {
	return st.lang.t("status." + string(coStatus(st.view.Invoice, st.now)))
}

func (st coState) additionalText() string {
	if s, err := st.lang.T("add." + string(st.view.Additional)); err == nil {
		return s
	}
	return ""
}

func (st coState) secondsLeft() int64 {
	if left := st.view.ExpiresAt.Sub(st.now); left > 0 {
		return int64(left / time.Second)
	}
	return 0
}

// json builds the status document.
func (st coState) json() coStatusJSON {
	v := st.view
	out := coStatusJSON{ID: v.ID, Status: coStatus(v.Invoice, st.now), AdditionalStatus: v.Additional, Final: coFinal(v.Invoice, st.now),
		TopUp: v.TopUp, Currency: v.Currency, Amount: chengdui.FormatDecimal(v.Amount, v.Decimals), Paid: chengdui.FormatDecimal(v.Paid, v.Decimals),
		ExpiresAt: v.ExpiresAt, SecondsLeft: st.secondsLeft(), RedirectURL: v.Checkout.RedirectURL, RedirectAutomatically: v.Checkout.RedirectAutomatically,
		Lang: st.lang, StatusText: st.statusText(), AdditionalText: st.additionalText(), Method: st.method, Progress: st.progress(),
		Methods: []coMethodJSON{}}
	for _, m := range v.Methods {
		mj := coMethodJSON{ID: m.ID, Link: m.Link}
		if q := m.Quote; q.Asset != "" {
			mj.Asset, mj.Unit = q.Asset, coUnit(q.Asset)
			mj.Amount, mj.Paid = coUnits(q.Due, q.Decimals), coUnits(m.Paid, q.Decimals)
			mj.TotalPaid, mj.Due = coUnits(m.TotalPaid, q.Decimals), coUnits(m.Due, q.Decimals)
		}
		out.Methods = append(out.Methods, mj)
		if m.ID == st.method && m.Link != "" {
			out.QR = string(qrDataURL(m.Link))
		}
	}
	return out
}

// coValidID keeps obviously bad ids (the path is outside input) away from
// the store: invoice ids are short base58 strings.
func coValidID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// coLoad reads an invoice and its payments. Codes: ENotFound.
func (s *Server) coLoad(ctx context.Context, id string) (invoice.View, error) {
	if !coValidID(id) {
		return invoice.View{}, chengdui.Errorf(chengdui.ENotFound, "no invoice %q", coClipID(id))
	}
	inv, err := s.cfg.Invoices.Invoice(ctx, id)
	if err != nil {
		return invoice.View{}, err
	}
	return s.cfg.Invoices.View(ctx, inv)
}

func coClipID(id string) string {
	if len(id) > 64 {
		return id[:64] + "…"
	}
	return id
}

// coStoreName names an invoice's store; the store id when it cannot be
// looked up (the name is a courtesy, not worth failing the page for).
func (s *Server) coStoreName(ctx context.Context, storeID string) string {
	for _, src := range []any{s.cfg.Store, s.cfg.Merchants} {
		if stores, ok := src.(invoice.Stores); ok {
			st, err := stores.Store(ctx, storeID)
			if err == nil && st.Name != "" {
				return st.Name
			}
			if err != nil && chengdui.ErrorCode(err) != chengdui.ENotFound {
				s.log.WarnContext(ctx, "checkout: store name", slog.String("store", storeID), slog.Any("err", err))
			}
		}
	}
	return storeID
}

// coPage is the checkout template's data.
type coPage struct {
	L, Lang   coLang
	Nonce     string
	ID        string
	StoreName string
	OrderID   string
	Amount    string
	Currency  string
	TopUp     bool
	Paid      string
	// Status is as the payer sees it; Additional its detail in words.
	Status         invoice.Status
	StatusText     string
	AdditionalText string
	Progress       string
	Final          bool
	ExpiresAt      string // printed, UTC
	ExpiresISO     string
	TimeLeft       string // at render time, m:ss
	Tabs           []coTab
	Method         coMethod
	LangLinks      []coTab
	Error          string
	RedirectURL    string
	// AutoRedirect: settled, and the merchant asked to be returned to
	// at once (a meta refresh, for pages without script too).
	AutoRedirect          bool
	RedirectAutomatically bool
	// Paying from a balance.
	BalanceAvailable bool // the server has wallets and the invoice a BALANCE method
	LoggedIn         bool
	UserEmail        string
	CSRF             string
	Assets           []coAsset
	Client           coClient
}

// coTab is a link of the method picker or the language switch.
type coTab struct {
	Label   string
	Href    string
	Current bool
	Lang    coLang
}

// coMethod is the chosen payment method as the page shows it.
type coMethod struct {
	ID, Label   string
	Balance     bool
	Unit        string
	Due         string // left to pay, whole units
	Rate        string
	Destination string
	Network     string
	Token       string
	Link        template.URL // bitcoin:/ethereum: URIs the template would otherwise refuse
	LinkText    string
	QR          template.URL
	Intent      *coIntent
}

// coIntent is a router intent, printed for wallets that call the router.
type coIntent struct {
	Router, ID, Token, Amount, Fee, Recipient, FeeRecipient, Signature string
	ChainID                                                            uint64
	Deadline                                                           string
}

// coAsset is an option of the pay-from-balance form.
type coAsset struct {
	Asset, Label string
	Selected     bool
}

// coClient configures the page's script.
type coClient struct {
	Events      string `json:"events"`
	SecondsLeft int64  `json:"secondsLeft"`
	Final       bool   `json:"final"`
	Copied      string `json:"copied"`
}

// coHref is the page's URL with a method and a language.
func coHref(id, method string, lang coLang) string {
	q := url.Values{}
	if method != "" {
		q.Set("method", method)
	}
	q.Set("lang", string(lang))
	return "/i/" + url.PathEscape(id) + "?" + q.Encode()
}

// coClock prints a duration as h:mm:ss or m:ss.
func coClock(secs int64) string {
	h, m, sec := secs/3600, secs%3600/60, secs%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, sec)
	}
	return fmt.Sprintf("%d:%02d", m, sec)
}

const coTimeLayout = "2006-01-02 15:04:05 UTC"

// coPage builds the template data; user is the logged-in visitor, if any.
func (s *Server) coPage(ctx context.Context, w nethttp.ResponseWriter, r *nethttp.Request, st coState, user *chengdui.User) coPage {
	v, l := st.view, st.lang
	status := coStatus(v.Invoice, st.now)
	p := coPage{L: l, Lang: l, ID: v.ID, StoreName: s.coStoreName(ctx, v.StoreID), OrderID: v.OrderID,
		Amount: chengdui.FormatDecimal(v.Amount, v.Decimals), Currency: v.Currency, TopUp: v.TopUp,
		Paid: chengdui.FormatDecimal(v.Paid, v.Decimals), Status: status, StatusText: st.statusText(),
		AdditionalText: st.additionalText(), Progress: st.progress(), Final: coFinal(v.Invoice, st.now),
		ExpiresAt: v.ExpiresAt.UTC().Format(coTimeLayout), ExpiresISO: v.ExpiresAt.UTC().Format(time.RFC3339),
		TimeLeft: coClock(st.secondsLeft()), RedirectURL: v.Checkout.RedirectURL, RedirectAutomatically: v.Checkout.RedirectAutomatically,
		AutoRedirect: status == invoice.Settled && v.Checkout.RedirectURL != "" && v.Checkout.RedirectAutomatically}
	for _, m := range v.Methods {
		p.Tabs = append(p.Tabs, coTab{Label: coMethodLabel(l, m.ID), Href: coHref(v.ID, m.ID, l), Current: m.ID == st.method})
	}
	for _, other := range []struct {
		lang  coLang
		label string
	}{{coEN, "English"}, {coZH, "简体中文"}} {
		p.LangLinks = append(p.LangLinks, coTab{Label: other.label, Href: coHref(v.ID, st.method, other.lang), Current: other.lang == l, Lang: other.lang})
	}
	p.Client = coClient{SecondsLeft: st.secondsLeft(), Final: p.Final, Copied: l.t("copied"),
		Events: "/i/" + url.PathEscape(v.ID) + "/events?" + url.Values{"lang": {string(l)}, "method": {st.method}}.Encode()}

	if mv, ok := st.chosen(); ok {
		m := coMethod{ID: mv.ID, Label: coMethodLabel(l, mv.ID), Balance: mv.ID == invoice.MethodBalance}
		if q := mv.Quote; q.Asset != "" {
			m.Unit, m.Rate = coUnit(q.Asset), coRate(q.Rate)
			if !v.TopUp {
				m.Due = coUnits(mv.Due, q.Decimals)
			}
		}
		m.Destination = mv.Destination
		switch {
		case mv.ChainID != 0:
			m.Network = l.t("network.evm", mv.ChainID)
		case mv.Network != "":
			m.Network = l.t("network.bitcoin", mv.Network)
		}
		m.Token = mv.Token
		if mv.Link != "" {
			m.Link, m.LinkText, m.QR = template.URL(mv.Link), mv.Link, qrDataURL(mv.Link)
		}
		// The intent pays the whole amount: offered only while nothing
		// was paid, or it would overpay.
		if in := mv.Intent; in != nil && v.Paid.IsZero() && len(v.Payments) == 0 {
			m.Intent = &coIntent{Router: in.Router, ChainID: in.ChainID, ID: in.ID, Token: in.Token, Amount: in.Amount.String(),
				Fee: in.Fee.String(), Recipient: in.Recipient, FeeRecipient: in.FeeRecipient, Signature: in.Signature,
				Deadline: strconv.FormatInt(in.Deadline, 10) + " (" + time.Unix(in.Deadline, 0).UTC().Format(coTimeLayout) + ")"}
		}
		p.Method = m
	}

	if _, ok := v.Method(invoice.MethodBalance); ok && s.cfg.Wallets != nil && !v.TopUp {
		p.BalanceAvailable = true
		if user != nil {
			p.LoggedIn, p.UserEmail, p.CSRF = true, user.Email, s.csrf(w, r)
			p.Assets = s.coAssets(ctx, st, user.ID)
		}
	}
	return p
}

// coAssets lists the assets a balance payment may be made in, with what is
// left to pay and what the payer holds; the first one the payer holds
// enough of is selected.
func (s *Server) coAssets(ctx context.Context, st coState, userID string) []coAsset {
	held := map[string]chengdui.Amount{}
	if wallet, err := s.cfg.Wallets.Wallet(ctx, userID); err == nil {
		for _, b := range wallet.Balances {
			if a, err := chengdui.ParseUnits(b.AvailableUnits); err == nil {
				held[b.Asset] = a
			}
		}
	} else {
		s.log.WarnContext(ctx, "checkout: payer's wallet", slog.Any("err", err))
	}
	var out []coAsset
	selected := -1
	for _, q := range st.view.Quotes {
		due, err := invoice.Remaining(st.view.Invoice, st.view.Payments, q.Asset)
		if err != nil {
			continue
		}
		out = append(out, coAsset{Asset: q.Asset,
			Label: st.lang.t("balance.option", coUnits(due, q.Decimals), coUnit(q.Asset), coUnits(held[q.Asset], q.Decimals))})
		if selected < 0 && held[q.Asset].Cmp(due) >= 0 {
			selected = len(out) - 1
		}
	}
	if selected >= 0 {
		out[selected].Selected = true
	}
	return out
}

// coUser returns the visitor's user when they are logged in.
func (s *Server) coUser(r *nethttp.Request) *chengdui.User {
	if s.cfg.Wallets == nil {
		return nil
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	u, err := s.cfg.Wallets.Authenticate(r.Context(), c.Value)
	if err != nil {
		if chengdui.ErrorCode(err) != chengdui.EUnauthorized {
			s.log.WarnContext(r.Context(), "checkout: session", slog.Any("err", err))
		}
		return nil
	}
	return &u
}

// coNonce returns a fresh CSP nonce.
func coNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b) // nothing for the template to escape
}

// coRender writes a checkout template with the checkout's security
// headers: only this response's inline script and style run, and the
// page may not be framed.
func (s *Server) coRender(w nethttp.ResponseWriter, r *nethttp.Request, status int, name string, p coPage) {
	p.Nonce = coNonce()
	var buf bytes.Buffer
	if err := s.index.ExecuteTemplate(&buf, name, p); err != nil {
		s.pageError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+p.Nonce+"'; style-src 'nonce-"+p.Nonce+"'; "+
		"img-src data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// coNotFound answers an unknown invoice with a page in both languages.
func (s *Server) coNotFound(w nethttp.ResponseWriter, r *nethttp.Request) {
	s.coRender(w, r, nethttp.StatusNotFound, "checkout-notfound", coPage{L: checkoutLang(r, nil), Lang: checkoutLang(r, nil)})
}

// handleCheckout renders the checkout page.
func (s *Server) handleCheckout(w nethttp.ResponseWriter, r *nethttp.Request) {
	s.coShow(w, r, nethttp.StatusOK, "", "")
}

// coShow renders the page, with a refusal's message when errKey is set.
func (s *Server) coShow(w nethttp.ResponseWriter, r *nethttp.Request, status int, errKey string, errArg string) {
	ctx := r.Context()
	v, err := s.coLoad(ctx, r.PathValue("invoiceId"))
	if chengdui.ErrorCode(err) == chengdui.ENotFound {
		s.coNotFound(w, r)
		return
	} else if err != nil {
		s.pageError(w, r, err)
		return
	}
	requested := r.URL.Query().Get("method")
	if r.Method == nethttp.MethodPost {
		requested = invoice.MethodBalance
	}
	st := coState{view: v, now: s.cfg.Now(), lang: checkoutLang(r, &v.Invoice), method: coChooseMethod(v.Invoice, requested)}
	p := s.coPage(ctx, w, r, st, s.coUser(r))
	if errKey != "" {
		if errArg != "" {
			p.Error = st.lang.t(errKey, errArg)
		} else {
			p.Error = st.lang.t(errKey)
		}
	}
	s.coRender(w, r, status, "checkout.html", p)
}

// handleCheckoutStatus answers the invoice's status as JSON.
func (s *Server) handleCheckoutStatus(w nethttp.ResponseWriter, r *nethttp.Request) {
	v, err := s.coLoad(r.Context(), r.PathValue("invoiceId"))
	if err != nil {
		Error(w, r, err)
		return
	}
	st := coState{view: v, now: s.cfg.Now(), lang: checkoutLang(r, &v.Invoice), method: coChooseMethod(v.Invoice, r.URL.Query().Get("method"))}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, nethttp.StatusOK, st.json())
}

// handleCheckoutEvents streams the invoice's status as Server-Sent Events:
// an event "status" now and at every change, until the status is final
// or the client goes away.
func (s *Server) handleCheckoutEvents(w nethttp.ResponseWriter, r *nethttp.Request) {
	ctx := r.Context()
	id := r.PathValue("invoiceId")
	if !coValidID(id) {
		Error(w, r, chengdui.Errorf(chengdui.ENotFound, "no invoice %q", coClipID(id)))
		return
	}
	// Watch before the first read, so no change falls in between.
	changes, stop := s.cfg.Invoices.Watch(id)
	defer stop()
	v, err := s.coLoad(ctx, id)
	if err != nil {
		Error(w, r, err)
		return
	}
	lang := checkoutLang(r, &v.Invoice)
	method := coChooseMethod(v.Invoice, r.URL.Query().Get("method"))

	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(nethttp.StatusOK)
	rc := nethttp.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives any server write timeout

	var last []byte // the last status sent, without the countdown
	send := func(v invoice.View) (final bool, err error) {
		doc := coState{view: v, now: s.cfg.Now(), lang: lang, method: method}.json()
		left := doc.SecondsLeft
		doc.SecondsLeft = 0
		key, err := json.Marshal(doc)
		if err != nil {
			return false, err
		}
		if bytes.Equal(key, last) {
			return doc.Final, nil
		}
		last = key
		doc.SecondsLeft = left
		body, err := json.Marshal(doc)
		if err != nil {
			return false, err
		}
		if _, err := fmt.Fprintf(w, "event: status\ndata: %s\n\n", body); err != nil {
			return false, err
		}
		return doc.Final, rc.Flush()
	}
	if _, err := fmt.Fprintf(w, "retry: %d\n\n", checkoutRetryMs); err != nil {
		return
	}
	if final, err := send(v); err != nil || final {
		return
	}
	poll := time.NewTicker(checkoutPoll)
	defer poll.Stop()
	heartbeat := time.NewTicker(checkoutHeartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.streamsDone:
			return // the server is shutting down: the page's EventSource reconnects elsewhere
		case <-heartbeat.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			if rc.Flush() != nil {
				return
			}
			continue
		case <-changes:
		case <-poll.C:
		}
		v, err := s.coLoad(ctx, id)
		if err != nil {
			if ctx.Err() == nil {
				s.log.WarnContext(ctx, "checkout: event stream reload", slog.String("invoice", id), slog.Any("err", err))
			}
			continue // the next poll tries again
		}
		if final, err := send(v); err != nil || final {
			return
		}
	}
}

// handleCheckoutPay pays the invoice from the logged-in visitor's balance,
// then shows the page again: updated, or with why nothing was paid.
func (s *Server) handleCheckoutPay(w nethttp.ResponseWriter, r *nethttp.Request) {
	ctx := r.Context()
	r.Body = nethttp.MaxBytesReader(w, r.Body, maxBody)
	id := r.PathValue("invoiceId")
	if !coValidID(id) {
		s.coNotFound(w, r)
		return
	}
	if !s.checkCSRF(r) {
		s.coShow(w, r, nethttp.StatusForbidden, "err.csrf", "")
		return
	}
	user := s.coUser(r)
	if user == nil {
		s.coShow(w, r, nethttp.StatusUnauthorized, "err.login", "")
		return
	}
	asset := r.PostFormValue("asset")
	_, err := s.cfg.Invoices.PayFromBalance(ctx, user.ID, id, asset)
	if err == nil {
		var lang coLang
		if l, ok := parseCoLang(r.PostFormValue("lang")); ok {
			lang = l
		} else {
			lang = checkoutLang(r, nil)
		}
		nethttp.Redirect(w, r, coHref(id, invoice.MethodBalance, lang), nethttp.StatusSeeOther)
		return
	}
	status, _ := resolveError(r, err)
	switch code := chengdui.ErrorCode(err); code {
	case chengdui.ENotFound:
		s.coNotFound(w, r)
	case chengdui.EExceedsCredits:
		s.coShow(w, r, status, "err.balance", coUnit(asset))
	case chengdui.EInvalid:
		s.coShow(w, r, status, "err.asset", "")
	case chengdui.EConflict:
		key := "err.closed"
		if v, lerr := s.coLoad(ctx, id); lerr == nil {
			switch coStatus(v.Invoice, s.cfg.Now()) {
			case invoice.Expired:
				key = "err.expired"
			case invoice.Processing, invoice.Settled:
				key = "err.paid"
			}
		}
		s.coShow(w, r, status, key, "")
	default:
		s.coShow(w, r, status, "err.internal", "")
	}
}
