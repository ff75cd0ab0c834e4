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

// PaymentRouterIntent is an auto generated low-level Go binding around an user-defined struct.
type PaymentRouterIntent struct {
	Id           [32]byte
	Token        common.Address
	Amount       *big.Int
	Fee          *big.Int
	Recipient    common.Address
	FeeRecipient common.Address
	Deadline     *big.Int
}

// PaymentRouterMetaData contains all meta data concerning the PaymentRouter contract.
var PaymentRouterMetaData = &bind.MetaData{
	ABI: "[{\"inputs\":[{\"internalType\":\"address\",\"name\":\"owner_\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"signer_\",\"type\":\"address\"}],\"stateMutability\":\"nonpayable\",\"type\":\"constructor\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"id\",\"type\":\"bytes32\"}],\"name\":\"AlreadyPaid\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"deadline\",\"type\":\"uint256\"}],\"name\":\"Expired\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"InvalidSignature\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"token\",\"type\":\"address\"}],\"name\":\"NotAContract\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"NotOwner\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"NotPendingOwner\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"Paused\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"Reentrancy\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"token\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"to\",\"type\":\"address\"}],\"name\":\"TransferFailed\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"token\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"to\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"expected\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"received\",\"type\":\"uint256\"}],\"name\":\"TransferShortfall\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"expected\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"received\",\"type\":\"uint256\"}],\"name\":\"WrongValue\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroAddress\",\"type\":\"error\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"previousOwner\",\"type\":\"address\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"newOwner\",\"type\":\"address\"}],\"name\":\"OwnershipTransferStarted\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"previousOwner\",\"type\":\"address\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"newOwner\",\"type\":\"address\"}],\"name\":\"OwnershipTransferred\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"id\",\"type\":\"bytes32\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"payer\",\"type\":\"address\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"token\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"fee\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"address\",\"name\":\"recipient\",\"type\":\"address\"}],\"name\":\"Paid\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":false,\"internalType\":\"bool\",\"name\":\"paused\",\"type\":\"bool\"}],\"name\":\"PauseChanged\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"previousSigner\",\"type\":\"address\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"newSigner\",\"type\":\"address\"}],\"name\":\"SignerChanged\",\"type\":\"event\"},{\"inputs\":[],\"name\":\"INTENT_TYPEHASH\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"acceptOwnership\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"domainSeparator\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"eip712Domain\",\"outputs\":[{\"internalType\":\"bytes1\",\"name\":\"fields\",\"type\":\"bytes1\"},{\"internalType\":\"string\",\"name\":\"name\",\"type\":\"string\"},{\"internalType\":\"string\",\"name\":\"version\",\"type\":\"string\"},{\"internalType\":\"uint256\",\"name\":\"chainId\",\"type\":\"uint256\"},{\"internalType\":\"address\",\"name\":\"verifyingContract\",\"type\":\"address\"},{\"internalType\":\"bytes32\",\"name\":\"salt\",\"type\":\"bytes32\"},{\"internalType\":\"uint256[]\",\"name\":\"extensions\",\"type\":\"uint256[]\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"internalType\":\"bytes32\",\"name\":\"id\",\"type\":\"bytes32\"},{\"internalType\":\"address\",\"name\":\"token\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"fee\",\"type\":\"uint256\"},{\"internalType\":\"address\",\"name\":\"recipient\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"feeRecipient\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"deadline\",\"type\":\"uint256\"}],\"internalType\":\"structPaymentRouter.Intent\",\"name\":\"intent\",\"type\":\"tuple\"}],\"name\":\"hashIntent\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"id\",\"type\":\"bytes32\"}],\"name\":\"isPaid\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"owner\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"pause\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"paused\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"internalType\":\"bytes32\",\"name\":\"id\",\"type\":\"bytes32\"},{\"internalType\":\"address\",\"name\":\"token\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"fee\",\"type\":\"uint256\"},{\"internalType\":\"address\",\"name\":\"recipient\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"feeRecipient\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"deadline\",\"type\":\"uint256\"}],\"internalType\":\"structPaymentRouter.Intent\",\"name\":\"intent\",\"type\":\"tuple\"},{\"internalType\":\"bytes\",\"name\":\"signature\",\"type\":\"bytes\"}],\"name\":\"pay\",\"outputs\":[],\"stateMutability\":\"payable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"pendingOwner\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"newSigner\",\"type\":\"address\"}],\"name\":\"setSigner\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"signer\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"newOwner\",\"type\":\"address\"}],\"name\":\"transferOwnership\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"unpause\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"}]",
	Bin: "0x60c060405234801561000f575f5ffd5b506040516114d83803806114d883398101604081905261002e916101d2565b6001600160a01b038216158061004b57506001600160a01b038116155b156100695760405163d92e233d60e01b815260040160405180910390fd5b5f80546001600160a01b038085166001600160a01b031992831617909255600280549284169290911691909117905546608052610143604080517f8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f60208201527ff4e9789e094e6e844158e03b3e4dc91a2639b2af877ffc58580f598e28927d85918101919091527fc89efdaa54c0f20c7adf612882df0950f5a951637e0307cdcb4c672f298b8bc660608201524660808201523060a08201525f9060c00160405160208183030381529060405280519060200120905090565b60a0526040516001600160a01b038316905f907f8be0079c531659141344cd1fd0a4f28419497f9722a3daafe3b4186f6b6457e0908290a36040516001600160a01b038216905f907feeb293e1f8f3a9db91ade748726387ed1352ca78f5430c5f06fe3d1e1ad50579908290a35050610203565b80516001600160a01b03811681146101cd575f5ffd5b919050565b5f5f604083850312156101e3575f5ffd5b6101ec836101b7565b91506101fa602084016101b7565b90509250929050565b60805160a0516112b46102245f395f610a5d01525f61098901526112b45ff3fe6080604052600436106100e4575f3560e01c80638456cb5911610087578063e30c397811610057578063e30c397814610269578063f2fde38b14610288578063f698da25146102a7578063feef6640146102bb575f5ffd5b80638456cb59146101dd57806384b0196e146101f15780638da5cb5b14610218578063b082a27414610236575f5ffd5b806354c5b595116100c257806354c5b595146101675780635c975abb1461017a5780636c19e783146101aa57806379ba5097146101c9575f5ffd5b8063238ac933146100e85780633f4ba83a1461012457806352ef96031461013a575b5f5ffd5b3480156100f3575f5ffd5b50600254610107906001600160a01b031681565b6040516001600160a01b0390911681526020015b60405180910390f35b34801561012f575f5ffd5b506101386102e9565b005b348015610145575f5ffd5b50610159610154366004610ffe565b610356565b60405190815260200161011b565b61013861017536600461101f565b610366565b348015610185575f5ffd5b5060025461019a90600160a01b900460ff1681565b604051901515815260200161011b565b3480156101b5575f5ffd5b506101386101c436600461109f565b6106d1565b3480156101d4575f5ffd5b5061013861077d565b3480156101e8575f5ffd5b50610138610809565b3480156101fc575f5ffd5b50610205610877565b60405161011b97969594939291906110f3565b348015610223575f5ffd5b505f54610107906001600160a01b031681565b348015610241575f5ffd5b506101597fd947ddb6180ffb7e17cfa5e1dd243bcd55049521ce45dca0786b6d3e5addde1181565b348015610274575f5ffd5b50600154610107906001600160a01b031681565b348015610293575f5ffd5b506101386102a236600461109f565b61090c565b3480156102b2575f5ffd5b50610159610986565b3480156102c6575f5ffd5b5061019a6102d5366004611189565b5f9081526003602052604090205460ff1690565b5f546001600160a01b03163314610313576040516330cd747160e01b815260040160405180910390fd5b6002805460ff60a01b191690556040515f81527f8fb6c181ee25a520cf3dd6565006ef91229fcfe5a989566c2a3b8c115570cec5906020015b60405180910390a1565b5f61036082610a7f565b92915050565b60ff5f5c16156103895760405163558a1e0360e11b815260040160405180910390fd5b60015f805c60ff19168217905d50600254600160a01b900460ff16156103c2576040516313d0ff5960e31b815260040160405180910390fd5b8260c001354211156103f257604051637c06dd7560e11b815260c084013560048201526024015b60405180910390fd5b82355f9081526003602052604090205460ff161561042657604051637a5bb50760e11b8152833560048201526024016103e9565b61043961043284610a7f565b8383610b8a565b5f61044a60a085016080860161109f565b6001600160a01b03161480610484575060608301351580159061048457505f61047960c0850160a0860161109f565b6001600160a01b0316145b156104a25760405163d92e233d60e01b815260040160405180910390fd5b82355f908152600360209081526040808320805460ff191660011790556104ce9190860190860161109f565b6001600160a01b031603610564575f6104ef606085013560408601356111b4565b905080341461051a5760405163195a3ca160e01b8152600481018290523460248201526044016103e9565b61053761052d60a086016080870161109f565b8560400135610d05565b60608401351561055e5761055e61055460c0860160a0870161109f565b8560600135610d05565b50610644565b341561058b5760405163195a3ca160e01b81525f60048201523460248201526044016103e9565b61059b604084016020850161109f565b6001600160a01b03163b5f036105e0576105bb604084016020850161109f565b6040516322a2d07b60e21b81526001600160a01b0390911660048201526024016103e9565b61060d6105f3604085016020860161109f565b61060360a086016080870161109f565b8560400135610d44565b6060830135156106445761064461062a604085016020860161109f565b61063a60c0860160a0870161109f565b8560600135610d44565b610654604084016020850161109f565b6001600160a01b03163384357f8748fd15f37dfdd4f2d53033aed39333d7673753fc39de5bf487dd786326a5f76040870135606088013561069b60a08a0160808b0161109f565b6040805193845260208401929092526001600160a01b03169082015260600160405180910390a45f60ff19815c16815d50505050565b5f546001600160a01b031633146106fb576040516330cd747160e01b815260040160405180910390fd5b6001600160a01b0381166107225760405163d92e233d60e01b815260040160405180910390fd5b6002546040516001600160a01b038084169216907feeb293e1f8f3a9db91ade748726387ed1352ca78f5430c5f06fe3d1e1ad50579905f90a3600280546001600160a01b0319166001600160a01b0392909216919091179055565b6001546001600160a01b031633141580610795575033155b156107b357604051630614e5c760e21b815260040160405180910390fd5b5f805460405133926001600160a01b03909216917f8be0079c531659141344cd1fd0a4f28419497f9722a3daafe3b4186f6b6457e091a35f80546001600160a01b03199081163317909155600180549091169055565b5f546001600160a01b03163314610833576040516330cd747160e01b815260040160405180910390fd5b6002805460ff60a01b1916600160a01b179055604051600181527f8fb6c181ee25a520cf3dd6565006ef91229fcfe5a989566c2a3b8c115570cec59060200161034c565b5f60608082808083463083806040519080825280602002602001820160405280156108ac578160200160208202803683370190505b50604080518082018252601681527521b432b733b23ab4902830bcb6b2b73a2937baba32b960511b602080830191909152825180840190935260018352603160f81b90830152600f60f81b9d909c50909a50939850919650945092509050565b5f546001600160a01b03163314610936576040516330cd747160e01b815260040160405180910390fd5b600180546001600160a01b0319166001600160a01b038381169182179092555f8054604051929316917f38d16b8cac22d99fc7c124b9cd0de2d3fa1faef420bfe791d8c362d765e227009190a350565b5f7f00000000000000000000000000000000000000000000000000000000000000004614610a5a57610a55604080517f8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f60208201527ff4e9789e094e6e844158e03b3e4dc91a2639b2af877ffc58580f598e28927d85918101919091527fc89efdaa54c0f20c7adf612882df0950f5a951637e0307cdcb4c672f298b8bc660608201524660808201523060a08201525f9060c00160405160208183030381529060405280519060200120905090565b905090565b507f000000000000000000000000000000000000000000000000000000000000000090565b5f807fd947ddb6180ffb7e17cfa5e1dd243bcd55049521ce45dca0786b6d3e5addde118335610ab4604086016020870161109f565b60408601356060870135610ace60a0890160808a0161109f565b610ade60c08a0160a08b0161109f565b6040805160208101989098528701959095526001600160a01b039384166060870152608086019290925260a0850152811660c084810191909152911660e083015284013561010082015261012001604051602081830303815290604052805190602001209050610b4c610986565b60405161190160f01b602082015260228101919091526042810182905260620160405160208183030381529060405280519060200120915050919050565b60418114610bab57604051638baa579f60e01b815260040160405180910390fd5b5f610bb960208284866111c7565b610bc2916111ee565b90505f610bd36040602085876111c7565b610bdc916111ee565b90505f84846040818110610bf257610bf261120b565b919091013560f81c9150507f7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0821180610c3e57508060ff16601b14158015610c3e57508060ff16601c14155b15610c5c57604051638baa579f60e01b815260040160405180910390fd5b604080515f8082526020820180845289905260ff841692820192909252606081018590526080810184905260019060a0016020604051602081039080840390855afa158015610cad573d5f5f3e3d5ffd5b5050604051601f1901519150506001600160a01b0381161580610cde57506002546001600160a01b03828116911614155b15610cfc57604051638baa579f60e01b815260040160405180910390fd5b50505050505050565b5f5f5f5f5f85875af1905080610d3f5760405163291e1d5560e11b81525f60048201526001600160a01b03841660248201526044016103e9565b505050565b6040516370a0823160e01b81526001600160a01b0383811660048301525f91908516906370a0823190602401602060405180830381865afa158015610d8b573d5f5f3e3d5ffd5b505050506040513d601f19601f82011682018060405250810190610daf919061121f565b9050610dbd84338585610e9f565b6040516370a0823160e01b81526001600160a01b0384811660048301525f91908616906370a0823190602401602060405180830381865afa158015610e04573d5f5f3e3d5ffd5b505050506040513d601f19601f82011682018060405250810190610e28919061121f565b905081811080610e40575082610e3e8383611236565b105b15610e9857848484848410610e5e57610e598585611236565b610e60565b5f5b604051630cee4dcd60e21b81526001600160a01b039485166004820152939092166024840152604483015260648201526084016103e9565b5050505050565b6040516001600160a01b0384811660248301528381166044830152606482018390525f91829187169060840160408051601f198184030181529181526020820180516001600160e01b03166323b872dd60e01b17905251610f009190611249565b5f604051808303815f865af19150503d805f8114610f39576040519150601f19603f3d011682016040523d82523d5f602084013e610f3e565b606091505b509150915081610f8357805115610f5757805160208201fd5b60405163291e1d5560e11b81526001600160a01b038088166004830152851660248201526044016103e9565b805115801590610faf5750602081511080610faf575080806020019051810190610fad919061125f565b155b15610fe05760405163291e1d5560e11b81526001600160a01b038088166004830152851660248201526044016103e9565b505050505050565b5f60e08284031215610ff8575f5ffd5b50919050565b5f60e0828403121561100e575f5ffd5b6110188383610fe8565b9392505050565b5f5f5f6101008486031215611032575f5ffd5b61103c8585610fe8565b925060e084013567ffffffffffffffff811115611057575f5ffd5b8401601f81018613611067575f5ffd5b803567ffffffffffffffff81111561107d575f5ffd5b86602082840101111561108e575f5ffd5b939660209190910195509293505050565b5f602082840312156110af575f5ffd5b81356001600160a01b0381168114611018575f5ffd5b5f81518084528060208401602086015e5f602082860101526020601f19601f83011685010191505092915050565b60ff60f81b8816815260e060208201525f61111160e08301896110c5565b828103604084015261112381896110c5565b606084018890526001600160a01b038716608085015260a0840186905283810360c0850152845180825260208087019350909101905f5b8181101561117857835183526020938401939092019160010161115a565b50909b9a5050505050505050505050565b5f60208284031215611199575f5ffd5b5035919050565b634e487b7160e01b5f52601160045260245ffd5b80820180821115610360576103606111a0565b5f5f858511156111d5575f5ffd5b838611156111e1575f5ffd5b5050820193919092039150565b80356020831015610360575f19602084900360031b1b1692915050565b634e487b7160e01b5f52603260045260245ffd5b5f6020828403121561122f575f5ffd5b5051919050565b81810381811115610360576103606111a0565b5f82518060208501845e5f920191825250919050565b5f6020828403121561126f575f5ffd5b81518015158114611018575f5ffdfea26469706673582212203e7873d25cc10e46e267e3aba6c42917ac93a147b0cf19354f69e3314903389064736f6c63430008250033",
}

