#!/usr/bin/env bash
# Runs the Hyperledger Caliper benchmark of slasa (make bench-caliper) on a network of its own:
#
#   1. installs Caliper 0.6.0 (npm ci from package-lock.json) and binds it to Fabric 2.5, once;
#   2. starts a native Fabric network in its own run folder and port block (BENCH_RUN_DIR, BENCH_PORT_BASE),
#      so a network of yours (.run, port 27000) is left alone;
#   3. deploys agreement, refund, ercc, the baseline chaincode and a test enclave chaincode (smoke as benchenclave);
#   4. bench/caliper/gen prepare: configures ercc (simulated), registers a simulated enclave key for benchenclave,
#      configures refund, opens and funds one client and one provider wallet per SLA, and precomputes every signed
#      argument (SLAs, anchors, verdicts) plus Caliper's network and benchmark configuration;
#   5. runs Caliper with a /proc sampler of the peers, orderer and chaincode servers;
#   6. bench/caliper/gen report: summary table and ratios into bench/RESULTS.md; exits non-zero when any
#      transaction failed (Caliper's own exit code does not say so);
#   7. tears the network down (also on failure or Ctrl-C). Caliper's output stays in BENCH_OUT_DIR.
#
# Environment: BENCH_SLAS (400), BENCH_BATCHES (3 per SLA), BENCH_WORKERS (2), BENCH_LOAD (32 in flight per worker),
# BENCH_PORT_BASE (33500), BENCH_RUN_DIR (<cache>/bench-run), BENCH_OUT_DIR (<cache>/bench-caliper),
# BENCH_TIMEOUT (600 s for the Caliper run), SLASA_CACHE_DIR (<repo>/.cache).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${SLASA_CACHE_DIR:-$repo/.cache}"
export SLASA_CACHE_DIR="$cache"
export SLASA_RUN_DIR="${BENCH_RUN_DIR:-$cache/bench-run}"
export SLASA_PORT_BASE="${BENCH_PORT_BASE:-33500}"
export SLASA_WITH_IPFS=0 # the benchmark anchors CIDs but never fetches a batch
out="${BENCH_OUT_DIR:-$cache/bench-caliper}"
slas="${BENCH_SLAS:-400}" batches="${BENCH_BATCHES:-3}" workers="${BENCH_WORKERS:-2}" load="${BENCH_LOAD:-32}"
started=$SECONDS

log() { printf 'bench-caliper: %s\n' "$*" >&2; }

cd "$repo"

# ---- Caliper, once (the lock file pins every package; bind adds the Fabric 2.5 connector's dependencies)
if [ ! -x "$here/node_modules/.bin/caliper" ]; then
	log "installing Caliper 0.6.0 (npm ci)"
	(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi
if [ ! -d "$here/node_modules/@hyperledger/fabric-gateway" ]; then
	log "binding Caliper to Fabric 2.5"
	(cd "$here" && npx --no-install caliper bind --caliper-bind-sut fabric:2.5)
fi

# ---- the generator
mkdir -p "$cache/bin"
go build -o "$cache/bin/slasa-bench-gen" ./bench/caliper/gen
gen="$cache/bin/slasa-bench-gen"

# ---- the network, torn down whatever happens
monitor_pid=""
teardown() {
	local rc=$?
	if [ -n "$monitor_pid" ] && kill -0 "$monitor_pid" 2>/dev/null; then
		kill "$monitor_pid" 2>/dev/null || true
		wait "$monitor_pid" 2>/dev/null || true
	fi
	# Peer logs hold the MVCC evidence; keep them with Caliper's output.
	if [ -d "$SLASA_RUN_DIR/logs" ]; then
		mkdir -p "$out/logs" && cp "$SLASA_RUN_DIR"/logs/*.log "$out/logs/" 2>/dev/null || true
	fi
	log "tearing the benchmark network down"
	bash network/down.sh >/dev/null 2>&1 || bash network/down.sh || true
	log "done in $((SECONDS - started)) s (exit $rc); Caliper's output: $out"
	exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT TERM

if [ -f "$SLASA_RUN_DIR/network.json" ]; then
	log "a benchmark network is left over in $SLASA_RUN_DIR: stopping it first"
	bash network/down.sh || true
fi
rm -rf "$out"
mkdir -p "$out"
log "starting the network (run folder $SLASA_RUN_DIR, port base $SLASA_PORT_BASE)"
bash network/up.sh
for cc in agreement refund ercc baseline; do
	bash network/deploy.sh "$cc"
done
# The test enclave chaincode: any deployed chaincode name will do for the refund chaincode's trust (the verdicts
# are signed by a key registered for it in ercc); smoke is the smallest.
bash network/deploy.sh smoke --name benchenclave

log "preparing ($slas SLAs, $batches batches each, $workers workers x $load in flight)"
"$gen" prepare -run-dir "$SLASA_RUN_DIR" -out "$out" -slas "$slas" -batches "$batches" -workers "$workers" -load "$load"

"$gen" monitor -run-dir "$SLASA_RUN_DIR" -out "$out/procs.jsonl" &
monitor_pid=$!

log "running Caliper (at most ${BENCH_TIMEOUT:-600} s)"
caliper_rc=0
(cd "$here" && timeout "${BENCH_TIMEOUT:-600}" npx --no-install caliper launch manager \
	--caliper-workspace "$here" \
	--caliper-networkconfig "$out/network.yaml" \
	--caliper-benchconfig "$out/benchmark.yaml" \
	--caliper-report-path "$out/report.html" \
	--caliper-flow-only-test) >"$out/caliper.log" 2>&1 || caliper_rc=$?
kill "$monitor_pid" 2>/dev/null || true
wait "$monitor_pid" 2>/dev/null || true
monitor_pid=""
grep -E '^\|' "$out/caliper.log" | tail -n 12 >&2 || true
if [ "$caliper_rc" -ne 0 ]; then
	log "Caliper exited with $caliper_rc (log: $out/caliper.log)"
	tail -n 30 "$out/caliper.log" >&2
fi

"$gen" report -dir "$out" -run-dir "$SLASA_RUN_DIR" -results "$repo/bench/RESULTS.md"
[ "$caliper_rc" -eq 0 ] || exit "$caliper_rc"
