package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
)

// env is what every subcommand gets: no globals.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
}

type command struct {
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// commands is the dispatch table; each lives in its own file.
func commands() map[string]command {
	return map[string]command{
		"dev":       {"run the platform locally: embedded SQLite, demo data, URLs printed", runDev},
		"serve":     {"run the platform in production from a config file, env and flags", runServe},
		"migrate":   {"apply database migrations", runMigrate},
		"ledger":    {"work with the ledger: assets, accounts, transfers, balances, verify", runLedger},
		"bench":     {"measure the ledger's throughput and latency", runBench},
		"keys":      {"manage the encrypted keystore: init, show-xpub, change-passphrase", runKeys},
		"cold":      {"Bitcoin cold storage, 2-of-3 multisig: xpub, address, create, sign, finalize", runCold},
		"reconcile": {"compare the ledger's platform accounts with the chains and the bank; exit 3 on an unexplained difference", runReconcile},
		"payout":    {"operators' payouts: list, approve (the second operator), cancel", runPayout},
		"version":   {"print the version", runVersion},
	}
}

var errHelp = flag.ErrHelp

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := &env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr,
		log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stdout, cmds)
		if len(args) == 0 {
			return usagef("no command given")
		}
		return nil
	}
	c, ok := cmds[args[0]]
	if !ok {
		return usagef("unknown command %q; run 'chengdui help' for the list", args[0])
	}
	err := c.run(ctx, e, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func printUsage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "chengdui — crypto payment acceptance and settlement (承兑)")
	fmt.Fprintln(w, "\nUsage: chengdui <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(cmds))
	width := 0
	for n := range cmds {
		names = append(names, n)
		width = max(width, len(n))
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s %s\n", width, n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'chengdui <command> --help' for a command's flags.")
}

// newFlagSet returns a flag set that reports errors instead of exiting and
// prints usage to stderr.
func newFlagSet(e *env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: chengdui %s\n\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags and turns flag errors into usage errors.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("%s: %v", fs.Name(), err)
	}
	return nil
}

// newLogger builds the process logger from a format (text or json) and level.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("log level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usagef("log format %q: use text or json", format)
}

// dispatch runs one of a command group's subcommands (ledger, keys), or
// prints the group's help: usage, an optional note, and the commands.
func dispatch(ctx context.Context, e *env, group, usage, note string, cmds map[string]command, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(e.stdout, "Usage: chengdui %s <command> %s\n", group, usage)
		if note != "" {
			fmt.Fprintf(e.stdout, "\n%s\n", note)
		}
		fmt.Fprintln(e.stdout, "\nCommands:")
		names := make([]string, 0, len(cmds))
		width := 0
		for n := range cmds {
			names = append(names, n)
			width = max(width, len(n))
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(e.stdout, "  %-*s  %s\n", width, n, cmds[n].summary)
		}
		if len(args) == 0 {
			return usagef("%s: no command given", group)
		}
		return nil
	}
	c, ok := cmds[args[0]]
	if !ok {
		return usagef("%s: unknown command %q; run 'chengdui %s help'", group, args[0], group)
	}
	return c.run(ctx, e, args[1:])
}
