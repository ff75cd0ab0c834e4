package keys

import (
	"strings"

	"github.com/btcsuite/btcd/chaincfg"

	"chengdui"
)

// Network is a Bitcoin network. It decides the address prefix (bech32
// human-readable part), the extended key version bytes and the BIP44 coin
// type of Bitcoin accounts. The zero Network is invalid.
type Network int

const (
	Mainnet Network = iota + 1 // bc1…, xpub, coin type 0
	Testnet                    // testnet3 and testnet4: tb1…, tpub, coin type 1
	Signet                     // tb1…, tpub, coin type 1
	Regtest                    // bcrt1…, tpub, coin type 1
)

// Networks lists every network.
var Networks = []Network{Mainnet, Testnet, Signet, Regtest}

// ParseNetwork accepts mainnet (or main, bitcoin), testnet (testnet3,
// testnet4), signet and regtest.
func ParseNetwork(s string) (Network, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "mainnet", "main", "bitcoin":
		return Mainnet, nil
	case "testnet", "testnet3", "testnet4", "test":
		return Testnet, nil
	case "signet":
		return Signet, nil
	case "regtest":
		return Regtest, nil
	}
	return 0, chengdui.Errorf(chengdui.EInvalid, "network %q: use mainnet, testnet, signet or regtest", s)
}

func (n Network) String() string {
	switch n {
	case Mainnet:
		return "mainnet"
	case Testnet:
		return "testnet"
	case Signet:
		return "signet"
	case Regtest:
		return "regtest"
	}
	return "unknown"
}

// HRP is the bech32 human-readable part of the network's segwit addresses.
func (n Network) HRP() string {
	if p := n.params(); p != nil {
		return p.Bech32HRPSegwit
	}
	return ""
}

// params returns btcd's parameters for the network, nil when invalid. btcd
// has no testnet4 parameters; testnet4 shares testnet3's prefixes and
// version bytes, which is all this package uses.
func (n Network) params() *chaincfg.Params {
	switch n {
	case Mainnet:
		return &chaincfg.MainNetParams
	case Testnet:
		return &chaincfg.TestNet3Params
	case Signet:
		return &chaincfg.SigNetParams
	case Regtest:
		return &chaincfg.RegressionNetParams
	}
	return nil
}

func (n Network) check() (*chaincfg.Params, error) {
	p := n.params()
	if p == nil {
		return nil, chengdui.Errorf(chengdui.EInvalid, "unknown network %d", int(n))
	}
	return p, nil
}
