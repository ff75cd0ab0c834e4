package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	nethttp "net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"chengdui"
	chttp "chengdui/http"
	"chengdui/ledger"
	"chengdui/sqlite"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"lukechampine.com/uint128"
)

// harness is a Server on a real SQLite ledger behind a real HTTP listener.
type harness struct {
	url string
	db  *sqlite.DB
	eng *ledger.Engine
	log *syncBuffer
}

// syncBuffer collects log output written by server goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newHarness starts a server; edit adjusts its Config before NewServer.
func newHarness(t *testing.T, edit func(*chttp.Config)) *harness {
	t.Helper()
	return newHarnessWith(t, func(_ *sqlite.DB, _ *ledger.Engine, c *chttp.Config) {
		if edit != nil {
			edit(c)
		}
	})
}

// newHarnessWith is newHarness for services built on the database and
// engine.
func newHarnessWith(t *testing.T, edit func(*sqlite.DB, *ledger.Engine, *chttp.Config)) *harness {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "x.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	_, err = db.Migrate(ctx)
	require.NoError(t, err)
	eng := ledger.New(db, ledger.Options{ExpiryInterval: -1})
	require.NoError(t, eng.Start(ctx))
	t.Cleanup(eng.Stop)

	logs := &syncBuffer{}
	cfg := chttp.Config{
		Ledger:   eng,
		Store:    db,
		Ready:    db.Ping,
		Registry: prometheus.NewRegistry(),
		Logger:   slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Version:  "test",
	}
	edit(db, eng, &cfg)
	srv := httptest.NewServer(chttp.NewServer(cfg).Handler())
	t.Cleanup(srv.Close)
	return &harness{url: srv.URL, db: db, eng: eng, log: logs}
}

// seed creates BTC, accounts alice, bob and mint, and 25 transfers: t01
// mints 1 BTC to alice, t02..t25 each move 0.01 BTC from alice to bob.
func (h *harness) seed(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	_, err := h.eng.CreateAsset(ctx, chengdui.Asset{Code: "BTC", Network: "bitcoin", Decimals: 8})
	require.NoError(t, err)
	for _, a := range []chengdui.Account{
		{ID: "alice", Asset: "BTC", Flags: chengdui.DebitsMustNotExceedCredits},
		{ID: "bob", Asset: "BTC", Flags: chengdui.DebitsMustNotExceedCredits},
		{ID: "mint", Asset: "BTC"},
	} {
		_, err := h.eng.CreateAccount(ctx, a)
		require.NoError(t, err)
	}
	ts := []chengdui.Transfer{{ID: "t01", DebitAccountID: "mint", CreditAccountID: "alice", Amount: uint128.From64(100_000_000)}}
	for i := 2; i <= 25; i++ {
		ts = append(ts, chengdui.Transfer{ID: fmt.Sprintf("t%02d", i), DebitAccountID: "alice", CreditAccountID: "bob", Amount: uint128.From64(1_000_000)})
	}
	res, err := h.eng.CreateTransfers(ctx, ts)
	require.NoError(t, err)
	for _, r := range res {
		require.NoError(t, r.Err)
	}
}

// get fetches path and returns the status and body.
func (h *harness) get(t *testing.T, path string) (int, []byte) {
	t.Helper()
	return h.do(t, nethttp.MethodGet, path)
}

func (h *harness) do(t *testing.T, method, path string) (int, []byte) {
	t.Helper()
	req, err := nethttp.NewRequest(method, h.url+path, nil)
	require.NoError(t, err)
	resp, err := nethttp.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, body
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type account struct {
	ID             string `json:"id"`
	Asset          string `json:"asset"`
	Flags          uint32 `json:"flags"`
	DebitsPending  string `json:"debits_pending"`
	DebitsPosted   string `json:"debits_posted"`
	CreditsPending string `json:"credits_pending"`
	CreditsPosted  string `json:"credits_posted"`
	Balance        string `json:"balance"`
	BalanceDecimal string `json:"balance_decimal"`
}

type transfer struct {
	Seq             uint64 `json:"seq"`
	ID              string `json:"id"`
	DebitAccountID  string `json:"debit_account_id"`
	CreditAccountID string `json:"credit_account_id"`
	Asset           string `json:"asset"`
	Amount          string `json:"amount"`
	AmountDecimal   string `json:"amount_decimal"`
	Hash            string `json:"hash"`
}

type page[T any] struct {
	Data []T    `json:"data"`
	Next string `json:"next"`
}

func decode[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(body, &v), "body: %s", body)
	return v
}

