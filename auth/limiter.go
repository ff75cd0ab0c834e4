package auth

import (
	"sync"
	"time"
)

// Limiter counts failures per key (an account, a client address) in a
// sliding window and refuses a key that has reached the limit until its
// oldest counted failure leaves the window. It lives in memory: each
// process limits on its own (a cluster behind one address multiplies the
// limit by its size), and a restart forgets.
type Limiter struct {
	Max    int           // failures allowed per window; 5 if zero
	Window time.Duration // 1 minute if zero

	mu       sync.Mutex
	failures map[string][]time.Time
}

// maxLimiterKeys bounds memory: beyond it, keys with no recent failure are
// dropped first.
const maxLimiterKeys = 100_000

func (l *Limiter) limits() (int, time.Duration) {
	max, window := l.Max, l.Window
	if max <= 0 {
		max = 5
	}
	if window <= 0 {
		window = time.Minute
	}
	return max, window
}

// recent drops failures older than the window and returns the rest.
func (l *Limiter) recent(key string, now time.Time, window time.Duration) []time.Time {
	fs := l.failures[key]
	i := 0
	for i < len(fs) && !fs[i].After(now.Add(-window)) {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(l.failures, key)
	} else {
		l.failures[key] = fs
	}
	return fs
}

// Allow reports whether every key may try again now, and if not, how long
// until the first of them may.
func (l *Limiter) Allow(now time.Time, keys ...string) (bool, time.Duration) {
	max, window := l.limits()
	l.mu.Lock()
	defer l.mu.Unlock()
	var wait time.Duration
	for _, k := range keys {
		if fs := l.recent(k, now, window); len(fs) >= max {
			if w := fs[len(fs)-max].Add(window).Sub(now); w > wait {
				wait = w
			}
		}
	}
	return wait == 0, wait
}

// Fail records a failure for every key.
func (l *Limiter) Fail(now time.Time, keys ...string) {
	_, window := l.limits()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failures == nil {
		l.failures = map[string][]time.Time{}
	}
	if len(l.failures) >= maxLimiterKeys {
		for k := range l.failures {
			l.recent(k, now, window)
		}
		for k := range l.failures { // still full: forget arbitrary keys
			if len(l.failures) < maxLimiterKeys {
				break
			}
			delete(l.failures, k)
		}
	}
	for _, k := range keys {
		l.failures[k] = append(l.recent(k, now, window), now)
	}
}
