# shellcheck shell=bash
# Common definitions of the slasa IPFS (kubo) scripts. Sourced by build.sh, up.sh, down.sh; not run directly.
# Other scripts (network/up.sh, tests) may source it too and call ipfs_build, ipfs_up, ipfs_down, ipfs_running.
#
# Environment (all optional):
#   SLASA_RUN_DIR     run folder (default <repo>/.run); the node's repo, log, PID and API address live in <run>/ipfs
#   SLASA_CACHE_DIR   cache folder (default <repo>/.cache); the kubo binary is <cache>/bin/ipfs
#   SLASA_PORT_BASE   first port of the project's port block (default 27000); IPFS uses base+80 (API) and
#                     base+81 (gateway), which the Fabric network helper (network/lib.sh) leaves free
#   SLASA_TIMEOUT     seconds to wait for the API to answer (default 90)
#   SLASA_IPFS_API_PORT, SLASA_IPFS_GATEWAY_PORT   explicit ports, overriding the base+offset rule
#   SLASA_IPFS_WATCH_PID  (tests) stop the node when this process disappears without calling ipfs-down

SLASA_IPFS_DIR_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SLASA_IPFS_REPO_ROOT="$(cd "$SLASA_IPFS_DIR_SCRIPTS/.." && pwd)"

# Kubo release the node is built from (module proxy version).
SLASA_KUBO_VERSION=v0.32.1

# ipfs_paths: (re)compute every path and port from the environment. Called by each public function, so a caller
# may change SLASA_RUN_DIR or SLASA_PORT_BASE between calls.
ipfs_paths() {
	SLASA_CACHE_DIR="${SLASA_CACHE_DIR:-$SLASA_IPFS_REPO_ROOT/.cache}"
	SLASA_RUN_DIR="${SLASA_RUN_DIR:-$SLASA_IPFS_REPO_ROOT/.run}"
	SLASA_PORT_BASE="${SLASA_PORT_BASE:-27000}"
	SLASA_TIMEOUT="${SLASA_TIMEOUT:-90}"
	IPFS_BIN="$SLASA_CACHE_DIR/bin/ipfs"
	IPFS_STAMP="$SLASA_CACHE_DIR/bin/.ipfs-version"
	IPFS_RUN="$SLASA_RUN_DIR/ipfs"
	IPFS_REPO="$IPFS_RUN/repo"
	IPFS_PIDFILE="$IPFS_RUN/ipfs.pid"
	IPFS_LOG="$IPFS_RUN/ipfs.log"
	IPFS_APIFILE="$IPFS_RUN/api"
	IPFS_GWFILE="$IPFS_RUN/gateway"
	case "$SLASA_PORT_BASE" in '' | *[!0-9]*)
		ipfs_err "SLASA_PORT_BASE must be a number, got '$SLASA_PORT_BASE'"
		return 1
		;;
	esac
	IPFS_API_PORT="${SLASA_IPFS_API_PORT:-$((SLASA_PORT_BASE + 80))}"
	IPFS_GW_PORT="${SLASA_IPFS_GATEWAY_PORT:-$((SLASA_PORT_BASE + 81))}"
	local p
	for p in "$IPFS_API_PORT" "$IPFS_GW_PORT"; do
		case "$p" in '' | *[!0-9]*)
			ipfs_err "IPFS port must be a number, got '$p'"
			return 1
			;;
		esac
		if [ "$p" -lt 1024 ] || [ "$p" -gt 65535 ]; then
			ipfs_err "IPFS port $p is outside 1024..65535 (check SLASA_PORT_BASE=$SLASA_PORT_BASE)"
			return 1
		fi
	done
}

ipfs_log() { printf '[ipfs] %s\n' "$*" >&2; }
ipfs_err() { printf '[ipfs] ERROR: %s\n' "$*" >&2; }

# ipfs_pid_alive PID: the process exists and is not a zombie.
ipfs_pid_alive() {
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
	local state
	state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 0
	[ "$state" != Z ]
}

# ipfs_port_in_use PORT: something listens on PORT.
ipfs_port_in_use() {
	if command -v ss >/dev/null 2>&1; then
		ss -Htln "sport = :$1" 2>/dev/null | grep -q . && return 0
	fi
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
	return 1
}

# ipfs_api_ok: the node's API answers (POST /api/v0/id on the configured port).
ipfs_api_ok() {
	curl -fsS -o /dev/null --max-time 2 -X POST "http://127.0.0.1:$IPFS_API_PORT/api/v0/id" 2>/dev/null
}

