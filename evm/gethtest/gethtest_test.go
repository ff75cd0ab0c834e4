package gethtest

import (
	"bufio"
	"context"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/stretchr/testify/require"
)

// TestVersion keeps Version in step with the go-ethereum that go.mod pins,
// which is the one Binary builds.
func TestVersion(t *testing.T) {
	root, err := moduleRoot()
	require.NoError(t, err)
	f, err := os.Open(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	defer f.Close()
	var pinned string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "github.com/ethereum/go-ethereum" {
			pinned = fields[1]
		}
	}
	require.NoError(t, sc.Err())
	require.Equal(t, pinned, Version, "go.mod pins go-ethereum %s; update Version", pinned)
}

func TestStartFund(t *testing.T) {
	n := Start(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.EqualValues(t, ChainID, n.ChainID.Int64())
	require.NotEqual(t, common.Address{}, n.Developer)

	head, err := n.Client.HeaderByNumber(ctx, nil)
	require.NoError(t, err)
	require.EqualValues(t, 0, head.Number.Int64(), "no block until a transaction arrives")
	require.EqualValues(t, DefaultGasLimit, head.GasLimit)

	to := common.HexToAddress("0x00000000000000000000000000000000000c0ffe")
	wei := big.NewInt(1_234_567)
	r := n.Fund(t, to, wei)
	require.Equal(t, types.ReceiptStatusSuccessful, r.Status)
	r = n.Fund(t, to, wei)
	got, err := n.Client.BalanceAt(ctx, to, nil)
	require.NoError(t, err)
	require.Equal(t, "2469134", got.String())
	require.EqualValues(t, 2, r.BlockNumber.Int64(), "one block per transaction")

	head, err = n.Client.HeaderByNumber(ctx, nil)
	require.NoError(t, err)
	require.EqualValues(t, DefaultGasLimit, head.GasLimit, "the limit does not drift")
}

func TestStartOptions(t *testing.T) {
	n := Start(t, WithPeriod(time.Second), WithGasLimit(30_000_000))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.Eventually(t, func() bool {
		b, err := n.Client.BlockNumber(ctx)
		return err == nil && b >= 2
	}, 8*time.Second, 50*time.Millisecond, "blocks come on the timer")
	head, err := n.Client.HeaderByNumber(ctx, nil)
	require.NoError(t, err)
	require.EqualValues(t, 30_000_000, head.GasLimit)
}
