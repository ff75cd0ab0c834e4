package webhook

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"chengdui"

	"github.com/stretchr/testify/require"
)

func TestBlocked(t *testing.T) {
	for _, tc := range []struct{ ip, why string }{
		{"8.8.8.8", ""},
		{"93.184.215.14", ""},
		{"2606:4700::1111", ""},
		{"100.63.255.255", ""},
		{"100.128.0.0", ""},
		{"127.0.0.1", "loopback"},
		{"127.255.255.254", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"}, // IPv4-mapped
		{"64:ff9b::7f00:1", "loopback"},  // NAT64 of 127.0.0.1
		{"64:ff9b::808:808", ""},         // NAT64 of 8.8.8.8
		{"10.1.2.3", "private"},
		{"172.16.0.1", "private"},
		{"172.31.255.255", "private"},
		{"192.168.1.1", "private"},
		{"fc00::1", "private"},
		{"fd12:3456::1", "private"},
		{"fec0::1", "private"},
		{"169.254.169.254", "link-local"}, // cloud metadata
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "link-local"},
		{"100.64.0.1", "shared (CGNAT)"},
		{"100.127.255.255", "shared (CGNAT)"},
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"0.1.2.3", "reserved"},
		{"224.0.0.1", "link-local"}, // link-local multicast
		{"239.1.2.3", "multicast"},
		{"ff02::1", "link-local"},
		{"ff0e::1", "multicast"},
		{"240.0.0.1", "reserved"},
		{"255.255.255.255", "reserved"},
		{"::7f00:1", "reserved"}, // IPv4-compatible
	} {
		t.Run(tc.ip, func(t *testing.T) {
			require.Equal(t, tc.why, blocked(netip.MustParseAddr(tc.ip)))
		})
	}
	require.Equal(t, "invalid", blocked(netip.Addr{}))
}

// fakeLookup resolves names from a table, without the network.
func fakeLookup(table map[string][]string) lookupFunc {
	return func(_ context.Context, _, host string) ([]netip.Addr, error) {
		addrs, ok := table[host]
		if !ok {
			return nil, errors.New("no such host")
		}
		var out []netip.Addr
		for _, a := range addrs {
			out = append(out, netip.MustParseAddr(a))
		}
		return out, nil
	}
}

func TestCheckURL(t *testing.T) {
	lookup := fakeLookup(map[string][]string{
		"shop.example":     {"93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"},
		"internal.example": {"10.0.0.5"},
		"mixed.example":    {"93.184.215.14", "127.0.0.1"},
		"empty.example":    {},
	})
	for _, tc := range []struct {
		url, wantErr string // wantErr: a part of the message; "" for valid
		allowPrivate bool
	}{
		{url: "https://shop.example/hook"},
		{url: "http://shop.example:8080/hook?token=abc#frag"},
		{url: "HTTPS://93.184.215.14/x"},
		{url: "https://[2606:4700::1111]/x"},
		{url: "", wantErr: "required"},
		{url: "shop.example/hook", wantErr: "http:// or https://"},
		{url: "/hook", wantErr: "http:// or https://"},
		{url: "ftp://shop.example/hook", wantErr: "http:// or https://"},
		{url: "javascript:alert(1)", wantErr: "not a valid absolute URL"},
		{url: "https://user:hunter2@shop.example/", wantErr: "user name or password"},
		{url: "https://user@shop.example/", wantErr: "user name or password"},
		{url: "https:///path", wantErr: "no host"},
		{url: "https://shop.example:0/", wantErr: "port"},
		{url: "https://shop.example:99999/", wantErr: "port"},
		{url: "https://sh op.example/", wantErr: "not a valid"},
		{url: "https://shop.example/" + strings.Repeat("a", maxURL), wantErr: "longer than"},
		{url: "http://127.0.0.1:8080/hook", wantErr: "loopback"},
		{url: "http://[::1]/hook", wantErr: "loopback"},
		{url: "http://10.0.0.1/", wantErr: "private"},
		{url: "http://169.254.169.254/latest/meta-data", wantErr: "link-local"},
		{url: "http://100.64.1.1/", wantErr: "CGNAT"},
		{url: "http://0.0.0.0/", wantErr: "unspecified"},
		{url: "http://[ff02::1]/", wantErr: "link-local"},
		{url: "http://internal.example/", wantErr: "resolves to 10.0.0.5, a private address"},
		{url: "http://mixed.example/", wantErr: "resolves to 127.0.0.1"},
		{url: "http://nowhere.example/", wantErr: "does not resolve"},
		{url: "http://empty.example/", wantErr: "does not resolve"},
		// Development: private targets allowed, the rest still checked.
		{url: "http://127.0.0.1:8080/hook", allowPrivate: true},
		{url: "http://localhost:8080/hook", allowPrivate: true},
		{url: "http://internal.example/", allowPrivate: true},
		{url: "ftp://127.0.0.1/", allowPrivate: true, wantErr: "http:// or https://"},
		{url: "http://u:p@127.0.0.1/", allowPrivate: true, wantErr: "user name"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			err := checkURL(context.Background(), tc.url, tc.allowPrivate, lookup)
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
			require.Contains(t, err.Error(), tc.wantErr)
			require.NotContains(t, err.Error(), "hunter2", "no secrets in messages")
			require.NotContains(t, err.Error(), "token")
		})
	}
}

