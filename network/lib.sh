# shellcheck shell=bash disable=SC2034
# (SC2034: the variables below are used by the scripts that source this file.)
# Common definitions for the slasa native Fabric network scripts.
# Sourced by up.sh, down.sh, deploy.sh, build-bins.sh and env.sh; not run directly.
#
# Environment (all optional):
#   SLASA_RUN_DIR     run folder holding every generated file, log and PID (default <repo>/.run)
#   SLASA_CACHE_DIR   cache folder for the built binaries (default <repo>/.cache); binaries in $SLASA_CACHE_DIR/bin
#   SLASA_PORT_BASE   first port of the network's 500-port block (default 27000)
#   SLASA_ORGS        number of organizations with a peer, 3..20 (default 3; see the table below)
#   SLASA_CHANNEL     channel name (default slasa)
#   ORDERERS          number of Raft orderers, 1 or 3 (default 1)
#   SLASA_TIMEOUT     seconds to wait for each readiness signal (default 90)

SLASA_NETWORK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SLASA_REPO_ROOT="$(cd "$SLASA_NETWORK_DIR/.." && pwd)"
SLASA_CACHE_DIR="${SLASA_CACHE_DIR:-$SLASA_REPO_ROOT/.cache}"
SLASA_BIN_DIR="$SLASA_CACHE_DIR/bin"
SLASA_BUILDER_DIR="$SLASA_CACHE_DIR/ccaas-builder"
SLASA_RUN_DIR="${SLASA_RUN_DIR:-$SLASA_REPO_ROOT/.run}"
SLASA_TIMEOUT="${SLASA_TIMEOUT:-90}"
# Relative folders are taken from the caller's working directory (the scripts cd elsewhere).
case "$SLASA_CACHE_DIR" in /*) ;; *) SLASA_CACHE_DIR="$PWD/$SLASA_CACHE_DIR" ;; esac
case "$SLASA_RUN_DIR" in /*) ;; *) SLASA_RUN_DIR="$PWD/$SLASA_RUN_DIR" ;; esac
SLASA_BIN_DIR="$SLASA_CACHE_DIR/bin"
SLASA_BUILDER_DIR="$SLASA_CACHE_DIR/ccaas-builder"

# Fabric release the binaries are built from (module pseudo-version of the v2.5.9 tag).
SLASA_FABRIC_VERSION=2.5.9
SLASA_FABRIC_COMMIT=7c3876255bf0
SLASA_FABRIC_BINS="peer orderer configtxgen configtxlator cryptogen osnadmin"

# Organizations. OrdererOrg orders; the application organizations (channel members) are, in this order,
# ProviderOrg, ClientOrg, VendorOrg, OtherOrg, then Org5 .. OrgN for SLASA_ORGS=N (3 <= N <= 20, default 3):
#
#   key       cryptogen name  MSP ID           domain                   named user   peer index
#   provider  ProviderOrg     ProviderOrgMSP   providerorg.slasa.local  provider (and logger, issuer)  0
#   client    ClientOrg       ClientOrgMSP     clientorg.slasa.local    client       1
#   vendor    VendorOrg       VendorOrgMSP     vendororg.slasa.local    vendor       2
#   other     OtherOrg        OtherOrgMSP      otherorg.slasa.local     other        3 (a peer only when N >= 4)
#   orgK      OrgK            OrgKMSP          orgK.slasa.local         user1        K-1 (K = 5..N)
#
# N counts the organizations with a peer. With N = 3, OtherOrg is a channel member without a peer (MSP only):
# its clients reach the channel through ClientOrg's peer (its Gateway); the security tests use it as an outsider.
# internal/fabnet (OrgSpecOf, NetworkOrgs) mirrors this table for the Go side.
ORDERER_DOMAIN=orderer.slasa.local
SLASA_MIN_ORGS=3
SLASA_MAX_ORGS=20 # peer i listens at B+100+10*i, below the chaincode block at B+300

# org_msp ORG / org_domain ORG / org_name ORG / org_user ORG / org_index ORG: the table above, by key.
org_msp() {
	local n
	n="$(org_name "$1")" || exit 1
	echo "${n}MSP"
}
org_domain() {
	case "$1" in
	provider | client | vendor | other) echo "${1}org.slasa.local" ;;
	*) org_name "$1" >/dev/null && echo "$1.slasa.local" ;;
	esac
}
org_name() {
	case "$1" in
	provider) echo ProviderOrg ;;
	client) echo ClientOrg ;;
	vendor) echo VendorOrg ;;
	other) echo OtherOrg ;;
	org[5-9] | org1[0-9] | org20) echo "Org${1#org}" ;;
	*) die "unknown org '$1' (want provider, client, vendor, other or org5..org$SLASA_MAX_ORGS)" ;;
	esac
}
org_user() {
	case "$1" in
	provider | client | vendor | other) echo "$1" ;;
	*) org_name "$1" >/dev/null && echo user1 ;;
	esac
}
org_index() {
	case "$1" in
	provider) echo 0 ;;
	client) echo 1 ;;
	vendor) echo 2 ;;
	other) echo 3 ;;
	*) org_name "$1" >/dev/null && echo $((${1#org} - 1)) ;;
	esac
}
# org_has_peer ORG: true when the organization runs a peer (every org but OtherOrg with SLASA_ORGS=3).
org_has_peer() { case " $PEER_ORGS " in *" $1 "*) return 0 ;; esac; return 1; }
# gateway_org ORG: the organization whose peer ORG's clients use: ORG itself, or ClientOrg for a peerless OtherOrg.
gateway_org() { if org_has_peer "$1"; then echo "$1"; else echo client; fi; }

# set_orgs: ALL_ORGS (every application organization, in table order) and PEER_ORGS (those with a peer) from
# SLASA_ORGS. Each organization with a peer runs its own chaincode servers and approves the deploy configuration.
set_orgs() {
	SLASA_ORGS="${SLASA_ORGS:-3}"
	case "$SLASA_ORGS" in '' | *[!0-9]* | 0*) die "SLASA_ORGS must be a number from $SLASA_MIN_ORGS to $SLASA_MAX_ORGS, got '$SLASA_ORGS'" ;; esac
	if [ "$SLASA_ORGS" -lt "$SLASA_MIN_ORGS" ] || [ "$SLASA_ORGS" -gt "$SLASA_MAX_ORGS" ]; then
		die "SLASA_ORGS must be a number from $SLASA_MIN_ORGS to $SLASA_MAX_ORGS (organizations with a peer), got $SLASA_ORGS"
	fi
	ALL_ORGS="provider client vendor other"
	PEER_ORGS="provider client vendor"
	[ "$SLASA_ORGS" -lt 4 ] || PEER_ORGS="$PEER_ORGS other"
	local k
	for k in $(seq 5 "$SLASA_ORGS"); do
		ALL_ORGS="$ALL_ORGS org$k"
		PEER_ORGS="$PEER_ORGS org$k"
	done
}

# org_of_msp MSPID: the peer organization whose MSP ID is MSPID.
org_of_msp() {
	local o
	for o in $PEER_ORGS; do
		[ "$(org_msp "$o")" = "$1" ] && { echo "$o"; return 0; }
	done
	die "MSP '$1' is not the MSP of an organization with a peer ($(for o in $PEER_ORGS; do org_msp "$o"; done | paste -sd, -))"
}

# any_two_policy: the default endorsement policy of the application chaincodes, OutOf(2, <every peer org>.peer):
# any two organizations' peers (see network/README.md, "Endorsement policies").
any_two_policy() {
	local o p=""
	for o in $PEER_ORGS; do p="$p,'$(org_msp "$o").peer'"; done
	echo "OutOf(2$p)"
}

# Operator choices of the deploy configuration (network/deploy-config.sh) and the chaincode names deploy-all.sh
# deploys under. The enclave host organization's chaincode servers are the ones network.json's "address" names.
SLASA_ISSUER_MSP="${SLASA_ISSUER_MSP:-ProviderOrgMSP}"
SLASA_ENCLAVE_HOST_MSP="${SLASA_ENCLAVE_HOST_MSP:-ProviderOrgMSP}"
SLASA_ATTESTATION="${SLASA_ATTESTATION:-simulated}"
SLASA_CC_AGREEMENT="${SLASA_CC_AGREEMENT:-agreement}"
SLASA_CC_REFUND="${SLASA_CC_REFUND:-refund}"
SLASA_CC_REGISTRY="${SLASA_CC_REGISTRY:-ercc}"
SLASA_CC_ENCLAVE="${SLASA_CC_ENCLAVE:-slaenclave}"
SLASA_CC_TICKET="${SLASA_CC_TICKET:-ticket}"

# deploy_config_file ORG: the deploy configuration the organization's chaincode servers read.
deploy_config_file() { echo "$SLASA_RUN_DIR/orgs/$1/deploy-config.json"; }

# mkuser_bin: the slasa-mkuser binary of this checkout's sources. The name carries a hash of the sources, so
# checkouts that share one cache folder never run each other's version (build-bins.sh builds it).
mkuser_bin() {
	echo "$SLASA_BIN_DIR/slasa-mkuser-$(cat "$SLASA_NETWORK_DIR"/tools/mkuser/*.go | sha256sum | cut -c1-16)"
}

# build_cli: builds the slasa CLI of this checkout into the run folder (one per network, so networks of
# different checkouts sharing a cache folder do not overwrite each other's) and prints its path.
build_cli() {
	mkdir -p "$SLASA_RUN_DIR/bin"
	(cd "$SLASA_REPO_ROOT" && CGO_ENABLED=0 go build -o "$SLASA_RUN_DIR/bin/slasa" ./cmd/slasa) || die "go build ./cmd/slasa failed"
	echo "$SLASA_RUN_DIR/bin/slasa"
}

log() { printf '[network] %s\n' "$*" >&2; }
die() {
	printf '[network] ERROR: %s\n' "$*" >&2
	exit 1
}

# tail_log FILE: print the last lines of a log file to stderr (used on every failure).
tail_log() {
	if [ -f "$1" ]; then
		printf '[network] ---- last 40 lines of %s ----\n' "$1" >&2
		tail -n 40 "$1" >&2
		printf '[network] ---- end of %s ----\n' "$1" >&2
	fi
}

# load_state: read the state recorded by up.sh (port base, orderer count, channel, organizations) when the network
# exists, else derive it from the environment. Always sets the organization and port variables.
load_state() {
	if [ -f "$SLASA_RUN_DIR/state.env" ]; then
		# A network of an older up.sh has no SLASA_ORGS in its state: it had two organizations with a peer.
		SLASA_ORGS=""
		# shellcheck disable=SC1091
		. "$SLASA_RUN_DIR/state.env"
		[ -n "$SLASA_ORGS" ] || die "$SLASA_RUN_DIR/state.env records no SLASA_ORGS: the network was started by an older network/up.sh; stop it (network/down.sh) and start it again"
	else
		SLASA_PORT_BASE="${SLASA_PORT_BASE:-27000}"
		ORDERERS="${ORDERERS:-1}"
		SLASA_CHANNEL="${SLASA_CHANNEL:-slasa}"
	fi
	SLASA_SECOND_CA="${SLASA_SECOND_CA:-0}"
	set_orgs
	set_ports
}

# Port layout: a block of SLASA_PORT_BLOCK (500) ports from SLASA_PORT_BASE (B):
#   orderer N (N=1..3):  B+10*(N-1)+0 listen (clients and Raft cluster), +1 admin (osnadmin), +2 operations
#   IPFS, shim:          B+80 IPFS API, B+81 IPFS gateway, B+82 tunneling shim
#   peer of org index i: B+100+10*i listen, +1 chaincode listener, +2 operations (i = 0..19, see org_index)
#   chaincode servers:   B+300 .. B+499, one per organization with a peer and deployed chaincode name
SLASA_PORT_BLOCK=500
set_ports() {
	case "$SLASA_PORT_BASE" in '' | *[!0-9]*) die "SLASA_PORT_BASE must be a number, got '$SLASA_PORT_BASE'" ;; esac
	if [ "$SLASA_PORT_BASE" -lt 1024 ] || [ "$SLASA_PORT_BASE" -gt $((65536 - SLASA_PORT_BLOCK)) ]; then
		die "SLASA_PORT_BASE must be between 1024 and $((65536 - SLASA_PORT_BLOCK)) (the block needs $SLASA_PORT_BLOCK ports), got $SLASA_PORT_BASE"
	fi
	case "$ORDERERS" in 1 | 3) ;; *) die "ORDERERS must be 1 or 3, got '$ORDERERS'" ;; esac
	SHIM_PORT=$((SLASA_PORT_BASE + 82)) # the tunneling shim (IPFS uses +80 and +81, see ipfs/lib.sh)
	CC_PORT_FIRST=$((SLASA_PORT_BASE + 300))
	CC_PORT_LAST=$((SLASA_PORT_BASE + SLASA_PORT_BLOCK - 1))
}
orderer_port() { echo $((SLASA_PORT_BASE + 10 * ($1 - 1))); }
orderer_admin_port() { echo $((SLASA_PORT_BASE + 10 * ($1 - 1) + 1)); }
orderer_ops_port() { echo $((SLASA_PORT_BASE + 10 * ($1 - 1) + 2)); }
# peer_port ORG / peer_cc_port ORG / peer_ops_port ORG: the ports of the organization's peer.
peer_port() { echo $((SLASA_PORT_BASE + 100 + 10 * $(org_index "$1"))); }
peer_cc_port() { echo $((SLASA_PORT_BASE + 101 + 10 * $(org_index "$1"))); }
peer_ops_port() { echo $((SLASA_PORT_BASE + 102 + 10 * $(org_index "$1"))); }
# peer_tls_ca ORG: the TLS CA certificate of the organization's peer (to verify it).
peer_tls_ca() {
	local d
	d="$(org_domain "$1")"
	echo "$SLASA_RUN_DIR/crypto/peerOrganizations/$d/peers/peer0.$d/tls/ca.crt"
}

# all_network_ports: every port up.sh binds, one a line.
all_network_ports() {
	local n o
	for n in $(seq 1 "$ORDERERS"); do
		orderer_port "$n"
		orderer_admin_port "$n"
		orderer_ops_port "$n"
	done
	for o in $PEER_ORGS; do
		peer_port "$o"
		peer_cc_port "$o"
		peer_ops_port "$o"
	done
	if [ "${SLASA_WITH_IPFS:-1}" != 0 ]; then echo "$SHIM_PORT"; fi
}

# port_in_use PORT: true when something listens on 127.0.0.1:PORT or on any address with that port.
port_in_use() {
	ss -Htln "sport = :$1" 2>/dev/null | grep -q . && return 0
	# Fallback when ss filters are unsupported: try to connect.
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
	return 1
}

# check_ports_free PORT...: fail naming the first busy port.
check_ports_free() {
	local p
	for p in "$@"; do
		if port_in_use "$p"; then
			die "port $p is already in use (port block starts at SLASA_PORT_BASE=$SLASA_PORT_BASE); free it or choose another base, e.g. SLASA_PORT_BASE=$((SLASA_PORT_BASE + 1000))"
		fi
	done
}

# pid_alive PID: the process exists and is not a zombie (an orphaned node is reaped by init, possibly late).
pid_alive() {
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
	local state
	state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 0
	[ "$state" != Z ]
}

# pid_is_ours PID: the live process runs a program of this network (a Fabric binary of the cache folder
# recorded at network-up, or a chaincode server of the run folder), so a PID reused after a reboot or a
# crash is never mistaken for, or stopped as, one of ours.
pid_is_ours() {
	pid_alive "$1" || return 1
	local exe bindir rundir
	exe="$(readlink "/proc/$1/exe" 2>/dev/null)" || return 0 # no /proc: trust the record
	bindir="$(readlink -f "${SLASA_RECORDED_BIN_DIR:-$SLASA_BIN_DIR}" 2>/dev/null)"
	rundir="$(readlink -f "$SLASA_RUN_DIR" 2>/dev/null)"
	case "$exe" in "$bindir"/* | "$rundir"/*) return 0 ;; esac
	return 1
}

# network_running: true when the run folder records at least one live process.
network_running() {
	local f pid
	[ -d "$SLASA_RUN_DIR/pids" ] || return 1
	load_recorded_bin_dir
	for f in "$SLASA_RUN_DIR"/pids/*.pid; do
		[ -f "$f" ] || continue
		pid="$(cat "$f")"
		pid_is_ours "$pid" && return 0
	done
	return 1
}

# load_recorded_bin_dir: the binary folder network-up used (state.env), for pid_is_ours.
load_recorded_bin_dir() {
	# shellcheck disable=SC1091
	SLASA_RECORDED_BIN_DIR="$(. "$SLASA_RUN_DIR/state.env" 2>/dev/null && echo "${SLASA_RECORDED_BIN_DIR:-}")" || true
}

# stop_pid_file FILE: stop the process recorded in FILE (TERM, then KILL after a grace period).
stop_pid_file() {
	local f="$1" pid i
	pid="$(cat "$f" 2>/dev/null)"
	case "$pid" in '' | *[!0-9]*) rm -f "$f"; return 0 ;; esac
	if pid_alive "$pid" && ! pid_is_ours "$pid"; then
		log "PID $pid ($(basename "$f" .pid)) now belongs to another program; not stopping it"
	elif pid_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 1 50); do
			pid_alive "$pid" || break
			sleep 0.1
		done
		if pid_alive "$pid"; then
			log "process $pid ($(basename "$f" .pid)) did not stop on TERM; sending KILL"
			kill -KILL "$pid" 2>/dev/null
			sleep 0.2
		fi
	fi
	rm -f "$f"
}

# wait_for DESCRIPTION LOGFILE PIDFILE COMMAND...: run COMMAND until it succeeds, at most SLASA_TIMEOUT seconds.
# Fails early when the process in PIDFILE died. On failure prints the tail of LOGFILE.
wait_for() {
	local what="$1" logfile="$2" pidfile="$3"
	shift 3
	local deadline=$((SECONDS + SLASA_TIMEOUT))
	while ! "$@" >/dev/null 2>&1; do
		if [ -n "$pidfile" ] && ! pid_alive "$(cat "$pidfile" 2>/dev/null)"; then
			tail_log "$logfile"
			die "$what: the process exited (see $logfile)"
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			tail_log "$logfile"
			die "timed out after ${SLASA_TIMEOUT}s waiting for $what"
		fi
		sleep 0.3
	done
}

# http_ok URL: true when URL answers 200.
http_ok() { curl -fsS -o /dev/null --max-time 2 "$1"; }

# require_bins: fail when the Fabric binaries are missing.
require_bins() {
	local b
	for b in $SLASA_FABRIC_BINS; do
		[ -x "$SLASA_BIN_DIR/$b" ] || die "missing $SLASA_BIN_DIR/$b; run network/build-bins.sh (make fabric-bins) first"
	done
}

# Peer CLI environment for an organization's admin (or another user of that org).
# peer_env ORG [USER]  with ORG an organization key (provider, client, vendor, other, orgK) and USER admin (default)
# or a user name of the organization. A peerless OtherOrg's identities talk to ClientOrg's peer.
peer_env() {
	local org="$1" user="${2:-admin}" domain msp gw port tlsca
	domain="$(org_domain "$org")" msp="$(org_msp "$org")" gw="$(gateway_org "$org")"
	port="$(peer_port "$gw")" tlsca="$(peer_tls_ca "$gw")"
	local uname="Admin"
	[ "$user" = admin ] || uname="$user"
	export FABRIC_CFG_PATH="$SLASA_RUN_DIR/config"
	export CORE_PEER_TLS_ENABLED=true
	export CORE_PEER_LOCALMSPID="$msp"
	export CORE_PEER_ADDRESS="127.0.0.1:$port"
	export CORE_PEER_TLS_ROOTCERT_FILE="$tlsca"
	export CORE_PEER_MSPCONFIGPATH="$SLASA_RUN_DIR/crypto/peerOrganizations/$domain/users/$uname@$domain/msp"
}

# Orderer connection flags for the peer CLI (orderer 1 unless told).
orderer_flags() {
	local n="${1:-1}"
	echo "-o 127.0.0.1:$(orderer_port "$n") --ordererTLSHostnameOverride orderer$n.$ORDERER_DOMAIN --tls --cafile $SLASA_RUN_DIR/crypto/ordererOrganizations/$ORDERER_DOMAIN/tlsca/tlsca.$ORDERER_DOMAIN-cert.pem"
}

# write_env NAME KEY=VALUE...: record a node's environment in $SLASA_RUN_DIR/nodes/NAME.env, so start_node
# (and network/node.sh, for fault tests that stop and restart a node) can start it the same way every time.
write_env() {
	local name="$1" kv
	shift
	mkdir -p "$SLASA_RUN_DIR/nodes"
	for kv in "$@"; do
		printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"
	done >"$SLASA_RUN_DIR/nodes/$name.env"
}

# start_node NAME COMMAND...: start COMMAND (from $SLASA_BIN_DIR) with the environment recorded by write_env;
# its output goes to $SLASA_RUN_DIR/logs/NAME.log (appended, so a restarted node keeps its history).
start_node() {
	local name="$1"
	shift
	[ -f "$SLASA_RUN_DIR/nodes/$name.env" ] || die "no recorded environment for node $name"
	mkdir -p "$SLASA_RUN_DIR/pids" "$SLASA_RUN_DIR/logs"
	# shellcheck disable=SC2016 # $1 and $@ belong to the inner shell
	PATH="$SLASA_BIN_DIR:$PATH" setsid bash -c '. "$1"; shift; exec "$@"' start_node \
		"$SLASA_RUN_DIR/nodes/$name.env" "$@" >>"$SLASA_RUN_DIR/logs/$name.log" 2>&1 </dev/null &
	echo $! >"$SLASA_RUN_DIR/pids/$name.pid"
}
