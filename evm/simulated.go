package evm

import (
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/params"

	"chengdui"
)

// Defaults of the simulated chain.
const (
	SimulatedChainID    = 1337        // the id dev chains conventionally use
	DefaultSealInterval = time.Second // StartSealing's interval when given 0
)

// SimulatedConfig describes the genesis of a simulated chain.
type SimulatedConfig struct {
	// ChainID is the chain's id; zero means SimulatedChainID.
	ChainID int64
	// Funds are genesis balances in wei, e.g. the faucet's.
	Funds map[common.Address]*big.Int
	// GasLimit is the block gas limit; zero means go-ethereum's default,
	// the one mainnet validators signal.
	GasLimit uint64
}

// Simulated is an in-process chain: a go-ethereum node without networking
// whose blocks are sealed on demand (Commit) or on a timer (StartSealing),
// the chain of dev mode and of tests. It is safe for concurrent use.
type Simulated struct {
	backend *simulated.Backend
	client  simulated.Client
	config  *params.ChainConfig

	mu      sync.Mutex // serialises sealing by callers and by the timer
	stopped bool       // Close was called
}

var _ Chain = simulated.Client(nil)

// NewSimulated starts a simulated chain on mainnet's fork schedule (see
// MainnetSchedule). Close it when done.
//
// Errors: EInvalid for a negative chain id or balance.
func NewSimulated(cfg SimulatedConfig) (*Simulated, error) {
	if cfg.ChainID < 0 {
		return nil, chengdui.Errorf(chengdui.EInvalid, "chain id %d is negative", cfg.ChainID)
	}
	id := cfg.ChainID
	if id == 0 {
		id = SimulatedChainID
	}
	alloc := make(types.GenesisAlloc, len(cfg.Funds))
	for a, v := range cfg.Funds {
		if v == nil || v.Sign() < 0 {
			return nil, chengdui.Errorf(chengdui.EInvalid, "genesis balance of %s must be zero or more wei", a.Hex())
		}
		alloc[a] = types.Account{Balance: new(big.Int).Set(v)}
	}
	config := MainnetSchedule(big.NewInt(id))
	opts := []func(*node.Config, *ethconfig.Config){
		func(_ *node.Config, eth *ethconfig.Config) {
			eth.Genesis.Config = config
			// The miner stops filling a block after Recommit (2 s by
			// default): on a loaded machine a Commit could then seal a
			// block without the transactions waiting in the pool. A block
			// here is sealed on demand, so let it take what it takes.
			eth.Miner.Recommit = time.Minute
		},
	}
	if cfg.GasLimit > 0 {
		opts = append(opts, simulated.WithBlockGasLimit(cfg.GasLimit))
	}
	b := simulated.NewBackend(alloc, opts...)
	return &Simulated{backend: b, client: b.Client(), config: config}, nil
}

// MainnetSchedule is a copy of go-ethereum's mainnet chain configuration
// with every fork mainnet has scheduled active from genesis, and chainID.
// Forks mainnet has not scheduled stay off: unlike the dev preset
// (params.AllDevChainProtocolChanges), which also turns on forks still in
// development, this gives mainnet's gas costs, opcodes and blob parameters.
//
// The fork list is the pinned go-ethereum's; TestMainnetSchedule fails when
// an upgrade brings a fork this function does not know.
func MainnetSchedule(chainID *big.Int) *params.ChainConfig {
	c := *params.MainnetChainConfig
	c.ChainID = new(big.Int).Set(chainID)

	zero := func() *big.Int { return big.NewInt(0) }
	c.HomesteadBlock = zero()
	c.DAOForkBlock, c.DAOForkSupport = nil, false // a one-off state change at block 1,920,000
	c.EIP150Block = zero()
	c.EIP155Block = zero()
	c.EIP158Block = zero()
	c.ByzantiumBlock = zero()
	c.ConstantinopleBlock = zero()
	c.PetersburgBlock = zero()
	c.IstanbulBlock = zero()
	c.MuirGlacierBlock = zero()
	c.BerlinBlock = zero()
	c.LondonBlock = zero()
	c.ArrowGlacierBlock = zero()
	c.GrayGlacierBlock = zero()
	c.TerminalTotalDifficulty = zero() // proof of stake from genesis
	// Ethash marks a chain that began under proof of work and gives its
	// genesis a difficulty; this one never mined.
	c.Ethash = nil

	genesis := func(t *uint64) *uint64 {
		if t == nil {
			return nil
		}
		return new(uint64)
	}
	c.ShanghaiTime = genesis(c.ShanghaiTime)
	c.CancunTime = genesis(c.CancunTime)
	c.PragueTime = genesis(c.PragueTime)
	c.OsakaTime = genesis(c.OsakaTime)
	c.BPO1Time = genesis(c.BPO1Time)
	c.BPO2Time = genesis(c.BPO2Time)
	c.BPO3Time = genesis(c.BPO3Time)
	c.BPO4Time = genesis(c.BPO4Time)
	c.BPO5Time = genesis(c.BPO5Time)
	c.AmsterdamTime = genesis(c.AmsterdamTime)
	c.BogotaTime = genesis(c.BogotaTime)
	c.UBTTime = genesis(c.UBTTime)
	return &c
}

// Client is the chain as a Chain.
func (s *Simulated) Client() Chain { return s.client }

// Config is the chain's configuration.
func (s *Simulated) Config() *params.ChainConfig { return s.config }

// Commit seals the transactions waiting in the pool into a block and
// returns its hash. On a closed chain it does nothing.
func (s *Simulated) Commit() common.Hash {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return common.Hash{}
	}
	return s.backend.Commit()
}

// StartSealing seals a block every interval (DefaultSealInterval for 0),
// empty or not, as geth --dev does with a period, until stop is called or
// the chain is closed. stop waits for a seal in progress and may be called
// more than once.
func (s *Simulated) StartSealing(interval time.Duration) (stop func()) {
	if interval <= 0 {
		interval = DefaultSealInterval
	}
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				s.Commit()
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(quit) })
		<-done
	}
}

// Fork makes the block parent the head, so that blocks sealed next start a
// side chain; it becomes canonical once it is longer (reorg tests). The
// transaction pool must be empty.
//
// Errors: EConflict when transactions are waiting, ENotFound for an unknown
// parent, EUnavailable once closed, EInternal otherwise.
func (s *Simulated) Fork(parent common.Hash) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return chengdui.Errorf(chengdui.EUnavailable, "the simulated chain is closed")
	}
	if err := s.backend.Fork(parent); err != nil {
		switch err.Error() {
		case "pending block dirty":
			return chengdui.Errorf(chengdui.EConflict, "cannot fork while transactions wait in the pool: commit them first")
		case "parent not found":
			return chengdui.Errorf(chengdui.ENotFound, "no block %s to fork from", parent.Hex())
		}
		return chengdui.Errorf(chengdui.EInternal, "simulated chain: fork: %v", err)
	}
	return nil
}

// Close stops the chain. Timers of StartSealing still running seal
// nothing once it is closed; stop them to end their goroutines.
func (s *Simulated) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil
	}
	s.stopped = true
	if err := s.backend.Close(); err != nil {
		return chengdui.Errorf(chengdui.EInternal, "simulated chain: close: %v", err)
	}
	return nil
}
