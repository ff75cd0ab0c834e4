package storetest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"chengdui"
	"chengdui/ledger"

	"github.com/stretchr/testify/require"
)

// Crash tests kill a process that is committing linked batches with
// SIGKILL — no deferred cleanup, no graceful anything — then reopen the
// store and check that every request is wholly present or wholly absent
// and that the journal verifies.
//
// The adapter's test binary re-executes itself: the child runs CrashChild
// when CrashEnv is set; the parent runs CrashParent.

// CrashEnv names the environment variable that selects the child role; its
// value is the store's DSN or path.
const CrashEnv = "CHENGDUI_CRASH_CHILD"

const crashChain = 5

// CrashChild commits chains of crashChain linked transfers from several
// goroutines until killed. It prints "ready" once it has committed some.
func CrashChild(s ledger.Store) {
	ctx := context.Background()
	e := ledger.New(s, ledger.Options{ExpiryInterval: -1})
	if err := e.Start(ctx); err != nil {
		panic(err)
	}
	if _, err := e.CreateAsset(ctx, chengdui.Asset{Code: "CRASH", Network: "test", Decimals: 0}); err != nil {
		panic(err)
	}
	for _, id := range []string{"c-src", "c-a", "c-b"} {
		if _, err := e.CreateAccount(ctx, chengdui.Account{ID: id, Asset: "CRASH"}); err != nil {
			panic(err)
		}
	}
	var ready sync.Once
	for w := 0; w < 8; w++ {
		go func(w int) {
			for n := 0; ; n++ {
				var chain []chengdui.Transfer
				for k := 0; k < crashChain; k++ {
					tr := chengdui.Transfer{ID: fmt.Sprintf("r%d-%d.%d", w, n, k), DebitAccountID: "c-src", CreditAccountID: "c-a", Amount: chengdui.Amount{Lo: uint64(k + 1)}}
					if k%2 == 1 {
						tr.DebitAccountID, tr.CreditAccountID = "c-a", "c-b"
					}
					if k < crashChain-1 {
						tr.Flags = chengdui.Linked
					}
					chain = append(chain, tr)
				}
				if _, err := e.CreateTransfers(ctx, chain); err != nil {
					panic(err)
				}
				if n == 20 {
					ready.Do(func() { fmt.Println("ready") })
				}
			}
		}(w)
	}
	select {}
}

// CrashParent starts the test binary as a child committing batches to the
// store named by target (the child's CrashEnv value), kills it with
// SIGKILL at a different moment each round, and checks the reopened store.
func CrashParent(t *testing.T, testName, target string, reopen func(t *testing.T) (ledger.Store, func())) {
	rounds := 3
	for round := 0; round < rounds; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^"+testName+"$", "-test.count=1")
		cmd.Env = append(os.Environ(), CrashEnv+"="+target)
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		cmd.Stderr = os.Stderr
		require.NoError(t, cmd.Start())
		buf := make([]byte, 64)
		readyc := make(chan string, 1)
		go func() { n, _ := out.Read(buf); readyc <- string(buf[:n]) }()
		select {
		case s := <-readyc:
			require.Contains(t, s, "ready")
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatal("crash child never became ready")
		}
		time.Sleep(time.Duration(50+round*120) * time.Millisecond)
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()

		s, closeStore := reopen(t)
		checkCrash(t, s)
		closeStore()
	}
}

func checkCrash(t *testing.T, s ledger.Store) {
	t.Helper()
	ctx := context.Background()
	rep, err := ledger.Verify(ctx, s, nil)
	require.NoError(t, err)
	require.True(t, rep.OK(), "after SIGKILL: %v", rep.Problems)
	counts := map[string]int{}
	var after uint64
	for {
		page, err := s.Transfers(ctx, chengdui.TransferFilter{AfterSeq: after, Limit: 5000})
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		for _, tr := range page {
			req, _, _ := strings.Cut(tr.ID, ".")
			counts[req]++
		}
		after = page[len(page)-1].Seq
	}
	require.NotEmpty(t, counts)
	for req, n := range counts {
		require.Equal(t, crashChain, n, "request %s is half committed", req)
	}
	t.Logf("after SIGKILL: %d requests, all whole; journal of %s entries verifies", len(counts), strconv.FormatUint(rep.Entries, 10))
}
