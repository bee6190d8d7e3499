#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The slasa story on a real local network, in minutes (what `make demo` runs):
#
#   1. builds what is missing (Fabric binaries and kubo into the cache folder; slasa, cloud-logger, slasa-monitor
#      and demo-service of this checkout into the run folder's bin/, one copy per network: demo/lib.sh);
#   2. starts the network with IPFS and the tunneling shim (make network-up) and deploys the application
#      (make deploy: agreement, refund, ercc and slaenclave, each organization running its own servers with
#      its own copy of the deploy configuration; ProviderOrg's admin records the configuration on the
#      ledger; the host organization's admin registers the enclave);
#   3. the issuer (an admin of ProviderOrg) mints money for the client; the provider proposes demo/sla.json
#      (AWS-style availability, 3 zones, min_zones_down 2, credit tiers 10/30/100 %, 2-minute billing
#      periods, 1-second sub-intervals) for a small HTTP service the demo runs (cmd/demo-service), with a
#      validity that starts at the next period boundary; the client accepts it before that first period
#      starts (a period is paid only before it starts), which pays the period into escrow and pins the
#      registered enclave;
#   4. the Cloud Logger probes the service from three zones every second and anchors encrypted batches;
#      the service fails in zones a and b for DEMO_OUTAGE_SECONDS seconds of the period;
#   5. the period closes; the monitor (as the client) feeds the batches to the enclave, gets the signed
#      verdict and, once the batch whose window ends at the period's end is anchored, settles it on the
#      refund chaincode: the credit is paid to the client;
#   6. prints a summary and the client's statement for the month (slasa statement), writes the period's
#      invoice PDF into the run folder (slasa invoice --pdf), stops the demo's own processes and leaves the
#      network up for exploration.
#
# Environment: SLASA_RUN_DIR, SLASA_CACHE_DIR, SLASA_PORT_BASE (as the network scripts),
# DEMO_PERIOD_SECONDS (120), DEMO_OUTAGE_START (40: seconds into the period), DEMO_OUTAGE_SECONDS (5),
# DEMO_LEAD_SECONDS (25: the period starts this long after the SLA is prepared; the client must accept
# before then).
set -euo pipefail

DEMO_NAME=demo
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PERIOD="${DEMO_PERIOD_SECONDS:-120}"
OUT_START="${DEMO_OUTAGE_START:-40}"
OUT_LEN="${DEMO_OUTAGE_SECONDS:-5}"
LEAD="${DEMO_LEAD_SECONDS:-25}"
started=$SECONDS

for tool in go jq curl; do command -v "$tool" >/dev/null || die "$tool is required"; done

# ---- 1, 2. build, network and application
network_and_application agreement refund ercc slaenclave -- slasa cloud-logger slasa-monitor demo-service
info "shim: $(cat "$RUN/shim-url"), IPFS API: $(cat "$RUN/ipfs/api")"

# ---- 3. wallets and the SLA
step "Wallets: client and provider open theirs, the issuer (an admin of ProviderOrg) mints 10000.00 USD for the client"
open_wallets client:client provider:provider
slasa wallet mint client 1000000 --as issuer >/dev/null
client_before="$(bal client)"
provider_before="$(bal provider)"
info "client: $client_before  provider: $provider_before (minor units, USD cents)"

start=$(( ($(date +%s) + LEAD + 9) / 10 * 10 ))
P0="$(iso "$start")"
P0_END="$(iso $((start + PERIOD)))"
ID="demo-$start"
WORK="$RUN/demo/$ID"
mkdir -p "$WORK"
# Without its nonce: slasa sla propose adds a fresh one (each SLA needs its own).
jq --arg id "$ID" --arg s "$P0" --arg e "$(iso $((start + 30 * PERIOD)))" --argjson p "$PERIOD" \
	'del(.nonce) | .id = $id | .validity = {start: $s, end: $e} | .interval.billing_cycle = {unit: "seconds", seconds: $p}' \
	demo/sla.json >"$WORK/sla.json"
OUT_FROM="$(iso $((start + OUT_START)))"
OUT_TO="$(iso $((start + OUT_START + OUT_LEN)))"

step "Starting the demo service (zones a, b, c); zones a and b will fail from $OUT_FROM to $OUT_TO"
"$BIN/demo-service" -listen 127.0.0.1:0 -addr-file "$WORK/service.addr" -zones zone-a,zone-b,zone-c \
	-outage "zone-a+zone-b@$OUT_FROM/$OUT_TO" 2> >(sed -u 's/^/    [service] /') &
PIDS+=($!)
for _ in $(seq 50); do [ -s "$WORK/service.addr" ] && break; sleep 0.1; done
SVC="http://$(cat "$WORK/service.addr")"
info "service: $SVC/zone-a, $SVC/zone-b, $SVC/zone-c"

step "Live chaincode events (slasa watch)"
slasa watch 2>/dev/null > >(sed -u 's/^/    [event] /') &
PIDS+=($!)
sleep 1

