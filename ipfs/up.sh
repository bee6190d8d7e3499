#!/usr/bin/env bash
# Start the private, offline IPFS (kubo) node on loopback; build kubo first if needed. See ipfs/lib.sh.
set -euo pipefail
# shellcheck source=ipfs/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ipfs_up
