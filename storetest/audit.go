package storetest

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"chengdui"
	"chengdui/audit"

	"github.com/stretchr/testify/require"
)

// RunAudit runs the audit.Store conformance suite. f returns a fresh,
// empty, migrated store, closed by t.Cleanup.
func RunAudit(t *testing.T, f func(t testing.TB) audit.Store) {
	t.Run("AppendList", func(t *testing.T) { testAuditAppendList(t, f(t)) })
	t.Run("Paging", func(t *testing.T) { testAuditPaging(t, f(t)) })
	t.Run("Refusals", func(t *testing.T) { testAuditRefusals(t, f(t)) })
	t.Run("Times", func(t *testing.T) { testAuditTimes(t, f(t)) })
	t.Run("Concurrency", func(t *testing.T) { testAuditConcurrency(t, f(t)) })
}

// auditAll lists every event of actor ("" for all) a page at a time.
func auditAll(t testing.TB, s audit.Store, actor string, page int) []chengdui.AuditEvent {
	t.Helper()
	var out []chengdui.AuditEvent
	var after uint64
	for {
		got, err := s.AuditEvents(context.Background(), actor, after, page)
		require.NoError(t, err)
		require.LessOrEqual(t, len(got), page)
		if len(got) == 0 {
			return out
		}
		out = append(out, got...)
		after = got[len(got)-1].Seq
	}
}

// requireAscendingSeq checks that Seq strictly increases along events.
func requireAscendingSeq(t testing.TB, events []chengdui.AuditEvent) {
	t.Helper()
	for i := range events {
		require.NotZero(t, events[i].Seq, "event %d", i)
		if i > 0 {
			require.Greater(t, events[i].Seq, events[i-1].Seq, "event %d", i)
		}
	}
}

// appendAudit appends want in order and returns them as stored: with the
// Seqs the store assigned, read back and checked.
func appendAudit(t testing.TB, s audit.Store, want ...chengdui.AuditEvent) []chengdui.AuditEvent {
	t.Helper()
	ctx := context.Background()
	for _, e := range want {
		require.NoError(t, s.AppendAudit(ctx, e))
	}
	got, err := s.AuditEvents(ctx, "", 0, len(want)+10)
	require.NoError(t, err)
	require.Len(t, got, len(want))
	requireAscendingSeq(t, got)
	out := make([]chengdui.AuditEvent, len(want))
	for i, e := range want {
		e.Seq = got[i].Seq
		out[i] = e
	}
	require.Equal(t, out, got, "events read back as appended, in append order")
	return out
}

