// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "./IERC20.sol";

/// @title Chengdui BatchPayer
/// @notice Pays many recipients in one transaction, from the caller's own
/// funds: ether sent with the call (batchNative), or an ERC-20 token pulled
/// from the caller with transferFrom (batchTransfer; the caller approves
/// this contract once). It has no owner and no state, and keeps nothing:
/// ether passes through within the call, tokens go from the caller
/// straight to the recipients. A batch is all or nothing: any transfer
/// that fails reverts the whole call.
contract BatchPayer {
    /// @notice One batch paid: `count` recipients, `total` of `token`
    /// (the zero address for ether) from `payer`.
    event Batch(address indexed payer, address indexed token, uint256 count, uint256 total);

    /// @notice `to` and `amounts` differ in length.
    error LengthMismatch();
    /// @notice The ether sent is not the sum of the amounts.
    error ValueMismatch(uint256 sent, uint256 total);
    /// @notice The transfer to recipient number `index` failed.
    error TransferFailed(uint256 index);
    /// @notice `token` has no code: a call to it would succeed and move
    /// nothing.
    error NotAToken(address token);

    /// @notice Sends amounts[i] wei to to[i] for every i; msg.value must be
    /// their sum. Recipients get all the gas left, so contract wallets
    /// can receive.
    function batchNative(address[] calldata to, uint256[] calldata amounts) external payable {
        if (to.length != amounts.length) revert LengthMismatch();
        uint256 total;
        for (uint256 i; i < to.length; ++i) {
            total += amounts[i];
            (bool ok,) = to[i].call{value: amounts[i]}("");
            if (!ok) revert TransferFailed(i);
        }
        // After the transfers, so that neither more (left behind) nor less
        // (paid from ether someone forced into the contract) passes.
        if (total != msg.value) revert ValueMismatch(msg.value, total);
        emit Batch(msg.sender, address(0), to.length, total);
    }

    /// @notice Moves amounts[i] of token from the caller to to[i] for every
    /// i, with transferFrom: the caller must have approved this contract
    /// for the sum. Tokens that return no bool (USDT) work too.
    function batchTransfer(address token, address[] calldata to, uint256[] calldata amounts) external {
        if (to.length != amounts.length) revert LengthMismatch();
        if (token.code.length == 0) revert NotAToken(token);
        uint256 total;
        for (uint256 i; i < to.length; ++i) {
            total += amounts[i];
            (bool ok, bytes memory ret) = token.call(abi.encodeCall(IERC20.transferFrom, (msg.sender, to[i], amounts[i])));
            if (!ok || (ret.length != 0 && (ret.length != 32 || !abi.decode(ret, (bool))))) revert TransferFailed(i);
        }
        emit Batch(msg.sender, token, to.length, total);
    }
}
