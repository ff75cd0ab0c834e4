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

// ReentrantRecipientMetaData contains all meta data concerning the ReentrantRecipient contract.
var ReentrantRecipientMetaData = &bind.MetaData{
	ABI: "[{\"inputs\":[{\"internalType\":\"address\",\"name\":\"router_\",\"type\":\"address\"}],\"stateMutability\":\"nonpayable\",\"type\":\"constructor\"},{\"inputs\":[{\"internalType\":\"bytes\",\"name\":\"payCall_\",\"type\":\"bytes\"}],\"name\":\"arm\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"lastRevert\",\"outputs\":[{\"internalType\":\"bytes\",\"name\":\"\",\"type\":\"bytes\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"reentered\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"router\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"stateMutability\":\"payable\",\"type\":\"receive\"}]",
	Bin: "0x60a0604052348015600e575f5ffd5b506040516106e33803806106e3833981016040819052602b91603b565b6001600160a01b03166080526066565b5f60208284031215604a575f5ffd5b81516001600160a01b0381168114605f575f5ffd5b9392505050565b60805161065f6100845f395f818160eb015261020d015261065f5ff3fe608060405260043610610041575f3560e01c80633f09775e146101945780636a540a3e146101bc578063b0fb5363146101dd578063f887ea40146101fc575f5ffd5b36610190575f6002805461005490610331565b80601f016020809104026020016040519081016040528092919081815260200182805461008090610331565b80156100cb5780601f106100a2576101008083540402835291602001916100cb565b820191905f5260205f20905b8154815290600101906020018083116100ae57829003601f168201915b5050505050905080515f036100dc57005b6100e760025f6102e4565b5f5f7f00000000000000000000000000000000000000000000000000000000000000006001600160a01b031634846040516101229190610369565b5f6040518083038185875af1925050503d805f811461015c576040519150601f19603f3d011682016040523d82523d5f602084013e610161565b606091505b509150915081156101815760018054905f61017b8361037f565b91905055005b5f61018c828261040d565b505b005b5f5ffd5b34801561019f575f5ffd5b506101a960015481565b6040519081526020015b60405180910390f35b3480156101c7575f5ffd5b506101d0610247565b6040516101b391906104cc565b3480156101e8575f5ffd5b5061018e6101f7366004610501565b6102d2565b348015610207575f5ffd5b5061022f7f000000000000000000000000000000000000000000000000000000000000000081565b6040516001600160a01b0390911681526020016101b3565b5f805461025390610331565b80601f016020809104026020016040519081016040528092919081815260200182805461027f90610331565b80156102ca5780601f106102a1576101008083540402835291602001916102ca565b820191905f5260205f20905b8154815290600101906020018083116102ad57829003601f168201915b505050505081565b60026102df82848361056f565b505050565b5080546102f090610331565b5f825580601f106102ff575050565b601f0160209004905f5260205f2090610318919061031a565b565b5f5b808211156102df575f8184015560010161031c565b600181811c9082168061034557607f821691505b60208210810361036357634e487b7160e01b5f52602260045260245ffd5b50919050565b5f82518060208501845e5f920191825250919050565b5f6001820161039c57634e487b7160e01b5f52601160045260245ffd5b5060010190565b634e487b7160e01b5f52604160045260245ffd5b601f8211156102df57828211156102df57805f5260205f20601f840160051c60208510156103e257505f5b90810190601f840160051c035f5b81811015610405575f838201556001016103f0565b505050505050565b815167ffffffffffffffff811115610427576104276103a3565b61043b816104358454610331565b846103b7565b6020601f82116001811461046d575f83156104565750848201515b5f19600385901b1c1916600184901b1784556104c5565b5f84815260208120601f198516915b8281101561049c578785015182556020948501946001909201910161047c565b50848210156104b957868401515f19600387901b60f8161c191681555b505060018360011b0184555b5050505050565b602081525f82518060208401528060208501604085015e5f604082850101526040601f19601f83011684010191505092915050565b5f5f60208385031215610512575f5ffd5b823567ffffffffffffffff811115610528575f5ffd5b8301601f81018513610538575f5ffd5b803567ffffffffffffffff81111561054e575f5ffd5b85602082840101111561055f575f5ffd5b6020919091019590945092505050565b67ffffffffffffffff831115610587576105876103a3565b61059b836105958354610331565b836103b7565b5f601f8411600181146105cc575f85156105b55750838201355b5f19600387901b1c1916600186901b1783556104c5565b5f83815260208120601f198716915b828110156105fb57868501358255602094850194600190920191016105db565b5086821015610617575f1960f88860031b161c19848701351681555b505060018560011b018355505050505056fea2646970667358221220f30b8360cc967ae77a4bf03dcde411701beab53c6f00bcc511aeeac31edd6f0064736f6c63430008250033",
}