func testAuditAppendList(t *testing.T, s audit.Store) {
	ctx := context.Background()
	got, err := s.AuditEvents(ctx, "", 0, 10)
	require.NoError(t, err)
	require.Empty(t, got)

	ev := appendAudit(t, s,
		chengdui.AuditEvent{At: walletEpoch, Event: chengdui.AuditRegistered, Actor: "u1", IP: "203.0.113.7"},
		chengdui.AuditEvent{At: walletEpoch.Add(time.Second), Event: chengdui.AuditLoginFailed, Actor: "", IP: "2001:db8::1",
			Detail: map[string]string{"email": "张伟@例子.公司"}},
		chengdui.AuditEvent{At: walletEpoch.Add(2 * time.Second), Event: chengdui.AuditLogin, Actor: "u2", IP: "198.51.100.2"},
		chengdui.AuditEvent{At: walletEpoch.Add(3 * time.Second), Event: chengdui.AuditAPIKeyCreated, Actor: "u1", IP: "203.0.113.7",
			Detail: map[string]string{"store": "s1", "label": "收银台 一号", "key": "key1"}},
		// The CLI has no IP; events may share a time.
		chengdui.AuditEvent{At: walletEpoch.Add(3 * time.Second), Event: chengdui.AuditTOTPEnabled, Actor: "u2"},
		chengdui.AuditEvent{At: walletEpoch.Add(4 * time.Second), Event: chengdui.AuditLogout, Actor: "u1", IP: "203.0.113.7"},
	)

	got, err = s.AuditEvents(ctx, "u1", 0, 10)
	require.NoError(t, err)
	require.Equal(t, []chengdui.AuditEvent{ev[0], ev[3], ev[5]}, got)
	got, err = s.AuditEvents(ctx, "u2", 0, 10)
	require.NoError(t, err)
	require.Equal(t, []chengdui.AuditEvent{ev[2], ev[4]}, got)
	got, err = s.AuditEvents(ctx, "nobody", 0, 10)
	require.NoError(t, err)
	require.Empty(t, got)
	// Actors are compared byte for byte.
	got, err = s.AuditEvents(ctx, "U1", 0, 10)
	require.NoError(t, err)
	require.Empty(t, got)

	// An empty detail map reads back as none.
	require.NoError(t, s.AppendAudit(ctx, chengdui.AuditEvent{At: walletEpoch, Event: chengdui.AuditLogout, Actor: "u3", Detail: map[string]string{}}))
	got, err = s.AuditEvents(ctx, "u3", 0, 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Empty(t, got[0].Detail)
	require.Greater(t, got[0].Seq, ev[len(ev)-1].Seq)
}

func testAuditPaging(t *testing.T, s audit.Store) {
	ctx := context.Background()
	var want []chengdui.AuditEvent
	for i := range 7 {
		want = append(want, chengdui.AuditEvent{At: walletEpoch.Add(time.Duration(i) * time.Second), Event: chengdui.AuditLogin,
			Actor: []string{"u1", "u2"}[i%2], IP: "203.0.113.7", Detail: map[string]string{"n": fmt.Sprint(i)}})
	}
	all := appendAudit(t, s, want...)

	for _, page := range []int{1, 2, 3, 7, 100} {
		require.Equal(t, all, auditAll(t, s, "", page), "page size %d", page)
		require.Equal(t, []chengdui.AuditEvent{all[0], all[2], all[4], all[6]}, auditAll(t, s, "u1", page), "u1, page size %d", page)
		require.Equal(t, []chengdui.AuditEvent{all[1], all[3], all[5]}, auditAll(t, s, "u2", page), "u2, page size %d", page)
	}

	got, err := s.AuditEvents(ctx, "", all[2].Seq, 3)
	require.NoError(t, err)
	require.Equal(t, all[3:6], got, "the cursor is exclusive")
	got, err = s.AuditEvents(ctx, "u2", all[2].Seq, 1)
	require.NoError(t, err)
	require.Equal(t, []chengdui.AuditEvent{all[3]}, got)
	got, err = s.AuditEvents(ctx, "", all[6].Seq, 10)
	require.NoError(t, err)
	require.Empty(t, got)
	got, err = s.AuditEvents(ctx, "", math.MaxUint64, 10)
	require.NoError(t, err)
	require.Empty(t, got)

	for _, limit := range []int{0, -1} {
		_, err = s.AuditEvents(ctx, "", 0, limit)
		requireCode(t, chengdui.EInvalid, err)
	}
}

func testAuditRefusals(t *testing.T, s audit.Store) {
	ctx := context.Background()
	ok := chengdui.AuditEvent{At: walletEpoch, Event: chengdui.AuditLogin, Actor: "u1", IP: "203.0.113.7"}
	keys := func(n int) map[string]string {
		m := map[string]string{}
		for i := range n {
			m[fmt.Sprintf("k%02d", i)] = "值"
		}
		return m
	}
	with := func(edit func(e *chengdui.AuditEvent)) chengdui.AuditEvent {
		e := ok
		edit(&e)
		return e
	}

	// At the limits, accepted: 64 bytes of name, 32 keys, 2048 bytes of
	// detail as stored ({"d":"…"} is 8 bytes around the value).
	accepted := appendAudit(t, s,
		ok,
		with(func(e *chengdui.AuditEvent) { e.Event = strings.Repeat("e", 64) }),
		with(func(e *chengdui.AuditEvent) { e.Event = strings.Repeat("登", 21) + "x" }),
		with(func(e *chengdui.AuditEvent) { e.Detail = keys(32) }),
		with(func(e *chengdui.AuditEvent) { e.Detail = map[string]string{"d": strings.Repeat("x", 2048-8)} }),
	)

	for _, tc := range []struct {
		name string
		e    chengdui.AuditEvent
	}{
		{"no event", with(func(e *chengdui.AuditEvent) { e.Event = "" })},
		{"event of 65 bytes", with(func(e *chengdui.AuditEvent) { e.Event = strings.Repeat("e", 65) })},
		// 22 characters, 66 bytes: the limit is in bytes.
		{"event of 66 bytes in Chinese", with(func(e *chengdui.AuditEvent) { e.Event = strings.Repeat("登", 22) })},
		{"33 detail keys", with(func(e *chengdui.AuditEvent) { e.Detail = keys(33) })},
		{"detail of 2049 bytes", with(func(e *chengdui.AuditEvent) { e.Detail = map[string]string{"d": strings.Repeat("x", 2048-7)} })},
		{"detail of 2 KiB in Chinese", with(func(e *chengdui.AuditEvent) { e.Detail = map[string]string{"d": strings.Repeat("值", 700)} })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requireCode(t, chengdui.EInvalid, s.AppendAudit(ctx, tc.e))
		})
	}
	require.Equal(t, accepted, auditAll(t, s, "", 100), "refused events are not stored")
}

