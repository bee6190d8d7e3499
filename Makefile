# slasa — SLA Self-Assessment on Hyperledger Fabric.
#
#   make test    every test: unit tests, then integration tests on a real local network
#   make demo    the whole story on a real local network (see README)
#   make demo-tickets  the trouble-ticket act (demo/tickets.sh)
#
# Tools the project needs are built from the Go module proxy into $(CACHE_DIR)
# (default .cache/, ignored by git); nothing is expected to be installed by hand
# except Go, make, bash and a C-free Linux userland; the Debian packages the tests
# need (poppler-utils: pdftotext and pdftoppm for the invoice PDF test; chromium for
# the web console's browser test) are installed by tools/system-packages.sh (make
# system-packages) when missing.

SHELL        := /bin/bash
GO           ?= go
REPO_ROOT    := $(CURDIR)
CACHE_DIR    ?= $(or $(SLASA_CACHE_DIR),$(REPO_ROOT)/.cache)
BIN_DIR      := $(CACHE_DIR)/bin
STATICCHECK_VERSION := v0.8.2

GO_PACKAGES  := ./...

.PHONY: help build test test-unit system-packages lint fmt vet staticcheck bench fuzz clean demo demo-tickets mutate

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | sort

build: ## build every package and the slasa CLI into .cache/bin
	$(GO) build $(GO_PACKAGES)
	$(GO) build -o $(BIN_DIR)/slasa ./cmd/slasa
	$(GO) build -o $(BIN_DIR)/shim-tunnel ./cmd/shim-tunnel

demo: ## the whole story on a real local network in minutes (demo/demo.sh; leaves the network up)
	SLASA_CACHE_DIR="$(CACHE_DIR)" bash demo/demo.sh

demo-tickets: ## the trouble-ticket act on a real local network in about 5 minutes, to the period's verdict and refund (demo/tickets.sh; leaves the network up)
	SLASA_CACHE_DIR="$(CACHE_DIR)" bash demo/tickets.sh

test: lint test-unit mutate test-integration ## lint, unit tests (race detector), the security-check mutants, then integration tests on a real network (the CI command)

test-unit: system-packages ## unit tests only (no network), with the race detector
	$(GO) test -race -count=1 $(GO_PACKAGES)

system-packages: ## install the Debian packages the tests need when missing (poppler-utils, chromium)
	bash tools/system-packages.sh

# MUTATE_FLAGS: e.g. -run ID, -pkg ./chaincode/..., -list, -json, -parallel 2, -timeout 5m
MUTATE_FLAGS ?=

mutate: ## remove each "// mutate:check" security check in turn; fails unless a test catches each (tools/mutate)
	$(GO) build -o $(BIN_DIR)/mutate ./tools/mutate
	$(BIN_DIR)/mutate $(MUTATE_FLAGS)

lint: fmt vet staticcheck ## gofmt, go vet and staticcheck

fmt:
	@out="$$(gofmt -l $$(git ls-files '*.go'; git ls-files --others --exclude-standard '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(GO_PACKAGES)
	$(GO) vet -tags integration ./test/... ./bench/...

$(BIN_DIR)/staticcheck-$(STATICCHECK_VERSION):
	@mkdir -p $(BIN_DIR)
	GOBIN=$(BIN_DIR) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv $(BIN_DIR)/staticcheck $@

staticcheck: $(BIN_DIR)/staticcheck-$(STATICCHECK_VERSION)
	$< $(GO_PACKAGES)
	$< -tags integration ./test/... ./bench/...

bench: ## Go benchmarks of the SLA core (one month of 1-second samples from 3 zones)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x -count 1 ./logs/ ./driver/
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 3x -count 1 ./ipfs/cidverify/

FUZZ_PACKAGES := ./sla/ ./logs/ ./driver/ ./ipfs/cidverify/ ./calendar/ ./chaincode/agreement/agreement/ ./chaincode/refund/refund/ ./chaincode/ticket/ticket/

fuzz: ## run each fuzz target briefly (FUZZTIME=30s by default)
	@for p in $(FUZZ_PACKAGES); do \
	  for t in $$($(GO) test -list '^Fuzz' $$p | grep ^Fuzz); do \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $${FUZZTIME:-30s} -fuzzminimizetime 2s $$p || exit 1; \
	  done; \
	done

clean: ## remove build caches of this repo (not the Go module cache)
	rm -rf $(CACHE_DIR)

# The native Fabric network, CCaaS deployment and integration tests.
include network/network.mk
# The private IPFS node (kubo) and the tunneling shim.
include ipfs/ipfs.mk

# Integration tests need kubo too; build it before go test's timeout starts.
test-integration: ipfs-bin system-packages

# Caliper and Go benchmarks of the suite (bench/RESULTS.md).
include bench/bench.mk
bench-latency: ipfs-bin fabric-bins
bench-scale: fabric-bins