// TestCheckURLResolves uses the system resolver on localhost, which
// /etc/hosts answers without the network.
func TestCheckURLResolves(t *testing.T) {
	err := CheckURL("http://localhost:9/hook", false)
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
	require.Contains(t, err.Error(), "loopback")
	require.NoError(t, CheckURL("http://localhost:9/hook", true))
}

// TestDialControl checks the connection-time refusal: the address
// actually dialled is checked, whatever the URL said.
func TestDialControl(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	for _, u := range []string{srv.URL, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)} {
		resp, err := newClient(false, 5*time.Second).Get(u)
		if resp != nil {
			resp.Body.Close()
		}
		require.ErrorIs(t, err, errBlocked, u)
		msg := describe(0, err, time.Second)
		require.True(t, strings.HasPrefix(msg, "refused to connect: "), msg)
		require.Contains(t, msg, "loopback")
	}
	require.Zero(t, hits.Load())

	resp, err := newClient(true, 5*time.Second).Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, int32(1), hits.Load())

	for _, addr := range []string{"127.0.0.1:80", "[::1]:443", "10.0.0.1:80", "169.254.169.254:80", "[::ffff:192.168.0.1]:80", "not-an-ip:80"} {
		require.ErrorIs(t, dialControl("tcp", addr, nil), errBlocked, addr)
	}
	require.NoError(t, dialControl("tcp", "93.184.215.14:443", nil))
	require.NoError(t, dialControl("tcp6", "[2606:4700::1111]:443", nil))
}

// TestClientNoRedirect: a redirect is an answer, not followed (it could
// point anywhere).
func TestClientNoRedirect(t *testing.T) {
	var followed atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/elsewhere" {
			followed.Store(true)
			return
		}
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	resp, err := newClient(true, 5*time.Second).Post(srv.URL, "application/json", strings.NewReader("{}"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusTemporaryRedirect, resp.StatusCode)
	require.False(t, followed.Load())
}

func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"https://shop.example/hook", "http://127.0.0.1:80/", "http://[::ffff:10.0.0.1]/", "https://u:p@x/",
		"ftp://x", "http://x:0", "http://%31%32%37.0.0.1/", "http://0x7f.1/", "http://[fe80::1%25eth0]/"} {
		f.Add(s)
	}
	lookup := fakeLookup(map[string][]string{"shop.example": {"93.184.215.14"}, "x": {"127.0.0.1"}})
	f.Fuzz(func(t *testing.T, raw string) {
		err := checkURL(context.Background(), raw, false, lookup)
		if err != nil {
			require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
			return
		}
		// Whatever is accepted is an http(s) URL to a public address.
		require.NoError(t, checkURL(context.Background(), raw, true, lookup))
		u, perr := http.NewRequest(http.MethodPost, raw, nil)
		require.NoError(t, perr)
		require.Contains(t, []string{"http", "https"}, strings.ToLower(u.URL.Scheme))
		require.Nil(t, u.URL.User)
		host := u.URL.Hostname()
		ip, perr := netip.ParseAddr(host)
		if perr != nil {
			ips, _ := lookup(context.Background(), "ip", host)
			require.NotEmpty(t, ips)
			ip = ips[0]
		}
		require.Empty(t, blocked(ip), "%s accepted", raw)
	})
}
