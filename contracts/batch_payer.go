// Code generated - DO NOT EDIT.
// This file is a generated binding and any manual changes will be lost.

package contracts

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/event"
)

// Reference imports to suppress errors if they are not otherwise used.
var (
	_ = errors.New
	_ = big.NewInt
	_ = strings.NewReader
	_ = ethereum.NotFound
	_ = bind.Bind
	_ = common.Big1
	_ = types.BloomLookup
	_ = event.NewSubscription
	_ = abi.ConvertType
	_ = time.Tick
	_ = context.Background
)

// BatchPayerMetaData contains all meta data concerning the BatchPayer contract.
var BatchPayerMetaData = &bind.MetaData{
	ABI: "[{\"inputs\":[],\"name\":\"LengthMismatch\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"token\",\"type\":\"address\"}],\"name\":\"NotAToken\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"index\",\"type\":\"uint256\"}],\"name\":\"TransferFailed\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"sent\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"total\",\"type\":\"uint256\"}],\"name\":\"ValueMismatch\",\"type\":\"error\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"payer\",\"type\":\"address\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"token\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"count\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"total\",\"type\":\"uint256\"}],\"name\":\"Batch\",\"type\":\"event\"},{\"inputs\":[{\"internalType\":\"address[]\",\"name\":\"to\",\"type\":\"address[]\"},{\"internalType\":\"uint256[]\",\"name\":\"amounts\",\"type\":\"uint256[]\"}],\"name\":\"batchNative\",\"outputs\":[],\"stateMutability\":\"payable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"token\",\"type\":\"address\"},{\"internalType\":\"address[]\",\"name\":\"to\",\"type\":\"address[]\"},{\"internalType\":\"uint256[]\",\"name\":\"amounts\",\"type\":\"uint256[]\"}],\"name\":\"batchTransfer\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"}]",
	Bin: "0x6080604052348015600e575f5ffd5b506106168061001c5f395ff3fe608060405260043610610028575f3560e01c80631239ec8c1461002c5780639156eea51461004d575b5f5ffd5b348015610037575f5ffd5b5061004b610046366004610466565b610060565b005b61004b61005b3660046104e6565b610287565b828114610083576040516001621398b960e31b0319815260040160405180910390fd5b846001600160a01b03163b5f036100bd5760405163f0ae59ab60e01b81526001600160a01b03861660048201526024015b60405180910390fd5b5f5f5b84811015610238578383828181106100da576100da610552565b90506020020135826100ec9190610566565b91505f5f886001600160a01b03163389898681811061010d5761010d610552565b9050602002016020810190610122919061058b565b88888781811061013457610134610552565b6040516001600160a01b0395861660248201529490931660448501525060209091020135606482015260840160408051601f198184030181529181526020820180516001600160e01b03166323b872dd60e01b1790525161019591906105ab565b5f604051808303815f865af19150503d805f81146101ce576040519150601f19603f3d011682016040523d82523d5f602084013e6101d3565b606091505b509150915081158061020d575080511580159061020d57508051602014158061020d57508080602001905181019061020b91906105c1565b155b1561022e5760405163c39ba1a960e01b8152600481018490526024016100b4565b50506001016100c0565b5060408051858152602081018390526001600160a01b0388169133917f5e23170bcb9dbeb200e3c636bd44c2909ffe51fbde96b9aeb5e8add86f6eab7b910160405180910390a3505050505050565b8281146102aa576040516001621398b960e31b0319815260040160405180910390fd5b5f5f5b84811015610395578383828181106102c7576102c7610552565b90506020020135826102d99190610566565b91505f8686838181106102ee576102ee610552565b9050602002016020810190610303919061058b565b6001600160a01b031685858481811061031e5761031e610552565b905060200201356040515f6040518083038185875af1925050503d805f8114610362576040519150601f19603f3d011682016040523d82523d5f602084013e610367565b606091505b505090508061038c5760405163c39ba1a960e01b8152600481018390526024016100b4565b506001016102ad565b503481146103bf57604051630626ade360e41b8152346004820152602481018290526044016100b4565b60408051858152602081018390525f9133917f5e23170bcb9dbeb200e3c636bd44c2909ffe51fbde96b9aeb5e8add86f6eab7b910160405180910390a35050505050565b80356001600160a01b0381168114610419575f5ffd5b919050565b5f5f83601f84011261042e575f5ffd5b50813567ffffffffffffffff811115610445575f5ffd5b6020830191508360208260051b850101111561045f575f5ffd5b9250929050565b5f5f5f5f5f6060868803121561047a575f5ffd5b61048386610403565b9450602086013567ffffffffffffffff81111561049e575f5ffd5b6104aa8882890161041e565b909550935050604086013567ffffffffffffffff8111156104c9575f5ffd5b6104d58882890161041e565b969995985093965092949392505050565b5f5f5f5f604085870312156104f9575f5ffd5b843567ffffffffffffffff81111561050f575f5ffd5b61051b8782880161041e565b909550935050602085013567ffffffffffffffff81111561053a575f5ffd5b6105468782880161041e565b95989497509550505050565b634e487b7160e01b5f52603260045260245ffd5b8082018082111561058557634e487b7160e01b5f52601160045260245ffd5b92915050565b5f6020828403121561059b575f5ffd5b6105a482610403565b9392505050565b5f82518060208501845e5f920191825250919050565b5f602082840312156105d1575f5ffd5b815180151581146105a4575f5ffdfea2646970667358221220822bcb6abdd91065203982929e863f655ed923c02f25998a37db96b30b2f3aac64736f6c63430008250033",
}

