package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// chromium finds a Chromium to drive, skipping without one — except under
// CI=true, where a missing browser is a failure.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("CHENGDUI_TEST_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is required under CI (apt-get install chromium)")
	}
	t.Skip("no Chromium; install it (apt-get install chromium) or set CHENGDUI_TEST_CHROMIUM")
	return ""
}

// TestBrowserSignUp drives a real headless Chromium through the pages of a
// running dev server: sign up, land on the wallet with a Bitcoin deposit
// address and its QR code, log out, log in again, and be refused a forged
// form.
func TestBrowserSignUp(t *testing.T) {
	exe := chromium(t)
	dev := startDev(t, t.TempDir())
	defer dev.Stop(t)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	defer cancelT()

	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(sel))
		require.NoError(t, err, sel)
		return v
	}
	login := func(password string) {
		t.Helper()
		require.NoError(t, chromedp.Do(ctx,
			chromedp.WaitVisible(`form[action="/login"]`),
			chromedp.SetValue(`input[name=email]`, "chen.jing@example.com"),
			chromedp.SetValue(`input[name=password]`, password),
			chromedp.Click(`button[type=submit]`),
		))
	}

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(dev.URL+"/register"),
		chromedp.WaitVisible(`input[name=email]`),
		chromedp.SendKeys(`input[name=email]`, "chen.jing@example.com"),
		chromedp.SendKeys(`input[name=password]`, "correct horse battery"),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`code.address`),
	))
	require.Contains(t, text(`h1`), "钱包")
	address := text(`code.address`)
	require.True(t, strings.HasPrefix(address, "bcrt1q"), address)
	qr, err := chromedp.Run(ctx, chromedp.AttributeValue(`img.qr`, "src"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(qr.Value, "data:image/png;base64,"), qr.Value[:min(len(qr.Value), 40)])
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(80))
	require.NoError(t, err)
	require.Greater(t, len(shot), 1000)
	require.NoError(t, os.WriteFile(filepath.Join(t.TempDir(), "wallet.jpg"), shot, 0o600))

	// Log out, then log in with the same account: the same address.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(`form[action="/logout"] button`)))
	login("correct horse battery")
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(`code.address`)))
	require.Equal(t, address, text(`code.address`))

	// A wrong password shows the error on the form.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(`form[action="/logout"] button`)))
	login("not the right one")
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(`p.error`)))
	require.Contains(t, text(`p.error`), "wrong email or password")

	// A form posted with a forged CSRF token is refused (on a fresh page,
	// so the error seen is the new one).
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(dev.URL+"/login"), chromedp.WaitVisible(`form[action="/login"]`)))
	_, err = chromedp.Run(ctx, chromedp.Evaluate[any](`document.querySelector('form[action="/login"] input[name=csrf]').value = 'forged'`))
	require.NoError(t, err)
	login("correct horse battery")
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(`p.error`)))
	require.Contains(t, text(`p.error`), "reload the page")
}
