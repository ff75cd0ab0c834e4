package http

import (
	_ "embed"
	nethttp "net/http"
)

// openAPIDoc is the OpenAPI 3.0 description of every /api/ route
// (openapi_test.go checks both ways that it matches the routes).
//
//go:embed openapi.yaml
var openAPIDoc []byte

// handleOpenAPI serves the API's OpenAPI document.
func (s *Server) handleOpenAPI(w nethttp.ResponseWriter, r *nethttp.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/yaml; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "public, max-age=300")
	w.WriteHeader(nethttp.StatusOK)
	w.Write(openAPIDoc)
}
