# shellcheck shell=bash
# What the demo scripts share (sourced by demo/demo.sh and demo/tickets.sh; not run alone). The caller sets
# DEMO_NAME (its name in error messages) before sourcing it. It sets ROOT (the repository, also the working
# folder), CACHE_DIR (Fabric binaries and kubo, shared), RUN (the network's run folder) and BIN (the demo's own Go
# tools: built into the run folder, one copy per network, so checkouts sharing a cache folder never overwrite each
# other's), exports SLASA_RUN_DIR and SLASA_CACHE_DIR (SLASA_PORT_BASE passes through to the network scripts), and
# stops the background processes listed in PIDS when the script exits.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1
CACHE_DIR="${SLASA_CACHE_DIR:-$ROOT/.cache}"
RUN="${SLASA_RUN_DIR:-$ROOT/.run}"
case "$RUN" in /*) ;; *) RUN="$ROOT/$RUN" ;; esac
BIN="$RUN/bin"
export SLASA_RUN_DIR="$RUN" SLASA_CACHE_DIR="$CACHE_DIR"

bold() { if [ -t 1 ]; then printf '\033[1m%s\033[0m\n' "$*"; else printf '%s\n' "$*"; fi; }
step() { printf '\n'; bold "==> [$(date -u +%H:%M:%S)] $*"; }
info() { printf '    %s\n' "$*"; }
die() { printf '%s: %s\n' "${DEMO_NAME:-demo}" "$*" >&2; exit 1; }
indent() { sed -u 's/^/    /'; }
slasa() { "$BIN/slasa" --run-dir "$RUN" "$@"; }
# iso EPOCH: the RFC 3339 UTC time of a Unix time.
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# network_and_application CHAINCODE... -- TOOL...: builds the Fabric binaries and kubo if missing, starts the
# network unless it is up (make network-up), builds the demo's Go tools (./cmd/TOOL) into BIN, and deploys the
# application (make deploy) unless every CHAINCODE is deployed, the configuration recorded and the enclave
# registered.
network_and_application() {
	local ccs=() tools=() c
	while [ $# -gt 0 ] && [ "$1" != -- ]; do ccs+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	tools=("$@")
	step "Fabric binaries and kubo (built once into $CACHE_DIR: about 3 + 8 minutes on the first run); the network (make network-up)"
	mkdir -p "$CACHE_DIR"
	make -s fabric-bins ipfs-bin 2>&1 | indent || die "building the Fabric binaries / kubo failed (output above)"
	make -s network-up 2>&1 | indent
	[ -f "$RUN/.slasa-run" ] || die "make network-up did not leave a run folder at $RUN (output above)"
	mkdir -p "$BIN"
	for c in "${tools[@]}"; do
		info "go build ./cmd/$c"
		if ! CGO_ENABLED=0 go build -o "$BIN/$c.new" "./cmd/$c" 2>"$RUN/demo-build.log"; then
			cat "$RUN/demo-build.log" >&2
			[ -x "$BIN/$c" ] || die "go build ./cmd/$c failed"
			info "WARNING: go build ./cmd/$c failed (above); using the previously built $BIN/$c"
			continue
		fi
		mv "$BIN/$c.new" "$BIN/$c"
	done
	local want
	want="$(jq -nc '$ARGS.positional' --args "${ccs[@]}")"
	if jq -e --argjson w "$want" '.chaincodes as $c | all($w[]; . as $n | $c | has($n))' "$RUN/network.json" >/dev/null 2>&1 &&
		slasa config show >/dev/null 2>&1 && slasa enclave show >/dev/null 2>&1; then
		info "the application is deployed (${ccs[*]}; configuration recorded; enclave registered)"
	else
		step "Deploying every chaincode, recording the deploy configuration and registering the enclave (make deploy)"
		make -s deploy 2>&1 | indent
	fi
}

# open_wallets WALLET:OWNER...: each OWNER opens WALLET unless it exists.
open_wallets() {
	local w out
	for w in "$@"; do
		if out="$(slasa wallet open "${w%%:*}" --as "${w#*:}" 2>&1)"; then info "wallet ${w%%:*} opened"
		elif grep -q "already exists" <<<"$out"; then info "wallet ${w%%:*} exists"
		else die "$out"; fi
	done
}

# bal WALLET: its balance in minor units, as the issuer reads it.
bal() { slasa wallet balance "$1" --as issuer --json | jq -r .balance; }

# start_logger SLA STATE_DIR LOG ARG...: the SLA's Cloud Logger (as its logger identity) in the background,
# cutting a 10-second window; ARG... are its probes and other flags.
start_logger() {
	local id="$1" state="$2" log="$3"
	shift 3
	"$BIN/cloud-logger" -network-dir "$RUN" -identity logger -sla "$id" -state-dir "$state" -window 10s \
		-ipfs-api-file "$RUN/ipfs/api" "$@" >"$log" 2>&1 &
	PIDS+=($!)
}

# start_monitor IDENTITY STATE_DIR LOG ARG...: slasa-monitor as IDENTITY in the background (it registers the
# SLA in the enclave, feeds it the batches and settles every period that ends; ARG... are more flags).
start_monitor() {
	local who="$1" state="$2" log="$3"
	shift 3
	"$BIN/slasa-monitor" -network-dir "$RUN" -identity "$who" -state-dir "$state" -poll 2s \
		-backoff-min 500ms -backoff-max 4s -listen "" "$@" >"$log" 2>&1 &
	PIDS+=($!)
}

# wait_settled SLA PERIOD MONITOR_LOG WORK: waits (at most 4 minutes) until the enclave's verdict of PERIOD exists
# and the refund chaincode has settled it; prints `slasa verdict show --json`.
wait_settled() {
	slasa verdict show "$1" "$2" --wait 4m --json 2> >(indent >&2) ||
		{ tail -20 "$3" >&2; die "period $2 of $1 was not settled within 4 minutes (logs in $4)"; }
}
