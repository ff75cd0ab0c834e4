package auth

import (
	"bytes"
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"image/png"
	"log/slog"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"chengdui"
)

// TOTP parameters: the RFC 6238 defaults every authenticator app supports.
const (
	totpPeriod     = 30 // seconds
	totpDigits     = otp.DigitsSix
	totpSecretSize = 20 // bytes: 160 bits, RFC 4226's recommended length
	// minTOTPSecret is RFC 4226's minimum; shorter stored secrets are refused.
	minTOTPSecret = 16
	qrSize        = 256 // pixels
	maxLabelLen   = 254 // an email address's maximum length
)

// Enrolment is what a user needs to add a TOTP key to an authenticator app.
// All three fields carry the secret: show them to the user once, store only
// Secret (encrypted if the storage layer can), and never log them. String,
// GoString and LogValue redact them so that a stray %v or slog call cannot
// leak the secret.
type Enrolment struct {
	Secret string // base32, no padding
	URL    string // otpauth://totp/...
	PNG    []byte // QR code of URL
}

func (e Enrolment) String() string {
	return fmt.Sprintf("auth.Enrolment{Secret:REDACTED URL:REDACTED PNG:%d bytes}", len(e.PNG))
}

func (e Enrolment) GoString() string { return e.String() }

func (e Enrolment) LogValue() slog.Value { return slog.StringValue(e.String()) }

// NewEnrolment generates a fresh TOTP secret for account (usually the
// user's email) under issuer (the product name shown in the app).
//
// Returns EInvalid if issuer or account is empty, too long or contains ':'
// (the separator of the otpauth label).
func NewEnrolment(issuer, account string) (Enrolment, error) {
	for _, f := range []struct{ name, v string }{{"issuer", issuer}, {"account name", account}} {
		switch {
		case strings.TrimSpace(f.v) == "":
			return Enrolment{}, chengdui.Errorf(chengdui.EInvalid, "TOTP %s must not be empty", f.name)
		case len(f.v) > maxLabelLen:
			return Enrolment{}, chengdui.Errorf(chengdui.EInvalid, "TOTP %s must be at most %d bytes", f.name, maxLabelLen)
		case strings.Contains(f.v, ":"):
			return Enrolment{}, chengdui.Errorf(chengdui.EInvalid, "TOTP %s must not contain ':'", f.name)
		}
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      totpPeriod,
		SecretSize:  totpSecretSize,
		Digits:      totpDigits,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return Enrolment{}, chengdui.Errorf(chengdui.EInternal, "generating TOTP key: %v", err)
	}
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return Enrolment{}, chengdui.Errorf(chengdui.EInternal, "drawing TOTP QR code: %v", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return Enrolment{}, chengdui.Errorf(chengdui.EInternal, "encoding TOTP QR code: %v", err)
	}
	return Enrolment{Secret: key.Secret(), URL: key.URL(), PNG: buf.Bytes()}, nil
}

// errBadCode is the one refusal for every kind of wrong second-factor code,
// so that a caller cannot learn whether a code was malformed, wrong, outside
// the window or replayed.
func errBadCode() error {
	return chengdui.Errorf(chengdui.EUnauthorized, "invalid or already used code")
}

// TOTPStep returns the RFC 6238 time step containing t.
func TOTPStep(t time.Time) int64 {
	u := t.Unix()
	s := u / totpPeriod
	if u%totpPeriod < 0 {
		s-- // floor, not truncation, before 1970
	}
	return s
}

// VerifyTOTP checks code against secret at time now. It accepts the code of
// the current step or of the step before or after (clock drift and typing
// time) and returns the step it matched, which the caller must store and
// pass back as lastUsedStep next time: a code whose step is not after
// lastUsedStep is refused, so every code is accepted at most once. Pass 0
// for a user who has never used a code. Spaces in code are ignored
// ("123 456").
//
// Storing the step must be an atomic compare-and-set (only if greater than
// the stored one), or two concurrent requests could both use one code; see
// Guard.
//
// Returns EUnauthorized "invalid or already used code" for any refusal and
// EInternal if the stored secret is malformed.
func VerifyTOTP(secret, code string, now time.Time, lastUsedStep int64) (step int64, err error) {
	if err := checkTOTPSecret(secret); err != nil {
		return 0, err
	}
	code, ok := normaliseTOTPCode(code)
	if !ok {
		return 0, errBadCode()
	}
	opts := totp.ValidateOpts{Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1}
	cur := TOTPStep(now)
	matched := false
	// Every candidate is computed and compared, matching or not, so the time
	// taken does not say which step matched. If a code happens to match two
	// steps, the later one wins: recording the earlier would let the same
	// code be accepted again for the later step.
	for s := cur - 1; s <= cur+1; s++ {
		if s < 0 {
			continue
		}
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*totpPeriod, 0), opts)
		if err != nil {
			return 0, chengdui.Errorf(chengdui.EInternal, "stored TOTP secret is unusable")
		}
		eq := subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1
		if eq && s > lastUsedStep {
			step, matched = s, true
		}
	}
	if !matched {
		return 0, errBadCode()
	}
	return step, nil
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// checkTOTPSecret refuses a stored secret that is not base32 or too short:
// pquerna would happily compute codes from an empty key.
func checkTOTPSecret(secret string) error {
	s := strings.ToUpper(strings.TrimRight(strings.TrimSpace(secret), "="))
	b, err := b32.DecodeString(s)
	if err != nil || len(b) < minTOTPSecret {
		return chengdui.Errorf(chengdui.EInternal, "stored TOTP secret is unusable")
	}
	return nil
}

// normaliseTOTPCode removes spaces and tabs and reports whether what is
// left is exactly six ASCII digits.
func normaliseTOTPCode(code string) (string, bool) {
	if len(code) > 32 {
		return "", false
	}
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, code)
	if len(code) != totpDigits.Length() {
		return "", false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return "", false
		}
	}
	return code, true
}