func TestRoutes(t *testing.T) {
	h := newHarness(t, nil)
	h.seed(t)

	tests := []struct {
		name   string
		method string // GET when empty
		path   string
		status int
		code   string // error code expected in the body
		check  func(t *testing.T, body []byte)
	}{
		{name: "healthz", path: "/healthz", status: 200, check: func(t *testing.T, body []byte) {
			require.JSONEq(t, `{"status":"ok"}`, string(body))
		}},
		{name: "readyz", path: "/readyz", status: 200, check: func(t *testing.T, body []byte) {
			require.JSONEq(t, `{"status":"ready"}`, string(body))
		}},
		{name: "assets", path: "/api/v1/ledger/assets", status: 200, check: func(t *testing.T, body []byte) {
			p := decode[page[chengdui.Asset]](t, body)
			require.Len(t, p.Data, 1)
			require.Equal(t, "BTC", p.Data[0].Code)
			require.Equal(t, uint8(8), p.Data[0].Decimals)
		}},
		{name: "accounts", path: "/api/v1/ledger/accounts", status: 200, check: func(t *testing.T, body []byte) {
			p := decode[page[account]](t, body)
			require.Equal(t, []string{"alice", "bob", "mint"}, ids(p.Data))
			require.Empty(t, p.Next)
		}},
		{name: "accounts first page", path: "/api/v1/ledger/accounts?limit=2", status: 200, check: func(t *testing.T, body []byte) {
			p := decode[page[account]](t, body)
			require.Equal(t, []string{"alice", "bob"}, ids(p.Data))
			require.Equal(t, "bob", p.Next)
		}},
		{name: "accounts after cursor", path: "/api/v1/ledger/accounts?after=bob&limit=2", status: 200, check: func(t *testing.T, body []byte) {
			p := decode[page[account]](t, body)
			require.Equal(t, []string{"mint"}, ids(p.Data))
			require.Empty(t, p.Next)
		}},
		{name: "accounts past the end", path: "/api/v1/ledger/accounts?after=zzz", status: 200, check: func(t *testing.T, body []byte) {
			require.JSONEq(t, `{"data":[],"next":""}`, string(body))
		}},
		{name: "accounts limit zero", path: "/api/v1/ledger/accounts?limit=0", status: 400, code: "invalid"},
		{name: "accounts limit too big", path: "/api/v1/ledger/accounts?limit=1001", status: 400, code: "invalid"},
		{name: "accounts limit not a number", path: "/api/v1/ledger/accounts?limit=ten", status: 400, code: "invalid"},
		{name: "accounts limit max", path: "/api/v1/ledger/accounts?limit=1000", status: 200},
		{name: "account", path: "/api/v1/ledger/accounts/alice", status: 200, check: func(t *testing.T, body []byte) {
			a := decode[account](t, body)
			require.Equal(t, account{
				ID: "alice", Asset: "BTC", Flags: uint32(chengdui.DebitsMustNotExceedCredits),
				DebitsPending: "0", DebitsPosted: "24000000", CreditsPending: "0", CreditsPosted: "100000000",
				Balance: "76000000", BalanceDecimal: "0.76000000",
			}, a)
		}},
		{name: "account with debit balance", path: "/api/v1/ledger/accounts/mint", status: 200, check: func(t *testing.T, body []byte) {
			a := decode[account](t, body)
			require.Equal(t, "-100000000", a.Balance)
			require.Equal(t, "-1.00000000", a.BalanceDecimal)
		}},
		{name: "account unknown", path: "/api/v1/ledger/accounts/nobody", status: 404, code: "account_not_found"},
		{name: "account transfers", path: "/api/v1/ledger/accounts/bob/transfers?limit=10", status: 200, check: func(t *testing.T, body []byte) {
			p := decode[page[transfer]](t, body)
			require.Len(t, p.Data, 10)
			require.Equal(t, "t02", p.Data[0].ID)
			require.Equal(t, "11", p.Next)
		}},
		{name: "account transfers unknown account", path: "/api/v1/ledger/accounts/nobody/transfers", status: 404, code: "account_not_found"},
		{name: "account transfers bad cursor", path: "/api/v1/ledger/accounts/bob/transfers?after=-1", status: 400, code: "invalid"},
		{name: "journal", path: "/api/v1/ledger/transfers", status: 200, check: func(t *testing.T, body []byte) {
			p := decode[page[transfer]](t, body)
			require.Len(t, p.Data, 25)
			require.Empty(t, p.Next)
			first := p.Data[0]
			require.Equal(t, transfer{
				Seq: 1, ID: "t01", DebitAccountID: "mint", CreditAccountID: "alice", Asset: "BTC",
				Amount: "100000000", AmountDecimal: "1.00000000", Hash: first.Hash,
			}, first)
			require.Regexp(t, `^[0-9a-f]{64}$`, first.Hash)
		}},
		{name: "journal after cursor", path: "/api/v1/ledger/transfers?after=23", status: 200, check: func(t *testing.T, body []byte) {
			p := decode[page[transfer]](t, body)
			require.Equal(t, []string{"t24", "t25"}, transferIDs(p.Data))
		}},
		{name: "journal bad cursor", path: "/api/v1/ledger/transfers?after=abc", status: 400, code: "invalid"},
		{name: "journal bad limit", path: "/api/v1/ledger/transfers?limit=-5", status: 400, code: "invalid"},
		{name: "head", path: "/api/v1/ledger/head", status: 200, check: func(t *testing.T, body []byte) {
			var head struct {
				Size       uint64 `json:"size"`
				ChainHash  string `json:"chain_hash"`
				MerkleRoot string `json:"merkle_root"`
			}
			require.NoError(t, json.Unmarshal(body, &head))
			require.Equal(t, uint64(25), head.Size)
			require.Regexp(t, `^[0-9a-f]{64}$`, head.ChainHash)
			require.Regexp(t, `^[0-9a-f]{64}$`, head.MerkleRoot)
		}},
		{name: "unknown api path", path: "/api/v1/ledger/nope", status: 404, code: "not_found"},
		{name: "unknown page", path: "/nope", status: 404},
		{name: "wrong method", method: "POST", path: "/api/v1/ledger/head", status: 405},
		{name: "metrics", path: "/metrics", status: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = nethttp.MethodGet
			}
			status, body := h.do(t, method, tt.path)
			require.Equal(t, tt.status, status, "body: %s", body)
			if tt.code != "" {
				e := decode[errorBody](t, body)
				require.Equal(t, tt.code, e.Code)
				require.NotEmpty(t, e.Message)
			}
			if tt.check != nil {
				tt.check(t, body)
			}
		})
	}
}

