#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Deploys a chaincode of this repository to the running network as chaincode-as-a-service (CCaaS):
#
#   network/deploy.sh NAME [CCNAME] [--name CCNAME] [--policy POLICY]
#
# NAME selects the source (table below); CCNAME is the chaincode name on the channel (default NAME), so the same
# source can be deployed twice under two names. Every organization with a peer runs its OWN server process of the
# chaincode: go build the server binary; per organization package a connection.json pointing at its own server
# (hence its own package ID), install it on its own peer, (re)start its server (node chaincode-CCNAME-ORG: PID,
# log and environment in the run folder; CORE_PEER_LOCALMSPID names its organization's MSP, which the chaincode
# reads with shim.GetMSPID()) and approve the definition with its own package ID (installs and approvals of the
# organizations run in parallel); then commit, endorsed by every organization's peer (the channel's
# LifecycleEndorsement is MAJORITY Endorsement). Redeploying a CCNAME bumps its sequence and restarts the servers.
#
# POLICY is a signature policy, or any-two: OutOf(2, <every organization with a peer>.peer), any two organizations
# (see network/README.md, "Endorsement policies"), the default for agreement, refund, ercc, slaenclave and ticket; the test
# and benchmark chaincodes smoke, baseline and guarded default to AND('ProviderOrgMSP.peer','ClientOrgMSP.peer').
#
# The servers of agreement, refund, ercc, slaenclave and ticket (and of the test chaincode guarded) get their
# organization's deploy configuration (SLASA_DEPLOY_CONFIG=$SLASA_RUN_DIR/orgs/ORG/deploy-config.json, written by
# network/deploy-config.sh when it is missing) and SLASA_MAX_CLOCK_SKEW when set. For slaenclave every organization's server also gets the tunneling
# shim URL (SLASA_SHIM_URL_OVERRIDE replaces it; the security tests put a lying proxy there) and its own seal
# file; only the enclave host organization's enclave is initialised (slasa enclave setup).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	cat >&2 <<'EOF'
usage: network/deploy.sh NAME [CCNAME] [--name CCNAME] [--policy POLICY]
  NAME     smoke | agreement | refund | ercc | slaenclave | ticket | baseline | guarded   (see network/deploy.sh)
  CCNAME   chaincode name on the channel (default NAME)
  POLICY   endorsement signature policy, or any-two: any two organizations,
           OutOf(2,'ProviderOrgMSP.peer','ClientOrgMSP.peer','VendorOrgMSP.peer',...) over every organization
           with a peer (default: agreement, refund, ercc, slaenclave, ticket: any-two; smoke, baseline, guarded:
           AND('ProviderOrgMSP.peer','ClientOrgMSP.peer'))
EOF
	exit 2
}

# ---- the chaincode table: NAME -> source directory (a main package that serves CCaaS from CHAINCODE_ID and
# CHAINCODE_SERVER_ADDRESS) and build kind. Extension points:
#   - agreement, refund: Go chaincodes under chaincode/ (built like smoke once they exist).
#   - enclave chaincodes under fpc/: add a line with kind "fpc" and a build_fpc function below when they land.
chaincode_source() {
	case "$1" in
	smoke) echo "go test/chaincode/smoke" ;;
	agreement) echo "go chaincode/agreement" ;;
	refund) echo "go chaincode/refund" ;;
	ercc) echo "go fpc/ercc" ;;
	slaenclave) echo "go fpc/slaenclave/cmd/slaenclave" ;;
	ticket) echo "go chaincode/ticket" ;;
	baseline) echo "go bench/chaincode/baseline" ;;
	guarded) echo "go test/chaincode/guarded" ;;
	*) return 1 ;;
	esac
}

[ $# -ge 1 ] || usage
NAME="$1"
shift
CCNAME="$NAME"
POLICY=""
while [ $# -gt 0 ]; do
	case "$1" in
	--name) [ $# -ge 2 ] || usage; CCNAME="$2"; shift 2 ;;
	--name=*) CCNAME="${1#--name=}"; shift ;;
	--policy) [ $# -ge 2 ] || usage; POLICY="$2"; shift 2 ;;
	--policy=*) POLICY="${1#--policy=}"; shift ;;
	-h | --help) usage ;;
	-*) log "unknown option $1"; usage ;;
	*) CCNAME="$1"; shift ;;
	esac
