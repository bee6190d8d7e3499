#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The trouble-ticket act of the slasa story on a real local network (what `make demo-tickets` runs; on the network
# `make demo` leaves up, or on a new one):
#
#   1. starts the network and deploys the application if they are not up (make network-up, make deploy: agreement,
#      refund, ercc, slaenclave and ticket; VendorOrg runs a peer) and builds slasa, cloud-logger and slasa-monitor
#      into the run folder (demo/lib.sh, shared with demo/demo.sh);
#   2. the provider proposes the telecom SLA (examples/telecom/sla.json: Mean Time to Respond 20 min, to Resolve
#      4 h) with its support terms and its Mean Time to Respond / Resolve metrics scaled down to seconds and every
#      calendar 24x7: critical tickets must be acknowledged within DEMO_TICKET_ACCEPT_SECONDS (30) and resolved
#      within DEMO_TICKET_CLOSE_SECONDS (120), high ones within 40 s and 60 s; billing periods of
#      DEMO_TICKET_PERIOD_SECONDS (180); the issuer funds the SLA's collateral wallet (provider-collateral) and
#      ProposeSLA locks the SLA's collateral (consequences.collateral_minor) from it; the client accepts the SLA
#      before its first period starts (the period's fee goes into escrow);
#   3. the Cloud Logger follows the ticket chaincode (cloud-logger -tickets) and writes every ticket transition into
#      the SLA's log batches (no probe: availability has no data); the provider's slasa-monitor runs its escalator
#      for the SLA (Escalate at 50/75/100 % of a running target) and settles its periods; `slasa ticket watch`
#      prints every ticket event, escalations included, as the provider sees it;
#   4. the story, once the first period has started: the client opens three tickets, the provider assigns them to
#      VendorOrg's vendor; TT-2 (high) and TT-3 are acknowledged in time; the vendor pauses TT-2 while it waits on
#      the customer; TT-3 is resolved, reopened by the client (its closure outcome cleared), resolved again and
#      closed; TT-1 is acknowledged late (acceptance breached after three escalations, penalty owed); the client
#      resumes TT-2 after its closure target has passed on the wall clock, and the vendor resolves it in time (the
#      pause does not count); TT-1 and TT-2 are closed;
#   5. prints slasa ticket list and show (status, time left, outcomes, escalation level, penalty owed) and a
#      timeline;
#   6. period_verdict_and_refund: once the period has ended, the monitor feeds the batches to the enclave and
#      settles its signed verdict (SettleVerdict); prints slasa verdict show (MTTRespond / MTTResolve against their
#      objectives, the counted ticket targets and their penalties, the settlement's penalty paid from the
#      collateral), the SettleVerdict transaction, and the client's wallet before and after. About 5 minutes with
#      the network start and deployment (the act itself: the lead, one period, the settlement).
#
# Environment: SLASA_RUN_DIR, SLASA_CACHE_DIR, SLASA_PORT_BASE (as the network scripts), DEMO_TICKET_ACCEPT_SECONDS
# (30), DEMO_TICKET_CLOSE_SECONDS (120), DEMO_TICKET_PERIOD_SECONDS (180, a multiple of 60), DEMO_LEAD_SECONDS (25:
# the first period starts this long after the SLA is prepared; the client must accept before then).
set -euo pipefail

DEMO_NAME=demo-tickets
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ACCEPT="${DEMO_TICKET_ACCEPT_SECONDS:-30}"
CLOSE="${DEMO_TICKET_CLOSE_SECONDS:-120}"
PERIOD="${DEMO_TICKET_PERIOD_SECONDS:-180}"
LEAD="${DEMO_LEAD_SECONDS:-25}"
# The high severity of the story: its closure target is short, so that TT-2's pause outlasts it.
HIGH_ACCEPT=40 HIGH_CLOSE=60
# The SLA's collateral (consequences.collateral_minor), locked from its collateral wallet when it is proposed:
# the period's penalties are paid from it.
COLLATERAL_MINOR=100000
started=$SECONDS

