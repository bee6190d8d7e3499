#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Writes the deploy configuration of every organization with a peer, $SLASA_RUN_DIR/orgs/ORG/deploy-config.json,
# which that organization's chaincode servers (agreement, refund, ercc, slaenclave) read:
#
#   network/deploy-config.sh [--force]
#
# Each organization's admin fetches the channel's current configuration block from the orderer (peer channel fetch
# config) and `slasa config generate` turns it, with the operator's choices below, into the file: the channel's
# MSPs and their root and intermediate CA certificates come from the block, which the channel's own governance
# approved. Every organization must end up with the same file: the script fails when two differ. A file that
# exists already is kept, and the script fails when the one it would write now differs (--force overwrites).
# network/deploy.sh runs it when an organization's file is missing.
#
# Environment (all optional):
#   SLASA_ISSUER_MSP        the MSP whose admins may mint (default ProviderOrgMSP)
#   SLASA_ENCLAVE_HOST_MSP  the MSP that hosts the enclave and registers its key (default ProviderOrgMSP)
#   SLASA_ATTESTATION       attestation the registry accepts: simulated (default) or sgx
#   SLASA_CC_AGREEMENT, SLASA_CC_REFUND, SLASA_CC_REGISTRY, SLASA_CC_ENCLAVE
#                           chaincode names (default agreement, refund, ercc, slaenclave)
# The approving organizations are every organization with a peer (ProviderOrgMSP, ClientOrgMSP, VendorOrgMSP, and
# with SLASA_ORGS >= 4 OtherOrgMSP, Org5MSP, ...).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

force=0
case "${1:-}" in
"") ;;
--force) force=1 ;;
*) die "usage: network/deploy-config.sh [--force]" ;;
esac

load_state
network_running || die "the network is not running (run folder $SLASA_RUN_DIR); run make network-up first"
require_bins
export PATH="$SLASA_BIN_DIR:$PATH"
export FABRIC_CFG_PATH="$SLASA_RUN_DIR/config"

slasa="$(build_cli)"
approving="$(for org in $PEER_ORGS; do org_msp "$org"; done | paste -sd, -)"

first=""
for org in $PEER_ORGS; do
	dir="$SLASA_RUN_DIR/orgs/$org"
	mkdir -p "$dir"
	file="$(deploy_config_file "$org")"
	# shellcheck disable=SC2046
	(peer_env "$org" && peer channel fetch config "$dir/config-block.pb" -c "$SLASA_CHANNEL" $(orderer_flags 1)) \
		>"$SLASA_RUN_DIR/logs/deploy-config-$org.log" 2>&1 ||
		{ tail_log "$SLASA_RUN_DIR/logs/deploy-config-$org.log"; die "fetching the channel configuration as the $org admin failed"; }
	"$slasa" config generate --config-block "$dir/config-block.pb" --orgs "$approving" \
		--issuer "$SLASA_ISSUER_MSP" --enclave-host "$SLASA_ENCLAVE_HOST_MSP" --attestation "$SLASA_ATTESTATION" \
		--agreement "$SLASA_CC_AGREEMENT" --refund "$SLASA_CC_REFUND" --registry "$SLASA_CC_REGISTRY" \
		--enclave "$SLASA_CC_ENCLAVE" --out "$file.new" 2>>"$SLASA_RUN_DIR/logs/deploy-config-$org.log" ||
		{ tail_log "$SLASA_RUN_DIR/logs/deploy-config-$org.log"; die "slasa config generate for $org failed"; }
	if [ -f "$file" ] && [ "$force" != 1 ] && ! cmp -s "$file" "$file.new"; then
		rm -f "$file.new"
		die "$file exists and differs from the configuration generated now (the channel configuration or SLASA_* choices changed?); the organization's servers may run with it: run network/deploy-config.sh --force and redeploy"
	fi
	mv -f "$file.new" "$file"
	if [ -z "$first" ]; then
		first="$file"
	elif ! cmp -s "$first" "$file"; then
		die "the deploy configurations of the organizations differ: $first and $file (did the channel configuration change between the fetches? run it again)"
	fi
done
digest="$("$slasa" config digest "$first")" || die "slasa config digest $first failed"
log "deploy configuration for $approving written to $SLASA_RUN_DIR/orgs/*/deploy-config.json (digest $digest; issuer $SLASA_ISSUER_MSP, enclave host $SLASA_ENCLAVE_HOST_MSP, attestation $SLASA_ATTESTATION)"
