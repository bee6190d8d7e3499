# Make targets of the native Fabric network (see network/README.md). Included by the root Makefile
# (`include network/network.mk`) and usable alone: `make -f network/network.mk network-up`.
# Paths are relative to the repository root, where make runs.
#
#   make fabric-bins                 build the Fabric v2.5.9 binaries and the CCaaS builder (once)
#   make network-up [ORDERERS=3]     start the network (SLASA_PORT_BASE, SLASA_RUN_DIR, SLASA_CHANNEL honoured)
#   make network-down                stop exactly the recorded processes, remove the run folder
#   make deploy                      agreement, refund, ercc, slaenclave; config record; enclave setup
#   make deploy NAME=smoke [CCNAME=smoke2] [POLICY="OR('ProviderOrgMSP.peer')" or POLICY=any-two]
#   make test-integration            go test -tags integration ./test/... (own network, own ports)

# Expanded at include time: MAKEFILE_LIST changes as other files are included.
ifndef SLASA_NETWORK_DIR
SLASA_NETWORK_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
endif
SLASA_GO ?= go
# The root Makefile's CACHE_DIR (if any) and SLASA_CACHE_DIR name the same cache folder; empty means <repo>/.cache.
SLASA_NET_ENV = SLASA_CACHE_DIR="$(or $(SLASA_CACHE_DIR),$(CACHE_DIR))"
INTEGRATION_TIMEOUT ?= 45m

.PHONY: fabric-bins network-up network-down deploy test-integration test-network-tools

fabric-bins: ## build the Fabric v2.5.9 binaries and the CCaaS builder into the cache folder (once)
	$(SLASA_NET_ENV) bash $(SLASA_NETWORK_DIR)/build-bins.sh

network-up: ## start the local Fabric network (ORDERERS=3 for 3-node Raft)
	$(SLASA_NET_ENV) bash $(SLASA_NETWORK_DIR)/up.sh

network-down: ## stop the local Fabric network and remove its run folder
	$(SLASA_NET_ENV) bash $(SLASA_NETWORK_DIR)/down.sh

deploy: ## deploy the application (agreement, refund, ercc, slaenclave, config record, enclave setup), or one chaincode: NAME=... [CCNAME=...] [POLICY=...]
ifeq ($(strip $(NAME)),)
	$(SLASA_NET_ENV) bash $(SLASA_NETWORK_DIR)/deploy-all.sh
else
	$(SLASA_NET_ENV) bash $(SLASA_NETWORK_DIR)/deploy.sh "$(NAME)" $(if $(CCNAME),--name "$(CCNAME)") $(if $(POLICY),--policy "$(POLICY)")
endif

test-integration: fabric-bins ## integration tests against a real network of their own
	$(SLASA_NET_ENV) $(SLASA_GO) test -tags integration -count=1 -p 1 -timeout $(INTEGRATION_TIMEOUT) ./test/...

test-network-tools: ## unit tests of the separate network/tools module (mkuser)
	cd $(SLASA_NETWORK_DIR)/tools && GOFLAGS=-mod=readonly $(SLASA_GO) test -count=1 ./...
