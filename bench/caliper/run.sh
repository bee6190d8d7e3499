#!/usr/bin/env bash
# Runs the Hyperledger Caliper benchmark of slasa (make bench-caliper) on a network of its own:
#
#   1. installs Caliper 0.6.0 (npm ci from package-lock.json) and binds it to Fabric 2.5, once, and checks the
#      workload modules against a fake of Caliper's Peer Gateway connector (node --test test/);
#   2. starts a native Fabric network in its own run folder and port block (BENCH_RUN_DIR, BENCH_PORT_BASE),
#      so a network of yours (.run, port 27000) is left alone;
#   3. deploys agreement, refund, ercc, ticket, the baseline chaincode and a test enclave chaincode (smoke as
#      benchenclave, the enclave chaincode its deploy configuration names: SLASA_CC_ENCLAVE), each organization with
#      its own servers, and records the deploy configuration with `slasa config record` as provider-admin;
#   4. bench/caliper/gen prepare: registers a simulated enclave key for benchenclave as provider-admin (attesting the
#      deploy configuration's digest), opens one client and one provider wallet per SLA and has the issuer's admin fund
#      the client's (one Mint at a time: every Mint updates the issuer's supply key), and precomputes the signed SLAs
#      (30-second billing periods for 3 batches) plus Caliper's network and benchmark configuration; it also proposes
#      and accepts as many "shared" SLAs, which all use one provider wallet and one client wallet (accepted one at a
#      time: each deposit debits the one client wallet), and the ticket SLA of the ticket rounds (the template with
#      examples/telecom's support terms); before the shared SLAs, it proposes and accepts as many "expiring" SLAs
#      (consequences.escrow_expiry: verdict within 60 s of the period's end, the schema's minimum; outcome split),
#      each with wallets of its own, whose paid periods are never settled: the last round, claim-expired, claims
#      their escrows (ClaimExpiredEscrow as the client) and, in its preparation, waits until the latest verdict
#      deadline (read back from the ledger by gen prepare) has passed, by 2 s; at full size it passed long before;
#   5. runs Caliper with a /proc sampler of the peers, orderer and chaincode servers, and gen settle next to it: once
#      the accept round has ended (each SLA paid its first period that had not started) and every paid period is
#      over, it signs the anchors covering each paid period and the verdicts naming its last batch, which the anchor
#      and settle rounds wait for before they start; it anchors the shared SLAs' batches itself, so that the round
#      settle-shared-provider settles every SLA of one provider and one client wallet concurrently; and gen tickets:
#      once the create-ticket round has opened every ticket of the ticket SLA, it has the provider assign each to
#      VendorOrg's vendor and the vendor acknowledge it, and hands the records to the update-ticket round;
#   6. bench/caliper/gen report: summary table and ratios into bench/RESULTS.md; exits non-zero when any
#      transaction failed (Caliper's own exit code does not say so);
#   7. tears the network down (also on failure or Ctrl-C). Caliper's output stays in BENCH_OUT_DIR.
#
# Environment: BENCH_SLAS (400), BENCH_BATCHES (3 per SLA), BENCH_WORKERS (2), BENCH_LOAD (32 in flight per worker),
# BENCH_PORT_BASE (33500: the network's 500-port block 33500..33999, above the Go harness's 20000..32499),
# BENCH_RUN_DIR (<cache>/bench-run), BENCH_OUT_DIR (<cache>/bench-caliper), BENCH_TIMEOUT (600 s for the Caliper
# run), SLASA_CACHE_DIR (<repo>/.cache), SLASA_ORGS (3: organizations with a peer; Caliper acts as ProviderOrg's,
# ClientOrg's and VendorOrg's users; the SLA and ticket transactions name their endorsing organizations, the
# Gateway picks the endorsers of the baseline's policy).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${SLASA_CACHE_DIR:-$repo/.cache}"
export SLASA_CACHE_DIR="$cache"
export SLASA_RUN_DIR="${BENCH_RUN_DIR:-$cache/bench-run}"
export SLASA_PORT_BASE="${BENCH_PORT_BASE:-33500}"
export SLASA_WITH_IPFS=0 # the benchmark anchors CIDs but never fetches a batch
# The deploy configuration names the test enclave chaincode (verdicts are signed by a key registered for it).
export SLASA_CC_ENCLAVE=benchenclave
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