// testAuditTimes checks that times keep their microseconds, come back in
// UTC, and lose only what is finer than a microsecond.
func testAuditTimes(t *testing.T, s audit.Store) {
	shanghai := time.FixedZone("CST", 8*60*60)
	at := []time.Time{
		walletEpoch.Add(789 * time.Microsecond),
		time.Date(2027, 2, 6, 8, 30, 0, 999999000, shanghai),
		time.Date(1969, 12, 31, 23, 59, 59, 1000, time.UTC), // before the epoch
	}
	for i, a := range at {
		require.NoError(t, s.AppendAudit(context.Background(), chengdui.AuditEvent{At: a, Event: chengdui.AuditLogin, Actor: fmt.Sprintf("u%d", i)}))
	}
	fine := time.Date(2026, 11, 26, 12, 0, 0, 123456789, time.UTC)
	require.NoError(t, s.AppendAudit(context.Background(), chengdui.AuditEvent{At: fine, Event: chengdui.AuditLogin, Actor: "fine"}))

	got := auditAll(t, s, "", 100)
	require.Len(t, got, len(at)+1)
	for i, a := range at {
		require.Equal(t, a.UTC(), got[i].At, "time %d", i)
		require.Equal(t, time.UTC, got[i].At.Location())
	}
	require.Equal(t, fine.Truncate(time.Microsecond), got[len(at)].At)
}

// testAuditConcurrency appends from many goroutines at once: every event
// is stored once, under its own Seq, and each goroutine's events keep
// their order.
func testAuditConcurrency(t *testing.T, s audit.Store) {
	const workers, each = 16, 20
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				e := chengdui.AuditEvent{At: walletEpoch.Add(time.Duration(i) * time.Millisecond), Event: chengdui.AuditLogin,
					Actor: fmt.Sprintf("w%02d", w), IP: "203.0.113.7", Detail: map[string]string{"i": fmt.Sprint(i), "备注": "并发"}}
				if err := s.AppendAudit(context.Background(), e); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for w, err := range errs {
		require.NoError(t, err, "worker %d", w)
	}

	all := auditAll(t, s, "", 64)
	require.Len(t, all, workers*each)
	requireAscendingSeq(t, all)
	next := map[string]int{}
	for _, e := range all {
		require.Equal(t, fmt.Sprint(next[e.Actor]), e.Detail["i"], "%s's events in append order", e.Actor)
		next[e.Actor]++
	}
	require.Len(t, next, workers)
	for w := range workers {
		actor := fmt.Sprintf("w%02d", w)
		mine := auditAll(t, s, actor, 7)
		require.Len(t, mine, each, actor)
		requireAscendingSeq(t, mine)
	}
}