for tool in go jq; do command -v "$tool" >/dev/null || die "$tool is required"; done
for n in ACCEPT CLOSE PERIOD LEAD; do
	[[ "${!n}" =~ ^[1-9][0-9]*$ ]] || die "$n: '${!n}' is not a positive number of seconds"
done
[ $((PERIOD % 60)) -eq 0 ] || die "DEMO_TICKET_PERIOD_SECONDS: $PERIOD is not a multiple of 60 (the telecom SLA's sampling minute)"

# ---- 1. build, network, application
network_and_application agreement refund ercc slaenclave ticket -- slasa cloud-logger slasa-monitor

# ---- 2. the telecom SLA, scaled down
start=$(( ($(date +%s) + LEAD + 9) / 10 * 10 ))
P0="$(iso "$start")"
P0_END="$(iso $((start + PERIOD)))"
ID="tickets-$start"
WORK="$RUN/demo/$ID"
mkdir -p "$WORK"
# Without its nonce (slasa sla propose adds a fresh one); every calendar 24x7; targets in seconds, the Mean Time to
# Respond / Resolve metrics too; a collateral locked from the collateral wallet (with it, a verdict deadline: the
# collateral is released once every period is settled).
jq --arg id "$ID" --arg s "$P0" --arg e "$(iso $((start + 30 * PERIOD)))" --argjson p "$PERIOD" \
	--argjson a $((ACCEPT * 1000)) --argjson c $((CLOSE * 1000)) --argjson ha $((HIGH_ACCEPT * 1000)) --argjson hc $((HIGH_CLOSE * 1000)) \
	--argjson coll "$COLLATERAL_MINOR" '
	del(.nonce) | .id = $id | .validity = {start: $s, end: $e} | .interval.billing_cycle = {unit: "seconds", seconds: $p}
	| .support.calendars = [{id: "always", kind: "24x7"}]
	| .support.severities |= map(
		.acceptance.calendar = "always" | .closure.calendar = "always"
		| if .id == "critical" then .acceptance.target_ms = $a | .closure.target_ms = $c
		  elif .id == "high" then .acceptance.target_ms = $ha | .closure.target_ms = $hc
		  else .acceptance.target_ms = 2 * $ha | .closure.target_ms = 2 * $hc end)
	| .support.objectives |= map(if .measure == "acceptance" then .target_ms = $a else .target_ms = $c end)
	| .metrics |= map(if .id == "mttrespond" then .unit = "s" | .objective.target = ($a / 1000 | tostring)
		elif .id == "mttresolve" then .unit = "s" | .objective.target = ($c / 1000 | tostring) else . end)
	| .consequences.collateral_minor = $coll
	| .consequences.escrow_expiry = {verdict_within_seconds: 3600, outcome: "refund_client"}' \
	examples/telecom/sla.json >"$WORK/sla.json"

COLLATERAL="$(jq -r .consequences.collateral_wallet "$WORK/sla.json")"
CUR="$(jq -r .price.currency "$WORK/sla.json")"
step "Wallets: the client's, the provider's and its collateral wallet $COLLATERAL (the SLA's penalties are paid from it); the issuer mints two months of the telecom fee for the client and the SLA's collateral, $COLLATERAL_MINOR, into $COLLATERAL"
open_wallets client:client provider:provider "$COLLATERAL:provider"
slasa wallet mint client "$(jq -r '.price.amount_minor * 2' "$WORK/sla.json")" --as issuer >/dev/null
slasa wallet mint "$COLLATERAL" "$COLLATERAL_MINOR" --as issuer >/dev/null
info "client: $(bal client)  $COLLATERAL: $(bal "$COLLATERAL") (minor units, $CUR cents)"

