package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLoadServeConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
		return p
	}
	file := write("chengdui.yaml", "addr: 127.0.0.1:9001\ndb: sqlite:/from/file.db\nlog_level: debug\nshutdown_timeout: 30s\nmax_batch: 100\n")
	unknownKey := write("unknown.yaml", "addr: 127.0.0.1:9001\ndb: sqlite:/x.db\nlisten: 127.0.0.1:1\n")
	noDB := write("nodb.yaml", "addr: 127.0.0.1:9001\n")
	empty := write("empty.yaml", "")

	defaults := defaultServeConfig()
	fromFile := defaults
	fromFile.Addr, fromFile.DB, fromFile.LogLevel, fromFile.ShutdownTimeout, fromFile.MaxBatch = "127.0.0.1:9001", "sqlite:/from/file.db", "debug", 30*time.Second, 100

	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    func(c *serveConfig)
		wantErr string // a usage error containing this
	}{
		{name: "file", args: []string{"--config", file},
			want: func(c *serveConfig) { *c = fromFile }},
		{name: "file named by env", env: map[string]string{"CHENGDUI_CONFIG": file},
			want: func(c *serveConfig) { *c = fromFile }},
		{name: "flag file wins over env file", args: []string{"--config", file}, env: map[string]string{"CHENGDUI_CONFIG": noDB},
			want: func(c *serveConfig) { *c = fromFile }},
		{name: "env overrides file", args: []string{"--config", file}, env: map[string]string{"CHENGDUI_ADDR": "127.0.0.1:9002", "CHENGDUI_LOG_LEVEL": "warn"},
			want: func(c *serveConfig) { *c = fromFile; c.Addr = "127.0.0.1:9002"; c.LogLevel = "warn" }},
		{name: "flag overrides env", args: []string{"--config", file, "--addr", "127.0.0.1:9003"}, env: map[string]string{"CHENGDUI_ADDR": "127.0.0.1:9002"},
			want: func(c *serveConfig) { *c = fromFile; c.Addr = "127.0.0.1:9003" }},
		{name: "flag equal to the default still overrides", args: []string{"--config", file, "--addr", defaults.Addr, "--log-level", "info"},
			env:  map[string]string{"CHENGDUI_ADDR": "127.0.0.1:9002"},
			want: func(c *serveConfig) { *c = fromFile; c.Addr = defaults.Addr; c.LogLevel = "info" }},
		{name: "env only", env: map[string]string{"CHENGDUI_DB": "postgres://u@h/db", "CHENGDUI_MAX_BATCH": "10", "CHENGDUI_AUTO_MIGRATE": "true", "CHENGDUI_SHUTDOWN_TIMEOUT": "2s", "CHENGDUI_LOG_FORMAT": "text"},
			want: func(c *serveConfig) {
				c.DB, c.MaxBatch, c.AutoMigrate, c.ShutdownTimeout, c.LogFormat = "postgres://u@h/db", 10, true, 2*time.Second, "text"
			}},
		{name: "data-dir flag", args: []string{"--data-dir", "/srv/chengdui"}, env: map[string]string{"CHENGDUI_DB": "postgres://u@h/db"},
			want: func(c *serveConfig) { c.DB = "sqlite:/srv/chengdui/chengdui.db" }},
		{name: "empty file", args: []string{"--config", empty, "--db", "sqlite:x.db"},
			want: func(c *serveConfig) { c.DB = "sqlite:x.db" }},
		{name: "unknown YAML key", args: []string{"--config", unknownKey}, wantErr: "field listen not found"},
		{name: "missing config file", args: []string{"--config", filepath.Join(dir, "nope.yaml")}, wantErr: "config file:"},
		{name: "missing db", args: []string{"--config", noDB}, wantErr: "--db"},
		{name: "no config at all", wantErr: "--db"},
		{name: "max batch not a number", args: []string{"--db", "sqlite:x.db"}, env: map[string]string{"CHENGDUI_MAX_BATCH": "abc"}, wantErr: `CHENGDUI_MAX_BATCH="abc"`},
		{name: "max batch out of range", args: []string{"--db", "sqlite:x.db", "--max-batch", "0"}, wantErr: "max_batch 0"},
		{name: "auto migrate not a bool", args: []string{"--db", "sqlite:x.db"}, env: map[string]string{"CHENGDUI_AUTO_MIGRATE": "sometimes"}, wantErr: "CHENGDUI_AUTO_MIGRATE"},
		{name: "unknown flag", args: []string{"--listen", ":80"}, wantErr: "flag provided but not defined: -listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := &env{getenv: mapEnv(tt.env), stdin: eofReader{}, stdout: io.Discard, stderr: io.Discard, log: slog.New(slog.DiscardHandler)}
			got, err := loadServeConfig(e, tt.args)
			if tt.wantErr != "" {
				var ue usageError
				require.True(t, errors.As(err, &ue), "want a usage error, got %v", err)
				require.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			want := defaults
			tt.want(&want)
			require.Equal(t, want, got)
		})
	}
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

var serveURLLine = regexp.MustCompile(`chengdui listening on (http://127\.0\.0\.1:\d+)`)

func TestServe(t *testing.T) {
	t.Parallel()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
	srv := startServer(t, nil, serveURLLine, "/readyz", "serve", "--db", dsn, "--auto-migrate", "--addr", "127.0.0.1:0")
	var head headResponse
	getJSON(t, srv.URL+"/api/v1/ledger/head", &head)
	require.Zero(t, head.Size, "serve seeds nothing")
	status, body := httpGet(t, srv.URL+"/api/v1/ledger/nope")
	require.Equal(t, http.StatusNotFound, status)
	require.Contains(t, body, `"code":"not_found"`)
	srv.Stop(t)
	require.Contains(t, srv.Stderr.String(), `"msg":"starting chengdui"`, "serve logs JSON by default")
}

func TestServeFromEnv(t *testing.T) {
	t.Parallel()
	getenv := map[string]string{
		"CHENGDUI_DB":           "sqlite:" + filepath.Join(t.TempDir(), "x.db"),
		"CHENGDUI_ADDR":         "127.0.0.1:0",
		"CHENGDUI_AUTO_MIGRATE": "1",
		"CHENGDUI_LOG_FORMAT":   "text",
	}
	srv := startServer(t, getenv, serveURLLine, "/readyz", "serve")
	srv.Stop(t)
	require.Contains(t, srv.Stderr.String(), "msg=\"starting chengdui\"")
}

func TestServeNeedsMigratedDatabase(t *testing.T) {
	t.Parallel()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
	stdout, stderr, code := runCmd(t, context.Background(), nil, "", "serve", "--db", dsn, "--addr", "127.0.0.1:0")
	require.Equal(t, exitUsage, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	require.Contains(t, stderr, "'chengdui migrate'")
	require.NotContains(t, stdout, "listening")
}

func TestServeNeverLogsThePassword(t *testing.T) {
	t.Parallel()
	// Nothing listens on port 1: the start fails after logging the DSN.
	stdout, stderr, code := runCmd(t, context.Background(), nil, "", "serve", "--db", "postgres://app:hunter2@127.0.0.1:1/chengdui?connect_timeout=2", "--addr", "127.0.0.1:0")
	require.Equal(t, exitFailure, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	require.Contains(t, stderr, "app:xxxxx@127.0.0.1:1")
	require.NotContains(t, stderr, "hunter2")
	require.NotContains(t, stdout, "hunter2")
}
