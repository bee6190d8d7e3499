#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Brings up the slasa Fabric network as native processes: ORDERERS etcdraft orderers (1 or 3) of OrdererOrg and
# one peer of each of the SLASA_ORGS (default 3) peer organizations (ProviderOrg, ClientOrg, VendorOrg, then
# OtherOrg and Org5..OrgN; with SLASA_ORGS=3 OtherOrg is a channel member without a peer), TLS everywhere, channel
# $SLASA_CHANNEL created with osnadmin, every peer joined, anchor peers set with one channel config update per peer
# organization, and gossip waited for until every peer knows every other. Everything lives in $SLASA_RUN_DIR.
# SLASA_SECOND_CA=1 adds a second root CA of ProviderOrg and the users provider-ca2 and provider-admin-role.
# See network/README.md. On a running network it says so and changes nothing.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=gen-config.sh
. "$SLASA_NETWORK_DIR/gen-config.sh"

if network_running; then
	load_state
	log "the network is already running (run folder $SLASA_RUN_DIR, port base $SLASA_PORT_BASE, channel $SLASA_CHANNEL); nothing changed"
	exit 0
fi
if [ -e "$SLASA_RUN_DIR" ]; then
	[ -f "$SLASA_RUN_DIR/.slasa-run" ] ||
		die "$SLASA_RUN_DIR exists but is not a slasa run folder; remove it or set SLASA_RUN_DIR elsewhere"
	log "removing stale run folder $SLASA_RUN_DIR (no recorded process is alive)"
	# An IPFS node started on its own keeps its PID under the run folder: stop it before removing the folder.
	bash "$SLASA_REPO_ROOT/ipfs/down.sh" >&2 || true
	rm -rf "$SLASA_RUN_DIR"
fi

SLASA_PORT_BASE="${SLASA_PORT_BASE:-27000}"
ORDERERS="${ORDERERS:-1}"
SLASA_CHANNEL="${SLASA_CHANNEL:-slasa}"
SLASA_SECOND_CA="${SLASA_SECOND_CA:-0}"
set_orgs
case "$SLASA_SECOND_CA" in 0 | 1) ;; *) die "SLASA_SECOND_CA must be 0 or 1, got '$SLASA_SECOND_CA'" ;; esac
case "$SLASA_CHANNEL" in *[!a-z0-9.-]* | [!a-z]*) die "SLASA_CHANNEL '$SLASA_CHANNEL' must start with a lower-case letter and hold only a-z, 0-9, '.', '-'" ;; esac
set_ports
# shellcheck disable=SC2046
check_ports_free $(all_network_ports)

if [ "${SLASA_SKIP_BUILD:-0}" != 1 ]; then
	"$SLASA_NETWORK_DIR/build-bins.sh"
fi
require_bins
export PATH="$SLASA_BIN_DIR:$PATH"

started=$SECONDS
mkdir -p "$SLASA_RUN_DIR"/{config,logs,pids,channel,chaincodes}
touch "$SLASA_RUN_DIR/.slasa-run"
printf '%s=%q\n' SLASA_PORT_BASE "$SLASA_PORT_BASE" ORDERERS "$ORDERERS" SLASA_CHANNEL "$SLASA_CHANNEL" \
	SLASA_SECOND_CA "$SLASA_SECOND_CA" SLASA_ORGS "$SLASA_ORGS" SLASA_RECORDED_BIN_DIR "$SLASA_BIN_DIR" >"$SLASA_RUN_DIR/state.env"

# On any failure: stop what was started and remove the run folder (keep it with SLASA_KEEP_ON_FAILURE=1).
cleanup_on_failure() {
	local rc=$?
	if [ "$rc" != 0 ]; then
		if [ "${SLASA_KEEP_ON_FAILURE:-0}" = 1 ]; then
			log "network-up failed; processes and $SLASA_RUN_DIR kept (SLASA_KEEP_ON_FAILURE=1); run network/down.sh to clean up"
		else
			log "network-up failed; stopping the processes it started"
			"$SLASA_NETWORK_DIR/down.sh" >&2 || true
		fi
	fi
}
trap cleanup_on_failure EXIT

crypto="$SLASA_RUN_DIR/crypto"
ocrypto="$crypto/ordererOrganizations/$ORDERER_DOMAIN"
gen_crypto_config
gen_configtx
gen_node_config
cryptogen generate --config="$SLASA_RUN_DIR/config/crypto-config.yaml" --output="$crypto" >"$SLASA_RUN_DIR/logs/cryptogen.log" 2>&1 ||
	{ tail_log "$SLASA_RUN_DIR/logs/cryptogen.log"; die "cryptogen failed"; }
