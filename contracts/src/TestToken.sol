// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "./ERC20.sol";

/// @title A mintable ERC-20 for tests and dev chains.
/// @notice Stands in for USDT or USDC (6 decimals) or any 18-decimal
/// token. Only the deployer may mint.
contract TestToken is ERC20 {
    /// @notice The deployer, the one account that may mint.
    address public immutable minter;

    /// @notice The caller is not the minter.
    error NotMinter();

    constructor(string memory name_, string memory symbol_, uint8 decimals_) ERC20(name_, symbol_, decimals_) {
        minter = msg.sender;
    }

    /// @notice Creates `value` tokens for `to`.
    function mint(address to, uint256 value) external {
        if (msg.sender != minter) revert NotMinter();
        _mint(to, value);
    }
}