step "The provider proposes the telecom SLA $ID: critical ${ACCEPT}s to acknowledge / ${CLOSE}s to resolve, high ${HIGH_ACCEPT}s / ${HIGH_CLOSE}s, 24x7"
jq -r '.support.severities[] | "\(.id): acceptance \(.acceptance.target_ms / 1000)s, closure \(.closure.target_ms / 1000)s (\(.acceptance.calendar))"' "$WORK/sla.json" | indent
jq -r '.support | "escalation at \([.escalation[].at_bps / 100 | tostring + " %"] | join(", ")); pause statuses \(.pause_statuses | join(", "))"' "$WORK/sla.json" | indent
jq -r '.support.penalties[] | "penalty \(.severity) \(.target): \(.amount_minor) (minor units)"' "$WORK/sla.json" | indent
jq -r '.support.objectives[] | "objective \(.id): mean \(.measure) time \(.operator) \(.target_ms / 1000)s"' "$WORK/sla.json" | indent
jq -r '.metrics[] | "metric \(.id): \(.objective.operator) \(.objective.target) \(.unit)"' "$WORK/sla.json" | indent
jq -r '.consequences | "collateral \(.collateral_minor) locked from \(.collateral_wallet); a verdict within \(.escrow_expiry.verdict_within_seconds)s of a period'"'"'s end, else \(.escrow_expiry.outcome)"' "$WORK/sla.json" | indent
slasa sla propose "$WORK/sla.json" --as provider | indent
step "The client accepts it before its first period ($P0 .. $P0_END) starts: the period's fee goes into escrow"
slasa sla accept "$ID" --as client | indent
paid="$(slasa sla show "$ID" --as client --json | jq -r .last_period)"
[ "$paid" = "$P0" ] || die "the client accepted after $P0 began, so AcceptSLA paid the period from $paid instead (a period is paid only before it starts); raise DEMO_LEAD_SECONDS (now $LEAD)"
client_before="$(bal client)"

# ---- 3. logger, escalator and events
step "The Cloud Logger follows the ticket chaincode (-tickets) and writes every ticket transition into the SLA's batches"
start_logger "$ID" "$WORK/logger" "$WORK/logger.log" -tickets -cut-delay 10s
info "no probe runs in this act: the availability metric has no data; the tickets are what the enclave judges"
step "The provider's slasa-monitor escalates the SLA's tickets (and settles its periods); slasa ticket watch prints every ticket event"
start_monitor provider "$WORK/monitor" "$WORK/monitor.log" -sla "$ID" -poll 1s
slasa ticket watch --sla "$ID" --as provider 2>>"$WORK/watch.log" > >(sed -u 's/^/    [ticket event] /') &
WATCH=$!
PIDS+=("$WATCH")
info "logs: $WORK/logger.log, $WORK/monitor.log"
while [ "$(date +%s)" -lt "$start" ]; do sleep 1; done

# ---- 4. the story
# at TICKET SECONDS: waits until SECONDS after TICKET's creation.
declare -A CREATED
at() {
	local until=$((CREATED[$1] + $2))
	while [ "$(date +%s)" -lt "$until" ]; do sleep 1; done
}
create() {
	CREATED[$2]=$(date +%s)
	slasa ticket create "$ID" "$2" --severity "$1" --type "$3" --description "$4" --as client | indent
}
step "The client opens three tickets; the provider assigns them to VendorOrg's vendor"
create critical TT-1 outage "checkout answers 502 to every request"
create high TT-2 degradation "invoice PDFs take a minute to render"
create critical TT-3 outage "site-to-site VPN to the Rome office is down"
for t in TT-1 TT-2 TT-3; do slasa ticket assign "$ID" "$t" --vendor vendor --note "yours" --as provider | indent; done

step "The vendor acknowledges TT-2 and TT-3 in time, and pauses TT-2: it waits on the customer"
slasa ticket ack "$ID" TT-2 --note "looking into it" --as vendor | indent
slasa ticket ack "$ID" TT-3 --note "on it" --as vendor | indent
slasa ticket pause "$ID" TT-2 --status waiting_on_customer --reason "need a sample invoice id" --as vendor | indent

