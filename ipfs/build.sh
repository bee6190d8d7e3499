#!/usr/bin/env bash
# Build kubo (the IPFS node) into the cache folder, once per version. See ipfs/lib.sh for the environment.
set -euo pipefail
# shellcheck source=ipfs/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ipfs_build
