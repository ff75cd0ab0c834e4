package bitcoin

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/rpcclient"

	"chengdui"
)

// call runs an rpcclient method, which takes no context, and stops waiting
// when ctx ends. The request may still reach the node afterwards.
func call[T any](ctx context.Context, f func() (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	select {
	case <-ctx.Done():
		return zero, ctx.Err()
	case r := <-done:
		return r.v, r.err
	}
}

// rpcCode returns the JSON-RPC error code of a refusal by the node; ok is
// false for errors that never reached it.
func rpcCode(err error) (code int, ok bool) {
	var e *btcjson.RPCError
	if errors.As(err, &e) {
		return int(e.Code), true
	}
	return 0, false
}

// rpcMessage is the node's reason for a refusal.
func rpcMessage(err error) string {
	var e *btcjson.RPCError
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// fail translates an error no method recognised. A done ctx wins: the
// caller gave up, and the http package reports that itself.
func (n *Node) fail(ctx context.Context, method string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var rpcErr *btcjson.RPCError
	switch {
	case errors.As(err, &rpcErr) && rpcErr.Code == btcjson.ErrRPCInWarmup:
		return chengdui.Errorf(chengdui.EUnavailable, "bitcoin node at %s is starting: %s", n.host, rpcErr.Message)
	case errors.As(err, &rpcErr):
		return chengdui.Errorf(chengdui.EInternal, "bitcoin node: %s: %s (code %d)", method, rpcErr.Message, rpcErr.Code)
	case errors.Is(err, rpcclient.ErrClientShutdown):
		return chengdui.Errorf(chengdui.EUnavailable, "bitcoin node at %s: the connection is closed", n.host)
	case strings.Contains(err.Error(), "status code: 401"):
		// rpcclient reports a refused login only as text.
		return chengdui.Errorf(chengdui.EUnavailable, "bitcoin node at %s refused the RPC user and password: check the configuration", n.host)
	case strings.Contains(err.Error(), "status code: 503"):
		// bitcoind's work queue is full.
		return chengdui.Errorf(chengdui.EUnavailable, "bitcoin node at %s is busy; retry", n.host)
	case isNetwork(err):
		return n.unreachable(err)
	}
	return chengdui.Errorf(chengdui.EInternal, "bitcoin node: %s: %v", method, err)
}

// isNetwork reports whether err means the node could not be reached.
// rpcclient sometimes flattens the cause into text (its backend version
// probe does), hence the last test.
func isNetwork(err error) bool {
	var opErr *net.OpError
	var urlErr *url.Error
	return errors.As(err, &opErr) || errors.As(err, &urlErr) ||
		strings.Contains(err.Error(), "connection refused")
}

func (n *Node) unreachable(err error) error {
	reason := err.Error()
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Err != nil {
		reason = opErr.Err.Error()
	}
	return chengdui.Errorf(chengdui.EUnavailable, "bitcoin node at %s does not answer (%s): is it running, and is its RPC listening on that address?", n.host, reason)
}
