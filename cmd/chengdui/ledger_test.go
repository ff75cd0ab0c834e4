package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	_ "modernc.org/sqlite" // the database/sql driver the tamper test writes with
)

// ledgerCLI runs 'chengdui ledger' commands against one data directory.
type ledgerCLI struct {
	t   *testing.T
	dir string
}

// newLedger returns a CLI on a fresh, migrated data directory.
func newLedger(t *testing.T) ledgerCLI {
	t.Helper()
	dir := t.TempDir()
	stdout, stderr, code := runCmd(t, context.Background(), nil, "", "migrate", "--data-dir", dir)
	require.Equal(t, exitOK, code, "migrate: %s", stderr)
	require.Contains(t, stdout, "applied migrations")
	stdout, stderr, code = runCmd(t, context.Background(), nil, "", "migrate", "--data-dir", dir)
	require.Equal(t, exitOK, code, "second migrate: %s", stderr)
	require.Contains(t, stdout, "schema is current")
	return ledgerCLI{t: t, dir: dir}
}

// args builds 'ledger CMD --data-dir DIR ARGS…'. cmd is the leading words
// (e.g. "asset create", "history alice"); the store flag follows them so
// positional arguments after it still parse.
func (c ledgerCLI) args(cmd string, args ...string) []string {
	out := append([]string{"ledger"}, strings.Fields(cmd)...)
	out = append(out, "--data-dir", c.dir)
	return append(out, args...)
}

// run runs a ledger command with stdin.
func (c ledgerCLI) run(stdin, cmd string, args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	return runCmd(c.t, context.Background(), nil, stdin, c.args(cmd, args...)...)
}

// ok runs a ledger command, requires exit 0 and returns its stdout.
func (c ledgerCLI) ok(cmd string, args ...string) string {
	c.t.Helper()
	stdout, stderr, code := c.run("", cmd, args...)
	require.Equal(c.t, exitOK, code, "ledger %s %q\nstdout:\n%s\nstderr:\n%s", cmd, args, stdout, stderr)
	return stdout
}

// balances returns 'ledger balance' rows by account: asset, balance,
// debits posted, credits posted, debits pending, credits pending.
func (c ledgerCLI) balances(accounts ...string) map[string][]string {
	c.t.Helper()
	stdout := c.ok("balance", accounts...)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	require.Len(c.t, lines, len(accounts)+1, stdout)
	require.Equal(c.t, []string{"ACCOUNT", "ASSET", "BALANCE", "DEBITS", "POSTED", "CREDITS", "POSTED", "DEBITS", "PENDING", "CREDITS", "PENDING"}, strings.Fields(lines[0]))
	out := map[string][]string{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		require.Len(c.t, f, 7, l)
		out[f[0]] = f[1:]
	}
	return out
}

// journal returns what 'ledger verify' reports of the journal: entries,
// accounts, chain hash and Merkle root. Equal states mean nothing changed.
func (c ledgerCLI) journal() string {
	c.t.Helper()
	stdout := c.ok("verify")
	require.Contains(c.t, stdout, "OK:")
	var parts []string
	for _, f := range []string{"entries", "accounts", "chain hash", "merkle root"} {
		parts = append(parts, f+"="+verifyField(c.t, stdout, f))
	}
	return strings.Join(parts, " ")
}

func (c ledgerCLI) entries() string {
	c.t.Helper()
	return verifyField(c.t, c.ok("verify"), "entries")
}

