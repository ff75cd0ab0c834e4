// Command chengdui runs the Chengdui payment platform and its tools.
//
// Exit codes: 0 success, 1 failure, 2 bad usage or input, 3 verification
// found a mismatch, 130 interrupted.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// Exit codes scripts can rely on.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitMismatch    = 3
	exitInterrupted = 130
)

// usageError is bad usage or bad input: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// exitError carries a specific exit code with an already-printed outcome.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

func exitCode(err error, stderr io.Writer) int {
	var ue usageError
	var ee exitError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "chengdui:", ue.msg)
		return exitUsage
	case errors.As(err, &ee):
		fmt.Fprintln(stderr, "chengdui:", ee.msg)
		return ee.code
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	}
	fmt.Fprintln(stderr, "chengdui:", err)
	return exitFailure
}
