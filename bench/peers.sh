#!/usr/bin/env bash
# Installs or builds the benchmark peers into bench/peers/ (git-ignored), idempotently:
#
#   centrifugo-v6  go install github.com/centrifugal/centrifugo/v6@$CENTRIFUGO_VERSION (Go module proxy)
#   centrifuge-go  go build of bench/servers/centrifuge-go (go.mod/go.sum pin the library version)
#   node-ws        npm ci of bench/servers/node-ws (package-lock.json pins ws)
#   daphne         python3 venv + pip install -r bench/servers/daphne/requirements.txt (pinned)
#
#   bench/peers.sh [PEER...]        (default: all four; bench/suite.sh calls it)
#
# Every peer is tried even if another fails. For each, bench/peers/status/PEER gets one line:
# "ok <version>" or "failed: <reason>"; the suite reports a failed peer as not started. Exit code 0
# unless every requested peer failed. Go's module and build caches stay under bench/peers/ too
# (GOFLAGS=-modcacherw, so `rm -rf bench/peers` works). A cold Centrifugo build takes ~3–10 min
# on 2 cores; later runs only check the installed binary's version (`go version -m`).
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
PEERS="$HERE/peers"
SERVERS="$HERE/servers"
CENTRIFUGO_VERSION=${CENTRIFUGO_VERSION:-v6.9.1}
mkdir -p "$PEERS/bin" "$PEERS/status" "$PEERS/logs"
export GOMODCACHE="$PEERS/gomod" GOCACHE="$PEERS/gocache" GOFLAGS=-modcacherw GOTOOLCHAIN=local
# A Go toolchain outside PATH (the Debian image keeps it in /usr/local/go).
if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then PATH=$PATH:/usr/local/go/bin; fi

status() { echo "$2" > "$PEERS/status/$1"; echo "peers: $1: $2"; }
fail_from_log() {  # peer, what, log
  status "$1" "failed: $2: $(grep -v '^go: downloading' "$3" | tail -n 3 | tr '\n' ' ' | cut -c1-300)"
}
# newer TARGET SRC...: true when TARGET is missing or older than any SRC (then rebuild).
newer() {
  local target=$1 f
  shift
  [[ -e "$target" ]] || return 0
  for f in "$@"; do [[ "$f" -nt "$target" ]] && return 0; done
  return 1
}

install_centrifugo() {
  command -v go >/dev/null || { status centrifugo-v6 "failed: no go toolchain"; return 1; }
  local bin="$PEERS/bin/centrifugo" log="$PEERS/logs/centrifugo-install.log"
  if [[ -x "$bin" ]] && go version -m "$bin" 2>/dev/null | grep -q "mod[[:space:]]*github.com/centrifugal/centrifugo/v6[[:space:]]*$CENTRIFUGO_VERSION"; then
    status centrifugo-v6 "ok $CENTRIFUGO_VERSION"
    return 0
  fi
  echo "peers: centrifugo-v6: go install github.com/centrifugal/centrifugo/v6@$CENTRIFUGO_VERSION (cold: several minutes)"
  if GOBIN="$PEERS/bin" go install "github.com/centrifugal/centrifugo/v6@$CENTRIFUGO_VERSION" > "$log" 2>&1; then
    status centrifugo-v6 "ok $CENTRIFUGO_VERSION"
  else
    fail_from_log centrifugo-v6 "go install @$CENTRIFUGO_VERSION" "$log"
    return 1
  fi
}

install_centrifuge_go() {
  command -v go >/dev/null || { status centrifuge-go "failed: no go toolchain"; return 1; }
  local src="$SERVERS/centrifuge-go" bin="$PEERS/bin/centrifuge-go" log="$PEERS/logs/centrifuge-go-build.log"
  local version
  version=$(grep -oE 'github.com/centrifugal/centrifuge v[^[:space:]]+' "$src/go.mod" | awk '{print $2}' | head -n 1)
  if newer "$bin" "$src/main.go" "$src/go.mod" "$src/go.sum"; then
    echo "peers: centrifuge-go: go build (library $version)"
    if ! (cd "$src" && go build -o "$bin" .) > "$log" 2>&1; then
      fail_from_log centrifuge-go "go build" "$log"
      return 1
    fi
  fi
  status centrifuge-go "ok centrifuge $version"
}

install_node_ws() {
  command -v node >/dev/null && command -v npm >/dev/null || { status node-ws "failed: node/npm not installed"; return 1; }
  local src="$SERVERS/node-ws" dst="$PEERS/node-ws" log="$PEERS/logs/node-ws-install.log"
  mkdir -p "$dst"
  cp "$src/server.js" "$dst/"
  if newer "$dst/node_modules/.package-lock.json" "$src/package.json" "$src/package-lock.json"; then
    cp "$src/package.json" "$src/package-lock.json" "$dst/"
    echo "peers: node-ws: npm ci"
    if ! (cd "$dst" && npm ci --no-audit --no-fund) > "$log" 2>&1; then
      fail_from_log node-ws "npm ci" "$log"
      return 1
    fi
  fi
  local v
  v=$(node -p "require('$dst/node_modules/ws/package.json').version" 2>/dev/null) || { status node-ws "failed: ws not installed"; return 1; }
  status node-ws "ok ws $v, node $(node --version)"
}

install_daphne() {
  local src="$SERVERS/daphne" venv="$PEERS/daphne-venv" log="$PEERS/logs/daphne-install.log"
  command -v python3 >/dev/null || { status daphne "failed: no python3"; return 1; }
  if newer "$venv/.installed" "$src/requirements.txt"; then
    echo "peers: daphne: venv + pip install -r requirements.txt"
    rm -rf "$venv"
    if ! { python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check -r "$src/requirements.txt"; } > "$log" 2>&1; then
      fail_from_log daphne "venv/pip" "$log"
      return 1
    fi
    touch "$venv/.installed"
  fi
  local v
  v=$("$venv/bin/python" -c 'import daphne, channels, django; print(f"daphne {daphne.__version__}, channels {channels.__version__}, Django {django.__version__}")' 2>&1) \
    || { status daphne "failed: import: $v"; return 1; }
  status daphne "ok $v"
}

want=("$@")
[[ ${#want[@]} -gt 0 ]] || want=(centrifugo-v6 centrifuge-go node-ws daphne)
failed=0
for p in "${want[@]}"; do
  case $p in
    centrifugo-v6) install_centrifugo || ((failed++)) ;;
    centrifuge-go) install_centrifuge_go || ((failed++)) ;;
    node-ws) install_node_ws || ((failed++)) ;;
    daphne) install_daphne || ((failed++)) ;;
    *) echo "peers: unknown peer $p" >&2; ((failed++)) ;;
  esac
done
[[ $failed -lt ${#want[@]} ]]
