// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title A token whose transfer and transferFrom return nothing, as USDT's.
/// @notice Not ERC-20 conformant on purpose: a caller that expects a bool
/// fails to decode the empty return. It reverts (with custom errors) on
/// failure. Mintable by the deployer, like TestToken.
contract NoReturnToken {
    /// @notice The token's name.
    string public name;
    /// @notice The token's symbol.
    string public symbol;
    /// @notice The number of decimals a display divides amounts by.
    uint8 public immutable decimals;
    /// @notice The deployer, the one account that may mint.
    address public immutable minter;

    /// @notice The sum of all balances.
    uint256 public totalSupply;
    /// @notice Each account's balance.
    mapping(address account => uint256) public balanceOf;
    /// @notice What each spender may move of each owner's tokens.
    mapping(address owner => mapping(address spender => uint256)) public allowance;

    /// @notice Tokens moved.
    event Transfer(address indexed from, address indexed to, uint256 value);
    /// @notice An allowance set.
    event Approval(address indexed owner, address indexed spender, uint256 value);

    /// @notice `from` holds `balance`, less than `needed`.
    error InsufficientBalance(address from, uint256 balance, uint256 needed);
    /// @notice `spender` may move `allowance` of the owner's tokens, less than `needed`.
    error InsufficientAllowance(address spender, uint256 allowance, uint256 needed);
    /// @notice The caller is not the minter.
    error NotMinter();

    constructor(string memory name_, string memory symbol_, uint8 decimals_) {
        name = name_;
        symbol = symbol_;
        decimals = decimals_;
        minter = msg.sender;
    }

    /// @notice Creates `value` tokens for `to`.
    function mint(address to, uint256 value) external {
        if (msg.sender != minter) revert NotMinter();
        totalSupply += value;
        balanceOf[to] += value;
        emit Transfer(address(0), to, value);
    }

    /// @notice Sets the caller's allowance for spender; returns nothing, as USDT.
    function approve(address spender, uint256 value) external {
        allowance[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
    }

    /// @notice Moves the caller's tokens; returns nothing.
    function transfer(address to, uint256 value) external {
        _move(msg.sender, to, value);
    }

    /// @notice Moves the owner's tokens within the caller's allowance; returns nothing.
    function transferFrom(address from, address to, uint256 value) external {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed != type(uint256).max) {
            if (allowed < value) revert InsufficientAllowance(msg.sender, allowed, value);
            allowance[from][msg.sender] = allowed - value;
        }
        _move(from, to, value);
    }

    function _move(address from, address to, uint256 value) private {
        uint256 balance = balanceOf[from];
        if (balance < value) revert InsufficientBalance(from, balance, value);
        balanceOf[from] = balance - value;
        balanceOf[to] += value;
        emit Transfer(from, to, value);
    }
}
