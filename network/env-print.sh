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
load_state
usage="source network/env.sh ORG [USER] with ORG one of orderer-admin $ALL_ORGS"
[ -n "$org" ] || die "usage: $usage"
if [ "$org" != orderer-admin ]; then
	case " $ALL_ORGS " in *" $org "*) ;; *) die "unknown organization '$org' on this network (SLASA_ORGS=$SLASA_ORGS); usage: $usage" ;; esac
	users="admin $(org_user "$org")"
	[ "$org" != provider ] || users="$users logger issuer provider-ca2 provider-admin-role"
	case " $users " in *" $user "*) ;; *) die "unknown user '$user' of $org (want one of: $users)" ;; esac
	domain="$(org_domain "$org")"
	[ "$user" = admin ] || [ -d "$SLASA_RUN_DIR/crypto/peerOrganizations/$domain/users/$user@$domain" ] ||
		die "user '$user' of $org has no MSP folder in $SLASA_RUN_DIR (provider-ca2 and provider-admin-role exist only on a network started with SLASA_SECOND_CA=1)"
fi

emit() { printf 'export %s=%q\n' "$1" "$2"; }
case ":$PATH:" in *":$SLASA_BIN_DIR:"*) emit PATH "$PATH" ;; *) emit PATH "$SLASA_BIN_DIR:$PATH" ;; esac
emit FABRIC_CFG_PATH "$SLASA_RUN_DIR/config"
emit CHANNEL "$SLASA_CHANNEL"
emit ORDERER_ADDRESS "127.0.0.1:$(orderer_port 1)"
emit ORDERER_CA "$SLASA_RUN_DIR/crypto/ordererOrganizations/$ORDERER_DOMAIN/tlsca/tlsca.$ORDERER_DOMAIN-cert.pem"
emit ORDERER_FLAGS "$(orderer_flags 1)"
# ProviderOrg's and ClientOrg's peers: enough for the default policies (AND of the two; any two organizations).
emit PEER_FLAGS "--peerAddresses 127.0.0.1:$(peer_port provider) --tlsRootCertFiles $(peer_tls_ca provider) --peerAddresses 127.0.0.1:$(peer_port client) --tlsRootCertFiles $(peer_tls_ca client)"
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
