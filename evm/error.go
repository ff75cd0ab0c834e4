package evm

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/rpc"

	"chengdui"
)

// refusals maps the reasons a node gives for refusing a transaction to
// codes. Nodes send them as JSON-RPC error text, so the text is all there is
// to match; these are geth's (core and txpool), which Erigon, Reth and most
// hosted endpoints repeat word for word.
//
// A sender short of ether is EExceedsCredits rather than EInvalid: the
// transaction is well formed and the remedy is to fund the account, the same
// refusal the ledger gives an account spending more than it holds.
var refusals = []struct {
	text string
	code string
}{
	{"nonce too low", chengdui.EConflict},
	{"already known", chengdui.EConflict},
	{"replacement transaction underpriced", chengdui.EConflict},
	{"insufficient funds", chengdui.EExceedsCredits},
	{"nonce too high", chengdui.EInvalid},
	{"intrinsic gas too low", chengdui.EInvalid},
	{"exceeds block gas limit", chengdui.EInvalid},
	{"gas limit too high", chengdui.EInvalid},
	{"transaction underpriced", chengdui.EInvalid},
	{"max fee per gas less than block base fee", chengdui.EInvalid},
	{"max priority fee per gas higher than max fee per gas", chengdui.EInvalid},
	{"invalid sender", chengdui.EInvalid},
	{"invalid chain id", chengdui.EInvalid},
	{"transaction type not supported", chengdui.EInvalid},
	{"oversized data", chengdui.EInvalid},
	{"execution reverted", chengdui.EInvalid},
}

// FormatError translates an error from a Chain method into a
// *chengdui.Error: the node's refusals of a transaction to their codes,
// ethereum.NotFound to ENotFound, a node that cannot be reached to
// EUnavailable and the rest to EInternal. A done context is returned as is:
// the caller gave up. Errors that already are *chengdui.Error pass through.
func FormatError(err error) error {
	if err == nil {
		return nil
	}
	var e *chengdui.Error
	switch {
	case errors.As(err, &e):
		return err
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, ethereum.NotFound):
		return chengdui.Errorf(chengdui.ENotFound, "evm node: not found")
	}
	msg := err.Error()
	var rpcErr rpc.Error
	if errors.As(err, &rpcErr) {
		if strings.Contains(msg, "indexing is in progress") {
			// A node still building its transaction index cannot tell a
			// missing transaction from one not indexed yet.
			return chengdui.Errorf(chengdui.EUnavailable, "evm node is still indexing transactions; retry: %s", msg)
		}
		for _, r := range refusals {
			if strings.Contains(msg, r.text) {
				return chengdui.Errorf(r.code, "the node refused the transaction: %s", msg)
			}
		}
		return chengdui.Errorf(chengdui.EInternal, "evm node: %s (code %d)", msg, rpcErr.ErrorCode())
	}
	if isNetwork(err) {
		return chengdui.Errorf(chengdui.EUnavailable, "evm node does not answer (%s): is it running, and is its RPC listening on that address?", reason(err))
	}
	return chengdui.Errorf(chengdui.EInternal, "evm node: %v", err)
}

// isNetwork reports whether err means the node could not be reached or
// went away: a refused or broken connection, an HTTP failure, or a client
// already closed.
func isNetwork(err error) bool {
	var opErr *net.OpError
	var urlErr *url.Error
	var httpErr rpc.HTTPError
	return errors.As(err, &opErr) || errors.As(err, &urlErr) ||
		errors.As(err, &httpErr) ||
		errors.Is(err, rpc.ErrClientQuit) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		strings.Contains(err.Error(), "connection refused")
}

// reason is the innermost network error's text, without the URL and the
// method that the wrappers repeat: a hosted endpoint's URL carries its API
// key, and messages never carry secrets.
func reason(err error) string {
	var opErr *net.OpError
	var urlErr *url.Error
	switch {
	case errors.As(err, &opErr) && opErr.Err != nil:
		return opErr.Err.Error()
	case errors.As(err, &urlErr) && urlErr.Err != nil:
		return urlErr.Err.Error()
	}
	return err.Error()
}