// PaymentRouterABI is the input ABI used to generate the binding from.
// Deprecated: Use PaymentRouterMetaData.ABI instead.
var PaymentRouterABI = PaymentRouterMetaData.ABI

// PaymentRouterBin is the compiled bytecode used for deploying new contracts.
// Deprecated: Use PaymentRouterMetaData.Bin instead.
var PaymentRouterBin = PaymentRouterMetaData.Bin

// DeployPaymentRouter deploys a new Ethereum contract, binding an instance of PaymentRouter to it.
func DeployPaymentRouter(auth *bind.TransactOpts, backend bind.ContractBackend, owner_ common.Address, signer_ common.Address) (common.Address, *types.Transaction, *PaymentRouter, error) {
	parsed, err := PaymentRouterMetaData.GetAbi()
	if err != nil {
		return common.Address{}, nil, nil, err
	}
	if parsed == nil {
		return common.Address{}, nil, nil, errors.New("GetABI returned nil")
	}

	address, tx, contract, err := bind.DeployContract(auth, *parsed, common.FromHex(PaymentRouterBin), backend, owner_, signer_)
	if err != nil {
		return common.Address{}, nil, nil, err
	}
	return address, tx, &PaymentRouter{PaymentRouterCaller: PaymentRouterCaller{contract: contract}, PaymentRouterTransactor: PaymentRouterTransactor{contract: contract}, PaymentRouterFilterer: PaymentRouterFilterer{contract: contract}}, nil
}