done
src="$(chaincode_source "$NAME")" || die "unknown chaincode '$NAME' (known: smoke, agreement, refund, ercc, slaenclave, ticket, baseline, guarded)"
kind="${src%% *}" dir="${src#* }"
case "$CCNAME" in *[!a-zA-Z0-9_-]* | [!a-zA-Z]*) die "chaincode name '$CCNAME' must start with a letter and hold only letters, digits, '_' and '-'" ;; esac
[ -d "$SLASA_REPO_ROOT/$dir" ] || die "chaincode '$NAME' has no source yet: $dir does not exist"

load_state
network_running || die "the network is not running (run folder $SLASA_RUN_DIR); run make network-up first"
if [ -z "$POLICY" ]; then
	case "$NAME" in
	smoke | baseline | guarded) POLICY="AND('ProviderOrgMSP.peer','ClientOrgMSP.peer')" ;;
	*) POLICY=any-two ;;
	esac
fi
[ "$POLICY" != any-two ] || POLICY="$(any_two_policy)"
require_bins
export PATH="$SLASA_BIN_DIR:$PATH"
export FABRIC_CFG_PATH="$SLASA_RUN_DIR/config"
started=$SECONDS

work="$SLASA_RUN_DIR/chaincodes/$CCNAME"
mkdir -p "$work"
host_org="$(org_of_msp "$SLASA_ENCLAVE_HOST_MSP")"

