package http

import (
	"math"
	"net"
	nethttp "net/http"
	"strconv"
	"strings"

	"chengdui"
)

// clientIP is the peer address of the connection. Forwarded headers are
// not trusted: behind a proxy, every client shares the proxy's address
// until the deployment configures one (planned).
func clientIP(r *nethttp.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// limitKeys names the limiter's counters for a request: its address and,
// when known, the account (an email or a user id).
func limitKeys(r *nethttp.Request, account string) []string {
	keys := []string{"ip:" + clientIP(r)}
	if account = strings.ToLower(strings.TrimSpace(account)); account != "" {
		keys = append(keys, "acct:"+account)
	}
	return keys
}

// limited returns a rate_limited error (and sets Retry-After) when the
// address or the account has failed too often; nil otherwise.
func (s *Server) limited(w nethttp.ResponseWriter, r *nethttp.Request, account string) error {
	ok, wait := s.cfg.Limiter.Allow(s.cfg.Now(), limitKeys(r, account)...)
	if ok {
		return nil
	}
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	return chengdui.Errorf(chengdui.ERateLimited, "too many failed attempts: try again in %d seconds", secs)
}

// countFailure records err against the address and account if it is a
// refusal the limiter counts.
func (s *Server) countFailure(r *nethttp.Request, account string, err error) {
	switch chengdui.ErrorCode(err) {
	case chengdui.EUnauthorized, chengdui.EInvalid, chengdui.EConflict:
		s.cfg.Limiter.Fail(s.cfg.Now(), limitKeys(r, account)...)
	}
}