step "TT-3: resolved, reopened by the client (its closure outcome is cleared), resolved again and closed"
slasa ticket resolve "$ID" TT-3 --note "tunnel re-keyed" --as vendor | indent
slasa ticket reopen "$ID" TT-3 --reason "the tunnel dropped again after five minutes" --as client | indent
slasa ticket resolve "$ID" TT-3 --note "dead-peer detection fixed on both ends" --as vendor | indent
slasa ticket close "$ID" TT-3 --note "stable now" --as client | indent

step "TT-1 waits for its vendor: the escalator records levels at 50, 75 and 100 % of its ${ACCEPT}s acceptance target"
at TT-1 $((ACCEPT + 5))
slasa ticket show "$ID" TT-1 --as client | indent
step "The vendor acknowledges TT-1 late: its acceptance target is breached, the SLA's penalty is owed"
slasa ticket ack "$ID" TT-1 --note "sorry, paged late" --as vendor | indent

step "TT-2 has been paused longer than its ${HIGH_CLOSE}s closure target; the client sends what was asked and resumes it"
at TT-2 $((HIGH_CLOSE + 5))
slasa ticket show "$ID" TT-2 --as client | indent
slasa ticket resume "$ID" TT-2 --note "sample invoice id sent" --as client | indent
slasa ticket resolve "$ID" TT-2 --note "renderer cache fixed" --as vendor | indent
slasa ticket resolve "$ID" TT-1 --note "payment gateway pool restored" --as vendor | indent
for t in TT-1 TT-2; do slasa ticket close "$ID" "$t" --as client | indent; done

# ---- 5. what the parties see
sleep 2 # the last events reach the watcher
kill "$WATCH" 2>/dev/null || true
wait "$WATCH" 2>/dev/null || true
unset 'PIDS[-1]' # the watcher; the logger and the monitor go on until the period is settled
step "The SLA's tickets as the client sees them (slasa ticket list $ID)"
slasa ticket list "$ID" --as client | indent
for t in TT-1 TT-2; do
	step "slasa ticket show $ID $t"
	slasa ticket show "$ID" "$t" --as client | indent
done
step "TT-3's timeline (slasa ticket history $ID TT-3)"
slasa ticket history "$ID" TT-3 --as client | indent
step "Escalations the provider's monitor recorded"
grep 'msg="ticket escalated"' "$WORK/monitor.log" | indent || info "(none)"

summary() {
	local j
	j="$(slasa ticket list "$ID" --as client --json)"
	step "Summary of the tickets of SLA $ID"
	jq -r '.[] | "\(.ticket.id): \(.record.status), acceptance \(.record.acceptance.outcome.result) (\(.record.acceptance.outcome.elapsed_ms / 1000)s of \(.record.acceptance.target_ms / 1000)s), closure \(.record.closure.outcome.result) (\(.record.closure.outcome.elapsed_ms / 1000)s of \(.record.closure.target_ms / 1000)s), \(.record.escalations | length) escalation(s), penalty owed \(.penalty_owed_minor)"' <<<"$j" | indent
	info "penalties owed in all: $(jq '[.[].penalty_owed_minor] | add' <<<"$j") (minor units of $CUR)"
}
summary