func ids(as []account) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

func transferIDs(ts []transfer) []string {
	out := make([]string, len(ts))
	for i, tr := range ts {
		out[i] = tr.ID
	}
	return out
}

// TestPagination walks every list by its cursor and checks nothing is
// skipped or repeated.
func TestPagination(t *testing.T) {
	h := newHarness(t, nil)
	h.seed(t)

	walk := func(t *testing.T, path string, limit int) []transfer {
		t.Helper()
		var all []transfer
		after := ""
		for pages := 0; ; pages++ {
			require.Less(t, pages, 100, "cursor does not advance")
			status, body := h.get(t, fmt.Sprintf("%s?limit=%d&after=%s", path, limit, after))
			require.Equal(t, 200, status, "body: %s", body)
			p := decode[page[transfer]](t, body)
			require.LessOrEqual(t, len(p.Data), limit)
			all = append(all, p.Data...)
			if p.Next == "" {
				return all
			}
			after = p.Next
		}
	}
	for _, limit := range []int{1, 7, 25, 1000} {
		t.Run("journal limit "+strconv.Itoa(limit), func(t *testing.T) {
			all := walk(t, "/api/v1/ledger/transfers", limit)
			require.Len(t, all, 25)
			for i, tr := range all {
				require.Equal(t, uint64(i+1), tr.Seq)
			}
		})
		t.Run("alice limit "+strconv.Itoa(limit), func(t *testing.T) {
			all := walk(t, "/api/v1/ledger/accounts/alice/transfers", limit)
			require.Len(t, all, 25) // alice is on every transfer
		})
	}
	t.Run("accounts", func(t *testing.T) {
		var got []string
		after := ""
		for {
			status, body := h.get(t, "/api/v1/ledger/accounts?limit=1&after="+after)
			require.Equal(t, 200, status)
			p := decode[page[account]](t, body)
			got = append(got, ids(p.Data)...)
			if p.Next == "" {
				break
			}
			after = p.Next
		}
		require.Equal(t, []string{"alice", "bob", "mint"}, got)
	})
}

