package auth

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"chengdui"
)

// memFactor is an in-memory SecondFactor with the atomicity the interface
// demands of real storage.
type memFactor struct {
	mu       sync.Mutex
	secret   string
	lastStep int64
	enabled  bool
	hashes   []string
	err      error // returned by every method when set
	// afterRead, if set, runs after each read and outside the lock: the
	// concurrency test uses it to make every request read before any writes.
	afterRead func(method string)
}

func (m *memFactor) read(method string) {
	if m.afterRead != nil {
		m.afterRead(method)
	}
}

func (m *memFactor) TOTPSecret(ctx context.Context, userID string) (string, int64, bool, error) {
	defer m.read("TOTPSecret")
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return "", 0, false, m.err
	}
	return m.secret, m.lastStep, m.enabled, nil
}

func (m *memFactor) SetTOTPLastStep(ctx context.Context, userID string, step int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	if step <= m.lastStep {
		return chengdui.Errorf(chengdui.EConflict, "step already used")
	}
	m.lastStep = step
	return nil
}

func (m *memFactor) RecoveryCodeHashes(ctx context.Context, userID string) ([]string, error) {
	defer m.read("RecoveryCodeHashes")
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return nil, m.err
	}
	return append([]string(nil), m.hashes...), nil
}

func (m *memFactor) UseRecoveryCode(ctx context.Context, userID string, index int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	if index < 0 || index >= len(m.hashes) || m.hashes[index] == "" {
		return chengdui.Errorf(chengdui.EConflict, "recovery code already used")
	}
	m.hashes[index] = ""
	return nil
}

// newGuard returns a guard over a user enrolled with rfcSecret and fresh
// recovery codes, at a fixed time.
func newGuard(t *testing.T) (Guard, *memFactor, []string, time.Time) {
	t.Helper()
	plain, hashes, err := NewRecoveryCodes()
	require.NoError(t, err)
	f := &memFactor{secret: rfcSecret, enabled: true, hashes: hashes}
	now := time.Unix(1_700_000_015, 0)
	return Guard{F: f, Now: func() time.Time { return now }}, f, plain, now
}

func TestGuardRequire(t *testing.T) {
	ctx := context.Background()
	g, f, recovery, now := newGuard(t)
	cur := TOTPStep(now)
	code := codeAt(t, rfcSecret, cur)

	steps := []struct {
		name string
		code string
		want string // error code, "" for success
	}{
		{"empty code", "", chengdui.EUnauthorized},
		{"wrong totp", "000000", chengdui.EUnauthorized},
		{"garbage", "not a code", chengdui.EUnauthorized},
		{"valid totp", code, ""},
		{"replayed totp", code, chengdui.EUnauthorized},
		{"replayed totp with spaces", code[:3] + " " + code[3:], chengdui.EUnauthorized},
		{"older totp after newer", codeAt(t, rfcSecret, cur-1), chengdui.EUnauthorized},
		{"next totp", codeAt(t, rfcSecret, cur+1), ""},
		{"recovery code", recovery[3], ""},
		{"recovery code reused", recovery[3], chengdui.EUnauthorized},
		{"recovery code upper, no dashes", "  " + upperNoDashes(recovery[4]), ""},
		{"wrong recovery code", "zzzz-zzzz-zzzz", chengdui.EUnauthorized},
	}
	for _, s := range steps {
		err := g.Require(ctx, "u1", s.code)
		if s.want == "" {
			require.NoError(t, err, s.name)
			continue
		}
		requireCode(t, err, s.want)
		if s.code != "" {
			require.Equal(t, "invalid or already used code", chengdui.ErrorMessage(err), s.name)
			require.NotContains(t, err.Error(), s.code, s.name)
		}
	}
	require.Equal(t, cur+1, f.lastStep)
	require.Empty(t, f.hashes[3])
	require.Empty(t, f.hashes[4])
	require.NotEmpty(t, f.hashes[5])
}

