#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Writes $SLASA_RUN_DIR/network.json (the machine-readable description of the running network that the Go
# harness, the CLI and Caliper read) and one connection profile per organization with a peer,
# $SLASA_RUN_DIR/connection-ORG.json (connection-provider.json, connection-client.json, connection-vendor.json, ...;
# a peerless OtherOrg uses ClientOrg's peer and profile). Called by up.sh and deploy.sh.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
load_state

crypto="$SLASA_RUN_DIR/crypto"
ocrypto="$crypto/ordererOrganizations/$ORDERER_DOMAIN"

# user_json ORGDOMAIN USERDIRNAME COMMONNAME: one identity's files (cryptogen's layout; the signing certificate
# is named after the folder).
user_json() {
	local msp="$crypto/peerOrganizations/$1/users/$2/msp"
	jq -n --arg msp "$msp" --arg cert "$msp/signcerts/$2-cert.pem" --arg key "$msp/keystore/priv_sk" --arg cn "$3" \
		'{commonName: $cn, mspDir: $msp, certPath: $cert, keyPath: $key}'
}

# org_json ORG USERS...: one organization (key ORG). Each USER is KEY or KEY:NAME: the user KEY of network.json, in
# the folder users/KEY@DOMAIN, with the common name NAME@DOMAIN (NAME defaults to KEY). A user whose folder does
# not exist (an optional identity of SLASA_SECOND_CA=1) is left out. The peer and connection profile are those of
# the organization whose Gateway ORG's clients use (gateway_org: ORG itself, or ClientOrg for a peerless OtherOrg,
# then named in gatewayOf).
org_json() {
	local org="$1" msp domain gw gwdomain
	shift
	msp="$(org_msp "$org")" domain="$(org_domain "$org")" gw="$(gateway_org "$org")"
	gwdomain="$(org_domain "$gw")"
	local users='{}' u key name
	users="$(jq -n --argjson a "$(user_json "$domain" "Admin@$domain" "Admin@$domain")" '{admin: $a}')"
	for u in "$@"; do
		key="${u%%:*}" name="${u#*:}"
		[ -d "$crypto/peerOrganizations/$domain/users/$key@$domain" ] || continue
		users="$(jq -n --argjson us "$users" --arg n "$key" \
			--argjson v "$(user_json "$domain" "$key@$domain" "$name@$domain")" '$us + {($n): $v}')"
	done
	local gwof=""
	[ "$gw" = "$org" ] || gwof="$gw"
	jq -n --arg msp "$msp" --arg domain "$domain" --arg name "peer0.$gwdomain" --arg addr "127.0.0.1:$(peer_port "$gw")" \
		--arg cc "127.0.0.1:$(peer_cc_port "$gw")" --arg ops "127.0.0.1:$(peer_ops_port "$gw")" --arg tlsca "$(peer_tls_ca "$gw")" \
		--arg orgtlsca "$crypto/peerOrganizations/$domain/tlsca/tlsca.$domain-cert.pem" \
		--arg profile "$SLASA_RUN_DIR/connection-$gw.json" --argjson users "$users" \
		--arg mspdir "$crypto/peerOrganizations/$domain/msp" --arg gwof "$gwof" \
		'{mspId: $msp, domain: $domain, mspDir: $mspdir, tlsCACert: $orgtlsca, connectionProfile: $profile,
		  peer: {name: $name, address: $addr, hostnameOverride: $name, tlsCACert: $tlsca,
		         chaincodeAddress: $cc, operationsAddress: $ops},
		  users: $users} + (if $gwof == "" then {} else {gatewayOf: $gwof} end)'
}

orderers='[]'
# shellcheck disable=SC2153 # ORDERERS comes from load_state
for n in $(seq 1 "$ORDERERS"); do
	orderers="$(jq -n --argjson o "$orderers" --arg name "orderer$n.$ORDERER_DOMAIN" \
		--arg addr "127.0.0.1:$(orderer_port "$n")" --arg admin "127.0.0.1:$(orderer_admin_port "$n")" \
		--arg ops "127.0.0.1:$(orderer_ops_port "$n")" --arg tlsca "$ocrypto/orderers/orderer$n.$ORDERER_DOMAIN/tls/ca.crt" \
		'$o + [{name: $name, address: $addr, hostnameOverride: $name, adminAddress: $admin, operationsAddress: $ops, tlsCACert: $tlsca}]')"