// BatchPayerABI is the input ABI used to generate the binding from.
// Deprecated: Use BatchPayerMetaData.ABI instead.
var BatchPayerABI = BatchPayerMetaData.ABI

// BatchPayerBin is the compiled bytecode used for deploying new contracts.
// Deprecated: Use BatchPayerMetaData.Bin instead.
var BatchPayerBin = BatchPayerMetaData.Bin

// DeployBatchPayer deploys a new Ethereum contract, binding an instance of BatchPayer to it.
func DeployBatchPayer(auth *bind.TransactOpts, backend bind.ContractBackend) (common.Address, *types.Transaction, *BatchPayer, error) {
	parsed, err := BatchPayerMetaData.GetAbi()
	if err != nil {
		return common.Address{}, nil, nil, err
	}
	if parsed == nil {
		return common.Address{}, nil, nil, errors.New("GetABI returned nil")
	}

	address, tx, contract, err := bind.DeployContract(auth, *parsed, common.FromHex(BatchPayerBin), backend)
	if err != nil {
		return common.Address{}, nil, nil, err
	}
	return address, tx, &BatchPayer{BatchPayerCaller: BatchPayerCaller{contract: contract}, BatchPayerTransactor: BatchPayerTransactor{contract: contract}, BatchPayerFilterer: BatchPayerFilterer{contract: contract}}, nil
}

// BatchPayer is an auto generated Go binding around an Ethereum contract.
type BatchPayer struct {
	BatchPayerCaller     // Read-only binding to the contract
	BatchPayerTransactor // Write-only binding to the contract
	BatchPayerFilterer   // Log filterer for contract events
}

// BatchPayerCaller is an auto generated read-only Go binding around an Ethereum contract.
type BatchPayerCaller struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// BatchPayerTransactor is an auto generated write-only Go binding around an Ethereum contract.
type BatchPayerTransactor struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// BatchPayerFilterer is an auto generated log filtering Go binding around an Ethereum contract events.
type BatchPayerFilterer struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// BatchPayerSession is an auto generated Go binding around an Ethereum contract,
// with pre-set call and transact options.
type BatchPayerSession struct {
	Contract     *BatchPayer       // Generic contract binding to set the session for
	CallOpts     bind.CallOpts     // Call options to use throughout this session
	TransactOpts bind.TransactOpts // Transaction auth options to use throughout this session
}

// BatchPayerCallerSession is an auto generated read-only Go binding around an Ethereum contract,
// with pre-set call options.
type BatchPayerCallerSession struct {
	Contract *BatchPayerCaller // Generic contract caller binding to set the session for
	CallOpts bind.CallOpts     // Call options to use throughout this session
}