// PaymentRouter is an auto generated Go binding around an Ethereum contract.
type PaymentRouter struct {
	PaymentRouterCaller     // Read-only binding to the contract
	PaymentRouterTransactor // Write-only binding to the contract
	PaymentRouterFilterer   // Log filterer for contract events
}

// PaymentRouterCaller is an auto generated read-only Go binding around an Ethereum contract.
type PaymentRouterCaller struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// PaymentRouterTransactor is an auto generated write-only Go binding around an Ethereum contract.
type PaymentRouterTransactor struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// PaymentRouterFilterer is an auto generated log filtering Go binding around an Ethereum contract events.
type PaymentRouterFilterer struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// PaymentRouterSession is an auto generated Go binding around an Ethereum contract,
// with pre-set call and transact options.
type PaymentRouterSession struct {
	Contract     *PaymentRouter    // Generic contract binding to set the session for
	CallOpts     bind.CallOpts     // Call options to use throughout this session
	TransactOpts bind.TransactOpts // Transaction auth options to use throughout this session
}

// PaymentRouterCallerSession is an auto generated read-only Go binding around an Ethereum contract,
// with pre-set call options.
type PaymentRouterCallerSession struct {
	Contract *PaymentRouterCaller // Generic contract caller binding to set the session for
	CallOpts bind.CallOpts        // Call options to use throughout this session
}

// PaymentRouterTransactorSession is an auto generated write-only Go binding around an Ethereum contract,
// with pre-set transact options.
type PaymentRouterTransactorSession struct {
	Contract     *PaymentRouterTransactor // Generic contract transactor binding to set the session for
	TransactOpts bind.TransactOpts        // Transaction auth options to use throughout this session
}

// PaymentRouterRaw is an auto generated low-level Go binding around an Ethereum contract.
type PaymentRouterRaw struct {
	Contract *PaymentRouter // Generic contract binding to access the raw methods on
}

// PaymentRouterCallerRaw is an auto generated low-level read-only Go binding around an Ethereum contract.
type PaymentRouterCallerRaw struct {
	Contract *PaymentRouterCaller // Generic read-only contract binding to access the raw methods on
}

// PaymentRouterTransactorRaw is an auto generated low-level write-only Go binding around an Ethereum contract.
type PaymentRouterTransactorRaw struct {
	Contract *PaymentRouterTransactor // Generic write-only contract binding to access the raw methods on
}

// NewPaymentRouter creates a new instance of PaymentRouter, bound to a specific deployed contract.
func NewPaymentRouter(address common.Address, backend bind.ContractBackend) (*PaymentRouter, error) {
	contract, err := bindPaymentRouter(address, backend, backend, backend)
	if err != nil {
		return nil, err
	}
	return &PaymentRouter{PaymentRouterCaller: PaymentRouterCaller{contract: contract}, PaymentRouterTransactor: PaymentRouterTransactor{contract: contract}, PaymentRouterFilterer: PaymentRouterFilterer{contract: contract}}, nil
}

// NewPaymentRouterCaller creates a new read-only instance of PaymentRouter, bound to a specific deployed contract.
func NewPaymentRouterCaller(address common.Address, caller bind.ContractCaller) (*PaymentRouterCaller, error) {
	contract, err := bindPaymentRouter(address, caller, nil, nil)
	if err != nil {
		return nil, err
	}
	return &PaymentRouterCaller{contract: contract}, nil
}

// NewPaymentRouterTransactor creates a new write-only instance of PaymentRouter, bound to a specific deployed contract.
func NewPaymentRouterTransactor(address common.Address, transactor bind.ContractTransactor) (*PaymentRouterTransactor, error) {
	contract, err := bindPaymentRouter(address, nil, transactor, nil)
	if err != nil {
		return nil, err
	}
	return &PaymentRouterTransactor{contract: contract}, nil
}

// NewPaymentRouterFilterer creates a new log filterer instance of PaymentRouter, bound to a specific deployed contract.
func NewPaymentRouterFilterer(address common.Address, filterer bind.ContractFilterer) (*PaymentRouterFilterer, error) {
	contract, err := bindPaymentRouter(address, nil, nil, filterer)
	if err != nil {
		return nil, err
	}
	return &PaymentRouterFilterer{contract: contract}, nil
}

// bindPaymentRouter binds a generic wrapper to an already deployed contract.
func bindPaymentRouter(address common.Address, caller bind.ContractCaller, transactor bind.ContractTransactor, filterer bind.ContractFilterer) (*bind.BoundContract, error) {
	parsed, err := PaymentRouterMetaData.GetAbi()
	if err != nil {
		return nil, err
	}
	return bind.NewBoundContract(address, *parsed, caller, transactor, filterer), nil
}

// Call invokes the (constant) contract method with params as input values and
// sets the output to result. The result type might be a single field for simple
// returns, a slice of interfaces for anonymous returns and a struct for named
// returns.
func (_PaymentRouter *PaymentRouterRaw) Call(opts *bind.CallOpts, result *[]interface{}, method string, params ...interface{}) error {
	return _PaymentRouter.Contract.PaymentRouterCaller.contract.Call(opts, result, method, params...)
}

