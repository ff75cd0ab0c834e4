# One command runs the platform (make dev), one runs the tests (make test).
GO ?= go
STATICCHECK_VERSION = v0.8.2

.PHONY: dev test lint bench build contracts contracts-check

dev:
	$(GO) run ./cmd/chengdui dev

build:
	$(GO) build -o bin/chengdui ./cmd/chengdui

# The test command README.md names and .ci/run calls. PostgreSQL must be up
# (CHENGDUI_TEST_POSTGRES, default postgres://postgres@127.0.0.1:5432/test);
# with CI=true a missing server fails the PostgreSQL tests instead of skipping.
test: lint
	$(GO) test -race -count=1 -timeout 30m ./...

lint:
	@out="$$(gofmt -l .)"; test -z "$$out" || { echo "$$out" >&2; echo "gofmt: files above need formatting" >&2; exit 1; }
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

# The figures in docs/benchmarks.md: both engines, 1,000 accounts and 10
# hot accounts. BENCH_PG must point at a PostgreSQL database.
BENCH_PG ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
BENCH_FLAGS ?= --concurrency 2048 --duration 20s --warmup 3s

bench: build
	./bin/chengdui bench ledger --db sqlite:$$(mktemp -d)/bench.db --accounts 1000 $(BENCH_FLAGS)
	./bin/chengdui bench ledger --db sqlite:$$(mktemp -d)/bench.db --accounts 10 $(BENCH_FLAGS)
	./bin/chengdui bench ledger --db '$(BENCH_PG)' --accounts 1000 $(BENCH_FLAGS)
	./bin/chengdui bench ledger --db '$(BENCH_PG)' --accounts 10 $(BENCH_FLAGS)

# The Solidity contracts: compile contracts/src with the solc pinned in
# contracts/package.json and regenerate the Go bindings with abigen. The
# output is byte-for-byte reproducible; commit it. contracts-check
# regenerates into a temp dir and names every committed file that differs.
contracts: contracts/node_modules
	cd contracts && GO=$(GO) node build.mjs

contracts-check: contracts/node_modules
	cd contracts && GO=$(GO) node build.mjs --check

contracts/node_modules: contracts/package.json contracts/package-lock.json
	cd contracts && npm ci --no-audit --no-fund
	@touch $@
