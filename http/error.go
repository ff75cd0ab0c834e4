package http

import (
	"context"
	"errors"
	"log/slog"
	nethttp "net/http"

	"chengdui"
	"chengdui/refund"
)

// statusByCode is the one place error codes become HTTP statuses. Codes
// missing here are answered as internal errors.
var statusByCode = map[string]int{
	chengdui.EInvalid:           nethttp.StatusBadRequest,
	chengdui.EInvalidAmount:     nethttp.StatusBadRequest,
	chengdui.EInvalidFlags:      nethttp.StatusBadRequest,
	chengdui.EZeroAmount:        nethttp.StatusBadRequest,
	chengdui.ESameAccount:       nethttp.StatusBadRequest,
	chengdui.EAssetMismatch:     nethttp.StatusBadRequest,
	chengdui.ELinkedChainOpen:   nethttp.StatusBadRequest,
	chengdui.ELinkedEventFailed: nethttp.StatusBadRequest,

	chengdui.ENotFound:        nethttp.StatusNotFound,
	chengdui.EAccountNotFound: nethttp.StatusNotFound,
	chengdui.EAssetNotFound:   nethttp.StatusNotFound,
	chengdui.EPendingNotFound: nethttp.StatusNotFound,

	chengdui.EConflict:       nethttp.StatusConflict,
	chengdui.EExists:         nethttp.StatusConflict,
	chengdui.EIDConflict:     nethttp.StatusConflict,
	chengdui.EPendingPosted:  nethttp.StatusConflict,
	chengdui.EPendingVoided:  nethttp.StatusConflict,
	chengdui.EPendingExpired: nethttp.StatusConflict,

	chengdui.EExceedsCredits:       nethttp.StatusUnprocessableEntity,
	chengdui.EExceedsDebits:        nethttp.StatusUnprocessableEntity,
	chengdui.EExceedsPendingAmount: nethttp.StatusUnprocessableEntity,
	chengdui.EOverflow:             nethttp.StatusUnprocessableEntity,
	refund.EExceedsPaid:            nethttp.StatusUnprocessableEntity,

	chengdui.EUnauthorized:         nethttp.StatusUnauthorized,
	codeForbidden:                  nethttp.StatusForbidden,
	codeTooLarge:                   nethttp.StatusRequestEntityTooLarge,
	codeNotImplemented:             nethttp.StatusNotImplemented,
	chengdui.ESecondFactorRequired: nethttp.StatusForbidden,
	chengdui.ERateLimited:          nethttp.StatusTooManyRequests,
	chengdui.EUnavailable:          nethttp.StatusServiceUnavailable,
	chengdui.EInternal:             nethttp.StatusInternalServerError,
}

// errorJSON is the body of every error response.
type errorJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error writes err as a JSON error response with the status its code maps
// to. Internal errors, and errors whose code has no status, are logged with
// their details and answered with a generic message.
func Error(w nethttp.ResponseWriter, r *nethttp.Request, err error) {
	status, body := resolveError(r, err)
	writeJSON(w, status, body)
}

// resolveError maps err to a status and the body a client may see, logging
// what it must hide.
func resolveError(r *nethttp.Request, err error) (int, errorJSON) {
	ctx := r.Context()
	log := loggerFrom(ctx)
	// A cancelled or timed-out request context is not a fault of the
	// platform; it must not page anyone as an internal error would.
	switch {
	case errors.Is(err, context.Canceled):
		log.DebugContext(ctx, "http request cancelled", slog.String("method", r.Method), slog.String("path", r.URL.Path))
		return nethttp.StatusServiceUnavailable, errorJSON{Code: chengdui.EUnavailable, Message: "request cancelled"}
	case errors.Is(err, context.DeadlineExceeded):
		log.WarnContext(ctx, "http request timed out", slog.String("method", r.Method), slog.String("path", r.URL.Path))
		return nethttp.StatusServiceUnavailable, errorJSON{Code: chengdui.EUnavailable, Message: "request timed out"}
	}
	code := chengdui.ErrorCode(err)
	status, ok := statusByCode[code]
	if !ok || status == nethttp.StatusInternalServerError {
		log.ErrorContext(ctx, "http internal error",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Any("error", err))
		return nethttp.StatusInternalServerError, errorJSON{Code: chengdui.EInternal, Message: "internal error"}
	}
	return status, errorJSON{Code: code, Message: chengdui.ErrorMessage(err)}
}

type loggerKey struct{}

// loggerFrom returns the logger the Server put in the request context. Error
// called outside a Server falls back to slog's default logger rather than
// losing the details of an internal error.
func loggerFrom(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}
