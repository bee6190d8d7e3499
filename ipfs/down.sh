#!/usr/bin/env bash
# Stop the IPFS (kubo) node recorded in <run>/ipfs/ipfs.pid; its repository is kept. See ipfs/lib.sh.
set -euo pipefail
# shellcheck source=ipfs/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ipfs_down
