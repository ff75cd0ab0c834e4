package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"chengdui"
)

// maxURL bounds a webhook URL's length.
const maxURL = 2048

// CheckURL checks that raw can be a webhook's URL: an absolute http or
// https URL without user name or password whose host, unless allowPrivate,
// is or resolves only to public addresses (not loopback, private, link-local,
// shared CGNAT, unspecified, multicast or reserved). It resolves host names
// with the system resolver. Codes: EInvalid, with a message that does not
// repeat the URL (its path or query may hold a token).
func CheckURL(raw string, allowPrivate bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return checkURL(ctx, raw, allowPrivate, net.DefaultResolver.LookupNetIP)
}

// lookupFunc resolves a host name (net.Resolver.LookupNetIP).
type lookupFunc func(ctx context.Context, network, host string) ([]netip.Addr, error)

func checkURL(ctx context.Context, raw string, allowPrivate bool, lookup lookupFunc) error {
	if raw == "" {
		return chengdui.Errorf(chengdui.EInvalid, "webhook url is required")
	}
	if len(raw) > maxURL {
		return chengdui.Errorf(chengdui.EInvalid, "webhook url is longer than %d bytes", maxURL)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		return chengdui.Errorf(chengdui.EInvalid, "webhook url is not a valid absolute URL")
	}
	if s := strings.ToLower(u.Scheme); s != "http" && s != "https" {
		return chengdui.Errorf(chengdui.EInvalid, "webhook url must start with http:// or https://")
	}
	if u.User != nil {
		return chengdui.Errorf(chengdui.EInvalid, "webhook url must not hold a user name or password")
	}
	host := u.Hostname()
	if host == "" {
		return chengdui.Errorf(chengdui.EInvalid, "webhook url has no host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return chengdui.Errorf(chengdui.EInvalid, "webhook url port must be 1 to 65535")
		}
	}
	if allowPrivate {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if why := blocked(ip); why != "" {
			return chengdui.Errorf(chengdui.EInvalid, "webhook url host %s is a %s address; webhooks may only call public addresses", ip, why)
		}
		return nil
	}
	ips, err := lookup(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return chengdui.Errorf(chengdui.EInvalid, "webhook url host %q does not resolve", host)
	}
	for _, ip := range ips {
		if why := blocked(ip); why != "" {
			return chengdui.Errorf(chengdui.EInvalid, "webhook url host %q resolves to %s, a %s address; webhooks may only call public addresses", host, ip, why)
		}
	}
	return nil
}

var (
	cgnat    = netip.MustParsePrefix("100.64.0.0/10")
	thisNet  = netip.MustParsePrefix("0.0.0.0/8")
	reserved = netip.MustParsePrefix("240.0.0.0/4") // and 255.255.255.255
	siteLoc  = netip.MustParsePrefix("fec0::/10")   // deprecated site-local
	nat64    = netip.MustParsePrefix("64:ff9b::/96")
	v4compat = netip.MustParsePrefix("::/96")
)

// blocked says what kind of non-public address ip is, "" for a public one.
// IPv4 addresses inside IPv6 (mapped, NAT64) are judged as IPv4.
func blocked(ip netip.Addr) string {
	ip = ip.Unmap()
	if ip.Is6() && nat64.Contains(ip) {
		b := ip.As16()
		return blocked(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	}
	switch {
	case !ip.IsValid():
		return "invalid"
	case ip.IsUnspecified():
		return "unspecified"
	case ip.IsLoopback():
		return "loopback"
	case ip.IsPrivate(), siteLoc.Contains(ip):
		return "private"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "link-local"
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return "multicast"
	case cgnat.Contains(ip):
		return "shared (CGNAT)"
	case thisNet.Contains(ip), reserved.Contains(ip), v4compat.Contains(ip):
		return "reserved"
	}
	return ""
}

// errBlocked is the dialer's refusal.
var errBlocked = errors.New("address not allowed")

// dialControl refuses connections to non-public addresses. It runs after
// name resolution, on the address actually dialled, so a name that
// resolved to a public address when the webhook was saved and to a private
// one now (DNS rebinding) is refused too.
func dialControl(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %s", errBlocked, host)
	}
	if why := blocked(ip); why != "" {
		return fmt.Errorf("%w: %s is a %s address", errBlocked, ip, why)
	}
	return nil
}

// newClient is the HTTP client the sender uses by default: no proxy (a
// proxy would dial on our behalf, past the check), no redirects (a 3xx is
// the answer), the address check unless allowPrivate.
func newClient(allowPrivate bool, timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = dialControl
	}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           d.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   timeout,
			ResponseHeaderTimeout: timeout,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       timeout,
	}
}
