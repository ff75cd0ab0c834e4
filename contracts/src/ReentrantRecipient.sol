// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title A payment recipient that calls the router again when paid.
/// @notice For the test of the router's reentrancy guard: arm it with a
/// call (the ABI-encoded pay of another intent); when it receives ether it
/// makes that call from inside the first payment and records how the
/// router refused. It takes encoded calldata rather than an Intent so that
/// its Go binding declares no struct of its own.
contract ReentrantRecipient {
    /// @notice The router to call back.
    address public immutable router;
    /// @notice The revert data of the reentrant call; empty if it succeeded
    /// or never ran.
    bytes public lastRevert;
    /// @notice How many reentrant calls succeeded.
    uint256 public reentered;

    bytes private payCall;

    constructor(address router_) {
        router = router_;
    }

    /// @notice Makes `payCall_` to the router on the next ether received.
    function arm(bytes calldata payCall_) external {
        payCall = payCall_;
    }

    receive() external payable {
        bytes memory data = payCall;
        if (data.length == 0) return;
        delete payCall;
        (bool ok, bytes memory reason) = router.call{value: msg.value}(data);
        if (ok) {
            reentered++;
        } else {
            lastRevert = reason;
        }
    }
}
