package contracts

import (
	"errors"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
)

// Revert is a custom error one of this package's contracts reverted with,
// decoded: its name as declared in Solidity ("AlreadyPaid", "Expired", …)
// and its arguments in order, as the ABI decoder gives them (*big.Int for
// uint256, common.Address, [32]byte for bytes32).
type Revert struct {
	Name string
	Args []any
}

// metadata lists every contract whose errors DecodeRevert knows.
var metadata = []interface{ GetAbi() (*abi.ABI, error) }{
	PaymentRouterMetaData, TestTokenMetaData, FeeOnTransferTokenMetaData, NoReturnTokenMetaData,
}

// DecodeRevert finds the revert data a node attached to err (from an
// eth_call or a gas estimate, as returned by the bindings) and decodes it as
// a custom error of this package's contracts. It reports false when err
// carries no revert data or the data is no error these contracts declare.
func DecodeRevert(err error) (Revert, bool) {
	var de rpc.DataError
	if !errors.As(err, &de) {
		return Revert{}, false
	}
	s, ok := de.ErrorData().(string)
	if !ok || !strings.HasPrefix(s, "0x") {
		return Revert{}, false
	}
	data, decErr := hexutil.Decode(s)
	if decErr != nil || len(data) < 4 {
		return Revert{}, false
	}
	for _, md := range metadata {
		parsed, abiErr := md.GetAbi()
		if abiErr != nil {
			continue
		}
		e, idErr := parsed.ErrorByID([4]byte(data[:4]))
		if idErr != nil {
			continue
		}
		return unpack(e, data)
	}
	return Revert{}, false
}

func unpack(e *abi.Error, data []byte) (Revert, bool) {
	v, err := e.Unpack(data)
	if err != nil {
		return Revert{}, false
	}
	args, _ := v.([]any)
	return Revert{Name: e.Name, Args: args}, true
}