# ---- ports: one per organization, fixed per chaincode name for the life of the network.
for org in $PEER_ORGS; do
	[ -f "$work/port-$org" ] && continue
	port=""
	for p in $(seq "$CC_PORT_FIRST" "$CC_PORT_LAST"); do
		grep -qx "$p" "$SLASA_RUN_DIR"/chaincodes/*/port-* 2>/dev/null && continue
		port_in_use "$p" && continue
		port=$p
		break
	done
	[ -n "$port" ] || die "no free chaincode port left in $CC_PORT_FIRST..$CC_PORT_LAST"
	echo "$port" >"$work/port-$org"
done
port_of() { cat "$work/port-$1"; }

# ---- the deploy configuration of every organization (before any server that needs one starts).
needs_config=0
case "$NAME" in agreement | refund | ercc | slaenclave | ticket | guarded) needs_config=1 ;; esac
if [ "$needs_config" = 1 ]; then
	for org in $PEER_ORGS; do
		if [ ! -f "$(deploy_config_file "$org")" ]; then
			"$SLASA_NETWORK_DIR/deploy-config.sh"
			break
		fi
	done
fi

# ---- build
case "$kind" in
go)
	(cd "$SLASA_REPO_ROOT" && CGO_ENABLED=0 go build -o "$work/server" "./$dir") ||
		die "go build ./$dir failed"
	;;
*) die "build kind '$kind' of chaincode '$NAME' is not supported yet" ;;
esac

# ---- sequence: one more than the committed definition (1 on first deploy).
committed_seq() {
	(peer_env provider && peer lifecycle chaincode querycommitted -C "$SLASA_CHANNEL" -n "$CCNAME" -O json 2>/dev/null) |
		jq -r '.sequence // empty' 2>/dev/null || true
}
cur="$(committed_seq)"
seq=$((${cur:-0} + 1))

# each_peer_org FUNC: runs FUNC ORG for every organization with a peer at once, each one's output in
# $work/FUNC-ORG.log; fails naming every organization whose FUNC failed, with the output of the first.
each_peer_org() {
	local fn="$1" org pids=() failed="" i=0
	for org in $PEER_ORGS; do
		"$fn" "$org" >"$work/$fn-$org.log" 2>&1 &
		pids+=($!)
	done
	for org in $PEER_ORGS; do
		wait "${pids[$i]}" || failed="$failed $org"
		i=$((i + 1))
	done
	[ -z "$failed" ] && return 0
	org="${failed# }" org="${org%% *}"
	cat "$work/$fn-$org.log" >&2
	die "$fn failed for:$failed (logs: $work/$fn-ORG.log)"
}

# ---- per organization: package (CCaaS: connection.json inside code.tar.gz, plus metadata.json), then install it
# on the organization's own peer (an already installed identical package is fine), all organizations at once.
declare -A pkgid
for org in $PEER_ORGS; do
	label="${CCNAME}_${seq}_$org"
	pkgdir="$work/pkg-$seq-$org"
	rm -rf "$pkgdir"
	mkdir -p "$pkgdir/src"
	jq -n --arg a "127.0.0.1:$(port_of "$org")" '{address: $a, dial_timeout: "10s", tls_required: false}' >"$pkgdir/src/connection.json"
	jq -n --arg l "$label" '{type: "ccaas", label: $l}' >"$pkgdir/metadata.json"
	tar -C "$pkgdir/src" -czf "$pkgdir/code.tar.gz" connection.json
	tar -C "$pkgdir" -czf "$work/$label.tar.gz" metadata.json code.tar.gz
	pkgid[$org]="$(peer lifecycle chaincode calculatepackageid "$work/$label.tar.gz")" ||
		die "peer lifecycle chaincode calculatepackageid failed"
done
install_on_peer() {
	local out
	out="$( (peer_env "$1" && peer lifecycle chaincode install "$work/${CCNAME}_${seq}_$1.tar.gz") 2>&1)" && return 0
	echo "$out" | grep -q "chaincode already successfully installed" && return 0
	echo "$out"
	return 1
}
each_peer_org install_on_peer

# ---- (re)start each organization's server
# A network deployed by an older deploy.sh ran one server for both organizations: stop it.
if [ -f "$SLASA_RUN_DIR/pids/chaincode-$CCNAME.pid" ]; then
	stop_pid_file "$SLASA_RUN_DIR/pids/chaincode-$CCNAME.pid"
fi
mkdir -p "$SLASA_RUN_DIR/logs"
[ "$NAME" != slaenclave ] || [ -f "$SLASA_RUN_DIR/shim-url" ] || [ -n "${SLASA_SHIM_URL_OVERRIDE:-}" ] ||
	log "warning: no tunneling shim in this network (SLASA_WITH_IPFS=0?); IngestBatch will fail"
for org in $PEER_ORGS; do
	node="chaincode-$CCNAME-$org"
	port="$(port_of "$org")"
	if [ -f "$SLASA_RUN_DIR/pids/$node.pid" ]; then
		stop_pid_file "$SLASA_RUN_DIR/pids/$node.pid"
	fi
	wait_port_free() { ! port_in_use "$port"; }
	wait_for "port $port to be released" "$SLASA_RUN_DIR/logs/$node.log" "" wait_port_free
	# Extra environment per source: the deploy configuration of the organization; the enclave host reaches the
	# tunneling shim and keeps its (SIMULATED) sealed keys in the organization's folder, so that a redeployed
	# server keeps the enclave's identity.
	extra_env=()
	if [ "$needs_config" = 1 ]; then
		extra_env+=(SLASA_DEPLOY_CONFIG="$(deploy_config_file "$org")")
		[ -z "${SLASA_MAX_CLOCK_SKEW:-}" ] || extra_env+=(SLASA_MAX_CLOCK_SKEW="$SLASA_MAX_CLOCK_SKEW")
	fi
	if [ "$NAME" = slaenclave ]; then
		mkdir -p "$SLASA_RUN_DIR/orgs/$org/enclave"
		extra_env+=(SLASA_SHIM_URL="${SLASA_SHIM_URL_OVERRIDE:-$(cat "$SLASA_RUN_DIR/shim-url" 2>/dev/null || true)}"
			SLASA_ENCLAVE_SEAL_FILE="$SLASA_RUN_DIR/orgs/$org/enclave/$CCNAME-keys.json")
	fi
	# CORE_PEER_LOCALMSPID tells the chaincode its peer's organization (shim.GetMSPID): the agreement chaincode
	# reads that organization's implicit collection in GetSLA.
	write_env "$node" CHAINCODE_ID="${pkgid[$org]}" CHAINCODE_SERVER_ADDRESS="127.0.0.1:$port" \
		CORE_PEER_LOCALMSPID="$(org_msp "$org")" "${extra_env[@]}"
	start_node "$node" "$work/server"
done
for org in $PEER_ORGS; do
	node="chaincode-$CCNAME-$org"
	wait_for "chaincode server $CCNAME of $org on port $(port_of "$org")" "$SLASA_RUN_DIR/logs/$node.log" \
		"$SLASA_RUN_DIR/pids/$node.pid" port_in_use "$(port_of "$org")"
done

# ---- each organization approves with its own package ID (all at once), then commit
approve_once() {
	# shellcheck disable=SC2046
	(peer_env "$1" && peer lifecycle chaincode approveformyorg $(orderer_flags 1) -C "$SLASA_CHANNEL" -n "$CCNAME" \
		--version "$seq" --package-id "${pkgid[$1]}" --sequence "$seq" --signature-policy "$POLICY" --waitForEvent)
}
approve() {
	local tries=0 out
	until out="$(approve_once "$1" 2>&1)"; do
		tries=$((tries + 1))
		# Right after start the orderer may still be electing a Raft leader: retry a few times.
		if [ "$tries" -ge 10 ] || ! echo "$out" | grep -Eqi "no Raft leader|SERVICE_UNAVAILABLE|connection refused|deadline exceeded|MVCC_READ_CONFLICT"; then
			echo "$out"
			echo "approving $CCNAME sequence $seq for $1 failed"
			return 1
		fi
		sleep 1
	done
	echo "$out"
}
each_peer_org approve
commit_peers=()
for org in $PEER_ORGS; do
	commit_peers+=(--peerAddresses "127.0.0.1:$(peer_port "$org")" --tlsRootCertFiles "$(peer_tls_ca "$org")")
done
# shellcheck disable=SC2046
(peer_env provider && peer lifecycle chaincode commit $(orderer_flags 1) -C "$SLASA_CHANNEL" -n "$CCNAME" \
	--version "$seq" --sequence "$seq" --signature-policy "$POLICY" --waitForEvent "${commit_peers[@]}") \
	>"$work/commit.log" 2>&1 || { cat "$work/commit.log" >&2; die "committing $CCNAME sequence $seq failed"; }

committed_on() {
	local s
	s="$( (peer_env "$1" && peer lifecycle chaincode querycommitted -C "$SLASA_CHANNEL" -n "$CCNAME" -O json) 2>/dev/null | jq -r '.sequence')"
	[ "$s" = "$seq" ]
}
for org in $PEER_ORGS; do
	wait_for "$CCNAME sequence $seq committed on peer-$org" "$SLASA_RUN_DIR/logs/peer-$org.log" \
		"$SLASA_RUN_DIR/pids/peer-$org.pid" committed_on "$org"
done

# ---- deployment.json: every organization's server under "servers"; address, packageId and log (kept for older
# readers) are the enclave host organization's.
servers='{}'
for org in $PEER_ORGS; do
	node="chaincode-$CCNAME-$org"
	servers="$(jq -n --argjson s "$servers" --arg org "$org" --arg msp "$(org_msp "$org")" --arg addr "127.0.0.1:$(port_of "$org")" \
		--arg pkgid "${pkgid[$org]}" --arg log "$SLASA_RUN_DIR/logs/$node.log" --arg node "$node" \
		'$s + {($org): {mspId: $msp, address: $addr, packageId: $pkgid, log: $log, node: $node}}')"
done
jq -n --arg name "$CCNAME" --arg source "$NAME" --arg dir "$dir" --argjson seq "$seq" --arg policy "$POLICY" \
	--arg host "$host_org" --argjson servers "$servers" \
	'{name: $name, source: $source, dir: $dir, sequence: $seq, packageId: $servers[$host].packageId,
	  address: $servers[$host].address, policy: $policy, log: $servers[$host].log, hostOrg: $host,
	  servers: $servers}' >"$work/deployment.json"
"$SLASA_NETWORK_DIR/gen-profiles.sh"
log "deployed $NAME as $CCNAME (sequence $seq) in $((SECONDS - started))s; servers: $(for org in $PEER_ORGS; do
	printf '%s 127.0.0.1:%s ' "$org" "$(port_of "$org")"
done)"
