#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Deploys a chaincode of this repository to the running network as chaincode-as-a-service (CCaaS):
#
#   network/deploy.sh NAME [CCNAME] [--name CCNAME] [--policy POLICY] [--label-suffix S]
#
# NAME selects the source (table below); CCNAME is the chaincode name on the channel (default NAME), so the same
# source can be deployed twice under two names. Steps: go build the server binary, package connection.json +
# metadata.json, install on both peers, (re)start the server process (PID and log in the run folder), approve for
# both organizations and commit. Redeploying a CCNAME bumps its sequence. POLICY is a signature policy, default
# AND('ProviderOrgMSP.peer','ClientOrgMSP.peer'). For slaenclave, SLASA_SHIM_URL_OVERRIDE replaces the network's
# tunneling shim URL (the security tests put a lying proxy there).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	cat >&2 <<'EOF'
usage: network/deploy.sh NAME [CCNAME] [--name CCNAME] [--policy POLICY]
  NAME     smoke | agreement | refund | ercc | slaenclave | baseline   (see the table in network/deploy.sh)
  CCNAME   chaincode name on the channel (default NAME)
  POLICY   endorsement signature policy (default AND('ProviderOrgMSP.peer','ClientOrgMSP.peer'))
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
	baseline) echo "go bench/chaincode/baseline" ;;
	*) return 1 ;;
	esac
}

[ $# -ge 1 ] || usage
NAME="$1"
shift
CCNAME="$NAME"
POLICY="AND('ProviderOrgMSP.peer','ClientOrgMSP.peer')"
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
src="$(chaincode_source "$NAME")" || die "unknown chaincode '$NAME' (known: smoke, agreement, refund, ercc, slaenclave, baseline)"
kind="${src%% *}" dir="${src#* }"
case "$CCNAME" in *[!a-zA-Z0-9_-]* | [!a-zA-Z]*) die "chaincode name '$CCNAME' must start with a letter and hold only letters, digits, '_' and '-'" ;; esac
[ -d "$SLASA_REPO_ROOT/$dir" ] || die "chaincode '$NAME' has no source yet: $dir does not exist"

load_state
network_running || die "the network is not running (run folder $SLASA_RUN_DIR); run make network-up first"
require_bins
export PATH="$SLASA_BIN_DIR:$PATH"
export FABRIC_CFG_PATH="$SLASA_RUN_DIR/config"
started=$SECONDS

work="$SLASA_RUN_DIR/chaincodes/$CCNAME"
mkdir -p "$work"

# ---- port: fixed per chaincode name for the life of the network.
if [ -f "$work/port" ]; then
	port="$(cat "$work/port")"