# cryptogen only creates numbered users; issue the named ones from the same organization CAs: provider, logger and
# issuer in ProviderOrg (the issuer is an admin: only an admin of the issuer MSP may mint), then one user per
# organization (client, vendor, other, user1 of each OrgK).
mkuser="$(mkuser_bin)"
[ -x "$mkuser" ] || die "missing $mkuser; run network/build-bins.sh (make fabric-bins) first"
pdomain="$(org_domain provider)"
pcrypto="$crypto/peerOrganizations/$pdomain"
if [ "$SLASA_SECOND_CA" = 1 ]; then
	# A second root CA of ProviderOrg (ca2.providerorg.slasa.local), added to the organization's MSP folder
	# before configtxgen reads it, with the NodeOU identifiers unbound from the first CA (see mkuser).
	"$mkuser" -org-dir "$pcrypto" -make-ca ca2
fi
for u in provider logger; do
	"$mkuser" -org-dir "$pcrypto" -name "$u"
done
"$mkuser" -org-dir "$pcrypto" -name issuer -ou admin
if [ "$SLASA_SECOND_CA" = 1 ]; then
	# Two impostors of provider@providerorg.slasa.local for the attack suite: the same common name from ca2,
	# and the same common name with the admin role from the first CA.
	"$mkuser" -org-dir "$pcrypto" -name provider -ca ca2 -out "provider-ca2@$pdomain"
	"$mkuser" -org-dir "$pcrypto" -name provider -ou admin -out "provider-admin-role@$pdomain"
fi
for org in $ALL_ORGS; do
	[ "$org" = provider ] && continue
	"$mkuser" -org-dir "$crypto/peerOrganizations/$(org_domain "$org")" -name "$(org_user "$org")"
done
FABRIC_CFG_PATH="$SLASA_RUN_DIR/config" configtxgen -profile SlasaChannel -channelID "$SLASA_CHANNEL" \
	-outputBlock "$SLASA_RUN_DIR/channel/genesis.block" >"$SLASA_RUN_DIR/logs/configtxgen.log" 2>&1 ||
	{ tail_log "$SLASA_RUN_DIR/logs/configtxgen.log"; die "configtxgen failed"; }

# Fabric's default log format without the terminal colours (the logs are files).
log_format='%{time:2006-01-02 15:04:05.000 MST} %{id:04x} %{level:.4s} [%{module}] %{shortfunc} -> %{message}'

# ---- orderers
write_orderer_env() {
	local n="$1" name="orderer$1.$ORDERER_DOMAIN"
	local tls="$ocrypto/orderers/$name/tls" data="$SLASA_RUN_DIR/orderers/orderer$n"
	mkdir -p "$data"
	write_env "orderer$n" \
		FABRIC_CFG_PATH="$SLASA_RUN_DIR/config" \
		FABRIC_LOGGING_SPEC="${SLASA_ORDERER_LOGGING:-info}" \
		FABRIC_LOGGING_FORMAT="$log_format" \
		ORDERER_GENERAL_LISTENADDRESS=127.0.0.1 \
		ORDERER_GENERAL_LISTENPORT="$(orderer_port "$n")" \
		ORDERER_GENERAL_LOCALMSPID=OrdererMSP \
		ORDERER_GENERAL_LOCALMSPDIR="$ocrypto/orderers/$name/msp" \
		ORDERER_GENERAL_TLS_ENABLED=true \
		ORDERER_GENERAL_TLS_PRIVATEKEY="$tls/server.key" \
		ORDERER_GENERAL_TLS_CERTIFICATE="$tls/server.crt" \
		ORDERER_GENERAL_TLS_ROOTCAS="[$tls/ca.crt]" \
		ORDERER_GENERAL_CLUSTER_CLIENTCERTIFICATE="$tls/server.crt" \
		ORDERER_GENERAL_CLUSTER_CLIENTPRIVATEKEY="$tls/server.key" \
		ORDERER_GENERAL_CLUSTER_ROOTCAS="[$tls/ca.crt]" \
		ORDERER_GENERAL_BOOTSTRAPMETHOD=none \
		ORDERER_CHANNELPARTICIPATION_ENABLED=true \
		ORDERER_ADMIN_LISTENADDRESS="127.0.0.1:$(orderer_admin_port "$n")" \
		ORDERER_ADMIN_TLS_ENABLED=true \
		ORDERER_ADMIN_TLS_PRIVATEKEY="$tls/server.key" \
		ORDERER_ADMIN_TLS_CERTIFICATE="$tls/server.crt" \
		ORDERER_ADMIN_TLS_ROOTCAS="[$tls/ca.crt]" \
		ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED=true \
		ORDERER_ADMIN_TLS_CLIENTROOTCAS="[$tls/ca.crt]" \
		ORDERER_OPERATIONS_LISTENADDRESS="127.0.0.1:$(orderer_ops_port "$n")" \
		ORDERER_METRICS_PROVIDER=prometheus \
		ORDERER_FILELEDGER_LOCATION="$data/ledger" \
		ORDERER_CONSENSUS_WALDIR="$data/etcdraft/wal" \
		ORDERER_CONSENSUS_SNAPDIR="$data/etcdraft/snapshot"
}

