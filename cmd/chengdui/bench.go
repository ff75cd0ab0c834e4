package main

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"chengdui"
	"chengdui/ledger"

	"github.com/google/uuid"
)

func runBench(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "ledger" {
		return usagef("usage: chengdui bench ledger [flags]; run 'chengdui bench ledger --help'")
	}
	fs := newFlagSet(e, "bench ledger", "bench ledger --db DSN --accounts N --concurrency C --duration D")
	dsn := fs.String("db", "", "database: sqlite:PATH or postgres://…; default: a fresh SQLite file in a temp dir")
	accounts := fs.Int("accounts", 1000, "accounts transfers move between (10 for a hot-account run)")
	concurrency := fs.Int("concurrency", 256, "concurrent clients, each submitting one transfer at a time")
	duration := fs.Duration("duration", 10*time.Second, "how long to measure")
	warmup := fs.Duration("warmup", 2*time.Second, "unmeasured run before measuring")
	maxBatch := fs.Int("max-batch", 4096, "transfers per group commit at most")
	historyEvery := fs.Duration("history-interval", time.Second, "how often the account-history index catches up (negative: off, to measure its cost)")
	idKind := fs.String("ids", "time", "transfer ids: time (UUIDv7, what the platform's services use) or random (UUIDv4, the worst case for the id index)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the measured run to this file")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	newID := ledger.NewID
	switch *idKind {
	case "time":
	case "random":
		newID = uuid.NewString
	default:
		return usagef("bench: --ids %q: use time or random", *idKind)
	}
	if *accounts < 2 || *concurrency < 1 || *duration <= 0 {
		return usagef("bench: need --accounts >= 2, --concurrency >= 1 and a positive --duration")
	}
	if *dsn == "" {
		dir, err := os.MkdirTemp("", "chengdui-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*dsn = "sqlite:" + filepath.Join(dir, "bench.db")
	}
	db, err := openMigrated(ctx, *dsn, true)
	if err != nil {
		return err
	}
	defer db.Close()
	eng := ledger.New(db, ledger.Options{MaxBatch: *maxBatch, ExpiryInterval: -1, HistoryInterval: *historyEvery})
	if err := eng.Start(ctx); err != nil {
		return err
	}
	defer eng.Stop()

	// Fresh names per run, so a bench can reuse a database.
	b := make([]byte, 4)
	_, _ = crand.Read(b)
	run := hex.EncodeToString(b)
	asset := "BENCH" + run
	if _, err := eng.CreateAsset(ctx, chengdui.Asset{Code: asset, Network: "bench", Decimals: 6}); err != nil {
		return err
	}
	src := "bench-" + run + "-source"
	if _, err := eng.CreateAccount(ctx, chengdui.Account{ID: src, Asset: asset}); err != nil {
		return err
	}
	ids := make([]string, *accounts)
	fmt.Fprintf(e.stderr, "setting up %d accounts…\n", *accounts)
	var funding []chengdui.Transfer
	for i := range ids {
		ids[i] = fmt.Sprintf("bench-%s-%d", run, i)
		if _, err := eng.CreateAccount(ctx, chengdui.Account{ID: ids[i], Asset: asset, Flags: chengdui.DebitsMustNotExceedCredits}); err != nil {
			return err
		}
		funding = append(funding, chengdui.Transfer{ID: "fund-" + ids[i], DebitAccountID: src, CreditAccountID: ids[i], Amount: chengdui.Amount{Lo: 1 << 40}})
		if len(funding) == 1000 || i == len(ids)-1 {
			if _, err := eng.CreateTransfers(ctx, funding); err != nil {
				return err
			}
			funding = funding[:0]
		}
	}

	var measuring atomic.Bool
	var count, refused atomic.Int64
	lat := make([][]time.Duration, *concurrency)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for w := 0; w < *concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				i := rng.IntN(len(ids))
				j := rng.IntN(len(ids) - 1)
				if j >= i {
					j++
				}
				t := chengdui.Transfer{ID: newID(), DebitAccountID: ids[i], CreditAccountID: ids[j],
					Amount: chengdui.Amount{Lo: uint64(1 + rng.IntN(100))}, Code: 1}
				start := time.Now()
				// Workers stop through the stop channel, so an interrupt
				// still prints the results measured so far.
				res, err := eng.CreateTransfers(context.WithoutCancel(ctx), []chengdui.Transfer{t})
				d := time.Since(start)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				if measuring.Load() {
					if res[0].Err != nil {
						refused.Add(1)
					} else {
						count.Add(1)
					}
					lat[w] = append(lat[w], d)
				}
			}
		}(w)
	}
	fmt.Fprintf(e.stderr, "warming up for %s, then measuring for %s with %d clients…\n", *warmup, *duration, *concurrency)
	select {
	case <-time.After(*warmup):
	case <-ctx.Done():
	}
	measuring.Store(true)
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	tick := time.NewTicker(time.Second)
	deadline := time.After(*duration)
loop:
	for {
		select {
		case <-tick.C:
			fmt.Fprintf(e.stderr, "  %5.0fs  %9d transfers\n", time.Since(start).Seconds(), count.Load())
		case <-deadline:
			break loop
		case <-ctx.Done():
			break loop
		}
	}
	measuring.Store(false)
	elapsed := time.Since(start)
	tick.Stop()
	close(stop)
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(p*float64(len(all))))]
	}
	engine := "sqlite"
	if db, ok := db.(interface{ Path() string }); !ok || db == nil {
		engine = "postgres"
	}
	fmt.Fprintf(e.stdout, "engine=%s accounts=%d concurrency=%d duration=%s\n", engine, *accounts, *concurrency, elapsed.Round(time.Millisecond))
	fmt.Fprintf(e.stdout, "committed=%d refused=%d transfers/s=%.0f p50=%s p99=%s\n",
		count.Load(), refused.Load(), float64(count.Load())/elapsed.Seconds(), pct(0.50).Round(time.Microsecond), pct(0.99).Round(time.Microsecond))
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}
