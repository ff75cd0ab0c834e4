# One command runs the platform (make dev), one runs the tests (make test).
GO ?= go
STATICCHECK_VERSION = v0.8.2

.PHONY: dev test lint bench build

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
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || (echo "gofmt: files above need formatting" && exit 1)
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

bench:
	$(GO) run ./cmd/chengdui bench ledger --accounts 1000 --concurrency 1024 --duration 20s