// BatchPayerTransactorSession is an auto generated write-only Go binding around an Ethereum contract,
// with pre-set transact options.
type BatchPayerTransactorSession struct {
	Contract     *BatchPayerTransactor // Generic contract transactor binding to set the session for
	TransactOpts bind.TransactOpts     // Transaction auth options to use throughout this session
}

// BatchPayerRaw is an auto generated low-level Go binding around an Ethereum contract.
type BatchPayerRaw struct {
	Contract *BatchPayer // Generic contract binding to access the raw methods on
}

// BatchPayerCallerRaw is an auto generated low-level read-only Go binding around an Ethereum contract.
type BatchPayerCallerRaw struct {
	Contract *BatchPayerCaller // Generic read-only contract binding to access the raw methods on
}

// BatchPayerTransactorRaw is an auto generated low-level write-only Go binding around an Ethereum contract.
type BatchPayerTransactorRaw struct {
	Contract *BatchPayerTransactor // Generic write-only contract binding to access the raw methods on
}

// NewBatchPayer creates a new instance of BatchPayer, bound to a specific deployed contract.
func NewBatchPayer(address common.Address, backend bind.ContractBackend) (*BatchPayer, error) {
	contract, err := bindBatchPayer(address, backend, backend, backend)
	if err != nil {
		return nil, err
	}
	return &BatchPayer{BatchPayerCaller: BatchPayerCaller{contract: contract}, BatchPayerTransactor: BatchPayerTransactor{contract: contract}, BatchPayerFilterer: BatchPayerFilterer{contract: contract}}, nil
}

// NewBatchPayerCaller creates a new read-only instance of BatchPayer, bound to a specific deployed contract.
func NewBatchPayerCaller(address common.Address, caller bind.ContractCaller) (*BatchPayerCaller, error) {
	contract, err := bindBatchPayer(address, caller, nil, nil)
	if err != nil {
		return nil, err
	}
	return &BatchPayerCaller{contract: contract}, nil
}

// NewBatchPayerTransactor creates a new write-only instance of BatchPayer, bound to a specific deployed contract.
func NewBatchPayerTransactor(address common.Address, transactor bind.ContractTransactor) (*BatchPayerTransactor, error) {
	contract, err := bindBatchPayer(address, nil, transactor, nil)
	if err != nil {
		return nil, err
	}
	return &BatchPayerTransactor{contract: contract}, nil
}

// NewBatchPayerFilterer creates a new log filterer instance of BatchPayer, bound to a specific deployed contract.
func NewBatchPayerFilterer(address common.Address, filterer bind.ContractFilterer) (*BatchPayerFilterer, error) {
	contract, err := bindBatchPayer(address, nil, nil, filterer)
	if err != nil {
		return nil, err
	}
	return &BatchPayerFilterer{contract: contract}, nil
}

// bindBatchPayer binds a generic wrapper to an already deployed contract.
func bindBatchPayer(address common.Address, caller bind.ContractCaller, transactor bind.ContractTransactor, filterer bind.ContractFilterer) (*bind.BoundContract, error) {
	parsed, err := BatchPayerMetaData.GetAbi()
	if err != nil {
		return nil, err
	}
	return bind.NewBoundContract(address, *parsed, caller, transactor, filterer), nil
}

// Call invokes the (constant) contract method with params as input values and
// sets the output to result. The result type might be a single field for simple
// returns, a slice of interfaces for anonymous returns and a struct for named
// returns.
func (_BatchPayer *BatchPayerRaw) Call(opts *bind.CallOpts, result *[]interface{}, method string, params ...interface{}) error {
	return _BatchPayer.Contract.BatchPayerCaller.contract.Call(opts, result, method, params...)
}

// Transfer initiates a plain transaction to move funds to the contract, calling
// its default method if one is available.
func (_BatchPayer *BatchPayerRaw) Transfer(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _BatchPayer.Contract.BatchPayerTransactor.contract.Transfer(opts)
}

// Transact invokes the (paid) contract method with params as input values.
func (_BatchPayer *BatchPayerRaw) Transact(opts *bind.TransactOpts, method string, params ...interface{}) (*types.Transaction, error) {
	return _BatchPayer.Contract.BatchPayerTransactor.contract.Transact(opts, method, params...)
}

