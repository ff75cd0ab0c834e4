// Package keys derives the platform's keys and addresses and keeps its seed.
//
// Three separate powers live here, and the package keeps them apart:
//
//   - Derivation from a seed: BIP39 mnemonics (English and Simplified
//     Chinese) to a BIP32 master key, then BIP84 (P2WPKH), BIP86 (P2TR) and
//     BIP44 coin type 60 (EVM) accounts and addresses.
//   - Watch-only derivation: from an account-level extended public key
//     (AccountXPub) the server derives every deposit address with
//     DeriveFromXPub or a Watcher, without ever holding the seed. This is
//     "cold mode": the seed stays offline and the server has no Signer.
//   - Signing: a Signer signs digests with the key at a path. SeedSigner is
//     the hot implementation, opened from the keystore; other
//     implementations (an HSM, a remote signer) can stand in for it.
//
// The seed is encrypted at rest by the keystore (Create, Open,
// ChangePassphrase): scrypt derives an AES-256-GCM key from the passphrase,
// and the file is versioned JSON. See keystore.go for the format.
//
// Secrets never print: Seed and SeedSigner format as "[redacted]" with every
// fmt verb, and no error message carries a key, a mnemonic or a passphrase.
//
// The cryptography is the libraries': btcd's hdkeychain, btcec and txscript
// for BIP32/84/86, go-ethereum's crypto for Keccak and EIP-55, x/crypto's
// scrypt and the standard library's AES-GCM and PBKDF2. Only the BIP39 word
// encoding (a few lines of bit packing) is written here, because the
// maintained Go BIP39 modules keep their word list in a package-global
// variable, which would make English and Chinese mnemonics race with each
// other; the word lists themselves come from github.com/tyler-smith/go-bip39,
// which checks them against the official files' CRC32 when it loads.
//
// Errors are *chengdui.Error: EInvalid for malformed input (a bad word, a bad
// checksum, a malformed path or address), EUnauthorized for a wrong
// passphrase or a damaged keystore, ENotFound for a missing keystore,
// EConflict when creating over an existing one, EInternal otherwise.
package keys
