package auth

import (
	"bytes"
	"encoding/base32"
	"fmt"
	"image/png"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"

	"chengdui"
)

// rfcSecret is the SHA-1 seed of RFC 6238 Appendix B, ASCII
// "12345678901234567890", in base32.
var rfcSecret = base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))

// rfc6238Vectors are the SHA-1 rows of RFC 6238 Appendix B.
var rfc6238Vectors = []struct {
	unix int64
	code string
}{
	{59, "94287082"},
	{1111111109, "07081804"},
	{1111111111, "14050471"},
	{1234567890, "89005924"},
	{2000000000, "69279037"},
	{20000000000, "65353130"},
}

func TestRFC6238Vectors(t *testing.T) {
	opts := totp.ValidateOpts{Period: 30, Digits: otp.DigitsEight, Algorithm: otp.AlgorithmSHA1}
	for _, v := range rfc6238Vectors {
		t.Run(fmt.Sprint(v.unix), func(t *testing.T) {
			at := time.Unix(v.unix, 0).UTC()
			got, err := totp.GenerateCodeCustom(rfcSecret, at, opts)
			require.NoError(t, err)
			require.Equal(t, v.code, got)
			ok, err := totp.ValidateCustom(v.code, rfcSecret, at, opts)
			require.NoError(t, err)
			require.True(t, ok)

			// Our six-digit verifier accepts the last six digits.
			step, err := VerifyTOTP(rfcSecret, v.code[2:], at, 0)
			require.NoError(t, err)
			require.Equal(t, v.unix/30, step)
		})
	}
}

func codeAt(tb testing.TB, secret string, step int64) string {
	tb.Helper()
	c, err := totp.GenerateCodeCustom(secret, time.Unix(step*30, 0),
		totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	require.NoError(tb, err)
	return c
}

func TestVerifyTOTPWindow(t *testing.T) {
	now := time.Unix(1_700_000_015, 0) // mid-step
	cur := TOTPStep(now)
	tests := []struct {
		name string
		code string
		ok   bool
		step int64
	}{
		{"current", codeAt(t, rfcSecret, cur), true, cur},
		{"previous", codeAt(t, rfcSecret, cur-1), true, cur - 1},
		{"next", codeAt(t, rfcSecret, cur+1), true, cur + 1},
		{"two back", codeAt(t, rfcSecret, cur-2), false, 0},
		{"two ahead", codeAt(t, rfcSecret, cur+2), false, 0},
		{"with space", func() string { c := codeAt(t, rfcSecret, cur); return c[:3] + " " + c[3:] }(), true, cur},
		{"surrounding spaces", " " + codeAt(t, rfcSecret, cur) + "\t", true, cur},
		{"five digits", codeAt(t, rfcSecret, cur)[:5], false, 0},
		{"seven digits", codeAt(t, rfcSecret, cur) + "0", false, 0},
		{"letters", "12a456", false, 0},
		{"dash", func() string { c := codeAt(t, rfcSecret, cur); return c[:3] + "-" + c[3:] }(), false, 0},
		{"arabic-indic digits", "١٢٣٤٥٦", false, 0},
		{"empty", "", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, err := VerifyTOTP(rfcSecret, tt.code, now, 0)
			if !tt.ok {
				requireCode(t, err, chengdui.EUnauthorized)
				require.Equal(t, "invalid or already used code", chengdui.ErrorMessage(err))
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.step, step)
		})
	}
}

func TestVerifyTOTPReplay(t *testing.T) {
	now := time.Unix(1_700_000_015, 0)
	cur := TOTPStep(now)
	code := codeAt(t, rfcSecret, cur)

	step, err := VerifyTOTP(rfcSecret, code, now, 0)
	require.NoError(t, err)
	require.Equal(t, cur, step)

	tests := []struct {
		name     string
		code     string
		at       time.Time
		lastUsed int64
		ok       bool
	}{
		{"same code again", code, now, step, false},
		{"same code next step", code, now.Add(30 * time.Second), step, false},
		{"earlier step after later used", codeAt(t, rfcSecret, cur-1), now, step, false},
		{"next step code", codeAt(t, rfcSecret, cur+1), now, step, true},
		{"lastUsed in future", code, now, cur + 5, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := VerifyTOTP(rfcSecret, tt.code, tt.at, tt.lastUsed)
			if tt.ok {
				require.NoError(t, err)
			} else {
				requireCode(t, err, chengdui.EUnauthorized)
				require.Equal(t, "invalid or already used code", chengdui.ErrorMessage(err))
			}
		})
	}
}

func TestVerifyTOTPBadSecret(t *testing.T) {
	now := time.Unix(1_700_000_015, 0)
	for _, secret := range []string{
		"",
		"GEZDGNBV",                         // 5 bytes: below RFC 4226's 128 bits
		"not base32 at all!",               // invalid alphabet
		"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1", // '1' not in base32
	} {
		t.Run(secret, func(t *testing.T) {
			_, err := VerifyTOTP(secret, "123456", now, 0)
			requireCode(t, err, chengdui.EInternal)
			if secret != "" {
				require.NotContains(t, err.Error(), secret)
			}
		})
	}
	// Lower case and padding are tolerated: they are the same secret.
	lower := strings.ToLower(rfcSecret)
	_, err := VerifyTOTP(lower, codeAt(t, rfcSecret, TOTPStep(now)), now, 0)
	require.NoError(t, err)
}

