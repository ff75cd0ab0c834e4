package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"chengdui"
)

const (
	// userAgent is sent with every delivery.
	userAgent = "Chengdui-Webhook/1"
	// leaseMargin is added to a claim's lease beyond the time its
	// attempts may take.
	leaseMargin = 5 * time.Second
	// claimChunk is the most deliveries one claim takes: its lease must
	// cover them all sent in a row.
	claimChunk = 4
	// maxError bounds a delivery's error message.
	maxError = 300
)

// sendLoop claims due deliveries while workers are free and sends them;
// it sleeps until the next delivery is due, Poll, or a wake-up. It reads
// before it claims, so an idle sender does not take the write lock.
func (s *Service) sendLoop(ctx context.Context) {
	free := s.workers
	done := make(chan struct{}, s.workers)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		wait := s.poll
		for free > 0 && ctx.Err() == nil {
			at, ok, err := s.store.NextAttempt(ctx)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("webhook: reading deliveries", "error", err)
				}
				break
			}
			if !ok {
				break
			}
			if d := at.Sub(s.now()); d > 0 {
				wait = min(wait, d)
				break
			}
			claimed, groups, err := s.claim(ctx, min(free, claimChunk), done)
			free -= groups
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("webhook: claiming deliveries", "error", err)
				}
				break
			}
			if claimed == 0 {
				break // another sender took them
			}
		}
		var timer <-chan time.Time
		if free > 0 {
			t.Reset(wait)
			timer = t.C
		}
		select {
		case <-ctx.Done():
			for ; free < s.workers; free++ {
				<-done
			}
			return
		case <-s.sendWake:
		case <-done:
			free++
		case <-timer:
		}
	}
}

// claim claims up to limit due deliveries and starts one sender per
// webhook among them, which signals done when it ends; it returns how
// many deliveries it claimed and senders it started.
func (s *Service) claim(ctx context.Context, limit int, done chan<- struct{}) (claimed, groups int, err error) {
	now := s.clock()
	// The lease covers one sender sending all it claimed in a row.
	lease := now.Add(time.Duration(limit)*s.timeout + leaseMargin)
	ds, err := s.store.ClaimDeliveries(ctx, now, lease, limit)
	if err != nil || len(ds) == 0 {
		return 0, 0, err
	}
	// One sender per webhook: the deliveries of a webhook claimed
	// together go in event order, one at a time.
	byHook := map[string][]Delivery{}
	var order []string
	for _, d := range ds {
		if _, ok := byHook[d.WebhookID]; !ok {
			order = append(order, d.WebhookID)
		}
		byHook[d.WebhookID] = append(byHook[d.WebhookID], d)
	}
	for _, id := range order {
		g := byHook[id]
		sort.SliceStable(g, func(i, j int) bool { return g[i].EventSeq < g[j].EventSeq })
		go func() {
			defer func() { done <- struct{}{} }()
			s.sendGroup(ctx, g, lease)
		}()
	}
	return len(ds), len(order), nil
}

// sendGroup sends one webhook's claimed deliveries in turn. Once ctx
// ends, the attempt in flight completes (within Timeout) and those not
// started are released for a later claim.
func (s *Service) sendGroup(ctx context.Context, ds []Delivery, lease time.Time) {
	sctx := context.WithoutCancel(ctx)
	w, err := s.store.Webhook(sctx, ds[0].WebhookID)
	if chengdui.ErrorCode(err) == chengdui.ENotFound {
		return // deleted, with its deliveries
	} else if err != nil {
		s.log.Warn("webhook: reading webhook", "webhook", ds[0].WebhookID, "error", err)
		return // the lease runs out and another claim retries
	}
	for _, d := range ds {
		if ctx.Err() != nil {
			d.NextAttemptAt = s.clock()
			s.finish(sctx, d, lease)
			continue
		}
		s.attempt(sctx, w, d, lease)
	}
}

// attempt sends d once and saves the outcome.
func (s *Service) attempt(ctx context.Context, w Webhook, d Delivery, lease time.Time) {
	if !w.Enabled && !d.Redelivery {
		d.Status, d.Error, d.NextAttemptAt = Failed, "webhook is disabled", s.clock()
		s.finish(ctx, d, lease)
		return
	}
	at := s.clock()
	code, err := s.post(ctx, w, d.Body)
	end := s.clock()
	d.Attempts++
	d.DeliveredAt, d.HTTPCode, d.NextAttemptAt = &at, code, end
	switch {
	case err == nil && code >= 200 && code < 300:
		d.Status, d.Error = HTTPSuccess, ""
	case err != nil || code >= 500 || code == http.StatusRequestTimeout || code == http.StatusTooManyRequests:
		d.Error = describe(code, err, s.timeout)
		switch {
		case w.AutomaticRedelivery && d.Attempts <= len(s.backoff):
			d.Status, d.NextAttemptAt = Pending, end.Add(s.backoff[d.Attempts-1])
		case w.AutomaticRedelivery:
			d.Status, d.Error = Failed, d.Error+fmt.Sprintf(" (gave up after %d attempts)", d.Attempts)
		case code != 0:
			d.Status = HTTPError
		default:
			d.Status = Failed
		}
	default:
		d.Status, d.Error = HTTPError, describe(code, nil, s.timeout)
	}
	s.finish(ctx, d, lease)
	log := s.log.With("delivery", d.ID, "webhook", d.WebhookID, "type", d.Type, "attempt", d.Attempts, "http_code", code)
	switch d.Status {
	case HTTPSuccess:
		log.Debug("webhook: delivered", "ms", end.Sub(at).Milliseconds())
	case Pending:
		log.Info("webhook: delivery failed, will retry", "error", d.Error, "retry_at", d.NextAttemptAt)
	default:
		log.Warn("webhook: delivery failed", "status", string(d.Status), "error", d.Error)
	}
}

func (s *Service) finish(ctx context.Context, d Delivery, lease time.Time) {
	err := s.store.FinishAttempt(ctx, d, lease)
	if chengdui.ErrorCode(err) == chengdui.EConflict {
		s.log.Info("webhook: delivery claim lost before its outcome was saved", "delivery", d.ID)
	} else if err != nil {
		s.log.Warn("webhook: saving a delivery attempt", "delivery", d.ID, "error", err)
	}
}

// post sends body to w and returns the answer's status code.
func (s *Service) post(ctx context.Context, w Webhook, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return 0, errors.New("invalid webhook url")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("BTCPay-Sig", Sign(w.Secret, body))
	req.Header.Set("User-Agent", userAgent)
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	// Read a little of the answer so the connection can be reused; its
	// content is not kept.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// describe is a delivery's error message: the status, or what went wrong
// on the way, without the URL (it may hold a token).
func describe(code int, err error, timeout time.Duration) string {
	if err == nil {
		return fmt.Sprintf("HTTP %d %s", code, http.StatusText(code))
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	msg := err.Error()
	switch {
	case errors.Is(err, errBlocked):
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Err != nil {
			msg = oe.Err.Error()
		}
		msg = "refused to connect: " + msg
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		msg = fmt.Sprintf("no answer within %s", timeout)
	}
	if len(msg) > maxError {
		msg = strings.ToValidUTF8(msg[:maxError], "")
	}
	return msg
}
