package http

import (
	"errors"
	"log/slog"
	nethttp "net/http"

	"chengdui"
)

// handleHealthz answers liveness: the process serves HTTP.
func (s *Server) handleHealthz(w nethttp.ResponseWriter, r *nethttp.Request) {
	writeJSON(w, nethttp.StatusOK, map[string]string{"status": "ok"})
}

// handleReadyz answers readiness: the process may take traffic.
func (s *Server) handleReadyz(w nethttp.ResponseWriter, r *nethttp.Request) {
	err := s.cfg.Ready(r.Context())
	if err == nil {
		writeJSON(w, nethttp.StatusOK, map[string]string{"status": "ready"})
		return
	}
	// Always 503, whatever the cause: a load balancer needs only "not yet".
	// Only a platform error's message is shown; driver errors may name
	// paths or hosts.
	msg := "not ready"
	var e *chengdui.Error
	if errors.As(err, &e) {
		msg = e.Message
	}
	s.log.WarnContext(r.Context(), "not ready", slog.Any("error", err))
	writeJSON(w, nethttp.StatusServiceUnavailable, errorJSON{Code: chengdui.EUnavailable, Message: msg})
}