// ReentrantRecipientABI is the input ABI used to generate the binding from.
// Deprecated: Use ReentrantRecipientMetaData.ABI instead.
var ReentrantRecipientABI = ReentrantRecipientMetaData.ABI

// ReentrantRecipientBin is the compiled bytecode used for deploying new contracts.
// Deprecated: Use ReentrantRecipientMetaData.Bin instead.
var ReentrantRecipientBin = ReentrantRecipientMetaData.Bin

// DeployReentrantRecipient deploys a new Ethereum contract, binding an instance of ReentrantRecipient to it.
func DeployReentrantRecipient(auth *bind.TransactOpts, backend bind.ContractBackend, router_ common.Address) (common.Address, *types.Transaction, *ReentrantRecipient, error) {
	parsed, err := ReentrantRecipientMetaData.GetAbi()
	if err != nil {
		return common.Address{}, nil, nil, err
	}
	if parsed == nil {
		return common.Address{}, nil, nil, errors.New("GetABI returned nil")
	}

	address, tx, contract, err := bind.DeployContract(auth, *parsed, common.FromHex(ReentrantRecipientBin), backend, router_)
	if err != nil {
		return common.Address{}, nil, nil, err
	}
	return address, tx, &ReentrantRecipient{ReentrantRecipientCaller: ReentrantRecipientCaller{contract: contract}, ReentrantRecipientTransactor: ReentrantRecipientTransactor{contract: contract}, ReentrantRecipientFilterer: ReentrantRecipientFilterer{contract: contract}}, nil
}

// ReentrantRecipient is an auto generated Go binding around an Ethereum contract.
type ReentrantRecipient struct {
	ReentrantRecipientCaller     // Read-only binding to the contract
	ReentrantRecipientTransactor // Write-only binding to the contract
	ReentrantRecipientFilterer   // Log filterer for contract events
}

// ReentrantRecipientCaller is an auto generated read-only Go binding around an Ethereum contract.
type ReentrantRecipientCaller struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// ReentrantRecipientTransactor is an auto generated write-only Go binding around an Ethereum contract.
type ReentrantRecipientTransactor struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// ReentrantRecipientFilterer is an auto generated log filtering Go binding around an Ethereum contract events.
type ReentrantRecipientFilterer struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// ReentrantRecipientSession is an auto generated Go binding around an Ethereum contract,
// with pre-set call and transact options.
type ReentrantRecipientSession struct {
	Contract     *ReentrantRecipient // Generic contract binding to set the session for
	CallOpts     bind.CallOpts       // Call options to use throughout this session
	TransactOpts bind.TransactOpts   // Transaction auth options to use throughout this session
}

// ReentrantRecipientCallerSession is an auto generated read-only Go binding around an Ethereum contract,
// with pre-set call options.
type ReentrantRecipientCallerSession struct {
	Contract *ReentrantRecipientCaller // Generic contract caller binding to set the session for
	CallOpts bind.CallOpts             // Call options to use throughout this session
}

// ReentrantRecipientTransactorSession is an auto generated write-only Go binding around an Ethereum contract,
// with pre-set transact options.
type ReentrantRecipientTransactorSession struct {
	Contract     *ReentrantRecipientTransactor // Generic contract transactor binding to set the session for
	TransactOpts bind.TransactOpts             // Transaction auth options to use throughout this session
}

// ReentrantRecipientRaw is an auto generated low-level Go binding around an Ethereum contract.
type ReentrantRecipientRaw struct {
	Contract *ReentrantRecipient // Generic contract binding to access the raw methods on
}

// ReentrantRecipientCallerRaw is an auto generated low-level read-only Go binding around an Ethereum contract.
type ReentrantRecipientCallerRaw struct {
	Contract *ReentrantRecipientCaller // Generic read-only contract binding to access the raw methods on
}

// ReentrantRecipientTransactorRaw is an auto generated low-level write-only Go binding around an Ethereum contract.
type ReentrantRecipientTransactorRaw struct {
	Contract *ReentrantRecipientTransactor // Generic write-only contract binding to access the raw methods on
}

// NewReentrantRecipient creates a new instance of ReentrantRecipient, bound to a specific deployed contract.
func NewReentrantRecipient(address common.Address, backend bind.ContractBackend) (*ReentrantRecipient, error) {
	contract, err := bindReentrantRecipient(address, backend, backend, backend)
	if err != nil {
		return nil, err
	}
	return &ReentrantRecipient{ReentrantRecipientCaller: ReentrantRecipientCaller{contract: contract}, ReentrantRecipientTransactor: ReentrantRecipientTransactor{contract: contract}, ReentrantRecipientFilterer: ReentrantRecipientFilterer{contract: contract}}, nil
}

