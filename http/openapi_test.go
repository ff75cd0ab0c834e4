package http

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"math/big"
	nethttp "net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"chengdui"
	"chengdui/invoice"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"
)

// notAPI are route patterns under /api/ that are not operations: the
// catch-all that answers unknown API paths in JSON.
var notAPI = []string{"GET /api/"}

// loadOpenAPI parses and validates the embedded document.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openAPIDoc)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()))
	return doc
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc := loadOpenAPI(t)
	require.Equal(t, "3.0.3", doc.OpenAPI)
	ids := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			require.NotEmpty(t, op.OperationID, "%s %s", method, path)
			require.NotEmpty(t, op.Summary, "%s %s", method, path)
			if prev, dup := ids[op.OperationID]; dup {
				t.Errorf("operationId %s used by %s and %s %s", op.OperationID, prev, method, path)
			}
			ids[op.OperationID] = method + " " + path
		}
	}
}

// fullServer is a Server with every optional dependency set, so that
// every route is registered. Nothing is called: the dependencies are
// empty.
func fullServer() *Server {
	type wallets struct{ chengdui.Wallets }
	type merchants struct{ chengdui.Merchants }
	type deposits struct{ Deposits }
	type withdrawals struct{ Withdrawals }
	type webhooks struct{ Webhooks }
	type payouts struct{ Payouts }
	type refunds struct{ Refunds }
	type settlement struct{ Settlement }
	return NewServer(Config{
		Wallets: wallets{}, Merchants: merchants{}, Deposits: deposits{}, Withdrawals: withdrawals{},
		Invoices: &invoice.Service{}, Webhooks: webhooks{}, Payouts: payouts{}, Refunds: refunds{}, Settlement: settlement{},
		AssetFaucet: func(context.Context, string, string, string) (string, error) { return "", nil },
		Faucet:      func(context.Context, string, *big.Int) (string, error) { return "", nil },
		Balance:     func(context.Context, string) (*big.Int, error) { return nil, nil },
	})
}

// patternRE matches a ServeMux pattern with a method.
var patternRE = regexp.MustCompile(`^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) (/\S*)$`)

// sourcePatterns collects every string literal in the package's non-test
// files that reads as a method pattern ("GET /api/v1/…") and is passed to
// a call, as routes are registered (mux.HandleFunc, mux.Handle).
func sourcePatterns(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	var out []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err == nil && patternRE.MatchString(s) {
				out = append(out, s)
			}
			return true
		})
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// concrete fills a pattern's wildcards so that a request can be routed.
func concrete(path string) string {
	return regexp.MustCompile(`\{([A-Za-z]+)(\.\.\.)?\}`).ReplaceAllString(path, "x$1")
}

// routed is the pattern the server's mux picks for method and path.
func routed(t *testing.T, mux *nethttp.ServeMux, method, path string) string {
	t.Helper()
	req := httptest.NewRequest(method, concrete(path), nil)
	_, pattern := mux.Handler(req)
	return pattern
}

func TestOpenAPICoversEveryRoute(t *testing.T) {
	doc := loadOpenAPI(t)
	mux := nethttp.NewServeMux()
	fullServer().routes(mux)

	patterns := sourcePatterns(t)
	var api []string
	for _, p := range patterns {
		if _, path, _ := strings.Cut(p, " "); strings.HasPrefix(path, "/api/") && !slices.Contains(notAPI, p) {
			api = append(api, p)
		}
	}
	// The parse must see the routes of every file that registers some.
	for _, want := range []string{"GET /api/v1/ledger/assets", "POST /api/v1/withdrawals", "POST /api/v1/stores/{storeId}/invoices",
		"GET /api/v1/webhooks/{webhookId}/deliveries/{deliveryId}/request", "GET /api/openapi.yaml"} {
		require.Contains(t, api, want)
	}

	// Every route is registered as written, and documented.
	for _, p := range api {
		method, path, _ := strings.Cut(p, " ")
		require.Equal(t, p, routed(t, mux, method, path), "the server registers %s", p)
		item := doc.Paths.Value(path)
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("%s is not in openapi.yaml", p)
		}
	}

	// Every documented operation is a route of its own.
	n := 0
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			n++
			require.Equal(t, method+" "+path, routed(t, mux, method, path), "openapi.yaml documents %s %s", method, path)
			require.Contains(t, api, method+" "+path)
		}
	}
	require.Equal(t, len(api), n)
}

func TestOpenAPIServed(t *testing.T) {
	rec := httptest.NewRecorder()
	fullServer().Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/openapi.yaml", nil))
	require.Equal(t, 200, rec.Code)
	require.Equal(t, "application/yaml; charset=utf-8", rec.Header().Get("Content-Type"))
	disk, err := os.ReadFile("openapi.yaml")
	require.NoError(t, err)
	require.Equal(t, string(disk), rec.Body.String())
	_, err = openapi3.NewLoader().LoadFromData(rec.Body.Bytes())
	require.NoError(t, err)
}
