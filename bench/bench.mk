# Benchmarks of slasa (see bench/RESULTS.md). Included by the root Makefile (`include bench/bench.mk`);
# usable alone: `make -f bench/bench.mk bench-caliper`. Paths are relative to the repository root.
#
#   make bench-caliper    Hyperledger Caliper rounds of the suite against the baseline chaincode, on a network of
#                         its own (BENCH_PORT_BASE, default 33500; BENCH_SLAS, BENCH_BATCHES, BENCH_WORKERS,
#                         BENCH_LOAD: see bench/caliper/run.sh); updates bench/RESULTS.md and fails when any
#                         transaction failed
#   make bench-latency    latency from a batch anchored to its ingestion committed (real network + kubo + enclave)
#   make bench-enclave    Go benchmarks of the enclave's ingest path (10k-sample batch: CID, decrypt, signature,
#                         fold; and the same through the tunneling shim and a real kubo)
#   make bench-growth     bytes the enclave's transactions add to the blocks per SLA-month (1-second samples of 3
#                         probes, 1-minute and 1-hour batches; the real enclave code on ledger doubles, ~15 min)
#   make bench-scale      many SLAs: the chaincodes on the fakes with SCALE_FAKE_SLAS (100, 1,000, 10,000), then a
#                         network of its own of SCALE_ORGS organizations (10) with SCALE_SLAS SLAs (1,000) between
#                         pairs of them: network start and memory, GetSLA/ListSLAs latency, propose/accept/anchor/
#                         settle throughput, ledger height, peers' disk use (logged tables; see bench/RESULTS.md)
#   make soak             SOAK_SLAS SLAs (50) with 1-minute periods for SOAK_MINUTES (30) on a network of its own, a
#                         cloud logger and a monitor per SLA: periods settled versus expected, failed and invalid
#                         transactions, every process's resident memory and open files each minute (growth after
#                         SOAK_WARMUP minutes), peer disk growth per SLA-hour; rewrites the soak section of
#                         bench/RESULTS.md (SOAK_RESULTS= to keep it). Not in CI: about SOAK_MINUTES + 15 minutes
#   make bench-console    the web console's pages (internal/cli) on a recorded fixture of 1,000 SLAs and 10,000
#                         tickets: the test that no page reads more than one chaincode page's worth, then
#                         BenchmarkConsolePages (ns/op, evaluate calls and rows per request; no network)

BENCH_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
BENCH_GO ?= go
BENCH_ENV = SLASA_CACHE_DIR="$(or $(SLASA_CACHE_DIR),$(CACHE_DIR),$(CURDIR)/.cache)"

.PHONY: bench-caliper bench-console bench-enclave bench-growth bench-latency bench-scale soak

bench-caliper: ## Caliper benchmark against a no-op baseline on a network of its own; updates bench/RESULTS.md
	$(BENCH_ENV) bash $(BENCH_DIR)/caliper/run.sh

bench-console: ## the web console's pages on a fixture of 1,000 SLAs and 10,000 tickets: reads per request, ns/op
	$(BENCH_GO) test -count=1 -run '^TestConsolePagesDoNotScan$$' -v ./internal/cli/
	$(BENCH_GO) test -run '^$$' -bench '^BenchmarkConsolePages$$' -benchmem -count 1 ./internal/cli/

bench-enclave: ## Go benchmarks of the enclave ingest path (pure Go, then through the shim and a real kubo)
	$(BENCH_ENV) $(BENCH_GO) test -run '^$$' -bench . -benchmem -benchtime 20x -count 1 -cpu 1 ./$(BENCH_DIR)/enclave/

bench-growth: ## ledger bytes per SLA-month of the enclave (real enclave code, Fabric envelopes; no network)
	SLASA_GROWTH_DAYS=30 $(BENCH_GO) test -count=1 -timeout 90m -v -run TestLedgerGrowth ./$(BENCH_DIR)/growth/

bench-latency: ## anchored-to-ingested latency of log batches through the SLA enclave, on a network of its own
	$(BENCH_ENV) $(BENCH_GO) test -count=1 -tags integration -timeout 15m -v -run TestAnchorToIngestLatency ./$(BENCH_DIR)/latency/

SCALE_FAKE_SLAS ?= 100,1000,10000
SCALE_ORGS ?= 10
SCALE_SLAS ?= 1000
SCALE_WORKERS ?= 16

bench-scale: ## SLAs at scale: chaincodes on the fakes (100..10,000 SLAs), then 1,000 SLAs on a 10-organization network
	SLASA_SCALE_FAKE_SLAS=$(SCALE_FAKE_SLAS) $(BENCH_GO) test -count=1 -timeout 30m -v -run '^TestScale$$' ./chaincode/scale/
	$(BENCH_ENV) SLASA_SCALE_ORGS=$(SCALE_ORGS) SLASA_SCALE_SLAS=$(SCALE_SLAS) SLASA_SCALE_WORKERS=$(SCALE_WORKERS) \
		$(BENCH_GO) test -count=1 -tags integration -timeout 90m -v -run '^TestScaleNetwork$$' ./$(BENCH_DIR)/scale/

SOAK_SLAS ?= 50
SOAK_MINUTES ?= 30
SOAK_WARMUP ?= 5
SOAK_WINDOW ?= 20s
SOAK_WORKERS ?= 8
SOAK_OUT ?= $(CURDIR)/.cache/soak
SOAK_RESULTS ?= $(CURDIR)/$(BENCH_DIR)/RESULTS.md

soak: ## SOAK_SLAS SLAs (50), 1-minute periods, SOAK_MINUTES (30) on one network: settlements, failures, memory, FDs, disk
	$(BENCH_ENV) SLASA_SOAK_SLAS=$(SOAK_SLAS) SLASA_SOAK_MINUTES=$(SOAK_MINUTES) SLASA_SOAK_WARMUP=$(SOAK_WARMUP) \
		SLASA_SOAK_WINDOW=$(SOAK_WINDOW) SLASA_SOAK_WORKERS=$(SOAK_WORKERS) SLASA_SOAK_OUT=$(SOAK_OUT) SLASA_SOAK_RESULTS=$(SOAK_RESULTS) \
		$(BENCH_GO) test -count=1 -tags integration -timeout $$(( $(SOAK_MINUTES) + 60 ))m -v -run '^TestSoak$$' ./$(BENCH_DIR)/soak/
