// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TestToken} from "./TestToken.sol";

/// @title A token that keeps 1 % of every transfer.
/// @notice The receiver gets 99 % (rounded down in the token's favour:
/// the fee is rounded up), the token contract itself the rest, as
/// fee-on-transfer tokens do. For tests that a payment refuses such a
/// token rather than underpay.
contract FeeOnTransferToken is TestToken {
    constructor(string memory name_, string memory symbol_, uint8 decimals_) TestToken(name_, symbol_, decimals_) {}

    function _update(address from, address to, uint256 value) internal override {
        uint256 fee = value / 100 + (value % 100 == 0 ? 0 : 1);
        _move(from, to, value - fee);
        _move(from, address(this), fee);
    }
}
