package auth

import (
	"testing"

	"github.com/stretchr/testify/require"

	"chengdui"
)

// requireCode fails unless err is a *chengdui.Error with the given code.
func requireCode(tb testing.TB, err error, code string) {
	tb.Helper()
	require.Error(tb, err)
	var e *chengdui.Error
	require.ErrorAs(tb, err, &e, "want *chengdui.Error, got %T", err)
	require.Equal(tb, code, e.Code, "message: %s", e.Message)
}
