#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Writes $SLASA_RUN_DIR/network.json (the machine-readable description of the running network that the Go
# harness, the CLI and Caliper read) and one connection profile per organization,
# $SLASA_RUN_DIR/connection-provider.json and connection-client.json (OtherOrg, without a peer, uses ClientOrg's
# peer and profile). Called by up.sh and deploy.sh.
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

# org_json ORG MSPID DOMAIN PORT CCPORT OPSPORT USERS...: one organization. Each USER is KEY or KEY:NAME: the user
# KEY of network.json, in the folder users/KEY@DOMAIN, with the common name NAME@DOMAIN (NAME defaults to KEY).
# A user whose folder does not exist (an optional identity of SLASA_SECOND_CA=1) is left out.
org_json() {
	local org="$1" msp="$2" domain="$3" port="$4" ccport="$5" ops="$6"
	shift 6
	local users='{}' u key name
	users="$(jq -n --argjson a "$(user_json "$domain" "Admin@$domain" "Admin@$domain")" '{admin: $a}')"
	for u in "$@"; do
		key="${u%%:*}" name="${u#*:}"
		[ -d "$crypto/peerOrganizations/$domain/users/$key@$domain" ] || continue
		users="$(jq -n --argjson us "$users" --arg n "$key" \
			--argjson v "$(user_json "$domain" "$key@$domain" "$name@$domain")" '$us + {($n): $v}')"
	done
	local pdir="$crypto/peerOrganizations/$domain/peers/peer0.$domain"
	jq -n --arg msp "$msp" --arg domain "$domain" --arg name "peer0.$domain" --arg addr "127.0.0.1:$port" \
		--arg cc "127.0.0.1:$ccport" --arg ops "127.0.0.1:$ops" --arg tlsca "$pdir/tls/ca.crt" \
		--arg orgtlsca "$crypto/peerOrganizations/$domain/tlsca/tlsca.$domain-cert.pem" \
		--arg profile "$SLASA_RUN_DIR/connection-$org.json" --argjson users "$users" \
		--arg mspdir "$crypto/peerOrganizations/$domain/msp" \
		'{mspId: $msp, domain: $domain, mspDir: $mspdir, tlsCACert: $orgtlsca, connectionProfile: $profile,
		  peer: {name: $name, address: $addr, hostnameOverride: $name, tlsCACert: $tlsca,
		         chaincodeAddress: $cc, operationsAddress: $ops},
		  users: $users}'
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

provider="$(org_json provider ProviderOrgMSP "$PROVIDER_DOMAIN" "$PROVIDER_PEER_PORT" "$PROVIDER_CC_PORT" "$PROVIDER_OPS_PORT" \
	provider logger issuer provider-ca2:provider provider-admin-role:provider)"
client="$(org_json client ClientOrgMSP "$CLIENT_DOMAIN" "$CLIENT_PEER_PORT" "$CLIENT_CC_PORT" "$CLIENT_OPS_PORT" client)"
# OtherOrg has no peer: its "peer" is ClientOrg's, whose Gateway its clients use (gatewayOf names that org).
other='null'
if [ -d "$crypto/peerOrganizations/$OTHER_DOMAIN" ]; then
	other="$(org_json other OtherOrgMSP "$OTHER_DOMAIN" "$CLIENT_PEER_PORT" "$CLIENT_CC_PORT" "$CLIENT_OPS_PORT" other |
		jq --argjson c "$client" '.peer = $c.peer | .connectionProfile = $c.connectionProfile | .gatewayOf = "client"')"
fi
tmp="$SLASA_RUN_DIR/network.json.tmp"
jq -n --arg ch "$SLASA_CHANNEL" --argjson base "$SLASA_PORT_BASE" --arg run "$SLASA_RUN_DIR" --arg bin "$SLASA_BIN_DIR" \
	--arg cfg "$SLASA_RUN_DIR/config" --arg fv "$SLASA_FABRIC_VERSION" --argjson orderers "$orderers" \
	--arg otlsca "$ocrypto/tlsca/tlsca.$ORDERER_DOMAIN-cert.pem" \
	--arg oadmin "$ocrypto/users/Admin@$ORDERER_DOMAIN" \
	--argjson provider "$provider" --argjson client "$client" --argjson other "$other" --argjson cc "$chaincodes" \
	'{fabricVersion: $fv, channel: $ch, portBase: $base, runDir: $run, binDir: $bin, fabricCfgPath: $cfg,
	  ordererOrg: {mspId: "OrdererMSP", tlsCACert: $otlsca,
	               admin: {mspDir: ($oadmin + "/msp"), tlsClientCert: ($oadmin + "/tls/client.crt"), tlsClientKey: ($oadmin + "/tls/client.key")}},
	  orderers: $orderers, orgs: ({provider: $provider, client: $client} + (if $other == null then {} else {other: $other} end)),
	  chaincodes: $cc}' >"$tmp"
mv "$tmp" "$SLASA_RUN_DIR/network.json"

# Connection profiles in the common-connection-profile format used by fabric-samples and Caliper.
for org in provider client; do
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