// NewReentrantRecipientCaller creates a new read-only instance of ReentrantRecipient, bound to a specific deployed contract.
func NewReentrantRecipientCaller(address common.Address, caller bind.ContractCaller) (*ReentrantRecipientCaller, error) {
	contract, err := bindReentrantRecipient(address, caller, nil, nil)
	if err != nil {
		return nil, err
	}
	return &ReentrantRecipientCaller{contract: contract}, nil
}

// NewReentrantRecipientTransactor creates a new write-only instance of ReentrantRecipient, bound to a specific deployed contract.
func NewReentrantRecipientTransactor(address common.Address, transactor bind.ContractTransactor) (*ReentrantRecipientTransactor, error) {
	contract, err := bindReentrantRecipient(address, nil, transactor, nil)
	if err != nil {
		return nil, err
	}
	return &ReentrantRecipientTransactor{contract: contract}, nil
}

// NewReentrantRecipientFilterer creates a new log filterer instance of ReentrantRecipient, bound to a specific deployed contract.
func NewReentrantRecipientFilterer(address common.Address, filterer bind.ContractFilterer) (*ReentrantRecipientFilterer, error) {
	contract, err := bindReentrantRecipient(address, nil, nil, filterer)
	if err != nil {
		return nil, err
	}
	return &ReentrantRecipientFilterer{contract: contract}, nil
}

// bindReentrantRecipient binds a generic wrapper to an already deployed contract.
func bindReentrantRecipient(address common.Address, caller bind.ContractCaller, transactor bind.ContractTransactor, filterer bind.ContractFilterer) (*bind.BoundContract, error) {
	parsed, err := ReentrantRecipientMetaData.GetAbi()
	if err != nil {
		return nil, err
	}
	return bind.NewBoundContract(address, *parsed, caller, transactor, filterer), nil
}

// Call invokes the (constant) contract method with params as input values and
// sets the output to result. The result type might be a single field for simple
// returns, a slice of interfaces for anonymous returns and a struct for named
// returns.
func (_ReentrantRecipient *ReentrantRecipientRaw) Call(opts *bind.CallOpts, result *[]interface{}, method string, params ...interface{}) error {
	return _ReentrantRecipient.Contract.ReentrantRecipientCaller.contract.Call(opts, result, method, params...)
}

// Transfer initiates a plain transaction to move funds to the contract, calling
// its default method if one is available.
func (_ReentrantRecipient *ReentrantRecipientRaw) Transfer(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _ReentrantRecipient.Contract.ReentrantRecipientTransactor.contract.Transfer(opts)
}

// Transact invokes the (paid) contract method with params as input values.
func (_ReentrantRecipient *ReentrantRecipientRaw) Transact(opts *bind.TransactOpts, method string, params ...interface{}) (*types.Transaction, error) {
	return _ReentrantRecipient.Contract.ReentrantRecipientTransactor.contract.Transact(opts, method, params...)
}

// Call invokes the (constant) contract method with params as input values and
// sets the output to result. The result type might be a single field for simple
// returns, a slice of interfaces for anonymous returns and a struct for named
// returns.
func (_ReentrantRecipient *ReentrantRecipientCallerRaw) Call(opts *bind.CallOpts, result *[]interface{}, method string, params ...interface{}) error {
	return _ReentrantRecipient.Contract.contract.Call(opts, result, method, params...)
}

// Transfer initiates a plain transaction to move funds to the contract, calling
// its default method if one is available.
func (_ReentrantRecipient *ReentrantRecipientTransactorRaw) Transfer(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _ReentrantRecipient.Contract.contract.Transfer(opts)
}

// Transact invokes the (paid) contract method with params as input values.
func (_ReentrantRecipient *ReentrantRecipientTransactorRaw) Transact(opts *bind.TransactOpts, method string, params ...interface{}) (*types.Transaction, error) {
	return _ReentrantRecipient.Contract.contract.Transact(opts, method, params...)
}

// LastRevert is a free data retrieval call binding the contract method 0x6a540a3e.
//
// Solidity: function lastRevert() view returns(bytes)
func (_ReentrantRecipient *ReentrantRecipientCaller) LastRevert(opts *bind.CallOpts) ([]byte, error) {
	var out []interface{}
	err := _ReentrantRecipient.contract.Call(opts, &out, "lastRevert")

	if err != nil {
		return *new([]byte), err
	}

	out0 := *abi.ConvertType(out[0], new([]byte)).(*[]byte)

	return out0, err

}

// LastRevert is a free data retrieval call binding the contract method 0x6a540a3e.
//
// Solidity: function lastRevert() view returns(bytes)
func (_ReentrantRecipient *ReentrantRecipientSession) LastRevert() ([]byte, error) {
	return _ReentrantRecipient.Contract.LastRevert(&_ReentrantRecipient.CallOpts)
}