# ---- peers
# Every peer skips pulling the private data of transactions that are invalid anyway: otherwise a transaction that
# writes an organization's implicit collection without its endorsement stalls that organization's peer for 60 s
# per block (pullRetryThreshold) while it asks the other members for data none of them has.
write_peer_env() {
	local org="$1" domain msp port ccport opsport
	domain="$(org_domain "$org")" msp="$(org_msp "$org")"
	port="$(peer_port "$org")" ccport="$(peer_cc_port "$org")" opsport="$(peer_ops_port "$org")"
	local name="peer0.$domain" data="$SLASA_RUN_DIR/peers/$org"
	local pdir="$crypto/peerOrganizations/$domain/peers/$name"
	mkdir -p "$data"
	# SKIPPULLINGINVALIDTRANSACTIONSDURINGCOMMIT: a peer does not block its commits for 60 s pulling the private
	# data of an invalid transaction (any member could otherwise stall it by writing its implicit collection
	# without its endorsement).
	write_env "peer-$org" \
		FABRIC_CFG_PATH="$SLASA_RUN_DIR/config" \
		FABRIC_LOGGING_SPEC="${SLASA_PEER_LOGGING:-info}" \
		FABRIC_LOGGING_FORMAT="$log_format" \
		CORE_PEER_ID="$name" \
		CORE_PEER_LOCALMSPID="$msp" \
		CORE_PEER_MSPCONFIGPATH="$pdir/msp" \
		CORE_PEER_LISTENADDRESS="127.0.0.1:$port" \
		CORE_PEER_ADDRESS="127.0.0.1:$port" \
		CORE_PEER_CHAINCODELISTENADDRESS="127.0.0.1:$ccport" \
		CORE_PEER_CHAINCODEADDRESS="127.0.0.1:$ccport" \
		CORE_PEER_GOSSIP_BOOTSTRAP="127.0.0.1:$port" \
		CORE_PEER_GOSSIP_EXTERNALENDPOINT="127.0.0.1:$port" \
		CORE_PEER_GOSSIP_RECONNECTINTERVAL=2s \
		CORE_PEER_GOSSIP_MEMBERSHIPTRACKERINTERVAL=1s \
		CORE_PEER_GOSSIP_PVTDATA_SKIPPULLINGINVALIDTRANSACTIONSDURINGCOMMIT=true \
		CORE_PEER_TLS_ENABLED=true \
		CORE_PEER_TLS_CERT_FILE="$pdir/tls/server.crt" \
		CORE_PEER_TLS_KEY_FILE="$pdir/tls/server.key" \
		CORE_PEER_TLS_ROOTCERT_FILE="$pdir/tls/ca.crt" \
		CORE_PEER_FILESYSTEMPATH="$data/ledger" \
		CORE_LEDGER_SNAPSHOTS_ROOTDIR="$data/snapshots" \
		CORE_OPERATIONS_LISTENADDRESS="127.0.0.1:$opsport" \
		CORE_METRICS_PROVIDER=prometheus \
		CORE_PEER_GATEWAY_ENABLED=true \
		CORE_PEER_GOSSIP_PVTDATA_SKIPPULLINGINVALIDTRANSACTIONSDURINGCOMMIT=true \
		CORE_CHAINCODE_EXTERNALBUILDERS="[{name: slasa_ccaas, path: $SLASA_BUILDER_DIR, propagateEnvironment: [CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG]}]"
}

for n in $(seq 1 "$ORDERERS"); do
	write_orderer_env "$n"
	start_node "orderer$n" orderer
done
for org in $PEER_ORGS; do
	write_peer_env "$org"
	start_node "peer-$org" peer node start
done

for n in $(seq 1 "$ORDERERS"); do
	wait_for "orderer$n /healthz" "$SLASA_RUN_DIR/logs/orderer$n.log" "$SLASA_RUN_DIR/pids/orderer$n.pid" \
		http_ok "http://127.0.0.1:$(orderer_ops_port "$n")/healthz"