# ---- the workloads against a fake of the connector (seconds; before minutes of network set-up)
log "checking the workloads against a fake Peer Gateway connector (node --test bench/caliper/test/)"
(cd "$here" && node --test test/ >"$cache/bench-workloads-test.log" 2>&1) || {
	cat "$cache/bench-workloads-test.log" >&2
	exit 1
}

# ---- the generator
mkdir -p "$cache/bin"
go build -o "$cache/bin/slasa-bench-gen" ./bench/caliper/gen
gen="$cache/bin/slasa-bench-gen"

# ---- the network, torn down whatever happens
monitor_pid=""
settle_pid=""
tickets_pid=""
stop_bg() {
	local pid
	for pid in "$monitor_pid" "$settle_pid" "$tickets_pid"; do
		if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
			kill "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		fi
	done
	monitor_pid="" settle_pid="" tickets_pid=""
}
teardown() {
	local rc=$?
	stop_bg
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
for cc in agreement refund ercc ticket baseline; do
	bash network/deploy.sh "$cc"
done
# The test enclave chaincode: any deployed chaincode under the configured enclave name will do for ercc and the
# refund chaincode (the verdicts are signed by a key registered for it in ercc); smoke is the smallest.
bash network/deploy.sh smoke --name "$SLASA_CC_ENCLAVE"
# The deploy configuration on the ledger of agreement, refund, ercc and ticket, as the operator does (deploy-all.sh
# step 2).
go build -o "$SLASA_RUN_DIR/bin/slasa" ./cmd/slasa
"$SLASA_RUN_DIR/bin/slasa" --run-dir "$SLASA_RUN_DIR" --as provider-admin config record --chaincodes agreement,refund,ercc,ticket

log "preparing ($slas SLAs, $batches batches each, $workers workers x $load in flight)"
"$gen" prepare -run-dir "$SLASA_RUN_DIR" -out "$out" -slas "$slas" -batches "$batches" -workers "$workers" -load "$load"

"$gen" monitor -run-dir "$SLASA_RUN_DIR" -out "$out/procs.jsonl" &
monitor_pid=$!
"$gen" settle -run-dir "$SLASA_RUN_DIR" -out "$out" 2>"$out/settle.log" &
settle_pid=$!
"$gen" tickets -run-dir "$SLASA_RUN_DIR" -out "$out" 2>"$out/tickets.log" &
tickets_pid=$!

log "running Caliper (at most ${BENCH_TIMEOUT:-600} s)"
caliper_rc=0
(cd "$here" && timeout "${BENCH_TIMEOUT:-600}" npx --no-install caliper launch manager \
	--caliper-workspace "$here" \
	--caliper-networkconfig "$out/network.yaml" \
	--caliper-benchconfig "$out/benchmark.yaml" \
	--caliper-report-path "$out/report.html" \
	--caliper-flow-only-test) >"$out/caliper.log" 2>&1 || caliper_rc=$?
stop_bg
[ ! -s "$out/settle.log" ] || cat "$out/settle.log" >&2
[ ! -s "$out/tickets.log" ] || cat "$out/tickets.log" >&2
grep -E '^\|' "$out/caliper.log" | tail -n 12 >&2 || true
if [ "$caliper_rc" -ne 0 ]; then
	log "Caliper exited with $caliper_rc (log: $out/caliper.log)"
	tail -n 30 "$out/caliper.log" >&2
fi

"$gen" report -dir "$out" -run-dir "$SLASA_RUN_DIR" -results "$repo/bench/RESULTS.md"
[ "$caliper_rc" -eq 0 ] || exit "$caliper_rc"