func upperNoDashes(s string) string {
	b := []byte(s)
	out := b[:0]
	for _, c := range b {
		if c == '-' {
			continue
		}
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		out = append(out, c)
	}
	return string(out)
}

func TestGuardNotEnrolled(t *testing.T) {
	g, f, recovery, now := newGuard(t)
	f.enabled = false
	for _, code := range []string{"", codeAt(t, rfcSecret, TOTPStep(now)), recovery[0]} {
		err := g.Require(context.Background(), "u1", code)
		requireCode(t, err, ESecondFactorRequired)
	}
	require.NotEmpty(t, f.hashes[0], "no code consumed")
}

func TestGuardStorageErrors(t *testing.T) {
	g, f, recovery, now := newGuard(t)
	f.err = chengdui.Errorf(chengdui.EUnavailable, "database is down")
	err := g.Require(context.Background(), "u1", codeAt(t, rfcSecret, TOTPStep(now)))
	requireCode(t, err, chengdui.EUnavailable)
	err = g.Require(context.Background(), "u1", recovery[0])
	requireCode(t, err, chengdui.EUnavailable)

	// A failure after verification is passed on, not mistaken for a bad code.
	g.F = &failingSet{memFactor: &memFactor{secret: rfcSecret, enabled: true, hashes: f.hashes}}
	err = g.Require(context.Background(), "u1", codeAt(t, rfcSecret, TOTPStep(now)))
	require.ErrorIs(t, err, errDisk)
	err = g.Require(context.Background(), "u1", recovery[0])
	require.ErrorIs(t, err, errDisk)
}

var errDisk = errors.New("disk on fire")

type failingSet struct{ *memFactor }

func (f *failingSet) SetTOTPLastStep(context.Context, string, int64) error { return errDisk }
func (f *failingSet) UseRecoveryCode(context.Context, string, int) error   { return errDisk }

func TestGuardBadStoredSecret(t *testing.T) {
	g, f, _, _ := newGuard(t)
	f.secret = ""
	requireCode(t, g.Require(context.Background(), "u1", "123456"), chengdui.EInternal)
}

func TestGuardDefaultClock(t *testing.T) {
	_, f, _, _ := newGuard(t)
	g := Guard{F: f} // Now nil: wall clock
	require.NoError(t, g.Require(context.Background(), "u1", codeAt(t, rfcSecret, TOTPStep(time.Now()))))
}

// TestGuardConcurrentReplay presents one code from many goroutines at once:
// exactly one may succeed, for TOTP codes and recovery codes alike. A
// barrier after each read makes all requests see the code unused before any
// records it, so only the compare-and-set can stop the replays.
func TestGuardConcurrentReplay(t *testing.T) {
	const n = 20
	for _, kind := range []string{"totp", "recovery"} {
		t.Run(kind, func(t *testing.T) {
			g, f, recovery, now := newGuard(t)
			code, lastRead := recovery[0], "RecoveryCodeHashes"
			if kind == "totp" {
				code, lastRead = codeAt(t, rfcSecret, TOTPStep(now)), "TOTPSecret"
			}
			var reads sync.WaitGroup
			reads.Add(n)
			f.afterRead = func(method string) {
				if method == lastRead {
					reads.Done()
					reads.Wait()
				}
			}
			var ok, refused atomic.Int32
			var wg sync.WaitGroup
			start := make(chan struct{})
			for range n {
				wg.Go(func() {
					<-start
					err := g.Require(context.Background(), "u1", code)
					switch chengdui.ErrorCode(err) {
					case "":
						ok.Add(1)
					case chengdui.EUnauthorized:
						refused.Add(1)
					default:
						t.Errorf("unexpected error: %v", err)
					}
				})
			}
			close(start)
			wg.Wait()
			require.Equal(t, int32(1), ok.Load())
			require.Equal(t, int32(n-1), refused.Load())
		})
	}
}