done
for org in $PEER_ORGS; do
	wait_for "peer-$org /healthz" "$SLASA_RUN_DIR/logs/peer-$org.log" "$SLASA_RUN_DIR/pids/peer-$org.pid" \
		http_ok "http://127.0.0.1:$(peer_ops_port "$org")/healthz"
done
log "orderers and peers are healthy ($((SECONDS - started))s)"

# ---- channel: every orderer joins with the genesis block (channel participation API, mutual TLS).
oadmin="$ocrypto/users/Admin@$ORDERER_DOMAIN/tls"
for n in $(seq 1 "$ORDERERS"); do
	osnadmin channel join --channelID "$SLASA_CHANNEL" --config-block "$SLASA_RUN_DIR/channel/genesis.block" \
		-o "127.0.0.1:$(orderer_admin_port "$n")" --ca-file "$ocrypto/tlsca/tlsca.$ORDERER_DOMAIN-cert.pem" \
		--client-cert "$oadmin/client.crt" --client-key "$oadmin/client.key" >"$SLASA_RUN_DIR/logs/osnadmin-join-$n.log" 2>&1 ||
		{ tail_log "$SLASA_RUN_DIR/logs/osnadmin-join-$n.log"; tail_log "$SLASA_RUN_DIR/logs/orderer$n.log"; die "osnadmin channel join on orderer$n failed"; }
done
raft_leader_known() { grep -Eq "Raft leader changed: [0-9]+ -> [1-9]" "$1"; }
for n in $(seq 1 "$ORDERERS"); do
	wait_for "a Raft leader on orderer$n" "$SLASA_RUN_DIR/logs/orderer$n.log" "$SLASA_RUN_DIR/pids/orderer$n.pid" \
		raft_leader_known "$SLASA_RUN_DIR/logs/orderer$n.log"
done

channel_height() { # ORG: the peer's block height on the channel (0 when not joined)
	(peer_env "$1" && peer channel getinfo -c "$SLASA_CHANNEL" 2>/dev/null) | sed -n 's/.*"height":\([0-9]*\).*/\1/p'
}
height_at_least() { local h; h="$(channel_height "$1")"; [ -n "$h" ] && [ "$h" -ge "$2" ]; }

for org in $PEER_ORGS; do
	(peer_env "$org" && peer channel join -b "$SLASA_RUN_DIR/channel/genesis.block") >"$SLASA_RUN_DIR/logs/join-$org.log" 2>&1 ||
		{ tail_log "$SLASA_RUN_DIR/logs/join-$org.log"; tail_log "$SLASA_RUN_DIR/logs/peer-$org.log"; die "peer-$org failed to join $SLASA_CHANNEL"; }
done

# ---- anchor peers: one channel config update per organization (fetch, edit with jq, compute the update with
# configtxlator, sign and submit as the organization's admin).
set_anchor_peer() {
	local org="$1" want_height="$2" w="$SLASA_RUN_DIR/channel/anchor-$1" msp port
	msp="$(org_msp "$org")" port="$(peer_port "$org")"
	mkdir -p "$w"
	(
		peer_env "$org"
		# shellcheck disable=SC2046
		peer channel fetch config "$w/config_block.pb" -c "$SLASA_CHANNEL" $(orderer_flags 1)
		configtxlator proto_decode --input "$w/config_block.pb" --type common.Block --output "$w/config_block.json"
		jq '.data.data[0].payload.data.config' "$w/config_block.json" >"$w/config.json"
		jq --arg msp "$msp" --argjson port "$port" \
			'.channel_group.groups.Application.groups[$msp].values += {"AnchorPeers":{"mod_policy":"Admins","value":{"anchor_peers":[{"host":"127.0.0.1","port":$port}]},"version":"0"}}' \
			"$w/config.json" >"$w/modified.json"
		configtxlator proto_encode --input "$w/config.json" --type common.Config --output "$w/config.pb"
		configtxlator proto_encode --input "$w/modified.json" --type common.Config --output "$w/modified.pb"
		configtxlator compute_update --channel_id "$SLASA_CHANNEL" --original "$w/config.pb" --updated "$w/modified.pb" --output "$w/update.pb"
		configtxlator proto_decode --input "$w/update.pb" --type common.ConfigUpdate --output "$w/update.json"
		jq -n --arg ch "$SLASA_CHANNEL" --slurpfile u "$w/update.json" \
			'{"payload":{"header":{"channel_header":{"channel_id":$ch,"type":2}},"data":{"config_update":$u[0]}}}' >"$w/envelope.json"
		configtxlator proto_encode --input "$w/envelope.json" --type common.Envelope --output "$w/envelope.pb"
		# shellcheck disable=SC2046
		peer channel update -f "$w/envelope.pb" -c "$SLASA_CHANNEL" $(orderer_flags 1)
	) >"$SLASA_RUN_DIR/logs/anchor-$org.log" 2>&1 ||
		{ tail_log "$SLASA_RUN_DIR/logs/anchor-$org.log"; die "setting the anchor peer of $msp failed"; }
	wait_for "block $want_height on peer-$org (anchor peer update of $msp)" "$SLASA_RUN_DIR/logs/peer-$org.log" \
		"$SLASA_RUN_DIR/pids/peer-$org.pid" height_at_least "$org" "$want_height"
}
for org in $PEER_ORGS; do
	wait_for "peer-$org joined $SLASA_CHANNEL" "$SLASA_RUN_DIR/logs/peer-$org.log" "$SLASA_RUN_DIR/pids/peer-$org.pid" \
		height_at_least "$org" 1
