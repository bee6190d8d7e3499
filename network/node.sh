#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Stops or (re)starts one node of the running network, for fault tests:
#
#   network/node.sh stop|start|restart NODE
#
# NODE: orderer1..orderer3, peer-ORG (peer-provider, peer-client, peer-vendor, ...: every organization with a
# peer), one organization's chaincode server
# chaincode-CCNAME-ORG (e.g. chaincode-agreement-client; network.json: chaincodes.CCNAME.servers.ORG.node), or
# shim-tunnel (the tunneling shim; the IPFS node has ipfs/down.sh and ipfs/up.sh, which restart it from its repository).
# start reuses the environment recorded at network-up or deploy (run folder nodes/NODE.env) and waits for
# /healthz (a chaincode server: for its port to listen).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ $# -eq 2 ] || die "usage: network/node.sh stop|start|restart NODE"
action="$1" node="$2"
load_state
[ -f "$SLASA_RUN_DIR/nodes/$node.env" ] || die "unknown node '$node' (see $SLASA_RUN_DIR/nodes/)"
pidfile="$SLASA_RUN_DIR/pids/$node.pid"
ready=()
case "$node" in
orderer[1-3]) cmd=(orderer) ready=(http_ok "http://127.0.0.1:$(orderer_ops_port "${node#orderer}")/healthz") ;;
peer-*)
	org="${node#peer-}"
	org_has_peer "$org" || die "unknown node '$node': $org is not an organization with a peer ($PEER_ORGS)"
	cmd=(peer node start) ready=(http_ok "http://127.0.0.1:$(peer_ops_port "$org")/healthz")
	;;
chaincode-*-*)
	# chaincode-CCNAME-ORG: ORG has no '-', CCNAME may.
	ccorg="${node##*-}" ccname="${node#chaincode-}"
	ccname="${ccname%-*}"
	work="$SLASA_RUN_DIR/chaincodes/$ccname"
	if [ ! -x "$work/server" ] || [ ! -f "$work/port-$ccorg" ]; then
		die "no deployed server of chaincode '$ccname' for '$ccorg' (see $work)"
	fi
	cmd=("$work/server") ready=(port_in_use "$(cat "$work/port-$ccorg")")
	;;
shim-tunnel)
	cmd=(shim-tunnel -listen "127.0.0.1:$SHIM_PORT" -ipfs-api-file "$SLASA_RUN_DIR/ipfs/api")
	ready=(http_ok "http://127.0.0.1:$SHIM_PORT/healthz")
	;;
*) die "unknown node '$node'" ;;
esac

do_stop() {
	if [ -f "$pidfile" ]; then
		stop_pid_file "$pidfile"
		log "stopped $node"
	else
		log "$node is not running"
	fi
}
do_start() {
	if [ -f "$pidfile" ] && pid_alive "$(cat "$pidfile")"; then
		log "$node is already running"
		return
	fi
	start_node "$node" "${cmd[@]}"
	wait_for "$node to be ready" "$SLASA_RUN_DIR/logs/$node.log" "$pidfile" "${ready[@]}"
	log "started $node"
}
case "$action" in
stop) do_stop ;;
start) do_start ;;
restart) do_stop; do_start ;;
*) die "unknown action '$action' (want stop, start or restart)" ;;
esac