func TestLedgerRoundTrip(t *testing.T) {
	t.Parallel()
	c := newLedger(t)

	out := c.ok("asset create", "--code", "USDT", "--network", "ethereum", "--decimals", "6")
	require.Equal(t, "asset USDT on ethereum with 6 decimals\n", out)
	require.Regexp(t, `(?m)^USDT\s+ethereum\s+6$`, c.ok("asset list"))

	out = c.ok("account create", "--id", "treasury", "--asset", "USDT", "--meta", "role=funding")
	require.Equal(t, "account treasury (USDT) -\n", out)
	for _, id := range []string{"alice", "bob", "carol"} {
		out = c.ok("account create", "--id", id, "--asset", "USDT", "--no-overdraft")
		require.Equal(t, "account "+id+" (USDT) debits_must_not_exceed_credits\n", out)
	}
	// Creating the same account again is idempotent.
	c.ok("account create", "--id", "alice", "--asset", "USDT", "--no-overdraft")

	out = c.ok("transfer", "--id", "t1", "--from", "treasury", "--to", "alice", "--amount", "100")
	require.Regexp(t, `^committed t1: seq 1, 100\.000000 USDT from treasury to alice, hash [0-9a-f]{16}\n$`, out)
	first := out

	// A retry with the same id and body is safe: it reports the original.
	out = c.ok("transfer", "--id", "t1", "--from", "treasury", "--to", "alice", "--amount", "100")
	require.Regexp(t, `^exists\s+t1: seq 1, 100\.000000 USDT from treasury to alice, hash [0-9a-f]{16}\n$`, out)
	require.Equal(t, first[strings.Index(first, "hash"):], out[strings.Index(out, "hash"):], "a retry reports the original hash")
	require.Equal(t, "1", c.entries())

	// Hold 30, post 20 of it: the other 10 go back to alice.
	out = c.ok("pending", "--id", "h1", "--from", "alice", "--to", "bob", "--amount", "30", "--timeout", "15m")
	require.Contains(t, out, "committed h1: seq 2, 30.000000 USDT from alice to bob")
	b := c.balances("alice", "bob")
	require.Equal(t, []string{"USDT", "100.000000", "0.000000", "100.000000", "30.000000", "0.000000"}, b["alice"])
	require.Equal(t, []string{"USDT", "0.000000", "0.000000", "0.000000", "0.000000", "30.000000"}, b["bob"])

	out = c.ok("post", "--id", "h1-post", "--pending", "h1", "--amount", "20")
	require.Contains(t, out, "committed h1-post: seq 3, 20.000000 USDT from alice to bob")

	// Hold 10 for carol, then release it.
	c.ok("pending", "--id", "h2", "--from", "alice", "--to", "carol", "--amount", "10")
	out = c.ok("void", "--id", "h2-void", "--pending", "h2")
	require.Contains(t, out, "committed h2-void: seq 5, 10.000000 USDT from alice to carol")

	want := map[string][]string{
		"treasury": {"USDT", "-100.000000", "100.000000", "0.000000", "0.000000", "0.000000"},
		"alice":    {"USDT", "80.000000", "20.000000", "100.000000", "0.000000", "0.000000"},
		"bob":      {"USDT", "20.000000", "0.000000", "20.000000", "0.000000", "0.000000"},
		"carol":    {"USDT", "0.000000", "0.000000", "0.000000", "0.000000", "0.000000"},
	}
	require.Equal(t, want, c.balances("treasury", "alice", "bob", "carol"))
	before := c.journal()

	// A linked chain whose last leg overdraws carol: all or nothing.
	chain := func(last string) string {
		return `[
		  {"id":"b1","from":"alice","to":"bob","amount":"10","flags":["linked"]},
		  {"id":"b2","from":"bob","to":"carol","amount":"5","flags":["linked"]},
		  {"id":"b3","from":"carol","to":"alice","amount":"` + last + `","metadata":{"note":"refund"}}
		]`
	}
	stdout, stderr, code := c.run(chain("1000"), "batch", "-")
	require.Equal(t, exitUsage, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	require.Regexp(t, `(?m)^refused\s+b1: .*\(code linked_event_failed\)$`, stdout)
	require.Regexp(t, `(?m)^refused\s+b2: .*\(code linked_event_failed\)$`, stdout)
	require.Regexp(t, `(?m)^refused\s+b3: .*insufficient funds \(code exceeds_credits\)$`, stdout)
	require.Contains(t, stderr, "3 of 3 transfers refused")
	require.Equal(t, want, c.balances("treasury", "alice", "bob", "carol"), "a refused chain moved money")
	require.Equal(t, before, c.journal(), "a refused chain changed the journal")

	// The refused ids were not used up: the fixed chain commits under them.
	stdout, stderr, code = c.run(chain("5"), "batch", "-")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	require.Regexp(t, `^committed b1: seq 6, .*\ncommitted b2: seq 7, .*\ncommitted b3: seq 8, 5\.000000 USDT from carol to alice, .*\n$`, stdout)

	// The same batch from a file is idempotent.
	file := filepath.Join(t.TempDir(), "batch.json")
	require.NoError(t, os.WriteFile(file, []byte(chain("5")), 0o600))
	out = c.ok("batch", file)
	require.Equal(t, 3, strings.Count(out, "exists "), out)

	want["alice"] = []string{"USDT", "75.000000", "30.000000", "105.000000", "0.000000", "0.000000"}
	want["bob"] = []string{"USDT", "25.000000", "5.000000", "30.000000", "0.000000", "0.000000"}
	want["carol"] = []string{"USDT", "0.000000", "5.000000", "5.000000", "0.000000", "0.000000"}
	require.Equal(t, want, c.balances("treasury", "alice", "bob", "carol"))

	out = c.ok("history alice")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Equal(t, []string{"SEQ", "TIME", "ID", "DIRECTION", "AMOUNT", "COUNTERPARTY", "KIND"}, strings.Fields(lines[0]))
	require.Len(t, lines, 1+7, out) // every entry but b2
	for _, re := range []string{
		`^1\s+\S+\s+t1\s+in\s+100\.000000\s+treasury\s+posted$`,
		`^2\s+\S+\s+h1\s+out\s+30\.000000\s+bob\s+pending$`,
		`^3\s+\S+\s+h1-post\s+out\s+20\.000000\s+bob\s+post h1$`,
		`^4\s+\S+\s+h2\s+out\s+10\.000000\s+carol\s+pending$`,
		`^5\s+\S+\s+h2-void\s+out\s+10\.000000\s+carol\s+void h2$`,
		`^6\s+\S+\s+b1\s+out\s+10\.000000\s+bob\s+posted$`,
		`^8\s+\S+\s+b3\s+in\s+5\.000000\s+carol\s+posted$`,
	} {
		require.Regexp(t, regexp.MustCompile(`(?m)`+re), out)
	}
	out = c.ok("history alice", "--after", "5", "--limit", "1")
	lines = strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2, out)
	require.Regexp(t, `^6\s+\S+\s+b1\s`, lines[1])

	out = c.ok("account list")
	require.Regexp(t, `(?m)^alice\s+USDT\s+debits_must_not_exceed_credits\s+75\.000000$`, out)
	require.Regexp(t, `(?m)^treasury\s+USDT\s+-\s+-100\.000000$`, out)

	out = c.ok("verify")
	require.Equal(t, "8", verifyField(t, out, "entries"))
	require.Equal(t, "4", verifyField(t, out, "accounts"))
	require.Contains(t, out, "OK: the journal, the tree head and every balance match")
}

