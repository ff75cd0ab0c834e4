package http

import (
	"bytes"
	"embed"
	"html/template"
	nethttp "net/http"
	"slices"

	"chengdui"
)

//go:embed templates/*.html
var templateFS embed.FS

// parseTemplates parses the embedded templates. They are part of the
// binary, so a parse error is a bug the tests catch, not a runtime fault.
func parseTemplates() *template.Template {
	return template.Must(template.ParseFS(templateFS, "templates/*.html"))
}

// latestTransfers is how many transfers the index page shows.
const latestTransfers = 20

type indexData struct {
	Version   string
	Head      headJSON
	Assets    []chengdui.Asset
	Transfers []transferJSON // newest first
}

// handleIndex renders the public overview: tree head, assets and the latest
// transfers.
func (s *Server) handleIndex(w nethttp.ResponseWriter, r *nethttp.Request) {
	ctx := r.Context()
	head, err := s.cfg.Ledger.Head(ctx)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	assets, err := s.cfg.Store.Assets(ctx)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	var after uint64
	if head.Size > latestTransfers {
		after = head.Size - latestTransfers
	}
	ts, err := s.cfg.Ledger.Transfers(ctx, chengdui.TransferFilter{AfterSeq: after, Limit: latestTransfers})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	data := indexData{
		Version:   s.cfg.Version,
		Head:      newHeadJSON(head),
		Assets:    assets,
		Transfers: newTransfersJSON(ts, decimalsByAsset(assets)),
	}
	slices.Reverse(data.Transfers)

	var buf bytes.Buffer
	if err := s.index.ExecuteTemplate(&buf, "index.html", data); err != nil {
		s.pageError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(nethttp.StatusOK)
	w.Write(buf.Bytes())
}

// pageError answers a page request with a plain-text error, with the same
// status and logging as Error.
func (s *Server) pageError(w nethttp.ResponseWriter, r *nethttp.Request, err error) {
	status, body := resolveError(r, err)
	nethttp.Error(w, body.Message, status)
}
