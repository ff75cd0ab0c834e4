// Package wallet is users and their wallets: registration, login sessions,
// and for each user a no-overdraft ledger account per asset plus deposit
// addresses derived watch-only from the platform's account-level extended
// public keys, at indexes allocated atomically in storage so no two users
// ever share one.
//
// A wallet is created at registration and repaired idempotently whenever it
// is read: ledger accounts have fixed ids and are created if missing (new
// assets appear in old wallets), and a scheme without an address gets one.
// So a crash between storing the user and finishing the wallet loses
// nothing.
package wallet