// Transfer initiates a plain transaction to move funds to the contract, calling
// its default method if one is available.
func (_PaymentRouter *PaymentRouterRaw) Transfer(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _PaymentRouter.Contract.PaymentRouterTransactor.contract.Transfer(opts)
}

// Transact invokes the (paid) contract method with params as input values.
func (_PaymentRouter *PaymentRouterRaw) Transact(opts *bind.TransactOpts, method string, params ...interface{}) (*types.Transaction, error) {
	return _PaymentRouter.Contract.PaymentRouterTransactor.contract.Transact(opts, method, params...)
}

// Call invokes the (constant) contract method with params as input values and
// sets the output to result. The result type might be a single field for simple
// returns, a slice of interfaces for anonymous returns and a struct for named
// returns.
func (_PaymentRouter *PaymentRouterCallerRaw) Call(opts *bind.CallOpts, result *[]interface{}, method string, params ...interface{}) error {
	return _PaymentRouter.Contract.contract.Call(opts, result, method, params...)
}

// Transfer initiates a plain transaction to move funds to the contract, calling
// its default method if one is available.
func (_PaymentRouter *PaymentRouterTransactorRaw) Transfer(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _PaymentRouter.Contract.contract.Transfer(opts)
}

// Transact invokes the (paid) contract method with params as input values.
func (_PaymentRouter *PaymentRouterTransactorRaw) Transact(opts *bind.TransactOpts, method string, params ...interface{}) (*types.Transaction, error) {
	return _PaymentRouter.Contract.contract.Transact(opts, method, params...)
}

// INTENTTYPEHASH is a free data retrieval call binding the contract method 0xb082a274.
//
// Solidity: function INTENT_TYPEHASH() view returns(bytes32)
func (_PaymentRouter *PaymentRouterCaller) INTENTTYPEHASH(opts *bind.CallOpts) ([32]byte, error) {
	var out []interface{}
	err := _PaymentRouter.contract.Call(opts, &out, "INTENT_TYPEHASH")

	if err != nil {
		return *new([32]byte), err
	}

	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)

	return out0, err

}

// INTENTTYPEHASH is a free data retrieval call binding the contract method 0xb082a274.
//
// Solidity: function INTENT_TYPEHASH() view returns(bytes32)
func (_PaymentRouter *PaymentRouterSession) INTENTTYPEHASH() ([32]byte, error) {
	return _PaymentRouter.Contract.INTENTTYPEHASH(&_PaymentRouter.CallOpts)
}

// INTENTTYPEHASH is a free data retrieval call binding the contract method 0xb082a274.
//
// Solidity: function INTENT_TYPEHASH() view returns(bytes32)
func (_PaymentRouter *PaymentRouterCallerSession) INTENTTYPEHASH() ([32]byte, error) {
	return _PaymentRouter.Contract.INTENTTYPEHASH(&_PaymentRouter.CallOpts)
}

// DomainSeparator is a free data retrieval call binding the contract method 0xf698da25.
//
// Solidity: function domainSeparator() view returns(bytes32)
func (_PaymentRouter *PaymentRouterCaller) DomainSeparator(opts *bind.CallOpts) ([32]byte, error) {
	var out []interface{}
	err := _PaymentRouter.contract.Call(opts, &out, "domainSeparator")

	if err != nil {
		return *new([32]byte), err
	}

	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)

	return out0, err

}

// DomainSeparator is a free data retrieval call binding the contract method 0xf698da25.
//
// Solidity: function domainSeparator() view returns(bytes32)
func (_PaymentRouter *PaymentRouterSession) DomainSeparator() ([32]byte, error) {
	return _PaymentRouter.Contract.DomainSeparator(&_PaymentRouter.CallOpts)
}

// DomainSeparator is a free data retrieval call binding the contract method 0xf698da25.
//
// Solidity: function domainSeparator() view returns(bytes32)
func (_PaymentRouter *PaymentRouterCallerSession) DomainSeparator() ([32]byte, error) {
	return _PaymentRouter.Contract.DomainSeparator(&_PaymentRouter.CallOpts)
}

// Eip712Domain is a free data retrieval call binding the contract method 0x84b0196e.
//
// Solidity: function eip712Domain() view returns(bytes1 fields, string name, string version, uint256 chainId, address verifyingContract, bytes32 salt, uint256[] extensions)
func (_PaymentRouter *PaymentRouterCaller) Eip712Domain(opts *bind.CallOpts) (struct {
	Fields            [1]byte
	Name              string
	Version           string
	ChainId           *big.Int
	VerifyingContract common.Address
	Salt              [32]byte
	Extensions        []*big.Int
}, error) {
	var out []interface{}
	err := _PaymentRouter.contract.Call(opts, &out, "eip712Domain")

	outstruct := new(struct {
		Fields            [1]byte
		Name              string
		Version           string
		ChainId           *big.Int
		VerifyingContract common.Address
		Salt              [32]byte
		Extensions        []*big.Int
	})
	if err != nil {
		return *outstruct, err
	}

	outstruct.Fields = *abi.ConvertType(out[0], new([1]byte)).(*[1]byte)
	outstruct.Name = *abi.ConvertType(out[1], new(string)).(*string)
	outstruct.Version = *abi.ConvertType(out[2], new(string)).(*string)
	outstruct.ChainId = *abi.ConvertType(out[3], new(*big.Int)).(**big.Int)
	outstruct.VerifyingContract = *abi.ConvertType(out[4], new(common.Address)).(*common.Address)
	outstruct.Salt = *abi.ConvertType(out[5], new([32]byte)).(*[32]byte)
	outstruct.Extensions = *abi.ConvertType(out[6], new([]*big.Int)).(*[]*big.Int)

	return *outstruct, err

}

// Eip712Domain is a free data retrieval call binding the contract method 0x84b0196e.
//
// Solidity: function eip712Domain() view returns(bytes1 fields, string name, string version, uint256 chainId, address verifyingContract, bytes32 salt, uint256[] extensions)
func (_PaymentRouter *PaymentRouterSession) Eip712Domain() (struct {
	Fields            [1]byte
	Name              string
	Version           string
	ChainId           *big.Int
	VerifyingContract common.Address
	Salt              [32]byte
	Extensions        []*big.Int
}, error) {
	return _PaymentRouter.Contract.Eip712Domain(&_PaymentRouter.CallOpts)
}

// Eip712Domain is a free data retrieval call binding the contract method 0x84b0196e.
//
// Solidity: function eip712Domain() view returns(bytes1 fields, string name, string version, uint256 chainId, address verifyingContract, bytes32 salt, uint256[] extensions)
func (_PaymentRouter *PaymentRouterCallerSession) Eip712Domain() (struct {
	Fields            [1]byte
	Name              string
	Version           string
	ChainId           *big.Int
	VerifyingContract common.Address
	Salt              [32]byte
	Extensions        []*big.Int
}, error) {
	return _PaymentRouter.Contract.Eip712Domain(&_PaymentRouter.CallOpts)
}

// HashIntent is a free data retrieval call binding the contract method 0x52ef9603.
//
// Solidity: function hashIntent((bytes32,address,uint256,uint256,address,address,uint256) intent) view returns(bytes32)
func (_PaymentRouter *PaymentRouterCaller) HashIntent(opts *bind.CallOpts, intent PaymentRouterIntent) ([32]byte, error) {
	var out []interface{}
	err := _PaymentRouter.contract.Call(opts, &out, "hashIntent", intent)

	if err != nil {
		return *new([32]byte), err
	}

	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)

	return out0, err

}

