// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "./IERC20.sol";

/// @title Chengdui PaymentRouter
/// @notice Pays an invoice in ether or an ERC-20 token against a payment
/// intent the operator signed (EIP-712). A successful pay guarantees that,
/// in one transaction:
///   - the operator's signer approved exactly this intent, for this chain
///     and this router;
///   - the intent had not expired and had never been paid before;
///   - the recipient received exactly `amount` and the fee recipient
///     exactly `fee`, in the intent's token, from the payer; a token that
///     delivers less (a fee-on-transfer token) makes the payment revert;
///   - the router kept nothing: tokens go from the payer straight to the
///     recipients, and ether passes through within the call.
/// Anyone may pay an intent; the payer is whoever sends the transaction.
contract PaymentRouter {
    /// @notice What the operator signs: pay `amount` of `token` (the zero
    /// address for ether) to `recipient` and `fee` to `feeRecipient`, at
    /// the latest in the block whose timestamp is `deadline`. `id` is the
    /// invoice's, and pays once.
    struct Intent {
        bytes32 id;
        address token;
        uint256 amount;
        uint256 fee;
        address recipient;
        address feeRecipient;
        uint256 deadline;
    }

    /// @notice keccak256 of the EIP-712 encoding of Intent's type.
    bytes32 public constant INTENT_TYPEHASH = keccak256(
        "Intent(bytes32 id,address token,uint256 amount,uint256 fee,address recipient,address feeRecipient,uint256 deadline)"
    );
    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant NAME_HASH = keccak256("Chengdui PaymentRouter");
    bytes32 private constant VERSION_HASH = keccak256("1");
    /// @dev Half the order of secp256k1: a signature with a larger s is the
    /// malleated twin of one with n - s, and is refused (EIP-2).
    uint256 private constant HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    /// @dev The domain separator at deployment, recomputed if the chain id
    /// changes (a fork of the chain).
    uint256 private immutable deployChainId;
    bytes32 private immutable deployDomainSeparator;

    /// @notice The account allowed to pause, rotate the signer and hand
    /// over ownership.
    address public owner;
    /// @notice The account proposed as the next owner; it becomes owner
    /// when it calls acceptOwnership.
    address public pendingOwner;
    /// @notice The operator's key: the one signer of intents.
    address public signer;
    /// @notice While true, pay reverts with Paused.
    bool public paused;

    mapping(bytes32 id => bool) private paidIntents;
    bool private transient entered;

    /// @notice A payment was made: `amount` of `token` to `recipient`, and
    /// `fee` to the intent's fee recipient.
    event Paid(
        bytes32 indexed id, address indexed payer, address indexed token, uint256 amount, uint256 fee, address recipient
    );
    /// @notice The owner paused (true) or resumed (false) payments.
    event PauseChanged(bool paused);
    /// @notice The owner replaced the intent signer.
    event SignerChanged(address indexed previousSigner, address indexed newSigner);
    /// @notice The owner proposed a new owner.
    event OwnershipTransferStarted(address indexed previousOwner, address indexed newOwner);
    /// @notice The proposed owner accepted ownership.
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    /// @notice The signature is not the signer's over this intent on this
    /// chain and router, or is malformed (length, v, high s).
    error InvalidSignature();
    /// @notice The block's timestamp is past the intent's deadline.
    error Expired(uint256 deadline);
    /// @notice The intent with this id was paid before.
    error AlreadyPaid(bytes32 id);
    /// @notice msg.value must be `expected`: amount + fee for ether, 0 for a token.
    error WrongValue(uint256 expected, uint256 received);
    /// @notice The owner paused payments.
    error Paused();
    /// @notice `to` received less than `expected` of `token`.
    error TransferShortfall(address token, address to, uint256 expected, uint256 received);
    /// @notice A transfer of `token` (the zero address for ether) to `to`
    /// failed without a reason of its own.
    error TransferFailed(address token, address to);
    /// @notice The intent's token is an address without code.
    error NotAContract(address token);
    /// @notice Only the owner may call this.
    error NotOwner();
    /// @notice Only the pending owner may accept ownership.
    error NotPendingOwner();
    /// @notice An address that must be set is zero.
    error ZeroAddress();
    /// @notice pay was entered again before it returned.
    error Reentrancy();

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner();
        _;
    }

    modifier nonReentrant() {
        if (entered) revert Reentrancy();
        entered = true;
        _;
        entered = false;
    }

    /// @param owner_ The admin account.
    /// @param signer_ The operator's intent-signing key.
    constructor(address owner_, address signer_) {
        if (owner_ == address(0) || signer_ == address(0)) revert ZeroAddress();
        owner = owner_;
        signer = signer_;
        deployChainId = block.chainid;
        deployDomainSeparator = _buildDomainSeparator();
        emit OwnershipTransferred(address(0), owner_);
        emit SignerChanged(address(0), signer_);
    }

    /// @notice Pays `intent`, which the signer signed. Ether: send exactly
    /// amount + fee as msg.value. A token: send no ether, and approve this
    /// router for amount + fee first.
    /// @param signature 65 bytes r || s || v, v 27 or 28, s in the lower half.
    function pay(Intent calldata intent, bytes calldata signature) external payable nonReentrant {
        if (paused) revert Paused();
        if (block.timestamp > intent.deadline) revert Expired(intent.deadline);
        if (paidIntents[intent.id]) revert AlreadyPaid(intent.id);
        _checkSignature(_hashIntent(intent), signature);
        if (intent.recipient == address(0) || (intent.fee != 0 && intent.feeRecipient == address(0))) {
            revert ZeroAddress();
        }
        paidIntents[intent.id] = true;

        if (intent.token == address(0)) {
            uint256 total = intent.amount + intent.fee;
            if (msg.value != total) revert WrongValue(total, msg.value);
            _sendEther(intent.recipient, intent.amount);
            if (intent.fee != 0) _sendEther(intent.feeRecipient, intent.fee);
        } else {
            if (msg.value != 0) revert WrongValue(0, msg.value);
            // An address without code would accept any call and return
            // nothing; the check also warms the token for the calls below.
            if (intent.token.code.length == 0) revert NotAContract(intent.token);
            _pull(intent.token, intent.recipient, intent.amount);
            if (intent.fee != 0) _pull(intent.token, intent.feeRecipient, intent.fee);
        }
        emit Paid(intent.id, msg.sender, intent.token, intent.amount, intent.fee, intent.recipient);
    }

    /// @notice Whether the intent with this id has been paid.
    function isPaid(bytes32 id) external view returns (bool) {
        return paidIntents[id];
    }

    /// @notice The EIP-712 digest of `intent` under this router's domain:
    /// what the signer signs.
    function hashIntent(Intent calldata intent) external view returns (bytes32) {
        return _hashIntent(intent);
    }

    /// @notice The EIP-712 domain separator on the current chain.
    function domainSeparator() public view returns (bytes32) {
        return block.chainid == deployChainId ? deployDomainSeparator : _buildDomainSeparator();
    }

    /// @notice The EIP-712 domain (EIP-5267), for wallets and tools.
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        )
    {
        return (hex"0f", "Chengdui PaymentRouter", "1", block.chainid, address(this), bytes32(0), new uint256[](0));
    }

    /// @notice Stops payments until unpause.
    function pause() external onlyOwner {
        paused = true;
        emit PauseChanged(true);
    }

    /// @notice Resumes payments.
    function unpause() external onlyOwner {
        paused = false;
        emit PauseChanged(false);
    }

    /// @notice Replaces the intent signer. Intents signed by the previous
    /// signer and not yet paid stop being payable.
    function setSigner(address newSigner) external onlyOwner {
        if (newSigner == address(0)) revert ZeroAddress();
        emit SignerChanged(signer, newSigner);
        signer = newSigner;
    }

    /// @notice Proposes `newOwner`; the owner changes when it accepts, so a
    /// mistyped address cannot take the router out of anyone's control.
    /// Proposing the zero address cancels a proposal.
    function transferOwnership(address newOwner) external onlyOwner {
        pendingOwner = newOwner;
        emit OwnershipTransferStarted(owner, newOwner);
    }

    /// @notice Makes the pending owner the owner.
    function acceptOwnership() external {
        if (msg.sender != pendingOwner || msg.sender == address(0)) revert NotPendingOwner();
        emit OwnershipTransferred(owner, msg.sender);
        owner = msg.sender;
        pendingOwner = address(0);
    }

    function _buildDomainSeparator() private view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, block.chainid, address(this)));
    }

    function _hashIntent(Intent calldata intent) private view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                INTENT_TYPEHASH,
                intent.id,
                intent.token,
                intent.amount,
                intent.fee,
                intent.recipient,
                intent.feeRecipient,
                intent.deadline
            )
        );
        return keccak256(abi.encodePacked(hex"1901", domainSeparator(), structHash));
    }

    function _checkSignature(bytes32 digest, bytes calldata signature) private view {
        if (signature.length != 65) revert InvalidSignature();
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (uint256(s) > HALF_ORDER || (v != 27 && v != 28)) revert InvalidSignature();
        address recovered = ecrecover(digest, v, r, s);
        if (recovered == address(0) || recovered != signer) revert InvalidSignature();
    }

    /// @dev Sends ether without copying what the recipient returns.
    function _sendEther(address to, uint256 value) private {
        bool ok;
        assembly ("memory-safe") {
            ok := call(gas(), to, value, 0, 0, 0, 0)
        }
        if (!ok) revert TransferFailed(address(0), to);
    }

    /// @dev Moves `value` of `token` from the payer to `to` and checks that
    /// `to` received all of it. Measuring each transfer on its own keeps
    /// the check right when the recipient and the fee recipient are one
    /// account. A payer paying itself receives nothing net and reverts.
    function _pull(address token, address to, uint256 value) private {
        uint256 before = IERC20(token).balanceOf(to);
        _transferFrom(token, msg.sender, to, value);
        uint256 afterwards = IERC20(token).balanceOf(to);
        if (afterwards < before || afterwards - before < value) {
            revert TransferShortfall(token, to, value, afterwards < before ? 0 : afterwards - before);
        }
    }

    /// @dev transferFrom for tokens that return a bool and for those that
    /// return nothing (USDT); pay checked that the token has code. A revert
    /// with a reason is passed on as is; a false, or a revert without a
    /// reason, is TransferFailed.
    function _transferFrom(address token, address from, address to, uint256 value) private {
        (bool ok, bytes memory ret) = token.call(abi.encodeCall(IERC20.transferFrom, (from, to, value)));
        if (!ok) {
            if (ret.length > 0) {
                assembly ("memory-safe") {
                    revert(add(ret, 32), mload(ret))
                }
            }
            revert TransferFailed(token, to);
        }
        if (ret.length != 0 && (ret.length < 32 || !abi.decode(ret, (bool)))) {
            revert TransferFailed(token, to);
        }
    }
}
