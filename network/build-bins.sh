#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Builds the Fabric v2.5.9 binaries (peer, orderer, configtxgen, configtxlator, cryptogen, osnadmin) from the
# pinned tools module network/tools into $SLASA_CACHE_DIR/bin, once: a stamp records what was built, and later runs
# reuse the binaries. Also copies Fabric's sampleconfig next to them and builds our CCaaS external builder
# (cmd/ccaas-builder) as $SLASA_CACHE_DIR/ccaas-builder/bin/{detect,build,release}.
# Set SLASA_REBUILD=1 to force a rebuild of the Fabric binaries.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v go >/dev/null || die "the Go toolchain is required (go not found in PATH)"

tools="$SLASA_NETWORK_DIR/tools"
fabric_mod=github.com/hyperledger/fabric
stamp_file="$SLASA_BIN_DIR/.stamp"
stamp="fabric=$SLASA_FABRIC_VERSION $(cat "$tools/go.mod" "$tools/go.sum" | sha256sum | cut -c1-16) $(go env GOVERSION)"

mkdir -p "$SLASA_BIN_DIR" "$SLASA_BUILDER_DIR/bin"
# Concurrent runs (two test binaries, or a test next to make network-up) build one at a time.
if command -v flock >/dev/null; then
	exec 9>"$SLASA_CACHE_DIR/.build.lock"
	flock 9
fi

have_all=1
for b in $SLASA_FABRIC_BINS; do
	[ -x "$SLASA_BIN_DIR/$b" ] || have_all=0
done
[ -f "$SLASA_CACHE_DIR/sampleconfig/core.yaml" ] || have_all=0

if [ "$have_all" = 1 ] && [ "${SLASA_REBUILD:-0}" != 1 ] && [ "$(cat "$stamp_file" 2>/dev/null)" = "$stamp" ]; then
	log "Fabric $SLASA_FABRIC_VERSION binaries up to date in $SLASA_BIN_DIR"
else
	log "building Fabric $SLASA_FABRIC_VERSION binaries into $SLASA_BIN_DIR (first build takes a few minutes)"
	start=$SECONDS
	pkgs=""
	for b in $SLASA_FABRIC_BINS; do pkgs="$pkgs $fabric_mod/cmd/$b"; done
	ldflags="-X $fabric_mod/common/metadata.Version=$SLASA_FABRIC_VERSION -X $fabric_mod/common/metadata.CommitSHA=$SLASA_FABRIC_COMMIT"
	# GOFLAGS=-mod=mod would let go rewrite go.mod; keep the committed files authoritative.
	# shellcheck disable=SC2086
	(cd "$tools" && GOFLAGS=-mod=readonly CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$SLASA_BIN_DIR/" $pkgs)
	src="$(cd "$tools" && GOFLAGS=-mod=readonly go list -m -f '{{.Dir}}' "$fabric_mod")"
	[ -f "$src/sampleconfig/core.yaml" ] || die "Fabric sampleconfig not found in $src"
	rm -rf "$SLASA_CACHE_DIR/sampleconfig"
	cp -r "$src/sampleconfig" "$SLASA_CACHE_DIR/sampleconfig"
	chmod -R u+w "$SLASA_CACHE_DIR/sampleconfig"
	echo "$stamp" >"$stamp_file"
	log "built Fabric binaries in $((SECONDS - start))s"
fi

# Our two small helpers (standard library only) are rebuilt when their sources change.
# mkuser issues the named client users (cryptogen only makes User1, User2, ...); its binary name carries the hash
# of its sources (see mkuser_bin in lib.sh), so checkouts sharing this cache folder each get their own.
src_stamp() { cat "$@" | sha256sum | cut -c1-16; }
mkuser="$(mkuser_bin)"
if [ ! -x "$mkuser" ]; then
	(cd "$tools" && GOFLAGS=-mod=readonly CGO_ENABLED=0 go build -o "$mkuser.tmp" ./mkuser)
	mv -f "$mkuser.tmp" "$mkuser"
fi

# Our CCaaS external builder: one binary, linked as detect, build and release.
cb_stamp="$(src_stamp "$SLASA_REPO_ROOT"/cmd/ccaas-builder/*.go "$SLASA_REPO_ROOT"/internal/ccaas/*.go) $(go env GOVERSION)"
if [ ! -x "$SLASA_BUILDER_DIR/bin/release" ] || [ "$(cat "$SLASA_BUILDER_DIR/.stamp" 2>/dev/null)" != "$cb_stamp" ]; then
	(cd "$SLASA_REPO_ROOT" && CGO_ENABLED=0 go build -o "$SLASA_BUILDER_DIR/bin/ccaas-builder.new" ./cmd/ccaas-builder)
	mv -f "$SLASA_BUILDER_DIR/bin/ccaas-builder.new" "$SLASA_BUILDER_DIR/bin/ccaas-builder"
	for n in detect build release; do
		ln -f "$SLASA_BUILDER_DIR/bin/ccaas-builder" "$SLASA_BUILDER_DIR/bin/$n"
	done
	echo "$cb_stamp" >"$SLASA_BUILDER_DIR/.stamp"
fi

"$SLASA_BIN_DIR/peer" version | grep -q "Version: v\?$SLASA_FABRIC_VERSION" ||
	die "$SLASA_BIN_DIR/peer does not report version $SLASA_FABRIC_VERSION"
