package bitcoin

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"net"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/rpcclient"
	"github.com/btcsuite/btcd/wire"

	"chengdui"
	"chengdui/keys"
)

// Default fee rate bounds in sat/vB.
const (
	DefaultMinFeeRate = 2
	DefaultMaxFeeRate = 500
)

// Config says where the node is and how far to trust its fee estimator.
type Config struct {
	Host    string       // RPC host:port, e.g. 127.0.0.1:18334
	User    string       // RPC user
	Pass    string       // RPC password
	Network keys.Network // the chain the node must be on

	// DisableTLS speaks plain HTTP, as bitcoind always does and btcd does
	// with --notls. Certificates (PEM) verifies a btcd's self-signed TLS
	// certificate; without it the system roots are used.
	DisableTLS   bool
	Certificates []byte

	// MinFeeRate and MaxFeeRate bound EstimateFeeRate, in sat/vB; zero
	// means DefaultMinFeeRate and DefaultMaxFeeRate. On regtest, where
	// nodes have no estimate, EstimateFeeRate returns MinFeeRate.
	MinFeeRate int64
	MaxFeeRate int64
}

// Node is a connection to one node. It is safe for concurrent use; calls
// are sent one at a time.
type Node struct {
	client  *rpcclient.Client
	host    string
	network keys.Network
	minFee  int64
	maxFee  int64
}

// dialTimeout bounds Dial's port check when ctx has no earlier deadline.
const dialTimeout = 5 * time.Second

// Dial checks that the node answers on cfg.Host with cfg's credentials and
// is on cfg.Network. Close the Node when done.
//
// Errors: EInvalid for a bad Config or a node on another network,
// EUnavailable when the node cannot be reached or refuses the credentials.
func Dial(ctx context.Context, cfg Config) (*Node, error) {
	if cfg.Host == "" {
		return nil, chengdui.Errorf(chengdui.EInvalid, "bitcoin node: no RPC host configured")
	}
	if cfg.Network.HRP() == "" {
		return nil, chengdui.Errorf(chengdui.EInvalid, "bitcoin node: unknown network %d", int(cfg.Network))
	}
	n := &Node{host: cfg.Host, network: cfg.Network, minFee: cfg.MinFeeRate, maxFee: cfg.MaxFeeRate}
	if n.minFee <= 0 {
		n.minFee = DefaultMinFeeRate
	}
	if n.maxFee <= 0 {
		n.maxFee = DefaultMaxFeeRate
	}
	if n.minFee > n.maxFee {
		return nil, chengdui.Errorf(chengdui.EInvalid, "bitcoin node: minimum fee rate %d sat/vB is above the maximum %d", n.minFee, n.maxFee)
	}

	// rpcclient retries a refused connection for about 20 seconds; a
	// plain TCP dial tells a wrong host or a stopped node at once.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "tcp", cfg.Host)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, n.unreachable(err)
	}
	conn.Close()

	client, err := rpcclient.New(&rpcclient.ConnConfig{
		Host:         cfg.Host,
		User:         cfg.User,
		Pass:         cfg.Pass,
		DisableTLS:   cfg.DisableTLS,
		Certificates: cfg.Certificates,
		HTTPPostMode: true,
	}, nil)
	if err != nil {
		return nil, chengdui.Errorf(chengdui.EInvalid, "bitcoin node: %v", err)
	}
	n.client = client
	info, err := n.chainInfo(ctx)
	if err != nil {
		n.Close()
		return nil, err
	}
	if !sameNetwork(info.Chain, cfg.Network) {
		n.Close()
		return nil, chengdui.Errorf(chengdui.EInvalid, "bitcoin node at %s is on %s, not %s", cfg.Host, info.Chain, cfg.Network)
	}
	return n, nil
}

// sameNetwork compares a getblockchaininfo chain name, btcd's or
// bitcoind's, to a Network.
func sameNetwork(chain string, net keys.Network) bool {
	switch chain {
	case "main", "mainnet":
		return net == keys.Mainnet
	case "test", "testnet3", "testnet4":
		return net == keys.Testnet
	case "signet":
		return net == keys.Signet
	case "regtest":
		return net == keys.Regtest
	}
	return false
}

// Close stops the client. Calls still waiting fail with EUnavailable.
func (n *Node) Close() error {
	n.client.Shutdown()
	return nil
}

// Network is the chain the node is on.
func (n *Node) Network() keys.Network { return n.network }

// chainInfo is the part of getblockchaininfo this package reads; both btcd
// and bitcoind answer it. rpcclient's own GetBlockChainInfo also parses
// soft-fork fields that differ between node versions.
type chainInfo struct {
	Chain         string `json:"chain"`
	Blocks        int32  `json:"blocks"`
	BestBlockHash string `json:"bestblockhash"`
}

