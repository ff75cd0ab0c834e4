package chengdui_test

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"chengdui"
)

func TestErrorCodeNil(t *testing.T) {
	require.Equal(t, "", chengdui.ErrorCode(nil))
	require.Equal(t, "", chengdui.ErrorMessage(nil))
}

func TestErrorCodePlainError(t *testing.T) {
	err := errors.New("pq: password authentication failed for user \"root\" at 10.0.0.5")
	require.Equal(t, chengdui.EInternal, chengdui.ErrorCode(err))
	msg := chengdui.ErrorMessage(err)
	require.Equal(t, "internal error", msg)
	require.NotContains(t, msg, "password")
	require.NotContains(t, msg, "10.0.0.5")

	require.Equal(t, chengdui.EInternal, chengdui.ErrorCode(io.EOF))
	require.Equal(t, "internal error", chengdui.ErrorMessage(io.EOF))

	wrapped := fmt.Errorf("loading account: %w", err)
	require.Equal(t, chengdui.EInternal, chengdui.ErrorCode(wrapped))
	require.Equal(t, "internal error", chengdui.ErrorMessage(wrapped))
}

func TestErrorCodeError(t *testing.T) {
	err := chengdui.Errorf(chengdui.EAccountNotFound, "account %q not found", "alice")
	require.Equal(t, chengdui.EAccountNotFound, chengdui.ErrorCode(err))
	require.Equal(t, `account "alice" not found`, chengdui.ErrorMessage(err))
	require.Equal(t, `account_not_found: account "alice" not found`, err.Error())

	// A literal, not built with Errorf.
	lit := &chengdui.Error{Code: chengdui.EConflict, Message: "busy"}
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(lit))
	require.Equal(t, "busy", chengdui.ErrorMessage(lit))
	require.Equal(t, "conflict: busy", lit.Error())
}

func TestErrorCodeWrapped(t *testing.T) {
	inner := chengdui.Errorf(chengdui.EExceedsCredits, "debits would exceed credits")

	once := fmt.Errorf("transfer t1: %w", inner)
	require.Equal(t, chengdui.EExceedsCredits, chengdui.ErrorCode(once))
	require.Equal(t, "debits would exceed credits", chengdui.ErrorMessage(once))

	twice := fmt.Errorf("batch: %w", once)
	require.Equal(t, chengdui.EExceedsCredits, chengdui.ErrorCode(twice))
	require.Equal(t, "debits would exceed credits", chengdui.ErrorMessage(twice))

	var e *chengdui.Error
	require.ErrorAs(t, twice, &e)
	require.Same(t, inner, e)

	// errors.Join keeps the first *Error it finds.
	joined := errors.Join(errors.New("other"), inner)
	require.Equal(t, chengdui.EExceedsCredits, chengdui.ErrorCode(joined))

	// The outermost *Error wins when one wraps another.
	outer := fmt.Errorf("%w: %w", chengdui.Errorf(chengdui.EConflict, "outer"), inner)
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(outer))
	require.Equal(t, "outer", chengdui.ErrorMessage(outer))

	// %v (not %w) deliberately drops the code.
	flattened := fmt.Errorf("transfer t1: %v", inner)
	require.Equal(t, chengdui.EInternal, chengdui.ErrorCode(flattened))
	require.Equal(t, "internal error", chengdui.ErrorMessage(flattened))
}

func TestErrorf(t *testing.T) {
	tests := []struct {
		code, format string
		args         []any
		wantMessage  string
	}{
		{chengdui.EInvalid, "plain", nil, "plain"},
		{chengdui.EInvalidAmount, "amount %q has %d decimals; the asset has %d", []any{"0.001", 3, 2}, `amount "0.001" has 3 decimals; the asset has 2`},
		{chengdui.ENotFound, "%s/%d", []any{"x", 7}, "x/7"},
		{chengdui.EInternal, "100%% sure", nil, "100% sure"},
	}
	for _, tc := range tests {
		err := chengdui.Errorf(tc.code, tc.format, tc.args...)
		require.NotNil(t, err)
		require.Equal(t, tc.code, err.Code)
		require.Equal(t, tc.wantMessage, err.Message)
		require.Equal(t, tc.code+": "+tc.wantMessage, err.Error())
		require.Equal(t, tc.code, chengdui.ErrorCode(err))
		require.Equal(t, tc.wantMessage, chengdui.ErrorMessage(err))
	}
}
