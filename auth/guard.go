package auth

import (
	"context"
	"time"

	"chengdui"
)

// ESecondFactorRequired is the code of the refusal returned when an action
// needs two-factor authentication and the user has not enrolled any: the
// client should send the user to enrolment (HTTP 403).
const ESecondFactorRequired = chengdui.ESecondFactorRequired

// SecondFactor is the storage Guard needs. Implementations return
// *chengdui.Error values.
type SecondFactor interface {
	// TOTPSecret returns the user's TOTP secret, the last time step accepted
	// (0 if none) and whether TOTP is enabled.
	TOTPSecret(ctx context.Context, userID string) (secret string, lastStep int64, enabled bool, err error)
	// SetTOTPLastStep records step as used. It must be an atomic
	// compare-and-set that succeeds only if step is greater than the stored
	// step, and otherwise returns EConflict: that is what makes a code
	// usable once even when two requests present it at the same time.
	SetTOTPLastStep(ctx context.Context, userID string, step int64) error
	// RecoveryCodeHashes returns the user's recovery code hashes at stable
	// positions, with "" for codes already used.
	RecoveryCodeHashes(ctx context.Context, userID string) ([]string, error)
	// UseRecoveryCode marks the code at index as used. It must succeed at
	// most once per code, atomically, and otherwise return EConflict.
	UseRecoveryCode(ctx context.Context, userID string, index int) error
}

// Guard checks a second factor before a sensitive action: creating API
// keys, changing payout destinations, withdrawing. Now defaults to
// time.Now.
//
// Guard does not limit attempts. A six-digit code falls to guessing without
// a limit, so callers must rate-limit failures per account and per address.
type Guard struct {
	F   SecondFactor
	Now func() time.Time
}

// Require checks that code is a valid, unused TOTP code or recovery code of
// the user, and consumes it.
//
// Returns ESecondFactorRequired if the user has no second factor enrolled,
// EUnauthorized if code is empty, wrong, malformed or already used (one
// message for all of these), and storage errors as they come.
func (g Guard) Require(ctx context.Context, userID, code string) error {
	secret, lastStep, enabled, err := g.F.TOTPSecret(ctx, userID)
	if chengdui.ErrorCode(err) == chengdui.ENotFound {
		enabled, err = false, nil // never enrolled
	}
	if err != nil {
		return err
	}
	if !enabled {
		return chengdui.Errorf(ESecondFactorRequired, "this action requires two-factor authentication; enable it first")
	}
	if code == "" {
		return chengdui.Errorf(chengdui.EUnauthorized, "a two-factor code is required")
	}
	if _, ok := normaliseTOTPCode(code); ok {
		return g.requireTOTP(ctx, userID, secret, code, lastStep)
	}
	if _, ok := normaliseRecoveryCode(code); ok {
		return g.requireRecovery(ctx, userID, code)
	}
	return errBadCode()
}

func (g Guard) requireTOTP(ctx context.Context, userID, secret, code string, lastStep int64) error {
	now := time.Now
	if g.Now != nil {
		now = g.Now
	}
	step, err := VerifyTOTP(secret, code, now(), lastStep)
	if err != nil {
		return err
	}
	// Another request may have used this code since TOTPSecret was read;
	// the compare-and-set is what decides.
	return asBadCode(g.F.SetTOTPLastStep(ctx, userID, step))
}

func (g Guard) requireRecovery(ctx context.Context, userID, code string) error {
	hashes, err := g.F.RecoveryCodeHashes(ctx, userID)
	if err != nil {
		return err
	}
	i, ok := MatchRecoveryCode(hashes, code)
	if !ok {
		return errBadCode()
	}
	return asBadCode(g.F.UseRecoveryCode(ctx, userID, i))
}

// asBadCode turns a lost compare-and-set into the usual refusal.
func asBadCode(err error) error {
	if chengdui.ErrorCode(err) == chengdui.EConflict {
		return errBadCode()
	}
	return err
}