func (n *Node) chainInfo(ctx context.Context) (chainInfo, error) {
	raw, err := call(ctx, func() (json.RawMessage, error) {
		return n.client.RawRequest("getblockchaininfo", nil)
	})
	if err != nil {
		return chainInfo{}, n.fail(ctx, "getblockchaininfo", err)
	}
	var info chainInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		return chainInfo{}, chengdui.Errorf(chengdui.EInternal, "bitcoin node: getblockchaininfo: %v", err)
	}
	return info, nil
}

// BestBlock returns the hash and height of the tip of the node's best chain.
//
// Errors: EUnavailable, EInternal.
func (n *Node) BestBlock(ctx context.Context) (hash chainhash.Hash, height int32, err error) {
	info, err := n.chainInfo(ctx)
	if err != nil {
		return chainhash.Hash{}, 0, err
	}
	h, err := chainhash.NewHashFromStr(info.BestBlockHash)
	if err != nil {
		return chainhash.Hash{}, 0, chengdui.Errorf(chengdui.EInternal, "bitcoin node: best block hash %q: %v", info.BestBlockHash, err)
	}
	return *h, info.Blocks, nil
}

// BlockHashAt returns the hash of the best chain's block at height.
//
// Errors: ENotFound above the tip, EInvalid for a negative height,
// EUnavailable, EInternal.
func (n *Node) BlockHashAt(ctx context.Context, height int32) (chainhash.Hash, error) {
	if height < 0 {
		return chainhash.Hash{}, chengdui.Errorf(chengdui.EInvalid, "block height %d is negative", height)
	}
	h, err := call(ctx, func() (*chainhash.Hash, error) { return n.client.GetBlockHash(int64(height)) })
	if err != nil {
		// btcd answers -1, bitcoind -8 (out of range).
		if code, ok := rpcCode(err); ok && (code == -1 || code == -8) {
			return chainhash.Hash{}, chengdui.Errorf(chengdui.ENotFound, "the node has no block at height %d yet", height)
		}
		return chainhash.Hash{}, n.fail(ctx, "getblockhash", err)
	}
	return *h, nil
}

// Block returns the block with the given hash, on the best chain or not.
//
// Errors: ENotFound, EUnavailable, EInternal.
func (n *Node) Block(ctx context.Context, hash chainhash.Hash) (*wire.MsgBlock, error) {
	b, err := call(ctx, func() (*wire.MsgBlock, error) { return n.client.GetBlock(&hash) })
	if err != nil {
		if code, ok := rpcCode(err); ok && code == -5 {
			return nil, chengdui.Errorf(chengdui.ENotFound, "the node has no block %s", hash)
		}
		return nil, n.fail(ctx, "getblock", err)
	}
	return b, nil
}

// RawMempool returns the ids of the transactions in the node's mempool.
//
// Errors: EUnavailable, EInternal.
func (n *Node) RawMempool(ctx context.Context) ([]chainhash.Hash, error) {
	ids, err := call(ctx, n.client.GetRawMempool)
	if err != nil {
		return nil, n.fail(ctx, "getrawmempool", err)
	}
	out := make([]chainhash.Hash, len(ids))
	for i, id := range ids {
		out[i] = *id
	}
	return out, nil
}

// Transaction returns a transaction and its confirmations, 0 while it is in
// the mempool. Confirmed transactions need a node with a transaction index
// (btcd --txindex, bitcoind -txindex).
//
// Errors: ENotFound, EUnavailable, EInternal.
func (n *Node) Transaction(ctx context.Context, txid chainhash.Hash) (*wire.MsgTx, int64, error) {
	res, err := call(ctx, func() (rawTx, error) {
		r, err := n.client.GetRawTransactionVerbose(&txid)
		if err != nil {
			return rawTx{}, err
		}
		return rawTx{r.Hex, int64(r.Confirmations)}, nil
	})
	if err != nil {
		if code, ok := rpcCode(err); ok && code == -5 {
			return nil, 0, chengdui.Errorf(chengdui.ENotFound, "the node knows no transaction %s (confirmed transactions need its txindex)", txid)
		}
		return nil, 0, n.fail(ctx, "getrawtransaction", err)
	}
	b, err := hex.DecodeString(res.hex)
	if err != nil {
		return nil, 0, chengdui.Errorf(chengdui.EInternal, "bitcoin node: transaction %s: %v", txid, err)
	}
	var tx wire.MsgTx
	if err := tx.Deserialize(bytes.NewReader(b)); err != nil {
		return nil, 0, chengdui.Errorf(chengdui.EInternal, "bitcoin node: transaction %s: %v", txid, err)
	}
	return &tx, res.confirmations, nil
}

type rawTx struct {
	hex           string
	confirmations int64
}