// HashIntent is a free data retrieval call binding the contract method 0x52ef9603.
//
// Solidity: function hashIntent((bytes32,address,uint256,uint256,address,address,uint256) intent) view returns(bytes32)
func (_PaymentRouter *PaymentRouterSession) HashIntent(intent PaymentRouterIntent) ([32]byte, error) {
	return _PaymentRouter.Contract.HashIntent(&_PaymentRouter.CallOpts, intent)
}

// HashIntent is a free data retrieval call binding the contract method 0x52ef9603.
//
// Solidity: function hashIntent((bytes32,address,uint256,uint256,address,address,uint256) intent) view returns(bytes32)
func (_PaymentRouter *PaymentRouterCallerSession) HashIntent(intent PaymentRouterIntent) ([32]byte, error) {
	return _PaymentRouter.Contract.HashIntent(&_PaymentRouter.CallOpts, intent)
}

// IsPaid is a free data retrieval call binding the contract method 0xfeef6640.
//
// Solidity: function isPaid(bytes32 id) view returns(bool)
func (_PaymentRouter *PaymentRouterCaller) IsPaid(opts *bind.CallOpts, id [32]byte) (bool, error) {
	var out []interface{}
	err := _PaymentRouter.contract.Call(opts, &out, "isPaid", id)

	if err != nil {
		return *new(bool), err
	}

	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)

	return out0, err

}

// IsPaid is a free data retrieval call binding the contract method 0xfeef6640.
//
// Solidity: function isPaid(bytes32 id) view returns(bool)
func (_PaymentRouter *PaymentRouterSession) IsPaid(id [32]byte) (bool, error) {
	return _PaymentRouter.Contract.IsPaid(&_PaymentRouter.CallOpts, id)
}

// IsPaid is a free data retrieval call binding the contract method 0xfeef6640.
//
// Solidity: function isPaid(bytes32 id) view returns(bool)
func (_PaymentRouter *PaymentRouterCallerSession) IsPaid(id [32]byte) (bool, error) {
	return _PaymentRouter.Contract.IsPaid(&_PaymentRouter.CallOpts, id)
}

// Owner is a free data retrieval call binding the contract method 0x8da5cb5b.
//
// Solidity: function owner() view returns(address)
func (_PaymentRouter *PaymentRouterCaller) Owner(opts *bind.CallOpts) (common.Address, error) {
	var out []interface{}
	err := _PaymentRouter.contract.Call(opts, &out, "owner")

	if err != nil {
		return *new(common.Address), err
	}

	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)

	return out0, err

}

// Owner is a free data retrieval call binding the contract method 0x8da5cb5b.
//
// Solidity: function owner() view returns(address)
func (_PaymentRouter *PaymentRouterSession) Owner() (common.Address, error) {
	return _PaymentRouter.Contract.Owner(&_PaymentRouter.CallOpts)
}

// Owner is a free data retrieval call binding the contract method 0x8da5cb5b.
//
// Solidity: function owner() view returns(address)
func (_PaymentRouter *PaymentRouterCallerSession) Owner() (common.Address, error) {
	return _PaymentRouter.Contract.Owner(&_PaymentRouter.CallOpts)
}

// Paused is a free data retrieval call binding the contract method 0x5c975abb.
//
// Solidity: function paused() view returns(bool)
func (_PaymentRouter *PaymentRouterCaller) Paused(opts *bind.CallOpts) (bool, error) {
	var out []interface{}
	err := _PaymentRouter.contract.Call(opts, &out, "paused")

	if err != nil {
		return *new(bool), err
	}

	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)

	return out0, err

}

// Paused is a free data retrieval call binding the contract method 0x5c975abb.
//
// Solidity: function paused() view returns(bool)
func (_PaymentRouter *PaymentRouterSession) Paused() (bool, error) {
	return _PaymentRouter.Contract.Paused(&_PaymentRouter.CallOpts)
}

// Paused is a free data retrieval call binding the contract method 0x5c975abb.
//
// Solidity: function paused() view returns(bool)
func (_PaymentRouter *PaymentRouterCallerSession) Paused() (bool, error) {
	return _PaymentRouter.Contract.Paused(&_PaymentRouter.CallOpts)
}

// PendingOwner is a free data retrieval call binding the contract method 0xe30c3978.
//
// Solidity: function pendingOwner() view returns(address)
func (_PaymentRouter *PaymentRouterCaller) PendingOwner(opts *bind.CallOpts) (common.Address, error) {
	var out []interface{}
	err := _PaymentRouter.contract.Call(opts, &out, "pendingOwner")

	if err != nil {
		return *new(common.Address), err
	}

	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)

	return out0, err

}

// PendingOwner is a free data retrieval call binding the contract method 0xe30c3978.
//
// Solidity: function pendingOwner() view returns(address)
func (_PaymentRouter *PaymentRouterSession) PendingOwner() (common.Address, error) {
	return _PaymentRouter.Contract.PendingOwner(&_PaymentRouter.CallOpts)
}

// PendingOwner is a free data retrieval call binding the contract method 0xe30c3978.
//
// Solidity: function pendingOwner() view returns(address)
func (_PaymentRouter *PaymentRouterCallerSession) PendingOwner() (common.Address, error) {
	return _PaymentRouter.Contract.PendingOwner(&_PaymentRouter.CallOpts)
}

// Signer is a free data retrieval call binding the contract method 0x238ac933.
//
// Solidity: function signer() view returns(address)
func (_PaymentRouter *PaymentRouterCaller) Signer(opts *bind.CallOpts) (common.Address, error) {
	var out []interface{}
	err := _PaymentRouter.contract.Call(opts, &out, "signer")

	if err != nil {
		return *new(common.Address), err
	}

	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)

	return out0, err

}

// Signer is a free data retrieval call binding the contract method 0x238ac933.
//
// Solidity: function signer() view returns(address)
func (_PaymentRouter *PaymentRouterSession) Signer() (common.Address, error) {
	return _PaymentRouter.Contract.Signer(&_PaymentRouter.CallOpts)
}

// Signer is a free data retrieval call binding the contract method 0x238ac933.
//
// Solidity: function signer() view returns(address)
func (_PaymentRouter *PaymentRouterCallerSession) Signer() (common.Address, error) {
	return _PaymentRouter.Contract.Signer(&_PaymentRouter.CallOpts)
}

// AcceptOwnership is a paid mutator transaction binding the contract method 0x79ba5097.
//
// Solidity: function acceptOwnership() returns()
func (_PaymentRouter *PaymentRouterTransactor) AcceptOwnership(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _PaymentRouter.contract.Transact(opts, "acceptOwnership")
}

// AcceptOwnership is a paid mutator transaction binding the contract method 0x79ba5097.
//
// Solidity: function acceptOwnership() returns()
func (_PaymentRouter *PaymentRouterSession) AcceptOwnership() (*types.Transaction, error) {
	return _PaymentRouter.Contract.AcceptOwnership(&_PaymentRouter.TransactOpts)
}

// AcceptOwnership is a paid mutator transaction binding the contract method 0x79ba5097.
//
// Solidity: function acceptOwnership() returns()
func (_PaymentRouter *PaymentRouterTransactorSession) AcceptOwnership() (*types.Transaction, error) {
	return _PaymentRouter.Contract.AcceptOwnership(&_PaymentRouter.TransactOpts)
}

// Pause is a paid mutator transaction binding the contract method 0x8456cb59.
//
// Solidity: function pause() returns()
func (_PaymentRouter *PaymentRouterTransactor) Pause(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _PaymentRouter.contract.Transact(opts, "pause")
}

// Pause is a paid mutator transaction binding the contract method 0x8456cb59.
//
// Solidity: function pause() returns()
func (_PaymentRouter *PaymentRouterSession) Pause() (*types.Transaction, error) {
	return _PaymentRouter.Contract.Pause(&_PaymentRouter.TransactOpts)
}