// Call invokes the (constant) contract method with params as input values and
// sets the output to result. The result type might be a single field for simple
// returns, a slice of interfaces for anonymous returns and a struct for named
// returns.
func (_BatchPayer *BatchPayerCallerRaw) Call(opts *bind.CallOpts, result *[]interface{}, method string, params ...interface{}) error {
	return _BatchPayer.Contract.contract.Call(opts, result, method, params...)
}

// Transfer initiates a plain transaction to move funds to the contract, calling
// its default method if one is available.
func (_BatchPayer *BatchPayerTransactorRaw) Transfer(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _BatchPayer.Contract.contract.Transfer(opts)
}

// Transact invokes the (paid) contract method with params as input values.
func (_BatchPayer *BatchPayerTransactorRaw) Transact(opts *bind.TransactOpts, method string, params ...interface{}) (*types.Transaction, error) {
	return _BatchPayer.Contract.contract.Transact(opts, method, params...)
}

// BatchNative is a paid mutator transaction binding the contract method 0x9156eea5.
//
// Solidity: function batchNative(address[] to, uint256[] amounts) payable returns()
func (_BatchPayer *BatchPayerTransactor) BatchNative(opts *bind.TransactOpts, to []common.Address, amounts []*big.Int) (*types.Transaction, error) {
	return _BatchPayer.contract.Transact(opts, "batchNative", to, amounts)
}

// BatchNative is a paid mutator transaction binding the contract method 0x9156eea5.
//
// Solidity: function batchNative(address[] to, uint256[] amounts) payable returns()
func (_BatchPayer *BatchPayerSession) BatchNative(to []common.Address, amounts []*big.Int) (*types.Transaction, error) {
	return _BatchPayer.Contract.BatchNative(&_BatchPayer.TransactOpts, to, amounts)
}

// BatchNative is a paid mutator transaction binding the contract method 0x9156eea5.
//
// Solidity: function batchNative(address[] to, uint256[] amounts) payable returns()
func (_BatchPayer *BatchPayerTransactorSession) BatchNative(to []common.Address, amounts []*big.Int) (*types.Transaction, error) {
	return _BatchPayer.Contract.BatchNative(&_BatchPayer.TransactOpts, to, amounts)
}

// BatchTransfer is a paid mutator transaction binding the contract method 0x1239ec8c.
//
// Solidity: function batchTransfer(address token, address[] to, uint256[] amounts) returns()
func (_BatchPayer *BatchPayerTransactor) BatchTransfer(opts *bind.TransactOpts, token common.Address, to []common.Address, amounts []*big.Int) (*types.Transaction, error) {
	return _BatchPayer.contract.Transact(opts, "batchTransfer", token, to, amounts)
}

// BatchTransfer is a paid mutator transaction binding the contract method 0x1239ec8c.
//
// Solidity: function batchTransfer(address token, address[] to, uint256[] amounts) returns()
func (_BatchPayer *BatchPayerSession) BatchTransfer(token common.Address, to []common.Address, amounts []*big.Int) (*types.Transaction, error) {
	return _BatchPayer.Contract.BatchTransfer(&_BatchPayer.TransactOpts, token, to, amounts)
}

// BatchTransfer is a paid mutator transaction binding the contract method 0x1239ec8c.
//
// Solidity: function batchTransfer(address token, address[] to, uint256[] amounts) returns()
func (_BatchPayer *BatchPayerTransactorSession) BatchTransfer(token common.Address, to []common.Address, amounts []*big.Int) (*types.Transaction, error) {
	return _BatchPayer.Contract.BatchTransfer(&_BatchPayer.TransactOpts, token, to, amounts)
}

// BatchPayerBatchIterator is returned from FilterBatch and is used to iterate over the raw logs and unpacked data for Batch events raised by the BatchPayer contract.
type BatchPayerBatchIterator struct {
	Event *BatchPayerBatch // Event containing the contract specifics and raw log

	contract *bind.BoundContract // Generic contract to use for unpacking event data
	event    string              // Event name to use for unpacking event data

	logs chan types.Log        // Log channel receiving the found contract events
	sub  ethereum.Subscription // Subscription for errors, completion and termination
	done bool                  // Whether the subscription completed delivering logs
	fail error                 // Occurred error to stop iteration
}