done
# One update per organization, in table order: block 1 + i holds the i-th organization's anchor peer.
height=1
for org in $PEER_ORGS; do
	height=$((height + 1))
	set_anchor_peer "$org" "$height"
done
for org in $PEER_ORGS; do
	wait_for "channel height $height on peer-$org" "$SLASA_RUN_DIR/logs/peer-$org.log" "$SLASA_RUN_DIR/pids/peer-$org.pid" \
		height_at_least "$org" "$height"
done

# ---- gossip: the Gateway plans cross-organization endorsements from gossip membership. Wait until every peer
# knows every other peer on the channel (the gauge gossip_membership_total_peers_known of its /metrics).
peers_known() { # ORG: how many other peers of the channel the organization's peer knows
	curl -fsS --max-time 2 "http://127.0.0.1:$(peer_ops_port "$1")/metrics" 2>/dev/null |
		awk -v ch="$SLASA_CHANNEL" '$1 == "gossip_membership_total_peers_known{channel=\"" ch "\"}" { print $2 }'
}
knows_all_peers() { local k; k="$(peers_known "$1")"; [ -n "$k" ] && [ "${k%.*}" -ge "$2" ]; }
npeers="$(echo "$PEER_ORGS" | wc -w)"
for org in $PEER_ORGS; do
	wait_for "gossip membership on peer-$org (all $((npeers - 1)) other peers)" "$SLASA_RUN_DIR/logs/peer-$org.log" \
		"$SLASA_RUN_DIR/pids/peer-$org.pid" knows_all_peers "$org" "$((npeers - 1))"
done

"$SLASA_NETWORK_DIR/gen-profiles.sh"

# ---- the private IPFS node for log batches (SLASA_WITH_IPFS=0 leaves it out).
if [ "${SLASA_WITH_IPFS:-1}" != 0 ]; then
	if [ "${SLASA_SKIP_BUILD:-0}" != 1 ]; then
		bash "$SLASA_REPO_ROOT/ipfs/build.sh"
	fi
	SLASA_PORT_BASE="$SLASA_PORT_BASE" SLASA_RUN_DIR="$SLASA_RUN_DIR" bash "$SLASA_REPO_ROOT/ipfs/up.sh"

	# ---- the tunneling shim: the enclave host fetches log batches through it (untrusted; the enclave verifies).
	(cd "$SLASA_REPO_ROOT" && CGO_ENABLED=0 go build -o "$SLASA_BIN_DIR/shim-tunnel" ./cmd/shim-tunnel) ||
		die "go build ./cmd/shim-tunnel failed"
	# A node of its own (network/node.sh stop|start shim-tunnel), started the same way every time.
	write_env shim-tunnel
	start_node shim-tunnel shim-tunnel -listen "127.0.0.1:$SHIM_PORT" -ipfs-api-file "$SLASA_RUN_DIR/ipfs/api"
	echo "http://127.0.0.1:$SHIM_PORT" >"$SLASA_RUN_DIR/shim-url"
	shim_healthy() { curl -fsS "http://127.0.0.1:$SHIM_PORT/healthz" >/dev/null 2>&1; }
	wait_for "tunneling shim on port $SHIM_PORT" "$SLASA_RUN_DIR/logs/shim-tunnel.log" "$SLASA_RUN_DIR/pids/shim-tunnel.pid" shim_healthy
fi
trap - EXIT
log "network up in $((SECONDS - started))s: channel $SLASA_CHANNEL, $ORDERERS orderer(s), $SLASA_ORGS peer organization(s), ports $SLASA_PORT_BASE..$((SLASA_PORT_BASE + SLASA_PORT_BLOCK - 1)), run folder $SLASA_RUN_DIR"
log "try: source network/env.sh provider && peer channel list"