step "The provider proposes SLA $ID (billing period ${PERIOD}s from $P0); the terms go to the two parties' private collections only"
slasa sla propose "$WORK/sla.json" --as provider | indent
step "The client verifies, signs and accepts it before the period starts; its fee goes into escrow, the enclave is pinned"
slasa sla accept "$ID" --as client | indent
paid="$(slasa sla show "$ID" --as client --json | jq -r .last_period)"
[ "$paid" = "$P0" ] || die "the client accepted after $P0 began, so AcceptSLA paid the period from $paid instead (a period is paid only before it starts); raise DEMO_LEAD_SECONDS (now $LEAD)"

# ---- 4. logger and monitor
step "Starting the Cloud Logger (probes every second from three zones) and the monitor (as the client)"
start_logger "$ID" "$WORK/logger" "$WORK/logger.log" \
	-probe "probe-a,zone-a,$SVC/zone-a" -probe "probe-b,zone-b,$SVC/zone-b" -probe "probe-c,zone-c,$SVC/zone-c" \
	-cut-delay 3s -probe-timeout 2s
start_monitor client "$WORK/monitor" "$WORK/monitor.log"
info "logs: $WORK/logger.log, $WORK/monitor.log"

step "Period $P0 .. $P0_END: the logger anchors a batch every 10 s (LogBatchAnchored events)"
end=$((start + PERIOD))
while [ "$(date +%s)" -lt "$end" ]; do
	now=$(date +%s)
	if [ "$now" -lt "$start" ]; then info "period starts in $((start - now))s"
	else info "period $((now - start))s / ${PERIOD}s"; fi
	sleep $(( (end - now) < 20 ? (end - now) : 20 ))
done

# ---- 5. verdict and settlement
step "The period closed: waiting for the last batch, the enclave's verdict and the settlement"
verdict="$(wait_settled "$ID" "$P0" "$WORK/monitor.log" "$WORK")"
step "Verdict and detailed report, decrypted for the client (slasa verdict show $ID $P0)"
slasa verdict show "$ID" "$P0" | indent

# ---- 6. summary
cleanup; PIDS=()
client_after="$(bal client)"
provider_after="$(bal provider)"
uptime="$(jq -r '.report.metrics[0].value' <<<"$verdict")"
credit_bps="$(jq -r '.verdict.verdict.credit_bps' <<<"$verdict")"
credit="$(jq -r '.verdict.verdict.credit_amount' <<<"$verdict")"
down="$(jq -r '.report.metrics[0].details | tostring' <<<"$verdict")"
rep="$(slasa reputation ProviderOrgMSP --product demo-web --json)"
# An operator compacts the provider's reputation regularly (cron); the console's reputation page then reads the
# checkpoint and what was settled after it.
slasa reputation compact ProviderOrgMSP >/dev/null
step "Summary of SLA $ID, period $P0"
info "uptime:            $uptime % (objective >= 99.99 %; zones a+b down ${OUT_LEN}s of ${PERIOD}s)"
info "driver details:    $down"
info "credit tier:       $((credit_bps / 100)) % of the fee (tiers: < 99.99 -> 10 %, < 99.0 -> 30 %, < 95.0 -> 100 %)"
info "credit paid:       $credit (USD cents) to the client's wallet"
info "client wallet:     $client_before -> $client_after  (fee 100000 paid into escrow, credit $credit back)"
info "provider wallet:   $provider_before -> $provider_after  (fee minus credit released)"
info "reputation:        $(jq -r '"\(.periods) settled period(s), \(.violated) violated, compliance \(.compliance_bps / 100) %, credits paid \(.credits)"' <<<"$rep") (ProviderOrgMSP, demo-web)"

MONTH="$(date -u -d "@$start" +%Y-%m)"
step "The client's statement for $MONTH, from the ledger (slasa statement --party client --month $MONTH)"
slasa statement --party client --month "$MONTH" | indent
slasa invoice "$ID" "$P0" --as provider --pdf "$WORK/invoice.pdf" >/dev/null
info "invoice of the period (the provider's, PDF): $WORK/invoice.pdf  (slasa invoice $ID $P0 prints it as a table)"
info "demo took $((SECONDS - started))s"
start_consoles

step "The network stays up. Explore it:"
SHOWBIN="${BIN#"$ROOT"/}"
cat <<EOT
    $SHOWBIN/slasa sla show $ID
    $SHOWBIN/slasa sla verify $ID
    $SHOWBIN/slasa sla list --as client
    $SHOWBIN/slasa sla history $ID
    $SHOWBIN/slasa verdict show $ID $P0 --as provider
    $SHOWBIN/slasa wallet history client
    $SHOWBIN/slasa invoice $ID $P0 --as client
    $SHOWBIN/slasa statement --party provider --month $MONTH --sla $ID
    $SHOWBIN/slasa wallet balance provider --as provider
    $SHOWBIN/slasa reputation ProviderOrgMSP
    $SHOWBIN/slasa config show
    $SHOWBIN/slasa enclave show
    $SHOWBIN/slasa watch --start-block 0 --for 5s
    source network/env.sh provider && peer chaincode query -C slasa -n agreement -c '{"Args":["GetSLA","$ID"]}'
  (run them from the repository root; the slasa commands read the run folder $RUN (--run-dir);
   the reference is docs/cli.md, the peer CLI walk-through docs/peer-cli.md)
  Stop everything with:  make network-down
EOT
