// Package cold is the platform's Bitcoin cold storage: a 2-of-3 multisig
// wallet whose three private keys live on three offline machines, while
// the online server holds only their public keys. The server derives
// deposit addresses (where the hot wallet sweeps its surplus) and builds
// unsigned transactions; two of the three key holders sign them offline;
// the server combines the signatures and broadcasts.
//
// # Keys
//
// Each cosigner's key is a BIP48 account key, m/48'/coin'/account'/2'
// (coin 0 on mainnet, 1 on the test networks; script type 2' is native
// P2WSH), the path Sparrow, Specter, Coldcard, Electrum and Bitcoin Core's
// descriptor wallets use for multisig. It is exchanged with its origin as a
// descriptor key expression, [fingerprint/48'/1'/0'/2']tpub…; AccountKey
// derives it from a seed ('chengdui cold xpub' prints it from a keystore).
// The origin is required: a bare xpub cannot tell a signer which of its
// keys to use. The three keys must be different and come from three
// different seeds.
//
// # Addresses
//
// An address at change/index is the P2WSH (BIP141, bech32) of the witness
// script 2 <k1> <k2> <k3> 3 CHECKMULTISIG, where the three keys are each
// account key's child at change/index, sorted as BIP67 says. In output
// descriptor terms the wallet is
//
//	wsh(sortedmulti(2,[fpA/48'/1'/0'/2']tpubA/0/*,[fpB/…]tpubB/0/*,[fpC/…]tpubC/0/*))
//
// (Wallet.Descriptor prints it with its checksum, to import into another
// wallet and compare addresses). Branch 0 (Receive) holds deposit
// addresses, branch 1 (Change) the change of spends.
//
// # Spending
//
// Wallet.CreatePSBT builds a BIP174 PSBT; Sign adds one cosigner's
// signature, offline; Combine merges the copies the cosigners return;
// Finalize checks that each input has two valid signatures and returns the
// signed transaction for bitcoin.Node.Broadcast. Each PSBT input carries
// its witness UTXO, its witness script and each key's BIP32 derivation
// (master key fingerprint and path), so that a signer needs nothing but
// the PSBT and its seed. Inputs carry no full previous transaction: BIP143
// signatures commit to the amounts they spend, and a lied amount makes the
// signatures invalid rather than overpaying the fee, unless every
// cosigner is lied to the same way; signers should read the fee that
// Describe reports.
//
// Fees are computed on the largest size the signed transaction can have
// (EstimateVSize: each input's witness is at most 256 weight units), and
// outputs below Bitcoin Core's dust limit for their script (Dust) are
// refused.
//
// Errors are *chengdui.Error: EInvalid for bad keys, amounts, PSBTs and
// refusals to sign, EConflict for a key that has already signed,
// EExceedsCredits when the coins do not cover a spend, EInternal otherwise.
package cold