else
	port=""
	for p in $(seq "$CC_PORT_FIRST" "$CC_PORT_LAST"); do
		grep -qx "$p" "$SLASA_RUN_DIR"/chaincodes/*/port 2>/dev/null && continue
		port_in_use "$p" && continue
		port=$p
		break
	done
	[ -n "$port" ] || die "no free chaincode port left in $CC_PORT_FIRST..$CC_PORT_LAST"
	echo "$port" >"$work/port"
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
label="${CCNAME}_$seq"

# ---- package (CCaaS: connection.json inside code.tar.gz, plus metadata.json)
pkgdir="$work/pkg-$seq"
rm -rf "$pkgdir"
mkdir -p "$pkgdir/src"
jq -n --arg a "127.0.0.1:$port" '{address: $a, dial_timeout: "10s", tls_required: false}' >"$pkgdir/src/connection.json"
jq -n --arg l "$label" '{type: "ccaas", label: $l}' >"$pkgdir/metadata.json"
tar -C "$pkgdir/src" -czf "$pkgdir/code.tar.gz" connection.json
tar -C "$pkgdir" -czf "$work/$label.tar.gz" metadata.json code.tar.gz
pkgid="$(peer lifecycle chaincode calculatepackageid "$work/$label.tar.gz")" || die "peer lifecycle chaincode calculatepackageid failed"

# ---- install on both peers (an already installed identical package is fine)
for org in provider client; do
	out="$( (peer_env "$org" && peer lifecycle chaincode install "$work/$label.tar.gz") 2>&1)" ||
		echo "$out" | grep -q "chaincode already successfully installed" ||
		{ echo "$out" >&2; die "installing $label on peer-$org failed"; }
done

# ---- (re)start the chaincode server
pidname="chaincode-$CCNAME"
if [ -f "$SLASA_RUN_DIR/pids/$pidname.pid" ]; then
	stop_pid_file "$SLASA_RUN_DIR/pids/$pidname.pid"
fi
wait_port_free() { ! port_in_use "$port"; }
wait_for "port $port to be released" "$SLASA_RUN_DIR/logs/$pidname.log" "" wait_port_free
mkdir -p "$SLASA_RUN_DIR/logs"
# Extra environment per source: the enclave host reaches the tunneling shim and keeps its (SIMULATED) sealed
# keys in the run folder, so that a redeployed server keeps the enclave's identity.
extra_env=()
if [ "$NAME" = slaenclave ]; then
	[ -f "$SLASA_RUN_DIR/shim-url" ] || log "warning: no tunneling shim in this network (SLASA_WITH_IPFS=0?); IngestBatch will fail"
	# SLASA_SHIM_URL_OVERRIDE points the enclave at another shim (tests: a lying proxy in front of the real one).
	extra_env=(SLASA_SHIM_URL="${SLASA_SHIM_URL_OVERRIDE:-$(cat "$SLASA_RUN_DIR/shim-url" 2>/dev/null || true)}"
		SLASA_ENCLAVE_SEAL_FILE="$SLASA_RUN_DIR/enclave/$CCNAME-keys.json")
fi
env "${extra_env[@]}" CHAINCODE_ID="$pkgid" CHAINCODE_SERVER_ADDRESS="127.0.0.1:$port" \
	setsid "$work/server" >>"$SLASA_RUN_DIR/logs/$pidname.log" 2>&1 </dev/null &
echo $! >"$SLASA_RUN_DIR/pids/$pidname.pid"
wait_for "chaincode server $CCNAME on port $port" "$SLASA_RUN_DIR/logs/$pidname.log" \
	"$SLASA_RUN_DIR/pids/$pidname.pid" port_in_use "$port"

# ---- approve for both organizations, then commit
ca_of() { echo "$SLASA_RUN_DIR/crypto/peerOrganizations/$1/peers/peer0.$1/tls/ca.crt"; }
approve() {
	# shellcheck disable=SC2046
	(peer_env "$1" && peer lifecycle chaincode approveformyorg $(orderer_flags 1) -C "$SLASA_CHANNEL" -n "$CCNAME" \
		--version "$seq" --package-id "$pkgid" --sequence "$seq" --signature-policy "$POLICY" --waitForEvent)
}
for org in provider client; do
	tries=0
	until out="$(approve "$org" 2>&1)"; do
		tries=$((tries + 1))
		# Right after start the orderer may still be electing a Raft leader: retry a few times.
		if [ "$tries" -ge 10 ] || ! echo "$out" | grep -Eqi "no Raft leader|SERVICE_UNAVAILABLE|connection refused|deadline exceeded"; then
			echo "$out" >&2
			die "approving $CCNAME sequence $seq for $org failed"
		fi
		sleep 1
	done
done
# shellcheck disable=SC2046
(peer_env provider && peer lifecycle chaincode commit $(orderer_flags 1) -C "$SLASA_CHANNEL" -n "$CCNAME" \
	--version "$seq" --sequence "$seq" --signature-policy "$POLICY" --waitForEvent \
	--peerAddresses "127.0.0.1:$PROVIDER_PEER_PORT" --tlsRootCertFiles "$(ca_of "$PROVIDER_DOMAIN")" \
	--peerAddresses "127.0.0.1:$CLIENT_PEER_PORT" --tlsRootCertFiles "$(ca_of "$CLIENT_DOMAIN")") \
	>"$work/commit.log" 2>&1 || { cat "$work/commit.log" >&2; die "committing $CCNAME sequence $seq failed"; }

committed_on() {
	local s
	s="$( (peer_env "$1" && peer lifecycle chaincode querycommitted -C "$SLASA_CHANNEL" -n "$CCNAME" -O json) 2>/dev/null | jq -r '.sequence')"
	[ "$s" = "$seq" ]
}
for org in provider client; do
	wait_for "$CCNAME sequence $seq committed on peer-$org" "$SLASA_RUN_DIR/logs/peer-$org.log" \
		"$SLASA_RUN_DIR/pids/peer-$org.pid" committed_on "$org"
done

jq -n --arg name "$CCNAME" --arg source "$NAME" --arg dir "$dir" --argjson seq "$seq" --arg pkgid "$pkgid" \
	--arg addr "127.0.0.1:$port" --arg policy "$POLICY" --arg log "$SLASA_RUN_DIR/logs/$pidname.log" \
	'{name: $name, source: $source, dir: $dir, sequence: $seq, packageId: $pkgid, address: $addr,
	  policy: $policy, log: $log}' >"$work/deployment.json"
"$SLASA_NETWORK_DIR/gen-profiles.sh"
log "deployed $NAME as $CCNAME (sequence $seq, package $pkgid, server 127.0.0.1:$port) in $((SECONDS - started))s"