func TestTOTPStep(t *testing.T) {
	tests := []struct {
		unix int64
		want int64
	}{
		{0, 0}, {29, 0}, {30, 1}, {59, 1}, {-1, -1}, {-30, -1}, {-31, -2},
		{1111111109, 37037036}, {20000000000, 666666666},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, TOTPStep(time.Unix(tt.unix, 0)), "unix %d", tt.unix)
	}
}

func TestVerifyTOTPNearEpoch(t *testing.T) {
	// At step 0 there is no step -1 to try; nothing panics or wraps.
	now := time.Unix(10, 0)
	step, err := VerifyTOTP(rfcSecret, codeAt(t, rfcSecret, 0), now, -1)
	require.NoError(t, err)
	require.Equal(t, int64(0), step)
}

func TestNewEnrolment(t *testing.T) {
	e, err := NewEnrolment("Chengdui", "alice@example.com")
	require.NoError(t, err)

	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(e.Secret)
	require.NoError(t, err)
	require.Len(t, raw, 20)

	u, err := url.Parse(e.URL)
	require.NoError(t, err)
	require.Equal(t, "otpauth", u.Scheme)
	require.Equal(t, "totp", u.Host)
	require.Equal(t, "/Chengdui:alice@example.com", u.Path)
	q := u.Query()
	require.Equal(t, e.Secret, q.Get("secret"))
	require.Equal(t, "Chengdui", q.Get("issuer"))
	require.Equal(t, "SHA1", q.Get("algorithm"))
	require.Equal(t, "6", q.Get("digits"))
	require.Equal(t, "30", q.Get("period"))

	img, err := png.Decode(bytes.NewReader(e.PNG))
	require.NoError(t, err)
	require.Equal(t, 256, img.Bounds().Dx())
	require.Equal(t, 256, img.Bounds().Dy())

	// The new secret verifies.
	now := time.Now()
	_, err = VerifyTOTP(e.Secret, codeAt(t, e.Secret, TOTPStep(now)), now, 0)
	require.NoError(t, err)

	other, err := NewEnrolment("Chengdui", "alice@example.com")
	require.NoError(t, err)
	require.NotEqual(t, e.Secret, other.Secret)
}

func TestEnrolmentRedacted(t *testing.T) {
	e, err := NewEnrolment("Chengdui", "alice@example.com")
	require.NoError(t, err)
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	log.Info("enrolled", "enrolment", e)
	log.Info("enrolled", slog.Any("e", e))
	for _, s := range []string{
		fmt.Sprint(e), fmt.Sprintf("%v", e), fmt.Sprintf("%+v", e), fmt.Sprintf("%#v", e), e.String(),
		fmt.Sprint(&e), fmt.Sprintf("%+v", &e), logs.String(),
	} {
		require.NotContains(t, s, e.Secret)
		require.NotContains(t, s, "otpauth")
		require.Contains(t, s, "REDACTED")
	}
}

func TestNewEnrolmentRefuses(t *testing.T) {
	tests := []struct{ name, issuer, account string }{
		{"empty issuer", "", "alice@example.com"},
		{"blank issuer", "  ", "alice@example.com"},
		{"empty account", "Chengdui", ""},
		{"colon in issuer", "Cheng:dui", "alice@example.com"},
		{"colon in account", "Chengdui", "alice:x@example.com"},
		{"long account", "Chengdui", strings.Repeat("a", 255)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewEnrolment(tt.issuer, tt.account)
			requireCode(t, err, chengdui.EInvalid)
		})
	}
}

func FuzzVerifyTOTP(f *testing.F) {
	now := time.Unix(1_700_000_015, 0)
	cur := TOTPStep(now)
	f.Add(codeAt(f, rfcSecret, cur), int64(0))
	f.Add(codeAt(f, rfcSecret, cur-1), cur-1)
	f.Add("123 456", int64(-5))
	f.Add("１２３４５６", int64(0))
	f.Add("", int64(0))
	f.Fuzz(func(t *testing.T, code string, lastUsed int64) {
		step, err := VerifyTOTP(rfcSecret, code, now, lastUsed)
		if err != nil {
			requireCode(t, err, chengdui.EUnauthorized)
			require.Equal(t, "invalid or already used code", chengdui.ErrorMessage(err))
			return
		}
		require.GreaterOrEqual(t, step, cur-1)
		require.LessOrEqual(t, step, cur+1)
		require.Greater(t, step, lastUsed)
		norm, ok := normaliseTOTPCode(code)
		require.True(t, ok)
		require.Equal(t, codeAt(t, rfcSecret, step), norm)
	})
}
