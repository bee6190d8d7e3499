#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Deploys the whole slasa application to the running network (what `make deploy` without NAME runs):
#
#   1. network/deploy.sh agreement, refund, ercc, slaenclave, ticket under the names SLASA_CC_AGREEMENT,
#      SLASA_CC_REFUND, SLASA_CC_REGISTRY, SLASA_CC_ENCLAVE, SLASA_CC_TICKET (each: build, then per organization package, install, start its own
#      server, approve; commit. A chaincode already deployed is redeployed with the next sequence, its state kept).
#      The first one that needs it writes every organization's deploy configuration (network/deploy-config.sh).
#   2. `slasa config record`: an admin of ProviderOrg records the deploy configuration on the ledger of agreement,
#      refund, ercc and ticket (Configure), skipped where it is recorded already; waits until every peer sees it.
#   3. `slasa enclave setup`: registers the enclave of the host organization (again after a redeploy).
#
# Idempotent: running it again on the same network redeploys and leaves the recorded configuration as it was.
# Environment: as network/deploy.sh and network/deploy-config.sh (SLASA_RUN_DIR, SLASA_CACHE_DIR, SLASA_CC_*,
# SLASA_ISSUER_MSP, SLASA_ENCLAVE_HOST_MSP, SLASA_ATTESTATION, SLASA_MAX_CLOCK_SKEW); SLASA_DEPLOY_ALL="agreement
# refund ercc slaenclave" narrows step 1 (sources, not names); SLASA_RECORD_AS (default provider-admin) is the
# admin identity of step 2.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

load_state
network_running || die "the network is not running (run folder $SLASA_RUN_DIR); run make network-up first"
require_bins
export PATH="$SLASA_BIN_DIR:$PATH"
export FABRIC_CFG_PATH="$SLASA_RUN_DIR/config"
started=$SECONDS

name_of() {
	case "$1" in
	agreement) echo "$SLASA_CC_AGREEMENT" ;;
	refund) echo "$SLASA_CC_REFUND" ;;
	ercc) echo "$SLASA_CC_REGISTRY" ;;
	slaenclave) echo "$SLASA_CC_ENCLAVE" ;;
	ticket) echo "$SLASA_CC_TICKET" ;;
	*) die "SLASA_DEPLOY_ALL: unknown source '$1' (want agreement, refund, ercc, slaenclave, ticket)" ;;
	esac
}

# ---- 1. chaincodes
recorded=()
for src in ${SLASA_DEPLOY_ALL:-agreement refund ercc slaenclave ticket}; do
	name="$(name_of "$src")"
	"$SLASA_NETWORK_DIR/deploy.sh" "$src" --name "$name"
	case "$src" in agreement | refund | ercc | ticket) recorded+=("$name") ;; esac
done

slasa="$(build_cli)"
# ---- 2. the deploy configuration on the ledger (Configure of each contract chaincode, once)
if [ "${#recorded[@]}" -gt 0 ]; then
	"$slasa" --run-dir "$SLASA_RUN_DIR" --as "${SLASA_RECORD_AS:-provider-admin}" config record \
		--chaincodes "$(
			IFS=,
			echo "${recorded[*]}"
		)" || die "recording the deploy configuration failed"
fi

# ---- 3. enclave setup through the slasa CLI
"$slasa" --run-dir "$SLASA_RUN_DIR" enclave setup --chaincode "$SLASA_CC_ENCLAVE" --registry "$SLASA_CC_REGISTRY" ||
	die "enclave setup of $SLASA_CC_ENCLAVE failed (chaincode logs: $SLASA_RUN_DIR/logs/chaincode-$SLASA_CC_ENCLAVE-*.log)"
log "application deployed in $((SECONDS - started))s"