// Pause is a paid mutator transaction binding the contract method 0x8456cb59.
//
// Solidity: function pause() returns()
func (_PaymentRouter *PaymentRouterTransactorSession) Pause() (*types.Transaction, error) {
	return _PaymentRouter.Contract.Pause(&_PaymentRouter.TransactOpts)
}

// Pay is a paid mutator transaction binding the contract method 0x54c5b595.
//
// Solidity: function pay((bytes32,address,uint256,uint256,address,address,uint256) intent, bytes signature) payable returns()
func (_PaymentRouter *PaymentRouterTransactor) Pay(opts *bind.TransactOpts, intent PaymentRouterIntent, signature []byte) (*types.Transaction, error) {
	return _PaymentRouter.contract.Transact(opts, "pay", intent, signature)
}

// Pay is a paid mutator transaction binding the contract method 0x54c5b595.
//
// Solidity: function pay((bytes32,address,uint256,uint256,address,address,uint256) intent, bytes signature) payable returns()
func (_PaymentRouter *PaymentRouterSession) Pay(intent PaymentRouterIntent, signature []byte) (*types.Transaction, error) {
	return _PaymentRouter.Contract.Pay(&_PaymentRouter.TransactOpts, intent, signature)
}

// Pay is a paid mutator transaction binding the contract method 0x54c5b595.
//
// Solidity: function pay((bytes32,address,uint256,uint256,address,address,uint256) intent, bytes signature) payable returns()
func (_PaymentRouter *PaymentRouterTransactorSession) Pay(intent PaymentRouterIntent, signature []byte) (*types.Transaction, error) {
	return _PaymentRouter.Contract.Pay(&_PaymentRouter.TransactOpts, intent, signature)
}

// SetSigner is a paid mutator transaction binding the contract method 0x6c19e783.
//
// Solidity: function setSigner(address newSigner) returns()
func (_PaymentRouter *PaymentRouterTransactor) SetSigner(opts *bind.TransactOpts, newSigner common.Address) (*types.Transaction, error) {
	return _PaymentRouter.contract.Transact(opts, "setSigner", newSigner)
}

// SetSigner is a paid mutator transaction binding the contract method 0x6c19e783.
//
// Solidity: function setSigner(address newSigner) returns()
func (_PaymentRouter *PaymentRouterSession) SetSigner(newSigner common.Address) (*types.Transaction, error) {
	return _PaymentRouter.Contract.SetSigner(&_PaymentRouter.TransactOpts, newSigner)
}

// SetSigner is a paid mutator transaction binding the contract method 0x6c19e783.
//
// Solidity: function setSigner(address newSigner) returns()
func (_PaymentRouter *PaymentRouterTransactorSession) SetSigner(newSigner common.Address) (*types.Transaction, error) {
	return _PaymentRouter.Contract.SetSigner(&_PaymentRouter.TransactOpts, newSigner)
}

// TransferOwnership is a paid mutator transaction binding the contract method 0xf2fde38b.
//
// Solidity: function transferOwnership(address newOwner) returns()
func (_PaymentRouter *PaymentRouterTransactor) TransferOwnership(opts *bind.TransactOpts, newOwner common.Address) (*types.Transaction, error) {
	return _PaymentRouter.contract.Transact(opts, "transferOwnership", newOwner)
}

// TransferOwnership is a paid mutator transaction binding the contract method 0xf2fde38b.
//
// Solidity: function transferOwnership(address newOwner) returns()
func (_PaymentRouter *PaymentRouterSession) TransferOwnership(newOwner common.Address) (*types.Transaction, error) {
	return _PaymentRouter.Contract.TransferOwnership(&_PaymentRouter.TransactOpts, newOwner)
}

// TransferOwnership is a paid mutator transaction binding the contract method 0xf2fde38b.
//
// Solidity: function transferOwnership(address newOwner) returns()
func (_PaymentRouter *PaymentRouterTransactorSession) TransferOwnership(newOwner common.Address) (*types.Transaction, error) {
	return _PaymentRouter.Contract.TransferOwnership(&_PaymentRouter.TransactOpts, newOwner)
}

// Unpause is a paid mutator transaction binding the contract method 0x3f4ba83a.
//
// Solidity: function unpause() returns()
func (_PaymentRouter *PaymentRouterTransactor) Unpause(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _PaymentRouter.contract.Transact(opts, "unpause")
}

// Unpause is a paid mutator transaction binding the contract method 0x3f4ba83a.
//
// Solidity: function unpause() returns()
func (_PaymentRouter *PaymentRouterSession) Unpause() (*types.Transaction, error) {
	return _PaymentRouter.Contract.Unpause(&_PaymentRouter.TransactOpts)
}

// Unpause is a paid mutator transaction binding the contract method 0x3f4ba83a.
//
// Solidity: function unpause() returns()
func (_PaymentRouter *PaymentRouterTransactorSession) Unpause() (*types.Transaction, error) {
	return _PaymentRouter.Contract.Unpause(&_PaymentRouter.TransactOpts)
}