# ipfs_build: build kubo $SLASA_KUBO_VERSION into $SLASA_CACHE_DIR/bin/ipfs unless that exact version is there.
# The build runs in kubo's own module directory (from `go mod download -json`), so kubo's own go.sum is used and
# the project's go.mod is untouched.
ipfs_build() {
	ipfs_paths || return 1
	local go="${SLASA_GO:-go}"
	if [ -x "$IPFS_BIN" ] && [ "$(cat "$IPFS_STAMP" 2>/dev/null)" = "$SLASA_KUBO_VERSION" ]; then
		return 0
	fi
	command -v "$go" >/dev/null 2>&1 || {
		ipfs_err "the Go toolchain ($go) is needed to build kubo"
		return 1
	}
	mkdir -p "$SLASA_CACHE_DIR/bin"
	ipfs_log "building kubo $SLASA_KUBO_VERSION into $IPFS_BIN (cold build takes several minutes and ~1 GB RAM)"
	local json src
	json="$("$go" mod download -json "github.com/ipfs/kubo@$SLASA_KUBO_VERSION")" || {
		ipfs_err "go mod download github.com/ipfs/kubo@$SLASA_KUBO_VERSION failed"
		return 1
	}
	src="$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir":[[:space:]]*"\(.*\)",*$/\1/p' | head -n 1)"
	if [ -z "$src" ] || [ ! -d "$src/cmd/ipfs" ]; then
		ipfs_err "could not find kubo's module directory in the output of go mod download"
		return 1
	fi
	# GOFLAGS=-mod=readonly: never rewrite kubo's go.mod/go.sum (they live in the read-only module cache).
	(cd "$src" && GOFLAGS=-mod=readonly GOWORK=off "$go" build -trimpath -o "$IPFS_BIN.tmp" ./cmd/ipfs) || {
		rm -f "$IPFS_BIN.tmp"
		ipfs_err "building kubo failed"
		return 1
	}
	mv -f "$IPFS_BIN.tmp" "$IPFS_BIN"
	printf '%s\n' "$SLASA_KUBO_VERSION" >"$IPFS_STAMP"
	ipfs_log "kubo $SLASA_KUBO_VERSION built: $IPFS_BIN"
}

# ipfs_pid: the PID recorded for the node, when that process is alive and is our kubo daemon; else empty.
ipfs_pid() {
	local pid
	pid="$(cat "$IPFS_PIDFILE" 2>/dev/null)" || return 0
	case "$pid" in '' | *[!0-9]*) return 0 ;; esac
	ipfs_pid_alive "$pid" || return 0
	# Guard against PID reuse: the process must be an ipfs daemon.
	if [ -r "/proc/$pid/cmdline" ] && ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'ipfs.* daemon'; then
		return 0
	fi
	echo "$pid"
}

# ipfs_running: true when the recorded node process is alive.
ipfs_running() {
	ipfs_paths || return 1
	[ -n "$(ipfs_pid)" ]
}

# ipfs_configure: write the offline, loopback-only settings into the repo's config (every start, so a changed
# SLASA_PORT_BASE takes effect).
ipfs_configure() {
	local kv key val
	for kv in \
		"Addresses.API=\"/ip4/127.0.0.1/tcp/$IPFS_API_PORT\"" \
		"Addresses.Gateway=\"/ip4/127.0.0.1/tcp/$IPFS_GW_PORT\"" \
		'Addresses.Swarm=[]' \
		'Addresses.Announce=[]' \
		'Addresses.NoAnnounce=[]' \
		'Bootstrap=[]' \
		'Routing.Type="none"' \
		'Discovery.MDNS.Enabled=false' \
		'Gateway.NoDNSLink=true' \
		'Gateway.NoFetch=true' \
		'Datastore.HashOnRead=true' \
		'Swarm.DisableNatPortMap=true' \
		'AutoNAT.ServiceMode="disabled"'; do
		key="${kv%%=*}" val="${kv#*=}"
		IPFS_PATH="$IPFS_REPO" "$IPFS_BIN" config --json "$key" "$val" >>"$IPFS_LOG" 2>&1 || {
			ipfs_err "ipfs config $key $val failed (see $IPFS_LOG)"
			return 1
		}
	done
}

