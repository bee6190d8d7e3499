# Make targets of the IPFS (kubo) node and the tunneling shim. Included by the root Makefile
# (`include ipfs/ipfs.mk`) and usable alone: `make -f ipfs/ipfs.mk ipfs-up`. Paths are relative to the
# repository root, where make runs. SLASA_RUN_DIR, SLASA_CACHE_DIR and SLASA_PORT_BASE are honoured.
#
#   make ipfs-bin      build kubo v0.32.1 into <cache>/bin/ipfs (once per version)
#   make ipfs-up       start the private offline node (API base+80, gateway base+81; repo in <run>/ipfs)
#   make ipfs-down     stop exactly the recorded node process (the repository is kept)
#   make shim-tunnel   build the tunneling shim into <cache>/bin/shim-tunnel
#   make bench-ipfs    cidverify throughput (50 MB) and, with a kubo binary, the fetch path through the shim

# Expanded at include time: MAKEFILE_LIST changes as other files are included.
ifndef SLASA_IPFS_DIR
SLASA_IPFS_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
endif
SLASA_GO ?= go
SLASA_IPFS_CACHE_DIR ?= $(or $(SLASA_CACHE_DIR),$(CURDIR)/.cache)

.PHONY: ipfs-bin ipfs-up ipfs-down shim-tunnel bench-ipfs

ipfs-bin: ## build kubo (the IPFS node) into the cache folder (once per version)
	bash $(SLASA_IPFS_DIR)/build.sh

ipfs-up: ## start the private offline IPFS node on loopback (SLASA_PORT_BASE+80 API, +81 gateway)
	bash $(SLASA_IPFS_DIR)/up.sh

ipfs-down: ## stop the IPFS node (its repository under the run folder is kept)
	bash $(SLASA_IPFS_DIR)/down.sh

shim-tunnel: ## build the tunneling shim into the cache folder
	$(SLASA_GO) build -o $(SLASA_IPFS_CACHE_DIR)/bin/shim-tunnel ./cmd/shim-tunnel

bench-ipfs: ipfs-bin ## benchmarks: cidverify on 50 MB, fetch through shim + kubo (short runs)
	$(SLASA_GO) test -run '^$$' -bench . -benchtime 3x -count 1 ./ipfs/cidverify/
	$(SLASA_GO) test -tags integration -run '^$$' -bench . -benchtime 3x -count 1 ./test/ipfs/