// TestLedgerVerifyEmpty verifies a freshly migrated ledger: nothing in it,
// nothing to mismatch.
func TestLedgerVerifyEmpty(t *testing.T) {
	t.Parallel()
	c := newLedger(t)
	stdout, stderr, code := c.run("", "verify")
	require.Equal(t, exitOK, code, "an empty journal must verify\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	require.Equal(t, "0", verifyField(t, stdout, "entries"))
	require.Contains(t, stdout, "OK:")
}

// TestLedgerBadInput runs refused commands against a ledger with money in
// it: each must exit 2, say why, and leave the journal as it was.
func TestLedgerBadInput(t *testing.T) {
	t.Parallel()
	c := newLedger(t)
	c.ok("asset create", "--code", "USDT", "--network", "ethereum", "--decimals", "6")
	c.ok("account create", "--id", "treasury", "--asset", "USDT")
	c.ok("account create", "--id", "alice", "--asset", "USDT", "--no-overdraft")
	c.ok("account create", "--id", "bob", "--asset", "USDT", "--no-overdraft")
	c.ok("transfer", "--id", "t1", "--from", "treasury", "--to", "alice", "--amount", "100")
	c.ok("pending", "--id", "h1", "--from", "alice", "--to", "bob", "--amount", "1")
	c.ok("void", "--id", "h1-void", "--pending", "h1")

	const dir = "$DIR" // replaced by the data directory
	move := func(id, from, to, amount string) []string {
		return []string{"ledger", "transfer", "--data-dir", dir, "--id", id, "--from", from, "--to", to, "--amount", amount}
	}
	tests := []struct {
		name       string
		args       []string
		stdin      string
		unmigrated bool // run against a data dir that was never migrated
		wantStderr []string
		wantStdout []string
	}{
		{name: "unknown command", args: []string{"ledger", "frobnicate", "--data-dir", dir},
			wantStderr: []string{`ledger: unknown command "frobnicate"`}},
		{name: "unknown top-level command", args: []string{"transfer", "--data-dir", dir},
			wantStderr: []string{`unknown command "transfer"`}},
		{name: "unknown flag", args: []string{"ledger", "transfer", "--data-dir", dir, "--id", "x", "--form", "alice", "--to", "bob", "--amount", "1"},
			wantStderr: []string{"flag provided but not defined: -form", "Usage: chengdui ledger transfer"}},
		{name: "missing id", args: []string{"ledger", "transfer", "--data-dir", dir, "--from", "alice", "--to", "bob", "--amount", "1"},
			wantStderr: []string{"--id, --from, --to and --amount are required"}},
		{name: "missing amount", args: []string{"ledger", "pending", "--data-dir", dir, "--id", "x", "--from", "alice", "--to", "bob"},
			wantStderr: []string{"--id, --from, --to and --amount are required"}},
		{name: "too many decimals", args: move("x", "alice", "bob", "1.1234567"),
			wantStderr: []string{`amount "1.1234567" has 7 decimals; the asset has 6`, "code invalid_amount", "nothing was changed"}},
		{name: "negative amount", args: move("x", "alice", "bob", "-1"),
			wantStderr: []string{`amount "-1" is negative`}},
		{name: "garbage amount", args: move("x", "alice", "bob", "lots"),
			wantStderr: []string{`amount "lots" is not a decimal number`}},
		{name: "exponent amount", args: move("x", "alice", "bob", "1e3"),
			wantStderr: []string{`amount "1e3" is not a decimal number`}},
		{name: "zero amount", args: move("x", "alice", "bob", "0"),
			wantStdout: []string{"(code zero_amount)"}, wantStderr: []string{"1 of 1 transfers refused"}},
		{name: "overdraft", args: move("x", "alice", "bob", "100.000001"),
			wantStdout: []string{"insufficient funds (code exceeds_credits)"}, wantStderr: []string{"1 of 1 transfers refused"}},
		{name: "unknown debit account", args: move("x", "nobody", "bob", "1"),
			wantStderr: []string{`account "nobody" does not exist`, "code account_not_found"}},
		{name: "unknown credit account", args: move("x", "alice", "nobody", "1"),
			wantStdout: []string{`account "nobody" does not exist (code account_not_found)`}, wantStderr: []string{"1 of 1 transfers refused"}},
		{name: "same account", args: move("x", "alice", "alice", "1"),
			wantStdout: []string{"debits and credits the same account (code same_account)"}, wantStderr: []string{"1 of 1 transfers refused"}},
		{name: "id reused for another transfer", args: move("t1", "treasury", "alice", "5"),
			wantStdout: []string{`transfer id "t1" was already used for a different transfer (code id_conflict)`}, wantStderr: []string{"refused"}},
		{name: "post of a voided hold", args: []string{"ledger", "post", "--data-dir", dir, "--id", "p", "--pending", "h1"},
			wantStdout: []string{"(code pending_already_voided)"}, wantStderr: []string{"refused"}},
		{name: "post of an unknown hold", args: []string{"ledger", "post", "--data-dir", dir, "--id", "p", "--pending", "nope", "--amount", "1"},
			wantStderr: []string{`no pending transfer "nope"`}},
		{name: "fractional timeout", args: []string{"ledger", "pending", "--data-dir", dir, "--id", "x", "--from", "alice", "--to", "bob", "--amount", "1", "--timeout", "1500ms"},
			wantStderr: []string{"use whole seconds"}},
		{name: "asset decimals", args: []string{"ledger", "asset", "create", "--data-dir", dir, "--code", "X", "--network", "n", "--decimals", "99"},
			wantStderr: []string{"--decimals 99: at most"}},
		{name: "asset redefined", args: []string{"ledger", "asset", "create", "--data-dir", dir, "--code", "USDT", "--network", "tron", "--decimals", "6"},
			wantStderr: []string{"asset USDT already exists on ethereum", "code exists"}},
		{name: "account of unknown asset", args: []string{"ledger", "account", "create", "--data-dir", dir, "--id", "dave", "--asset", "DOGE"},
			wantStderr: []string{`asset "DOGE" does not exist`}},
		{name: "balance of unknown account", args: []string{"ledger", "balance", "--data-dir", dir, "nobody"},
			wantStderr: []string{`account "nobody" does not exist`}},
		{name: "mysql", args: []string{"ledger", "balance", "--db", "mysql://x", "alice"},
			wantStderr: []string{`database "mysql://x": use sqlite:PATH or postgres://`}},
		{name: "never migrated", args: []string{"ledger", "balance", "--data-dir", dir, "alice"}, unmigrated: true,
			wantStderr: []string{"'chengdui migrate'"}},
		{name: "verify never migrated", args: []string{"ledger", "verify", "--data-dir", dir}, unmigrated: true,
			wantStderr: []string{"'chengdui migrate'"}},
		{name: "batch bad JSON", args: []string{"ledger", "batch", "--data-dir", dir, "-"}, stdin: `[{"id":"x",`,
			wantStderr: []string{"ledger batch: bad JSON"}},
		{name: "batch unknown field", args: []string{"ledger", "batch", "--data-dir", dir, "-"}, stdin: `[{"id":"x","form":"alice"}]`,
			wantStderr: []string{"ledger batch: bad JSON", `unknown field "form"`}},
		{name: "batch unknown transfer flag", args: []string{"ledger", "batch", "--data-dir", dir, "-"},
			stdin:      `[{"id":"x","from":"alice","to":"bob","amount":"1","flags":["bogus"]}]`,
			wantStderr: []string{`item 0: unknown flag "bogus"`}},
		{name: "batch unknown command-line flag", args: []string{"ledger", "batch", "--data-dir", dir, "--bogus", "-"},
			stdin:      `[{"id":"x","from":"alice","to":"bob","amount":"1"}]`,
			wantStderr: []string{"flag provided but not defined: -bogus"}},
		{name: "batch bad amount", args: []string{"ledger", "batch", "--data-dir", dir, "-"},
			stdin:      `[{"id":"x","from":"alice","to":"bob","amount":"1","flags":["linked"]},{"id":"y","from":"alice","to":"bob","amount":"0.0000001"}]`,
			wantStderr: []string{"item 1 (y)", "has 7 decimals"}},
		{name: "batch open chain", args: []string{"ledger", "batch", "--data-dir", dir, "-"},
			stdin:      `[{"id":"x","from":"alice","to":"bob","amount":"1","flags":["linked"]}]`,
			wantStderr: []string{"code linked_chain_open"}},
		{name: "batch without file", args: []string{"ledger", "batch", "--data-dir", dir},
			wantStderr: []string{"give one file, or - for stdin"}},
		{name: "batch missing file", args: []string{"ledger", "batch", "--data-dir", dir, "/nonexistent/batch.json"},
			wantStderr: []string{"ledger batch: open /nonexistent/batch.json"}},
	}
	want := c.journal()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := c.dir
			if tt.unmigrated {
				d = filepath.Join(t.TempDir(), "data")
			}
			args := make([]string, len(tt.args))
			for i, a := range tt.args {
				args[i] = strings.ReplaceAll(a, dir, d)
			}
			stdout, stderr, code := runCmd(t, context.Background(), nil, tt.stdin, args...)
			require.Equal(t, exitUsage, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
			require.Contains(t, stderr, "chengdui: ", "the reason is printed")
			for _, s := range tt.wantStderr {
				require.Contains(t, stderr, s)
			}
			for _, s := range tt.wantStdout {
				require.Contains(t, stdout, s)
			}
			if tt.unmigrated {
				// Still no schema: the command did not migrate behind our back.
				_, stderr, code := runCmd(t, context.Background(), nil, "", "ledger", "verify", "--data-dir", d)
				require.Equal(t, exitUsage, code, stderr)
				require.Contains(t, stderr, "'chengdui migrate'")
				return
			}
			require.Equal(t, want, c.journal(), "a refused command changed the ledger")
		})
	}
	require.Equal(t, map[string][]string{
		"alice": {"USDT", "100.000000", "0.000000", "100.000000", "0.000000", "0.000000"},
		"bob":   {"USDT", "0.000000", "0.000000", "0.000000", "0.000000", "0.000000"},
	}, c.balances("alice", "bob"))
}

