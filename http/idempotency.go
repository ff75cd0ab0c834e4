package http

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	nethttp "net/http"
	"time"

	"chengdui"
)

// maxIdempotencyKey bounds the Idempotency-Key header.
const maxIdempotencyKey = 255

// idempotencyStale is how long a key may stay reserved by a request that
// neither completed nor released it before a retry takes it over: the
// process serving it stopped (no request runs this long; the handlers'
// work takes milliseconds).
const idempotencyStale = 2 * time.Minute

// idempotent runs a POST handler at most once per Idempotency-Key.
//
// It reads the body (at most maxBody bytes) and passes it to fn. Without
// the header fn simply runs: Greenfield clients do not send it. With it,
// the key is reserved in s.cfg.Idempotency under a scope of principal
// (the store or user acting) and the route pattern, with the SHA-256 of
// the method, path and body:
//
//   - a new key runs fn and stores its status and body; a 5xx answer (or
//     a panic) releases the key instead, so the request can be retried;
//   - the same key and request again replays the stored answer, with
//     "Idempotent-Replayed: true";
//   - the same key with another request is 409 "id_conflict";
//   - a key whose first request is still running is 409 "conflict";
//   - a key reserved longer than idempotencyStale ago and never answered
//     (its process stopped mid-request) is taken over by the retry, which
//     runs fn: the services behind these routes are idempotent by the
//     request's own ids (payouts, withdrawals, payments, refunds), so a
//     request that took effect before the crash answers the same; an
//     invoice or webhook created just before a crash may exist twice.
//
// A key longer than 255 bytes or with control characters is 400.
func (s *Server) idempotent(w nethttp.ResponseWriter, r *nethttp.Request, principal string, fn func(w nethttp.ResponseWriter, body []byte)) {
	body, err := readBody(r)
	if err != nil {
		Error(w, r, err)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		fn(w, body)
		return
	}
	if len(key) > maxIdempotencyKey || !printableASCII(key) {
		Error(w, r, chengdui.Errorf(chengdui.EInvalid, "Idempotency-Key must be 1 to %d printable ASCII characters", maxIdempotencyKey))
		return
	}
	if s.cfg.Idempotency == nil {
		Error(w, r, chengdui.Errorf(chengdui.EUnavailable, "this server does not keep Idempotency-Key answers; retry without the header only if a duplicate is harmless"))
		return
	}
	scope := principal + " " + r.Pattern
	hash := requestHash(r.Method, r.URL.EscapedPath(), body)
	// The key's bookkeeping must finish even if the client goes away.
	ctx := context.WithoutCancel(r.Context())
	store := s.cfg.Idempotency
	stored, created, err := store.ReserveIdempotent(ctx, chengdui.Idempotent{Scope: scope, Key: key, RequestHash: hash, CreatedAt: s.cfg.Now().UTC()})
	if err != nil {
		Error(w, r, err)
		return
	}
	if !created {
		switch {
		case stored.RequestHash != hash:
			Error(w, r, chengdui.Errorf(chengdui.EIDConflict, "this Idempotency-Key was used with another request; use a new key for a new request"))
		case stored.Status == 0 && s.cfg.Now().Sub(stored.CreatedAt) >= idempotencyStale:
			taken, err := store.TakeOverIdempotent(ctx, scope, key, stored.CreatedAt, s.cfg.Now().UTC())
			if err != nil {
				Error(w, r, err)
				return
			}
			if taken {
				s.log.WarnContext(ctx, "idempotency key left reserved by a stopped request; this retry runs it", slog.String("scope", scope))
				created = true
				break
			}
			Error(w, r, chengdui.Errorf(chengdui.EConflict, "a request with this Idempotency-Key is still in progress; retry later"))
		case stored.Status == 0:
			Error(w, r, chengdui.Errorf(chengdui.EConflict, "a request with this Idempotency-Key is still in progress; retry later"))
		default:
			replay(w, stored)
		}
		if !created {
			return
		}
	}

	done := false
	defer func() {
		if !done { // fn panicked: nothing was answered
			if err := store.ReleaseIdempotent(ctx, scope, key); err != nil {
				s.log.ErrorContext(ctx, "release idempotency key", slog.String("scope", scope), slog.Any("error", err))
			}
		}
	}()
	rec := &bufferedWriter{header: w.Header()}
	fn(rec, body)
	done = true
	status := rec.status
	if status == 0 {
		status = nethttp.StatusOK
	}
	if status >= 500 {
		if err := store.ReleaseIdempotent(ctx, scope, key); err != nil {
			s.log.ErrorContext(ctx, "release idempotency key", slog.String("scope", scope), slog.Any("error", err))
		}
	} else if err := store.CompleteIdempotent(ctx, scope, key, status, rec.body.Bytes()); err != nil {
		// The request took effect: answer it. The key stays reserved, so
		// a retry is refused as in progress rather than run twice.
		s.log.ErrorContext(ctx, "complete idempotency key", slog.String("scope", scope), slog.Any("error", err))
	}
	w.WriteHeader(status)
	w.Write(rec.body.Bytes())
}

// replay answers a stored response again.
func replay(w nethttp.ResponseWriter, stored chengdui.Idempotent) {
	h := w.Header()
	if len(stored.Body) > 0 {
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Idempotent-Replayed", "true")
	w.WriteHeader(stored.Status)
	w.Write(stored.Body)
}

// requestHash identifies a request: hex SHA-256 of its method, path and
// body, each length-prefixed so that no two requests share an encoding.
func requestHash(method, path string, body []byte) string {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(method), []byte(path), body} {
		var n [8]byte
		for i, l := 0, uint64(len(part)); i < 8; i++ {
			n[7-i] = byte(l >> (8 * i))
		}
		h.Write(n[:])
		h.Write(part)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// bufferedWriter holds a handler's answer until its key is recorded.
// Headers go straight to the real response.
type bufferedWriter struct {
	header nethttp.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() nethttp.Header { return b.header }

func (b *bufferedWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = nethttp.StatusOK
	}
	return b.body.Write(p)
}
