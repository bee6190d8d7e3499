#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Deploys the whole slasa application to the running network (what `make deploy` without NAME runs):
#
#   1. network/deploy.sh agreement, refund, ercc, slaenclave (each: build, package, install, approve, commit;
#      a chaincode already deployed is redeployed with the next sequence, its state kept);
#   2. the refund chaincode's one-time Configure(ProviderOrgMSP, slaenclave, agreement) as the issuer
#      (issuer@providerorg.slasa.local), skipped when it is configured already;
#   3. `slasa enclave setup`: configure ercc for SIMULATED attestation, register the enclave (again after a
#      redeploy), give it the channel's MSP roots (trust on first use).
#
# Idempotent: running it again on the same network redeploys and leaves the configuration as it was.
# Environment: as network/deploy.sh (SLASA_RUN_DIR, SLASA_CACHE_DIR); SLASA_DEPLOY_ALL="agreement refund ercc
# slaenclave" narrows step 1.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

load_state
network_running || die "the network is not running (run folder $SLASA_RUN_DIR); run make network-up first"
require_bins
export PATH="$SLASA_BIN_DIR:$PATH"
export FABRIC_CFG_PATH="$SLASA_RUN_DIR/config"
started=$SECONDS

ENCLAVE_CC=slaenclave
AGREEMENT_CC=agreement
ISSUER_MSP=ProviderOrgMSP

# ---- 1. chaincodes
for name in ${SLASA_DEPLOY_ALL:-agreement refund ercc slaenclave}; do
	"$SLASA_NETWORK_DIR/deploy.sh" "$name"
done

# ---- 2. refund configuration (once)
peers="$SLASA_RUN_DIR/crypto/peerOrganizations"
refund_config() {
	(peer_env provider issuer && peer chaincode query -C "$SLASA_CHANNEL" -n refund -c '{"Args":["GetConfig"]}') 2>/dev/null
}
if cfg="$(refund_config)"; then
	enclave="$(echo "$cfg" | jq -r '.enclave_chaincode')"
	agreement="$(echo "$cfg" | jq -r '.agreement_chaincode')"
	if [ "$enclave" != "$ENCLAVE_CC" ] || [ "$agreement" != "$AGREEMENT_CC" ]; then
		log "warning: refund is configured for enclave '$enclave' and agreement '$agreement' (not $ENCLAVE_CC/$AGREEMENT_CC); left as it is (Configure is accepted once)"
	else
		log "refund already configured (enclave $enclave, agreement $agreement)"
	fi
else
	args="$(jq -cn --arg m "$ISSUER_MSP" --arg e "$ENCLAVE_CC" --arg a "$AGREEMENT_CC" '{Args: ["Configure", $m, $e, $a]}')"
	# shellcheck disable=SC2046
	(peer_env provider issuer && peer chaincode invoke $(orderer_flags 1) -C "$SLASA_CHANNEL" -n refund -c "$args" --waitForEvent \
		--peerAddresses "127.0.0.1:$PROVIDER_PEER_PORT" --tlsRootCertFiles "$peers/$PROVIDER_DOMAIN/peers/peer0.$PROVIDER_DOMAIN/tls/ca.crt" \
		--peerAddresses "127.0.0.1:$CLIENT_PEER_PORT" --tlsRootCertFiles "$peers/$CLIENT_DOMAIN/peers/peer0.$CLIENT_DOMAIN/tls/ca.crt") \
		>"$SLASA_RUN_DIR/logs/refund-configure.log" 2>&1 ||
		{ tail_log "$SLASA_RUN_DIR/logs/refund-configure.log"; die "refund Configure($ISSUER_MSP, $ENCLAVE_CC, $AGREEMENT_CC) as issuer failed"; }
	log "refund configured: issuer $ISSUER_MSP/issuer, trusted enclave chaincode $ENCLAVE_CC, agreement chaincode $AGREEMENT_CC"
fi

# ---- 3. enclave setup through the slasa CLI
(cd "$SLASA_REPO_ROOT" && CGO_ENABLED=0 go build -o "$SLASA_BIN_DIR/slasa" ./cmd/slasa) || die "go build ./cmd/slasa failed"
"$SLASA_BIN_DIR/slasa" --run-dir "$SLASA_RUN_DIR" enclave setup --chaincode "$ENCLAVE_CC" ||
	die "enclave setup of $ENCLAVE_CC failed (chaincode log: $SLASA_RUN_DIR/logs/chaincode-$ENCLAVE_CC.log)"
log "application deployed in $((SECONDS - started))s"