// TestLedgerVerifyTamper changes a committed amount behind the ledger's back;
// verify must notice, name the entry and exit 3.
func TestLedgerVerifyTamper(t *testing.T) {
	t.Parallel()
	c := newLedger(t)
	c.ok("asset create", "--code", "BTC", "--network", "bitcoin", "--decimals", "8")
	c.ok("account create", "--id", "chain", "--asset", "BTC")
	c.ok("account create", "--id", "alice", "--asset", "BTC", "--no-overdraft")
	c.ok("account create", "--id", "bob", "--asset", "BTC", "--no-overdraft")
	c.ok("transfer", "--id", "d1", "--from", "chain", "--to", "alice", "--amount", "1")
	c.ok("transfer", "--id", "p1", "--from", "alice", "--to", "bob", "--amount", "0.25")
	c.ok("transfer", "--id", "p2", "--from", "alice", "--to", "bob", "--units", "--amount", "1")
	require.Equal(t, "3", c.entries())

	db, err := sql.Open("sqlite", "file:"+filepath.Join(c.dir, "chengdui.db"))
	require.NoError(t, err)
	res, err := db.Exec(`UPDATE transfers SET amount = '7' WHERE seq = 2`)
	require.NoError(t, err)
	n, err := res.RowsAffected()
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	require.NoError(t, db.Close())

	stdout, stderr, code := c.run("", "verify")
	require.Equal(t, exitMismatch, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	require.Contains(t, stdout, "MISMATCH: entry 2")
	require.Contains(t, stdout, `"p1"`)
	require.NotContains(t, stdout, "OK:")
	require.Contains(t, stderr, "verify failed: first mismatch: entry 2")
}
