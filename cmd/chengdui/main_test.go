package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// runCmd runs the program as a shell would, with only the given environment,
// and returns what it printed and its exit code.
func runCmd(t *testing.T, ctx context.Context, getenv map[string]string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(ctx, args, mapEnv(getenv), strings.NewReader(stdin), &out, &errb)
	code = exitCode(err, &errb)
	return out.String(), errb.String(), code
}

func mapEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// syncBuffer is a bytes.Buffer a running server may write while the test
// reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// server is a long-running command (dev or serve) started by startServer.
type server struct {
	URL    string
	Stdout *syncBuffer
	Stderr *syncBuffer

	cancel   context.CancelFunc
	done     chan error
	stopOnce sync.Once
	err      error
}

const startTimeout = 30 * time.Second

// startServer runs a long-running command in the background, waits for
// urlLine (whose first group is the base URL) on its stdout, and polls
// probePath until it answers 200. The server is stopped at the end of the
// test if the test has not stopped it.
func startServer(t *testing.T, getenv map[string]string, urlLine *regexp.Regexp, probePath string, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{Stdout: &syncBuffer{}, Stderr: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() {
		s.done <- run(ctx, args, mapEnv(getenv), strings.NewReader(""), s.Stdout, s.Stderr)
	}()
	t.Cleanup(func() { s.shutdown() })

	deadline := time.Now().Add(startTimeout)
	for s.URL == "" {
		if m := urlLine.FindStringSubmatch(s.Stdout.String()); m != nil {
			s.URL = m[1]
			break
		}
		select {
		case err := <-s.done:
			s.done <- err // for shutdown
			t.Fatalf("%v exited before printing its URL: %v\nstdout:\n%s\nstderr:\n%s", args, err, s.Stdout, s.Stderr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v printed no URL within %s\nstdout:\n%s\nstderr:\n%s", args, startTimeout, s.Stdout, s.Stderr)
		}
	}

	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get(s.URL + probePath)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s%s did not answer 200 within %s (last: %v)\nstderr:\n%s", s.URL, probePath, startTimeout, err, s.Stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// shutdown cancels the server's context and waits for run to return.
func (s *server) shutdown() error {
	s.stopOnce.Do(func() {
		s.cancel()
		select {
		case s.err = <-s.done:
		case <-time.After(startTimeout):
			s.err = errors.New("run did not return within " + startTimeout.String() + " of cancellation")
		}
	})
	return s.err
}

// Stop shuts the server down and requires a graceful shutdown: run returns
// nil and the logs show HTTP, then the ledger, then the database stopping.
func (s *server) Stop(t *testing.T) {
	t.Helper()
	require.NoError(t, s.shutdown(), "stderr:\n%s", s.Stderr)
	requireInOrder(t, s.Stderr.String(), "http stopped", "ledger stopped", "database closed")
}

// requireInOrder requires each of subs to occur in s, after the previous one.
func requireInOrder(t *testing.T, s string, subs ...string) {
	t.Helper()
	rest := s
	for _, sub := range subs {
		i := strings.Index(rest, sub)
		require.GreaterOrEqual(t, i, 0, "%q missing or out of order (want %q) in:\n%s", sub, subs, s)
		rest = rest[i+len(sub):]
	}
}

// httpGet fetches url and returns the status and body.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func TestTopLevel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	allCommands := []string{"dev", "serve", "migrate", "ledger", "bench", "version"}
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{
		{name: "version", args: []string{"version"}, wantCode: exitOK, wantStdout: []string{"chengdui "}},
		{name: "help", args: []string{"help"}, wantCode: exitOK, wantStdout: allCommands},
		{name: "--help", args: []string{"--help"}, wantCode: exitOK, wantStdout: allCommands},
		{name: "-h", args: []string{"-h"}, wantCode: exitOK, wantStdout: allCommands},
		{name: "no args", args: nil, wantCode: exitUsage, wantStdout: allCommands, wantStderr: []string{"no command given"}},
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: exitUsage, wantStderr: []string{`unknown command "frobnicate"`, "chengdui help"}},
		{name: "version extra flag", args: []string{"version", "--bogus"}, wantCode: exitUsage, wantStderr: []string{"flag provided but not defined: -bogus"}},
		{name: "command help", args: []string{"dev", "--help"}, wantCode: exitOK, wantStderr: []string{"Usage: chengdui dev", "-data-dir"}},
		{name: "ledger no command", args: []string{"ledger"}, wantCode: exitUsage, wantStdout: []string{"transfer", "verify"}, wantStderr: []string{"ledger: no command given"}},
		{name: "ledger help", args: []string{"ledger", "help"}, wantCode: exitOK, wantStdout: []string{"asset", "account", "transfer", "pending", "post", "void", "batch", "balance", "history", "verify"}},
		{name: "ledger unknown command", args: []string{"ledger", "frobnicate"}, wantCode: exitUsage, wantStderr: []string{`ledger: unknown command "frobnicate"`}},
		{name: "bench without ledger", args: []string{"bench"}, wantCode: exitUsage, wantStderr: []string{"chengdui bench ledger"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stdout, stderr, code := runCmd(t, ctx, nil, "", tt.args...)
			require.Equal(t, tt.wantCode, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
			for _, s := range tt.wantStdout {
				require.Contains(t, stdout, s)
			}
			for _, s := range tt.wantStderr {
				require.Contains(t, stderr, s)
			}
			if tt.wantCode == exitOK {
				require.NotContains(t, stderr, "chengdui:", "a success prints no error")
			}
		})
	}
}

func TestVersionLine(t *testing.T) {
	t.Parallel()
	stdout, _, code := runCmd(t, context.Background(), nil, "", "version")
	require.Equal(t, exitOK, code)
	require.Regexp(t, `^chengdui \S+\n$`, stdout)
}

func TestExitCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		err     error
		want    int
		wantErr string
	}{
		{"nil", nil, exitOK, ""},
		{"help", errHelp, exitOK, ""},
		{"usage", usagef("bad %s", "thing"), exitUsage, "chengdui: bad thing\n"},
		{"wrapped usage", errors.Join(errors.New("x"), usagef("bad")), exitUsage, "chengdui: bad\n"},
		{"mismatch", exitError{code: exitMismatch, msg: "verify failed"}, exitMismatch, "chengdui: verify failed\n"},
		{"interrupted", context.Canceled, exitInterrupted, ""},
		{"failure", errors.New("disk on fire"), exitFailure, "chengdui: disk on fire\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			require.Equal(t, tt.want, exitCode(tt.err, &stderr))
			require.Equal(t, tt.wantErr, stderr.String())
		})
	}
}