done

chaincodes='{}'
if [ -d "$SLASA_RUN_DIR/chaincodes" ]; then
	for f in "$SLASA_RUN_DIR"/chaincodes/*/deployment.json; do
		[ -f "$f" ] || continue
		chaincodes="$(jq -n --argjson c "$chaincodes" --slurpfile d "$f" '$c + {($d[0].name): $d[0]}')"
	done
fi

# Every application organization under its key. Named users: provider, logger, issuer (and with SLASA_SECOND_CA=1
# provider-ca2, provider-admin-role) in ProviderOrg, the organization's own user in the others (client, vendor,
# other, user1 of OrgK). A peerless OtherOrg's "peer" is ClientOrg's, whose Gateway its clients use (gatewayOf).
orgs='{}'
for org in $ALL_ORGS; do
	users="$(org_user "$org")"
	[ "$org" != provider ] || users="provider logger issuer provider-ca2:provider provider-admin-role:provider"
	# shellcheck disable=SC2086 # users is a list
	orgs="$(jq -n --argjson os "$orgs" --arg k "$org" --argjson o "$(org_json "$org" $users)" '$os + {($k): $o}')"
done
tmp="$SLASA_RUN_DIR/network.json.tmp"
jq -n --arg ch "$SLASA_CHANNEL" --argjson base "$SLASA_PORT_BASE" --arg run "$SLASA_RUN_DIR" --arg bin "$SLASA_BIN_DIR" \
	--arg cfg "$SLASA_RUN_DIR/config" --arg fv "$SLASA_FABRIC_VERSION" --argjson orderers "$orderers" \
	--arg otlsca "$ocrypto/tlsca/tlsca.$ORDERER_DOMAIN-cert.pem" \
	--arg oadmin "$ocrypto/users/Admin@$ORDERER_DOMAIN" \
	--argjson orgs "$orgs" --argjson cc "$chaincodes" \
	'{fabricVersion: $fv, channel: $ch, portBase: $base, runDir: $run, binDir: $bin, fabricCfgPath: $cfg,
	  ordererOrg: {mspId: "OrdererMSP", tlsCACert: $otlsca,
	               admin: {mspDir: ($oadmin + "/msp"), tlsClientCert: ($oadmin + "/tls/client.crt"), tlsClientKey: ($oadmin + "/tls/client.key")}},
	  orderers: $orderers, orgs: $orgs,
	  chaincodes: $cc}' >"$tmp"
mv "$tmp" "$SLASA_RUN_DIR/network.json"

# Connection profiles in the common-connection-profile format used by fabric-samples and Caliper.
for org in $PEER_ORGS; do
	jq --arg org "$org" '
		.orgs[$org] as $o |
		{name: ("slasa-" + $org), version: "1.0.0",
		 client: {organization: $o.mspId, connection: {timeout: {peer: {endorser: "300"}}}},
		 channels: {(.channel): {peers: {($o.peer.name): {}}}},
		 organizations: {($o.mspId): {mspid: $o.mspId, peers: [$o.peer.name]}},
		 peers: {($o.peer.name): {url: ("grpcs://" + $o.peer.address),
		         tlsCACerts: {pem: $o.peer.tlsCACertPEM},
		         grpcOptions: {"ssl-target-name-override": $o.peer.name, hostnameOverride: $o.peer.name}}}}' \
		<(jq --arg org "$org" --rawfile pem "$(jq -r --arg org "$org" '.orgs[$org].peer.tlsCACert' "$SLASA_RUN_DIR/network.json")" \
			'.orgs[$org].peer.tlsCACertPEM = $pem' "$SLASA_RUN_DIR/network.json") >"$SLASA_RUN_DIR/connection-$org.json"
done