# ipfs_up: build kubo if needed, then start the private offline node unless it already runs. Writes the API
# address (host:port) to <run>/ipfs/api and the gateway's to <run>/ipfs/gateway.
ipfs_up() {
	ipfs_paths || return 1
	local pid
	pid="$(ipfs_pid)"
	if [ -n "$pid" ]; then
		if ipfs_api_ok; then
			ipfs_log "already running (PID $pid, API $(cat "$IPFS_APIFILE" 2>/dev/null)); nothing changed"
			return 0
		fi
		ipfs_err "the node (PID $pid) runs but its API on 127.0.0.1:$IPFS_API_PORT does not answer; run ipfs/down.sh first"
		return 1
	fi
	ipfs_build || return 1
	local p
	for p in "$IPFS_API_PORT" "$IPFS_GW_PORT"; do
		if ipfs_port_in_use "$p"; then
			ipfs_err "port $p is already in use (IPFS API = SLASA_PORT_BASE+80, gateway = +81, SLASA_PORT_BASE=$SLASA_PORT_BASE); free it or choose another base, e.g. SLASA_PORT_BASE=$((SLASA_PORT_BASE + 1000))"
			return 1
		fi
	done
	if [ ! -e "$SLASA_RUN_DIR" ]; then
		# A run folder created here is a slasa run folder like the network's (network/down.sh checks the marker).
		mkdir -p "$SLASA_RUN_DIR"
		touch "$SLASA_RUN_DIR/.slasa-run"
	fi
	mkdir -p "$IPFS_RUN"
	: >>"$IPFS_LOG"
	if [ ! -f "$IPFS_REPO/config" ]; then
		ipfs_log "initialising the node's repository in $IPFS_REPO"
		IPFS_PATH="$IPFS_REPO" "$IPFS_BIN" init --profile test --empty-repo >>"$IPFS_LOG" 2>&1 || {
			ipfs_err "ipfs init failed (see $IPFS_LOG)"
			tail -n 20 "$IPFS_LOG" >&2
			return 1
		}
	fi
	ipfs_configure || return 1
	rm -f "$IPFS_APIFILE" "$IPFS_GWFILE"
	# setsid: own session, so a Ctrl-C in the caller's terminal does not reach the node; ipfs-down stops it by PID.
	IPFS_PATH="$IPFS_REPO" setsid "$IPFS_BIN" daemon --offline --migrate=false >>"$IPFS_LOG" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$IPFS_PIDFILE"
	# Optional watchdog for tests: when the process SLASA_IPFS_WATCH_PID (e.g. a go test binary) disappears
	# without running ipfs-down (killed, timed out), stop the node anyway. It exits by itself with the node.
	if [ -n "${SLASA_IPFS_WATCH_PID:-}" ]; then
		# shellcheck disable=SC2016 # $1 and $2 are the inner script's arguments
		setsid bash -c 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done; kill -TERM "$2" 2>/dev/null; exit 0' \
			slasa-ipfs-watchdog "$SLASA_IPFS_WATCH_PID" "$pid" >/dev/null 2>&1 </dev/null &
		echo $! >"$IPFS_RUN/watchdog.pid"
	fi
	local deadline=$((SECONDS + SLASA_TIMEOUT))
	until ipfs_api_ok; do
		if ! ipfs_pid_alive "$pid"; then
			ipfs_err "the node exited during start-up (see $IPFS_LOG)"
			tail -n 20 "$IPFS_LOG" >&2
			rm -f "$IPFS_PIDFILE"
			return 1
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			ipfs_err "timed out after ${SLASA_TIMEOUT}s waiting for the API on 127.0.0.1:$IPFS_API_PORT (see $IPFS_LOG)"
			tail -n 20 "$IPFS_LOG" >&2
			ipfs_stop_pid "$pid"
			rm -f "$IPFS_PIDFILE"
			return 1
		fi
		sleep 0.1
	done
	printf '127.0.0.1:%s\n' "$IPFS_API_PORT" >"$IPFS_APIFILE"
	printf '127.0.0.1:%s\n' "$IPFS_GW_PORT" >"$IPFS_GWFILE"
	ipfs_log "node up: PID $pid, API http://127.0.0.1:$IPFS_API_PORT, gateway http://127.0.0.1:$IPFS_GW_PORT, repo $IPFS_REPO"
}

# ipfs_stop_pid PID: TERM, then KILL after 10 s.
ipfs_stop_pid() {
	local pid="$1" _i
	kill -TERM "$pid" 2>/dev/null || return 0
	for _i in $(seq 1 100); do
		ipfs_pid_alive "$pid" || return 0
		sleep 0.1
	done
	ipfs_log "node $pid did not stop on TERM; sending KILL"
	kill -KILL "$pid" 2>/dev/null
	sleep 0.2
}

# ipfs_stop_watchdog: stop the watchdog recorded by ipfs_up, if any (only when it is that watchdog).
ipfs_stop_watchdog() {
	local wf="$IPFS_RUN/watchdog.pid" wpid
	wpid="$(cat "$wf" 2>/dev/null)" || return 0
	rm -f "$wf"
	case "$wpid" in '' | *[!0-9]*) return 0 ;; esac
	if ipfs_pid_alive "$wpid" && tr '\0' ' ' <"/proc/$wpid/cmdline" 2>/dev/null | grep -q slasa-ipfs-watchdog; then
		kill -TERM "$wpid" 2>/dev/null || true
	fi
}

# ipfs_down: stop exactly the recorded node process. The repository (the stored batches) is kept; remove
# <run>/ipfs to discard it.
ipfs_down() {
	ipfs_paths || return 1
	local pid
	pid="$(ipfs_pid)"
	if [ -z "$pid" ]; then
		ipfs_log "not running (no live PID in $IPFS_PIDFILE)"
		ipfs_stop_watchdog
		rm -f "$IPFS_PIDFILE" "$IPFS_APIFILE" "$IPFS_GWFILE"
		return 0
	fi
	ipfs_stop_watchdog
	ipfs_stop_pid "$pid"
	rm -f "$IPFS_PIDFILE" "$IPFS_APIFILE" "$IPFS_GWFILE"
	ipfs_log "node stopped (PID $pid); repository kept in $IPFS_REPO"
}