// Next advances the iterator to the subsequent event, returning whether there
// are any more events found. In case of a retrieval or parsing error, false is
// returned and Error() can be queried for the exact failure.
func (it *BatchPayerBatchIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(BatchPayerBatch)
			if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
				it.fail = err
				return false
			}
			it.Event.Raw = log
			return true

		default:
			return false
		}
	}
	// Iterator still in progress, wait for either a data or an error event
	select {
	case log := <-it.logs:
		it.Event = new(BatchPayerBatch)
		if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
			it.fail = err
			return false
		}
		it.Event.Raw = log
		return true

	case err := <-it.sub.Err():
		it.done = true
		it.fail = err
		return it.Next()
	}
}

// Error returns any retrieval or parsing error occurred during filtering.
func (it *BatchPayerBatchIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *BatchPayerBatchIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// BatchPayerBatch represents a Batch event raised by the BatchPayer contract.
type BatchPayerBatch struct {
	Payer common.Address
	Token common.Address
	Count *big.Int
	Total *big.Int
	Raw   types.Log // Blockchain specific contextual infos
}

// FilterBatch is a free log retrieval operation binding the contract event 0x5e23170bcb9dbeb200e3c636bd44c2909ffe51fbde96b9aeb5e8add86f6eab7b.
//
// Solidity: event Batch(address indexed payer, address indexed token, uint256 count, uint256 total)
func (_BatchPayer *BatchPayerFilterer) FilterBatch(opts *bind.FilterOpts, payer []common.Address, token []common.Address) (*BatchPayerBatchIterator, error) {

	var payerRule []interface{}
	for _, payerItem := range payer {
		payerRule = append(payerRule, payerItem)
	}
	var tokenRule []interface{}
	for _, tokenItem := range token {
		tokenRule = append(tokenRule, tokenItem)
	}

	logs, sub, err := _BatchPayer.contract.FilterLogs(opts, "Batch", payerRule, tokenRule)
	if err != nil {
		return nil, err
	}
	return &BatchPayerBatchIterator{contract: _BatchPayer.contract, event: "Batch", logs: logs, sub: sub}, nil
}

// WatchBatch is a free log subscription operation binding the contract event 0x5e23170bcb9dbeb200e3c636bd44c2909ffe51fbde96b9aeb5e8add86f6eab7b.
//
// Solidity: event Batch(address indexed payer, address indexed token, uint256 count, uint256 total)
func (_BatchPayer *BatchPayerFilterer) WatchBatch(opts *bind.WatchOpts, sink chan<- *BatchPayerBatch, payer []common.Address, token []common.Address) (event.Subscription, error) {

	var payerRule []interface{}
	for _, payerItem := range payer {
		payerRule = append(payerRule, payerItem)
	}
	var tokenRule []interface{}
	for _, tokenItem := range token {
		tokenRule = append(tokenRule, tokenItem)
	}

	logs, sub, err := _BatchPayer.contract.WatchLogs(opts, "Batch", payerRule, tokenRule)
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(BatchPayerBatch)
				if err := _BatchPayer.contract.UnpackLog(event, "Batch", log); err != nil {
					// If the signature doesn't match, skip this log.
					if errors.Is(err, bind.ErrEventSignatureMismatch) {
						continue
					}
					return err
				}
				event.Raw = log

				select {
				case sink <- event:
				case err := <-sub.Err():
					return err
				case <-quit:
					return nil
				}
			case err := <-sub.Err():
				return err
			case <-quit:
				return nil
			}
		}
	}), nil
}

// ParseBatch is a log parse operation binding the contract event 0x5e23170bcb9dbeb200e3c636bd44c2909ffe51fbde96b9aeb5e8add86f6eab7b.
//
// Solidity: event Batch(address indexed payer, address indexed token, uint256 count, uint256 total)
func (_BatchPayer *BatchPayerFilterer) ParseBatch(log types.Log) (*BatchPayerBatch, error) {
	event := new(BatchPayerBatch)
	if err := _BatchPayer.contract.UnpackLog(event, "Batch", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}
