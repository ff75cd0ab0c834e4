// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title The ERC-20 interface the router calls.
/// @notice Tokens such as USDT declare transfer and transferFrom without a
/// return value; the router calls them at a low level so that both kinds
/// work (see PaymentRouter._transferFrom).
interface IERC20 {
    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    function totalSupply() external view returns (uint256);
    function balanceOf(address account) external view returns (uint256);
    function allowance(address owner, address spender) external view returns (uint256);
    function approve(address spender, uint256 value) external returns (bool);
    function transfer(address to, uint256 value) external returns (bool);
    function transferFrom(address from, address to, uint256 value) external returns (bool);
}
