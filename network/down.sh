#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Stops exactly the processes recorded in $SLASA_RUN_DIR/pids (chaincode servers, then peers, then orderers)
# and removes the run folder. Safe to run when nothing is up.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ ! -e "$SLASA_RUN_DIR" ]; then
	log "no run folder at $SLASA_RUN_DIR; nothing to stop"
	exit 0
fi
[ -f "$SLASA_RUN_DIR/.slasa-run" ] ||
	die "$SLASA_RUN_DIR is not a slasa run folder (no .slasa-run marker); refusing to touch it"

load_recorded_bin_dir
stopped=0
for pattern in 'chaincode-*' 'peer-*' 'orderer*' '*'; do
	for f in "$SLASA_RUN_DIR"/pids/$pattern.pid; do
		[ -f "$f" ] || continue
		stop_pid_file "$f"
		stopped=$((stopped + 1))
	done
done
# The IPFS node records its PID under the run folder too (ipfs/): stop it before the folder goes.
SLASA_RUN_DIR="$SLASA_RUN_DIR" bash "$SLASA_REPO_ROOT/ipfs/down.sh" || true
rm -rf "$SLASA_RUN_DIR"
log "network down: stopped $stopped recorded process(es), removed $SLASA_RUN_DIR"