// LastRevert is a free data retrieval call binding the contract method 0x6a540a3e.
//
// Solidity: function lastRevert() view returns(bytes)
func (_ReentrantRecipient *ReentrantRecipientCallerSession) LastRevert() ([]byte, error) {
	return _ReentrantRecipient.Contract.LastRevert(&_ReentrantRecipient.CallOpts)
}

// Reentered is a free data retrieval call binding the contract method 0x3f09775e.
//
// Solidity: function reentered() view returns(uint256)
func (_ReentrantRecipient *ReentrantRecipientCaller) Reentered(opts *bind.CallOpts) (*big.Int, error) {
	var out []interface{}
	err := _ReentrantRecipient.contract.Call(opts, &out, "reentered")

	if err != nil {
		return *new(*big.Int), err
	}

	out0 := *abi.ConvertType(out[0], new(*big.Int)).(**big.Int)

	return out0, err

}

// Reentered is a free data retrieval call binding the contract method 0x3f09775e.
//
// Solidity: function reentered() view returns(uint256)
func (_ReentrantRecipient *ReentrantRecipientSession) Reentered() (*big.Int, error) {
	return _ReentrantRecipient.Contract.Reentered(&_ReentrantRecipient.CallOpts)
}

// Reentered is a free data retrieval call binding the contract method 0x3f09775e.
//
// Solidity: function reentered() view returns(uint256)
func (_ReentrantRecipient *ReentrantRecipientCallerSession) Reentered() (*big.Int, error) {
	return _ReentrantRecipient.Contract.Reentered(&_ReentrantRecipient.CallOpts)
}

// Router is a free data retrieval call binding the contract method 0xf887ea40.
//
// Solidity: function router() view returns(address)
func (_ReentrantRecipient *ReentrantRecipientCaller) Router(opts *bind.CallOpts) (common.Address, error) {
	var out []interface{}
	err := _ReentrantRecipient.contract.Call(opts, &out, "router")

	if err != nil {
		return *new(common.Address), err
	}

	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)

	return out0, err

}

// Router is a free data retrieval call binding the contract method 0xf887ea40.
//
// Solidity: function router() view returns(address)
func (_ReentrantRecipient *ReentrantRecipientSession) Router() (common.Address, error) {
	return _ReentrantRecipient.Contract.Router(&_ReentrantRecipient.CallOpts)
}

// Router is a free data retrieval call binding the contract method 0xf887ea40.
//
// Solidity: function router() view returns(address)
func (_ReentrantRecipient *ReentrantRecipientCallerSession) Router() (common.Address, error) {
	return _ReentrantRecipient.Contract.Router(&_ReentrantRecipient.CallOpts)
}

// Arm is a paid mutator transaction binding the contract method 0xb0fb5363.
//
// Solidity: function arm(bytes payCall_) returns()
func (_ReentrantRecipient *ReentrantRecipientTransactor) Arm(opts *bind.TransactOpts, payCall_ []byte) (*types.Transaction, error) {
	return _ReentrantRecipient.contract.Transact(opts, "arm", payCall_)
}

// Arm is a paid mutator transaction binding the contract method 0xb0fb5363.
//
// Solidity: function arm(bytes payCall_) returns()
func (_ReentrantRecipient *ReentrantRecipientSession) Arm(payCall_ []byte) (*types.Transaction, error) {
	return _ReentrantRecipient.Contract.Arm(&_ReentrantRecipient.TransactOpts, payCall_)
}

// Arm is a paid mutator transaction binding the contract method 0xb0fb5363.
//
// Solidity: function arm(bytes payCall_) returns()
func (_ReentrantRecipient *ReentrantRecipientTransactorSession) Arm(payCall_ []byte) (*types.Transaction, error) {
	return _ReentrantRecipient.Contract.Arm(&_ReentrantRecipient.TransactOpts, payCall_)
}

// Receive is a paid mutator transaction binding the contract receive function.
//
// Solidity: receive() payable returns()
func (_ReentrantRecipient *ReentrantRecipientTransactor) Receive(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _ReentrantRecipient.contract.RawTransact(opts, nil) // calldata is disallowed for receive function
}

// Receive is a paid mutator transaction binding the contract receive function.
//
// Solidity: receive() payable returns()
func (_ReentrantRecipient *ReentrantRecipientSession) Receive() (*types.Transaction, error) {
	return _ReentrantRecipient.Contract.Receive(&_ReentrantRecipient.TransactOpts)
}

// Receive is a paid mutator transaction binding the contract receive function.
//
// Solidity: receive() payable returns()
func (_ReentrantRecipient *ReentrantRecipientTransactorSession) Receive() (*types.Transaction, error) {
	return _ReentrantRecipient.Contract.Receive(&_ReentrantRecipient.TransactOpts)
}