func TestReadyz(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		message string
	}{
		{name: "driver error hidden", err: errors.New("dial tcp 10.0.0.5:5432: connection refused"), message: "not ready"},
		{name: "platform error shown", err: chengdui.Errorf(chengdui.EUnavailable, "migrations pending"), message: "migrations pending"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *chttp.Config) {
				c.Ready = func(context.Context) error { return tt.err }
			})
			status, body := h.get(t, "/readyz")
			require.Equal(t, 503, status)
			require.Equal(t, errorBody{Code: "unavailable", Message: tt.message}, decode[errorBody](t, body))

			status, _ = h.get(t, "/healthz")
			require.Equal(t, 200, status, "liveness must not depend on readiness")
		})
	}
}

func TestMetrics(t *testing.T) {
	h := newHarness(t, nil)
	h.get(t, "/healthz")
	h.get(t, "/healthz")
	h.get(t, "/api/v1/ledger/accounts/nobody")
	h.get(t, "/nope")

	status, body := h.get(t, "/metrics")
	require.Equal(t, 200, status)
	text := string(body)
	for _, want := range []string{
		`chengdui_http_requests_total{method="GET",route="GET /healthz",status="200"} 2`,
		`chengdui_http_requests_total{method="GET",route="GET /api/v1/ledger/accounts/{id}",status="404"} 1`,
		`chengdui_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`chengdui_http_request_duration_seconds_count{route="GET /healthz"} 2`,
	} {
		require.Contains(t, text, want)
	}
	require.Contains(t, h.log.String(), "route=\"GET /healthz\"", "requests are logged at debug level")
}

func TestIndex(t *testing.T) {
	t.Run("empty ledger", func(t *testing.T) {
		h := newHarness(t, nil)
		resp, err := nethttp.Get(h.url + "/")
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		require.Equal(t, 200, resp.StatusCode)
		require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
		require.Contains(t, string(body), "承兑")
		require.Contains(t, string(body), "暂无转账")
	})
	t.Run("latest transfers", func(t *testing.T) {
		h := newHarness(t, nil)
		h.seed(t)
		status, body := h.get(t, "/")
		require.Equal(t, 200, status)
		page := string(body)
		require.Contains(t, page, "Chengdui 承兑")
		require.Contains(t, page, "BTC")
		require.Contains(t, page, "0.01000000")
		require.Contains(t, page, "t25")
		require.Contains(t, page, "t06")
		require.NotContains(t, page, "t05", "only the 20 latest transfers are shown")
		require.Less(t, strings.Index(page, "t25"), strings.Index(page, "t06"), "newest first")
	})
}

// faultyLedger panics or fails where told, to test the edge's handling of
// faults no real ledger should produce.
type faultyLedger struct {
	chengdui.Ledger
}

func (faultyLedger) Head(context.Context) (chengdui.TreeHead, error) { panic("boom") }

func (faultyLedger) Account(context.Context, string) (chengdui.Account, error) {
	return chengdui.Account{}, errors.New("postgres://admin:hunter2@db/ledger: broken pipe")
}

func TestFaults(t *testing.T) {
	h := newHarness(t, func(c *chttp.Config) {
		c.Ledger = faultyLedger{Ledger: c.Ledger}
	})

	status, body := h.get(t, "/api/v1/ledger/head")
	require.Equal(t, 500, status)
	require.Equal(t, errorBody{Code: "internal", Message: "internal error"}, decode[errorBody](t, body))
	require.Contains(t, h.log.String(), "boom")

	status, body = h.get(t, "/api/v1/ledger/accounts/alice")
	require.Equal(t, 500, status)
	require.Equal(t, errorBody{Code: "internal", Message: "internal error"}, decode[errorBody](t, body))
	require.NotContains(t, string(body), "hunter2")
	require.Contains(t, h.log.String(), "broken pipe", "the real error is logged")

	status, _ = h.get(t, "/healthz")
	require.Equal(t, 200, status, "the server survives a panic")

	_, body = h.get(t, "/metrics")
	require.Contains(t, string(body), `chengdui_http_requests_total{method="GET",route="GET /api/v1/ledger/head",status="500"} 1`)
}

func TestErrorStatus(t *testing.T) {
	tests := []struct {
		err    error
		status int
		code   string
	}{
		{chengdui.Errorf(chengdui.EInvalid, "x"), 400, "invalid"},
		{chengdui.Errorf(chengdui.EInvalidAmount, "x"), 400, "invalid_amount"},
		{chengdui.Errorf(chengdui.EInvalidFlags, "x"), 400, "invalid_flags"},
		{chengdui.Errorf(chengdui.EZeroAmount, "x"), 400, "zero_amount"},
		{chengdui.Errorf(chengdui.ESameAccount, "x"), 400, "same_account"},
		{chengdui.Errorf(chengdui.EAssetMismatch, "x"), 400, "asset_mismatch"},
		{chengdui.Errorf(chengdui.ELinkedChainOpen, "x"), 400, "linked_chain_open"},
		{chengdui.Errorf(chengdui.ELinkedEventFailed, "x"), 400, "linked_event_failed"},
		{chengdui.Errorf(chengdui.ENotFound, "x"), 404, "not_found"},
		{chengdui.Errorf(chengdui.EAccountNotFound, "x"), 404, "account_not_found"},
		{chengdui.Errorf(chengdui.EAssetNotFound, "x"), 404, "asset_not_found"},
		{chengdui.Errorf(chengdui.EPendingNotFound, "x"), 404, "pending_not_found"},
		{chengdui.Errorf(chengdui.EConflict, "x"), 409, "conflict"},
		{chengdui.Errorf(chengdui.EExists, "x"), 409, "exists"},
		{chengdui.Errorf(chengdui.EIDConflict, "x"), 409, "id_conflict"},
		{chengdui.Errorf(chengdui.EPendingPosted, "x"), 409, "pending_already_posted"},
		{chengdui.Errorf(chengdui.EPendingVoided, "x"), 409, "pending_already_voided"},
		{chengdui.Errorf(chengdui.EPendingExpired, "x"), 409, "pending_expired"},
		{chengdui.Errorf(chengdui.EExceedsCredits, "x"), 422, "exceeds_credits"},
		{chengdui.Errorf(chengdui.EExceedsDebits, "x"), 422, "exceeds_debits"},
		{chengdui.Errorf(chengdui.EExceedsPendingAmount, "x"), 422, "exceeds_pending_amount"},
		{chengdui.Errorf(chengdui.EOverflow, "x"), 422, "overflow"},
		{chengdui.Errorf(chengdui.EUnauthorized, "x"), 401, "unauthorized"},
		{chengdui.Errorf(chengdui.EUnavailable, "x"), 503, "unavailable"},
		{chengdui.Errorf(chengdui.EInternal, "x"), 500, "internal"},
		{chengdui.Errorf("no_such_code", "x"), 500, "internal"},
		{errors.New("x"), 500, "internal"},
		{fmt.Errorf("wrapped: %w", chengdui.Errorf(chengdui.EExists, "x")), 409, "exists"},
		{context.DeadlineExceeded, 503, "unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			w := httptest.NewRecorder()
			chttp.Error(w, httptest.NewRequest("GET", "/", nil), tt.err)
			require.Equal(t, tt.status, w.Code)
			require.Equal(t, "application/json; charset=utf-8", w.Header().Get("Content-Type"))
			e := decode[errorBody](t, w.Body.Bytes())
			require.Equal(t, tt.code, e.Code)
			if tt.status == 500 {
				require.Equal(t, "internal error", e.Message, "internal details are never shown")
			} else if !errors.Is(tt.err, context.DeadlineExceeded) {
				require.Equal(t, chengdui.ErrorMessage(tt.err), e.Message)
			}
		})
	}
}
