package auth_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"chengdui/auth"

	"github.com/stretchr/testify/require"
)

func TestLimiter(t *testing.T) {
	var l auth.Limiter // 5 per minute
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for i := 0; i < 5; i++ {
		ok, _ := l.Allow(t0.Add(time.Duration(i)*time.Second), "ip:1", "acct:a")
		require.True(t, ok, "failure %d", i)
		l.Fail(t0.Add(time.Duration(i)*time.Second), "ip:1", "acct:a")
	}
	ok, wait := l.Allow(t0.Add(10*time.Second), "ip:2", "acct:a")
	require.False(t, ok, "the account is limited from any address")
	require.Equal(t, 50*time.Second, wait, "until the oldest failure leaves the window")
	ok, _ = l.Allow(t0.Add(10*time.Second), "ip:1", "acct:b")
	require.False(t, ok, "the address is limited for any account")
	ok, _ = l.Allow(t0.Add(10*time.Second), "ip:2", "acct:b")
	require.True(t, ok, "others are not")
	ok, _ = l.Allow(t0.Add(61*time.Second), "ip:1", "acct:a")
	require.True(t, ok, "a minute later the first failure has aged out")
	ok, _ = l.Allow(t0.Add(3*time.Minute), "ip:1", "acct:a")
	require.True(t, ok)
}

func TestLimiterConcurrent(t *testing.T) {
	l := auth.Limiter{Max: 3, Window: time.Hour}
	now := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			l.Fail(now, "shared", fmt.Sprintf("own-%d", i))
			l.Allow(now, "shared")
		}(i)
	}
	wg.Wait()
	ok, _ := l.Allow(now, "shared")
	require.False(t, ok)
	ok, _ = l.Allow(now, "own-7")
	require.True(t, ok)
}