// PaymentRouterOwnershipTransferStartedIterator is returned from FilterOwnershipTransferStarted and is used to iterate over the raw logs and unpacked data for OwnershipTransferStarted events raised by the PaymentRouter contract.
type PaymentRouterOwnershipTransferStartedIterator struct {
	Event *PaymentRouterOwnershipTransferStarted // Event containing the contract specifics and raw log

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
func (it *PaymentRouterOwnershipTransferStartedIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(PaymentRouterOwnershipTransferStarted)
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
		it.Event = new(PaymentRouterOwnershipTransferStarted)
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
func (it *PaymentRouterOwnershipTransferStartedIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *PaymentRouterOwnershipTransferStartedIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// PaymentRouterOwnershipTransferStarted represents a OwnershipTransferStarted event raised by the PaymentRouter contract.
type PaymentRouterOwnershipTransferStarted struct {
	PreviousOwner common.Address
	NewOwner      common.Address
	Raw           types.Log // Blockchain specific contextual infos
}

// FilterOwnershipTransferStarted is a free log retrieval operation binding the contract event 0x38d16b8cac22d99fc7c124b9cd0de2d3fa1faef420bfe791d8c362d765e22700.
//
// Solidity: event OwnershipTransferStarted(address indexed previousOwner, address indexed newOwner)
func (_PaymentRouter *PaymentRouterFilterer) FilterOwnershipTransferStarted(opts *bind.FilterOpts, previousOwner []common.Address, newOwner []common.Address) (*PaymentRouterOwnershipTransferStartedIterator, error) {

	var previousOwnerRule []interface{}
	for _, previousOwnerItem := range previousOwner {
		previousOwnerRule = append(previousOwnerRule, previousOwnerItem)
	}
	var newOwnerRule []interface{}
	for _, newOwnerItem := range newOwner {
		newOwnerRule = append(newOwnerRule, newOwnerItem)
	}

	logs, sub, err := _PaymentRouter.contract.FilterLogs(opts, "OwnershipTransferStarted", previousOwnerRule, newOwnerRule)
	if err != nil {
		return nil, err
	}
	return &PaymentRouterOwnershipTransferStartedIterator{contract: _PaymentRouter.contract, event: "OwnershipTransferStarted", logs: logs, sub: sub}, nil
}

// WatchOwnershipTransferStarted is a free log subscription operation binding the contract event 0x38d16b8cac22d99fc7c124b9cd0de2d3fa1faef420bfe791d8c362d765e22700.
//
// Solidity: event OwnershipTransferStarted(address indexed previousOwner, address indexed newOwner)
func (_PaymentRouter *PaymentRouterFilterer) WatchOwnershipTransferStarted(opts *bind.WatchOpts, sink chan<- *PaymentRouterOwnershipTransferStarted, previousOwner []common.Address, newOwner []common.Address) (event.Subscription, error) {

	var previousOwnerRule []interface{}
	for _, previousOwnerItem := range previousOwner {
		previousOwnerRule = append(previousOwnerRule, previousOwnerItem)
	}
	var newOwnerRule []interface{}
	for _, newOwnerItem := range newOwner {
		newOwnerRule = append(newOwnerRule, newOwnerItem)
	}

	logs, sub, err := _PaymentRouter.contract.WatchLogs(opts, "OwnershipTransferStarted", previousOwnerRule, newOwnerRule)
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(PaymentRouterOwnershipTransferStarted)
				if err := _PaymentRouter.contract.UnpackLog(event, "OwnershipTransferStarted", log); err != nil {
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

// ParseOwnershipTransferStarted is a log parse operation binding the contract event 0x38d16b8cac22d99fc7c124b9cd0de2d3fa1faef420bfe791d8c362d765e22700.
//
// Solidity: event OwnershipTransferStarted(address indexed previousOwner, address indexed newOwner)
func (_PaymentRouter *PaymentRouterFilterer) ParseOwnershipTransferStarted(log types.Log) (*PaymentRouterOwnershipTransferStarted, error) {
	event := new(PaymentRouterOwnershipTransferStarted)
	if err := _PaymentRouter.contract.UnpackLog(event, "OwnershipTransferStarted", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}

// PaymentRouterOwnershipTransferredIterator is returned from FilterOwnershipTransferred and is used to iterate over the raw logs and unpacked data for OwnershipTransferred events raised by the PaymentRouter contract.
type PaymentRouterOwnershipTransferredIterator struct {
	Event *PaymentRouterOwnershipTransferred // Event containing the contract specifics and raw log

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
func (it *PaymentRouterOwnershipTransferredIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(PaymentRouterOwnershipTransferred)
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
		it.Event = new(PaymentRouterOwnershipTransferred)
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
func (it *PaymentRouterOwnershipTransferredIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *PaymentRouterOwnershipTransferredIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// PaymentRouterOwnershipTransferred represents a OwnershipTransferred event raised by the PaymentRouter contract.
type PaymentRouterOwnershipTransferred struct {
	PreviousOwner common.Address
	NewOwner      common.Address
	Raw           types.Log // Blockchain specific contextual infos
}

// FilterOwnershipTransferred is a free log retrieval operation binding the contract event 0x8be0079c531659141344cd1fd0a4f28419497f9722a3daafe3b4186f6b6457e0.
//
// Solidity: event OwnershipTransferred(address indexed previousOwner, address indexed newOwner)
func (_PaymentRouter *PaymentRouterFilterer) FilterOwnershipTransferred(opts *bind.FilterOpts, previousOwner []common.Address, newOwner []common.Address) (*PaymentRouterOwnershipTransferredIterator, error) {

	var previousOwnerRule []interface{}
	for _, previousOwnerItem := range previousOwner {
		previousOwnerRule = append(previousOwnerRule, previousOwnerItem)
	}
	var newOwnerRule []interface{}
	for _, newOwnerItem := range newOwner {
		newOwnerRule = append(newOwnerRule, newOwnerItem)
	}

	logs, sub, err := _PaymentRouter.contract.FilterLogs(opts, "OwnershipTransferred", previousOwnerRule, newOwnerRule)
	if err != nil {
		return nil, err
	}
	return &PaymentRouterOwnershipTransferredIterator{contract: _PaymentRouter.contract, event: "OwnershipTransferred", logs: logs, sub: sub}, nil
}

// WatchOwnershipTransferred is a free log subscription operation binding the contract event 0x8be0079c531659141344cd1fd0a4f28419497f9722a3daafe3b4186f6b6457e0.
//
// Solidity: event OwnershipTransferred(address indexed previousOwner, address indexed newOwner)
func (_PaymentRouter *PaymentRouterFilterer) WatchOwnershipTransferred(opts *bind.WatchOpts, sink chan<- *PaymentRouterOwnershipTransferred, previousOwner []common.Address, newOwner []common.Address) (event.Subscription, error) {

	var previousOwnerRule []interface{}
	for _, previousOwnerItem := range previousOwner {
		previousOwnerRule = append(previousOwnerRule, previousOwnerItem)
	}
	var newOwnerRule []interface{}
	for _, newOwnerItem := range newOwner {
		newOwnerRule = append(newOwnerRule, newOwnerItem)
	}

	logs, sub, err := _PaymentRouter.contract.WatchLogs(opts, "OwnershipTransferred", previousOwnerRule, newOwnerRule)
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(PaymentRouterOwnershipTransferred)
				if err := _PaymentRouter.contract.UnpackLog(event, "OwnershipTransferred", log); err != nil {
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

// ParseOwnershipTransferred is a log parse operation binding the contract event 0x8be0079c531659141344cd1fd0a4f28419497f9722a3daafe3b4186f6b6457e0.
//
// Solidity: event OwnershipTransferred(address indexed previousOwner, address indexed newOwner)
func (_PaymentRouter *PaymentRouterFilterer) ParseOwnershipTransferred(log types.Log) (*PaymentRouterOwnershipTransferred, error) {
	event := new(PaymentRouterOwnershipTransferred)
	if err := _PaymentRouter.contract.UnpackLog(event, "OwnershipTransferred", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}

// PaymentRouterPaidIterator is returned from FilterPaid and is used to iterate over the raw logs and unpacked data for Paid events raised by the PaymentRouter contract.
type PaymentRouterPaidIterator struct {
	Event *PaymentRouterPaid // Event containing the contract specifics and raw log

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
func (it *PaymentRouterPaidIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(PaymentRouterPaid)
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
		it.Event = new(PaymentRouterPaid)
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
func (it *PaymentRouterPaidIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *PaymentRouterPaidIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// PaymentRouterPaid represents a Paid event raised by the PaymentRouter contract.
type PaymentRouterPaid struct {
	Id        [32]byte
	Payer     common.Address
	Token     common.Address
	Amount    *big.Int
	Fee       *big.Int
	Recipient common.Address
	Raw       types.Log // Blockchain specific contextual infos
}

// FilterPaid is a free log retrieval operation binding the contract event 0x8748fd15f37dfdd4f2d53033aed39333d7673753fc39de5bf487dd786326a5f7.
//
// Solidity: event Paid(bytes32 indexed id, address indexed payer, address indexed token, uint256 amount, uint256 fee, address recipient)
func (_PaymentRouter *PaymentRouterFilterer) FilterPaid(opts *bind.FilterOpts, id [][32]byte, payer []common.Address, token []common.Address) (*PaymentRouterPaidIterator, error) {

	var idRule []interface{}
	for _, idItem := range id {
		idRule = append(idRule, idItem)
	}
	var payerRule []interface{}
	for _, payerItem := range payer {
		payerRule = append(payerRule, payerItem)
	}
	var tokenRule []interface{}
	for _, tokenItem := range token {
		tokenRule = append(tokenRule, tokenItem)
	}

	logs, sub, err := _PaymentRouter.contract.FilterLogs(opts, "Paid", idRule, payerRule, tokenRule)
	if err != nil {
		return nil, err
	}
	return &PaymentRouterPaidIterator{contract: _PaymentRouter.contract, event: "Paid", logs: logs, sub: sub}, nil
}

// WatchPaid is a free log subscription operation binding the contract event 0x8748fd15f37dfdd4f2d53033aed39333d7673753fc39de5bf487dd786326a5f7.
//
// Solidity: event Paid(bytes32 indexed id, address indexed payer, address indexed token, uint256 amount, uint256 fee, address recipient)
func (_PaymentRouter *PaymentRouterFilterer) WatchPaid(opts *bind.WatchOpts, sink chan<- *PaymentRouterPaid, id [][32]byte, payer []common.Address, token []common.Address) (event.Subscription, error) {

	var idRule []interface{}
	for _, idItem := range id {
		idRule = append(idRule, idItem)
	}
	var payerRule []interface{}
	for _, payerItem := range payer {
		payerRule = append(payerRule, payerItem)
	}
	var tokenRule []interface{}
	for _, tokenItem := range token {
		tokenRule = append(tokenRule, tokenItem)
	}

	logs, sub, err := _PaymentRouter.contract.WatchLogs(opts, "Paid", idRule, payerRule, tokenRule)
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(PaymentRouterPaid)
				if err := _PaymentRouter.contract.UnpackLog(event, "Paid", log); err != nil {
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

// ParsePaid is a log parse operation binding the contract event 0x8748fd15f37dfdd4f2d53033aed39333d7673753fc39de5bf487dd786326a5f7.
//
// Solidity: event Paid(bytes32 indexed id, address indexed payer, address indexed token, uint256 amount, uint256 fee, address recipient)
func (_PaymentRouter *PaymentRouterFilterer) ParsePaid(log types.Log) (*PaymentRouterPaid, error) {
	event := new(PaymentRouterPaid)
	if err := _PaymentRouter.contract.UnpackLog(event, "Paid", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}

// PaymentRouterPauseChangedIterator is returned from FilterPauseChanged and is used to iterate over the raw logs and unpacked data for PauseChanged events raised by the PaymentRouter contract.
type PaymentRouterPauseChangedIterator struct {
	Event *PaymentRouterPauseChanged // Event containing the contract specifics and raw log

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
func (it *PaymentRouterPauseChangedIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(PaymentRouterPauseChanged)
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
		it.Event = new(PaymentRouterPauseChanged)
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
func (it *PaymentRouterPauseChangedIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *PaymentRouterPauseChangedIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// PaymentRouterPauseChanged represents a PauseChanged event raised by the PaymentRouter contract.
type PaymentRouterPauseChanged struct {
	Paused bool
	Raw    types.Log // Blockchain specific contextual infos
}

// FilterPauseChanged is a free log retrieval operation binding the contract event 0x8fb6c181ee25a520cf3dd6565006ef91229fcfe5a989566c2a3b8c115570cec5.
//
// Solidity: event PauseChanged(bool paused)
func (_PaymentRouter *PaymentRouterFilterer) FilterPauseChanged(opts *bind.FilterOpts) (*PaymentRouterPauseChangedIterator, error) {

	logs, sub, err := _PaymentRouter.contract.FilterLogs(opts, "PauseChanged")
	if err != nil {
		return nil, err
	}
	return &PaymentRouterPauseChangedIterator{contract: _PaymentRouter.contract, event: "PauseChanged", logs: logs, sub: sub}, nil
}

// WatchPauseChanged is a free log subscription operation binding the contract event 0x8fb6c181ee25a520cf3dd6565006ef91229fcfe5a989566c2a3b8c115570cec5.
//
// Solidity: event PauseChanged(bool paused)
func (_PaymentRouter *PaymentRouterFilterer) WatchPauseChanged(opts *bind.WatchOpts, sink chan<- *PaymentRouterPauseChanged) (event.Subscription, error) {

	logs, sub, err := _PaymentRouter.contract.WatchLogs(opts, "PauseChanged")
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(PaymentRouterPauseChanged)
				if err := _PaymentRouter.contract.UnpackLog(event, "PauseChanged", log); err != nil {
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

// ParsePauseChanged is a log parse operation binding the contract event 0x8fb6c181ee25a520cf3dd6565006ef91229fcfe5a989566c2a3b8c115570cec5.
//
// Solidity: event PauseChanged(bool paused)
func (_PaymentRouter *PaymentRouterFilterer) ParsePauseChanged(log types.Log) (*PaymentRouterPauseChanged, error) {
	event := new(PaymentRouterPauseChanged)
	if err := _PaymentRouter.contract.UnpackLog(event, "PauseChanged", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}

// PaymentRouterSignerChangedIterator is returned from FilterSignerChanged and is used to iterate over the raw logs and unpacked data for SignerChanged events raised by the PaymentRouter contract.
type PaymentRouterSignerChangedIterator struct {
	Event *PaymentRouterSignerChanged // Event containing the contract specifics and raw log

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
func (it *PaymentRouterSignerChangedIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(PaymentRouterSignerChanged)
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
		it.Event = new(PaymentRouterSignerChanged)
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
func (it *PaymentRouterSignerChangedIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *PaymentRouterSignerChangedIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// PaymentRouterSignerChanged represents a SignerChanged event raised by the PaymentRouter contract.
type PaymentRouterSignerChanged struct {
	PreviousSigner common.Address
	NewSigner      common.Address
	Raw            types.Log // Blockchain specific contextual infos
}

// FilterSignerChanged is a free log retrieval operation binding the contract event 0xeeb293e1f8f3a9db91ade748726387ed1352ca78f5430c5f06fe3d1e1ad50579.
//
// Solidity: event SignerChanged(address indexed previousSigner, address indexed newSigner)
func (_PaymentRouter *PaymentRouterFilterer) FilterSignerChanged(opts *bind.FilterOpts, previousSigner []common.Address, newSigner []common.Address) (*PaymentRouterSignerChangedIterator, error) {

	var previousSignerRule []interface{}
	for _, previousSignerItem := range previousSigner {
		previousSignerRule = append(previousSignerRule, previousSignerItem)
	}
	var newSignerRule []interface{}
	for _, newSignerItem := range newSigner {
		newSignerRule = append(newSignerRule, newSignerItem)
	}

	logs, sub, err := _PaymentRouter.contract.FilterLogs(opts, "SignerChanged", previousSignerRule, newSignerRule)
	if err != nil {
		return nil, err
	}
	return &PaymentRouterSignerChangedIterator{contract: _PaymentRouter.contract, event: "SignerChanged", logs: logs, sub: sub}, nil
}

// WatchSignerChanged is a free log subscription operation binding the contract event 0xeeb293e1f8f3a9db91ade748726387ed1352ca78f5430c5f06fe3d1e1ad50579.
//
// Solidity: event SignerChanged(address indexed previousSigner, address indexed newSigner)
func (_PaymentRouter *PaymentRouterFilterer) WatchSignerChanged(opts *bind.WatchOpts, sink chan<- *PaymentRouterSignerChanged, previousSigner []common.Address, newSigner []common.Address) (event.Subscription, error) {

	var previousSignerRule []interface{}
	for _, previousSignerItem := range previousSigner {
		previousSignerRule = append(previousSignerRule, previousSignerItem)
	}
	var newSignerRule []interface{}
	for _, newSignerItem := range newSigner {
		newSignerRule = append(newSignerRule, newSignerItem)
	}

	logs, sub, err := _PaymentRouter.contract.WatchLogs(opts, "SignerChanged", previousSignerRule, newSignerRule)
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(PaymentRouterSignerChanged)
				if err := _PaymentRouter.contract.UnpackLog(event, "SignerChanged", log); err != nil {
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

// ParseSignerChanged is a log parse operation binding the contract event 0xeeb293e1f8f3a9db91ade748726387ed1352ca78f5430c5f06fe3d1e1ad50579.
//
// Solidity: event SignerChanged(address indexed previousSigner, address indexed newSigner)
func (_PaymentRouter *PaymentRouterFilterer) ParseSignerChanged(log types.Log) (*PaymentRouterSignerChanged, error) {
	event := new(PaymentRouterSignerChanged)
	if err := _PaymentRouter.contract.UnpackLog(event, "SignerChanged", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}
