package evm

import (
	"context"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/ethclient"

	"chengdui"
)

// Chain is what the platform reads from and sends to an EVM chain. It is
// the set of methods that go-ethereum's *ethclient.Client (a remote node)
// and simulated.Client (the in-process chain) have in common, so both
// satisfy it without an adapter:
//
//   - ChainID, BlockNumber, HeaderByNumber/Hash, BlockByNumber/Hash
//   - BalanceAt, NonceAt, CodeAt, StorageAt and their Pending variants
//   - SuggestGasTipCap, SuggestGasPrice (the base fee is the head's BaseFee)
//   - EstimateGas, CallContract
//   - SendTransaction, TransactionByHash, TransactionReceipt
//   - FilterLogs, SubscribeFilterLogs, SubscribeNewHead
//
// Its methods return go-ethereum's errors; FormatError translates them.
type Chain interface {
	ethereum.ChainIDReader
	ethereum.BlockNumberReader
	ethereum.ChainReader
	ethereum.ChainStateReader
	ethereum.PendingStateReader
	ethereum.ContractCaller
	ethereum.GasEstimator
	ethereum.GasPricer
	ethereum.GasPricer1559
	ethereum.TransactionReader
	ethereum.TransactionSender
	ethereum.LogFilterer
}

// Both kinds of chain satisfy Chain; the simulated one is checked in
// simulated.go.
var _ Chain = (*ethclient.Client)(nil)

// dialTimeout bounds Dial's first call when ctx has no earlier deadline.
const dialTimeout = 5 * time.Second

// Dial connects to the node at rawURL (http, https, ws, wss or an IPC path)
// and asks for its chain id, so that a wrong URL or a stopped node is found
// here rather than at the first payment. The caller closes the client.
//
// Dial returns the concrete *ethclient.Client rather than a Chain because
// only the concrete type has Close.
//
// Errors: EInvalid for an empty or unsupported URL, EUnavailable when the
// node cannot be reached or fails the first call.
func Dial(ctx context.Context, rawURL string) (*ethclient.Client, error) {
	if strings.TrimSpace(rawURL) == "" {
		return nil, chengdui.Errorf(chengdui.EInvalid, "evm node: no RPC URL configured")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	callCtx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	c, err := ethclient.DialContext(callCtx, rawURL)
	if err != nil {
		if strings.Contains(err.Error(), "no known transport") {
			return nil, chengdui.Errorf(chengdui.EInvalid, "evm node: %s is not an http(s), ws(s) or IPC address", redactURL(rawURL))
		}
		return nil, unavailable(ctx, callCtx, rawURL, err)
	}
	if _, err := c.ChainID(callCtx); err != nil {
		c.Close()
		return nil, unavailable(ctx, callCtx, rawURL, err)
	}
	return c, nil
}

// unavailable reports a node Dial could not use. The caller's ctx ending
// is returned as is; callCtx ending alone is Dial's own timeout.
func unavailable(ctx, callCtx context.Context, rawURL string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var why string
	switch {
	case callCtx.Err() != nil:
		why = "no answer within " + dialTimeout.String()
	case isNetwork(err):
		why = reason(err)
	default:
		why = err.Error()
	}
	return chengdui.Errorf(chengdui.EUnavailable, "evm node at %s does not answer (%s): is it running, and is its RPC listening on that address?", redactURL(rawURL), why)
}

// redactURL drops everything after the host: hosted endpoints carry their
// API key in the path or the query, and messages never carry secrets.
func redactURL(rawURL string) string {
	s := rawURL
	if i := strings.Index(s, "://"); i >= 0 {
		rest := s[i+3:]
		if j := strings.IndexAny(rest, "/?#"); j >= 0 {
			rest = rest[:j]
		}
		if k := strings.LastIndex(rest, "@"); k >= 0 {
			rest = rest[k+1:]
		}
		return s[:i+3] + rest
	}
	return s
}