# ---- 6. the period's verdict and the refund
# period_verdict_and_refund waits for the end of period P0 (every ticket transition of the story is in it), then
# for the enclave's signed verdict and its settlement, and prints what the enclave and the ledger say: the verdict
# and report (slasa verdict show), MTTRespond / MTTResolve against their objectives, the counted ticket targets
# with their penalties, the SettleVerdict transaction and the client's balance before and after.
period_verdict_and_refund() {
	local end=$((start + PERIOD)) now v client_after
	step "Period $P0 .. $P0_END: the ticket transitions above are in its batches; waiting for its end"
	while now=$(date +%s) && [ "$now" -lt "$end" ]; do
		info "period $((now - start))s / ${PERIOD}s"
		sleep $(((end - now) < 30 ? (end - now) : 30))
	done
	step "The period closed: the logger anchors its last batch, the provider's monitor feeds the batches to the enclave, gets the signed verdict and submits SettleVerdict"
	v="$(wait_settled "$ID" "$P0" "$WORK/monitor.log" "$WORK")"
	step "The period's verdict and detailed report, decrypted for the client (slasa verdict show $ID $P0)"
	slasa verdict show "$ID" "$P0" | indent
	step "The SettleVerdict transaction, as the provider's monitor logged it"
	grep 'msg="period settled"' "$WORK/monitor.log" | indent || info "(none in this monitor's log: another party's monitor settled the period)"
	client_after="$(bal client)"
	step "Summary of period $P0 of SLA $ID, from the verdict the enclave signed and the ledger"
	jq -r '.report.support.objectives[] | "\(.id): \(if .no_data then "no data" else "\(.value_ms) ms (mean of \(.tickets) \(.measure) targets)" end), objective \(.objective) ms: \(if .met then "met" else "MISSED" end)"' <<<"$v" | indent
	jq -r '.report.metrics[] | "metric \(.id): \(if .no_data then "no data" else "\(.value) \(.unit)" end), objective \(.objective) \(.unit): \(if .met then "met" else "MISSED, penalty \(.penalty_amount)" end)"' <<<"$v" | indent
	jq -r '.report.support.tickets[] | "\(.ticket) \(.severity) \(.target): \(.result), \(.elapsed_ms / 1000)s of \(.target_ms / 1000)s, penalty \(.penalty_minor)"' <<<"$v" | indent
	jq -r --arg cur "$CUR" '"ticket penalties \(.report.support.penalty_amount), total penalty \(.verdict.verdict.penalty_amount), credit \(.verdict.verdict.credit_bps / 100) % = \(.verdict.verdict.credit_amount) (minor units of \($cur)); violated: \(.verdict.verdict.violated)"' <<<"$v" | indent
	jq -r '.escrow.settlement | "SettleVerdict tx \(.tx_id): credit \(.credit) to the client, \(.released) released to the provider, penalty \(.penalty_owed) owed: \(.penalty_paid) paid from the collateral, \(.penalty_unpaid) unpaid"' <<<"$v" | indent
	info "the metrics count each incident on the wall clock, from its opening to its first acknowledgement / resolution;"
	info "the ticket objectives count each target in its calendar without the pauses, to the last resolution"
	info "client wallet: $client_before -> $client_after ($((client_after - client_before)) since the period's fee went into escrow: credit plus penalty paid)"
	slasa wallet history client --all --json | jq -r --arg ref "$ID/$P0" '.entries[] | select(.reference == $ref and (.kind != "escrow_deposit")) | "client ledger line: \(.kind) \(if .amount > 0 then "+" else "" end)\(.amount) (tx \(.tx_id))"' | indent
	slasa collateral show "$ID" --as provider | jq -r '"collateral hold of \(.sla_id) (slasa collateral show): \(.status), \(.amount) locked from \(.wallet), \(.drawn) drawn, \(.held) held"' | indent
}
period_verdict_and_refund
cleanup; PIDS=()

info "demo-tickets took $((SECONDS - started))s"
step "The network stays up. Explore it:"
SHOWBIN="${BIN#"$ROOT"/}"
cat <<EOT
    $SHOWBIN/slasa ticket list $ID
    $SHOWBIN/slasa ticket show $ID TT-1 --as vendor
    $SHOWBIN/slasa ticket history $ID TT-2 --as provider
    $SHOWBIN/slasa ticket watch --sla $ID --start-block 0 --for 5s
    $SHOWBIN/slasa ticket show $ID TT-1 --as other        # an outsider reads nothing
    $SHOWBIN/slasa verdict show $ID $P0 --as provider
    $SHOWBIN/slasa wallet history client
  (run them from the repository root; the commands read the run folder $RUN; docs/cli.md, docs/peer-cli.md step 8)
  Stop everything with:  make network-down
EOT
