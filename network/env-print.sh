#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Prints, as `export NAME=value` lines, the environment network/env.sh sets for ORG [USER]:
#   eval "$(network/env-print.sh provider logger)"
# See network/env.sh for the accepted names.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

org="${1:-}" user="${2:-admin}"
[ -f "$SLASA_RUN_DIR/state.env" ] || die "no network at $SLASA_RUN_DIR; run make network-up first"
case "$org" in provider | client | other | orderer-admin) ;; *) die "usage: source network/env.sh provider|client|other|orderer-admin [USER]" ;; esac
load_state
case "$org:$user" in
orderer-admin:* | *:admin | provider:provider | provider:logger | provider:issuer | client:client | other:other) ;;
provider:provider-ca2 | provider:provider-admin-role)
	[ -d "$SLASA_RUN_DIR/crypto/peerOrganizations/$PROVIDER_DOMAIN/users/$user@$PROVIDER_DOMAIN" ] ||
		die "user '$user' exists only on a network started with SLASA_SECOND_CA=1"
	;;
*) die "unknown user '$user' of $org (ProviderOrg: admin provider logger issuer, with SLASA_SECOND_CA=1 also provider-ca2 provider-admin-role; ClientOrg: admin client; OtherOrg: admin other)" ;;
esac

emit() { printf 'export %s=%q\n' "$1" "$2"; }
case ":$PATH:" in *":$SLASA_BIN_DIR:"*) emit PATH "$PATH" ;; *) emit PATH "$SLASA_BIN_DIR:$PATH" ;; esac
emit FABRIC_CFG_PATH "$SLASA_RUN_DIR/config"
emit CHANNEL "$SLASA_CHANNEL"
emit ORDERER_ADDRESS "127.0.0.1:$(orderer_port 1)"
emit ORDERER_CA "$SLASA_RUN_DIR/crypto/ordererOrganizations/$ORDERER_DOMAIN/tlsca/tlsca.$ORDERER_DOMAIN-cert.pem"
emit ORDERER_FLAGS "$(orderer_flags 1)"
peers="$SLASA_RUN_DIR/crypto/peerOrganizations"
emit PEER_FLAGS "--peerAddresses 127.0.0.1:$PROVIDER_PEER_PORT --tlsRootCertFiles $peers/$PROVIDER_DOMAIN/peers/peer0.$PROVIDER_DOMAIN/tls/ca.crt --peerAddresses 127.0.0.1:$CLIENT_PEER_PORT --tlsRootCertFiles $peers/$CLIENT_DOMAIN/peers/peer0.$CLIENT_DOMAIN/tls/ca.crt"
if [ "$org" = orderer-admin ]; then
	a="$SLASA_RUN_DIR/crypto/ordererOrganizations/$ORDERER_DOMAIN/users/Admin@$ORDERER_DOMAIN/tls"
	emit ORDERER_ADMIN_ADDRESS "127.0.0.1:$(orderer_admin_port 1)"
	emit ORDERER_ADMIN_TLS_SIGN_CERT "$a/client.crt"
	emit ORDERER_ADMIN_TLS_PRIVATE_KEY "$a/client.key"
	emit OSNADMIN_FLAGS "-o 127.0.0.1:$(orderer_admin_port 1) --ca-file $SLASA_RUN_DIR/crypto/ordererOrganizations/$ORDERER_DOMAIN/tlsca/tlsca.$ORDERER_DOMAIN-cert.pem --client-cert $a/client.crt --client-key $a/client.key"
	log "OrdererOrg admin; try: osnadmin channel list \$OSNADMIN_FLAGS"
else
	peer_env "$org" "$user"
	for v in CORE_PEER_TLS_ENABLED CORE_PEER_LOCALMSPID CORE_PEER_ADDRESS CORE_PEER_TLS_ROOTCERT_FILE CORE_PEER_MSPCONFIGPATH; do
		emit "$v" "${!v}"
	done
	log "$CORE_PEER_LOCALMSPID $user at $CORE_PEER_ADDRESS, channel $SLASA_CHANNEL"
fi
