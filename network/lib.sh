# shellcheck shell=bash disable=SC2034
# (SC2034: the variables below are used by the scripts that source this file.)
# Common definitions for the slasa native Fabric network scripts.
# Sourced by up.sh, down.sh, deploy.sh, build-bins.sh and env.sh; not run directly.
#
# Environment (all optional):
#   SLASA_RUN_DIR     run folder holding every generated file, log and PID (default <repo>/.run)
#   SLASA_CACHE_DIR   cache folder for the built binaries (default <repo>/.cache); binaries in $SLASA_CACHE_DIR/bin
#   SLASA_PORT_BASE   first port of the network's port block (default 27000)
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

# Domains of the three organizations (cryptogen names every certificate after them).
ORDERER_DOMAIN=orderer.slasa.local
PROVIDER_DOMAIN=providerorg.slasa.local
CLIENT_DOMAIN=clientorg.slasa.local
# OtherOrg is a channel member without a peer (MSP only): a third organization whose clients reach the channel
# through ClientOrg's peer (its Gateway); the security tests use it as an outsider to an SLA.
OTHER_DOMAIN=otherorg.slasa.local

# The organizations with a peer, by their short name (network.json's orgs key). Each one runs its own chaincode
# servers and approves the deploy configuration.
PEER_ORGS="provider client"

# org_msp ORG / org_domain ORG: MSP ID and domain of an organization (provider, client or other).
org_msp() {
	case "$1" in
	provider) echo ProviderOrgMSP ;;
	client) echo ClientOrgMSP ;;
	other) echo OtherOrgMSP ;;
	*) die "unknown org '$1' (want provider, client or other)" ;;
	esac
}
org_domain() {
	case "$1" in
	provider) echo "$PROVIDER_DOMAIN" ;;
	client) echo "$CLIENT_DOMAIN" ;;
	other) echo "$OTHER_DOMAIN" ;;
	*) die "unknown org '$1' (want provider, client or other)" ;;
	esac
}
# org_of_msp MSPID: the peer organization whose MSP ID is MSPID.
org_of_msp() {
	local o
	for o in $PEER_ORGS; do
		[ "$(org_msp "$o")" = "$1" ] && { echo "$o"; return 0; }
	done
	die "MSP '$1' is not the MSP of an organization with a peer ($(for o in $PEER_ORGS; do org_msp "$o"; done | paste -sd, -))"
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

# load_state: read the state recorded by up.sh (port base, orderer count, channel) when the network exists,
# else derive it from the environment. Always sets the port variables.
load_state() {
	if [ -f "$SLASA_RUN_DIR/state.env" ]; then
		# shellcheck disable=SC1091
		. "$SLASA_RUN_DIR/state.env"
	else
		SLASA_PORT_BASE="${SLASA_PORT_BASE:-27000}"
		ORDERERS="${ORDERERS:-1}"
		SLASA_CHANNEL="${SLASA_CHANNEL:-slasa}"
	fi
	SLASA_SECOND_CA="${SLASA_SECOND_CA:-0}"
	set_ports
}

# Port layout, relative to SLASA_PORT_BASE (B):
#   orderer N (N=1..3): B+10*(N-1)+0 listen (clients and Raft cluster), +1 admin (osnadmin), +2 operations
#   ProviderOrg peer:   B+100 listen, +101 chaincode listener, +102 operations
#   ClientOrg peer:     B+110 listen, +111 chaincode listener, +112 operations
#   chaincode servers:  B+200 .. B+249, one per deployed chaincode name
set_ports() {
	case "$SLASA_PORT_BASE" in '' | *[!0-9]*) die "SLASA_PORT_BASE must be a number, got '$SLASA_PORT_BASE'" ;; esac
	if [ "$SLASA_PORT_BASE" -lt 1024 ] || [ "$SLASA_PORT_BASE" -gt 65280 ]; then
		die "SLASA_PORT_BASE must be between 1024 and 65280 (the block needs 250 ports), got $SLASA_PORT_BASE"
	fi
	case "$ORDERERS" in 1 | 3) ;; *) die "ORDERERS must be 1 or 3, got '$ORDERERS'" ;; esac
	PROVIDER_PEER_PORT=$((SLASA_PORT_BASE + 100))
	PROVIDER_CC_PORT=$((SLASA_PORT_BASE + 101))
	PROVIDER_OPS_PORT=$((SLASA_PORT_BASE + 102))
	CLIENT_PEER_PORT=$((SLASA_PORT_BASE + 110))
	CLIENT_CC_PORT=$((SLASA_PORT_BASE + 111))
	CLIENT_OPS_PORT=$((SLASA_PORT_BASE + 112))
	SHIM_PORT=$((SLASA_PORT_BASE + 82)) # the tunneling shim (IPFS uses +80 and +81, see ipfs/lib.sh)
	CC_PORT_FIRST=$((SLASA_PORT_BASE + 200))
	CC_PORT_LAST=$((SLASA_PORT_BASE + 249))
}
orderer_port() { echo $((SLASA_PORT_BASE + 10 * ($1 - 1))); }
orderer_admin_port() { echo $((SLASA_PORT_BASE + 10 * ($1 - 1) + 1)); }
orderer_ops_port() { echo $((SLASA_PORT_BASE + 10 * ($1 - 1) + 2)); }

# all_network_ports: every port up.sh binds, one a line.
all_network_ports() {
	local n
	for n in $(seq 1 "$ORDERERS"); do
		orderer_port "$n"
		orderer_admin_port "$n"
		orderer_ops_port "$n"
	done
	echo "$PROVIDER_PEER_PORT $PROVIDER_CC_PORT $PROVIDER_OPS_PORT $CLIENT_PEER_PORT $CLIENT_CC_PORT $CLIENT_OPS_PORT" | tr ' ' '\n'
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
# peer_env ORG [USER]  with ORG provider|client|other and USER admin (default) or a cryptogen user name.
# OtherOrg has no peer: its identities talk to ClientOrg's peer.
peer_env() {
	local org="$1" user="${2:-admin}" domain msp port peerdomain=""
	case "$org" in
	provider) domain=$PROVIDER_DOMAIN msp=ProviderOrgMSP port=$PROVIDER_PEER_PORT ;;
	client) domain=$CLIENT_DOMAIN msp=ClientOrgMSP port=$CLIENT_PEER_PORT ;;
	other) domain=$OTHER_DOMAIN msp=OtherOrgMSP port=$CLIENT_PEER_PORT peerdomain=$CLIENT_DOMAIN ;;
	*) die "unknown org '$org' (want provider, client or other)" ;;
	esac
	peerdomain="${peerdomain:-$domain}"
	local uname="Admin"
	[ "$user" = admin ] || uname="$user"
	export FABRIC_CFG_PATH="$SLASA_RUN_DIR/config"
	export CORE_PEER_TLS_ENABLED=true
	export CORE_PEER_LOCALMSPID="$msp"
	export CORE_PEER_ADDRESS="127.0.0.1:$port"
	export CORE_PEER_TLS_ROOTCERT_FILE="$SLASA_RUN_DIR/crypto/peerOrganizations/$peerdomain/peers/peer0.$peerdomain/tls/ca.crt"
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
