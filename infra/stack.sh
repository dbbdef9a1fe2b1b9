#!/usr/bin/env bash
# The local AWS stack: a project venv with pinned moto, moto's server on 127.0.0.1 (a free port),
# stopped by its PID. Several named stacks can run at once (e.g. `run` and `test`).
#
#   infra/stack.sh start NAME   start moto (unless AWS_ENDPOINT_URL is set) and print its endpoint
#   infra/stack.sh stop NAME    stop the moto that `start NAME` started
#   infra/stack.sh venv         create/refresh the venv (moto, aws-sam-cli)
#   infra/stack.sh validate     sam validate --lint
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STATE="$ROOT/.local"
MOTO_VERSION="5.2.1"
SAM_VERSION="1.170.0"

log() { echo "stack: $*" >&2; }

venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV"
    python3 -m venv "$VENV"
  fi
  if ! "$VENV/bin/python" -c "import importlib.metadata as m; assert m.version('moto') == '$MOTO_VERSION'" 2>/dev/null; then
    log "installing moto[server]==$MOTO_VERSION"
    "$VENV/bin/pip" install --disable-pip-version-check -q "moto[server]==$MOTO_VERSION"
  fi
}

sam_cli() {
  venv
  if ! "$VENV/bin/python" -c "import importlib.metadata as m; assert m.version('aws-sam-cli') == '$SAM_VERSION'" 2>/dev/null; then
    log "installing aws-sam-cli==$SAM_VERSION"
    "$VENV/bin/pip" install --disable-pip-version-check -q "aws-sam-cli==$SAM_VERSION"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  local name="$1"
  if [ -n "${AWS_ENDPOINT_URL:-}" ]; then
    log "using AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL"
    echo "$AWS_ENDPOINT_URL"
    return
  fi
  venv
  stop "$name"
  mkdir -p "$STATE"
  local port endpoint
  port="$(free_port)"
  endpoint="http://127.0.0.1:$port"
  "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$STATE/$name.moto.log" 2>&1 &
  echo $! >"$STATE/$name.moto.pid"
  for _ in $(seq 1 100); do
    if python3 -c "import urllib.request; urllib.request.urlopen('$endpoint/moto-api/data.json', timeout=1)" 2>/dev/null; then
      log "moto $MOTO_VERSION on $endpoint (pid $(cat "$STATE/$name.moto.pid"))"
      echo "$endpoint"
      return
    fi
    if ! kill -0 "$(cat "$STATE/$name.moto.pid")" 2>/dev/null; then
      log "moto exited; its log:"; cat "$STATE/$name.moto.log" >&2; exit 1
    fi
    sleep 0.2
  done
  log "moto did not answer on $endpoint within 20 s"; stop "$name"; exit 1
}

stop() {
  local pidfile="$STATE/$1.moto.pid"
  if [ -f "$pidfile" ]; then
    local pid; pid="$(cat "$pidfile")"
    if kill "$pid" 2>/dev/null; then
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  fi
}

case "${1:-}" in
  start) start "${2:?stack name}" ;;
  stop) stop "${2:?stack name}" ;;
  venv) venv ;;
  validate) sam_cli; SAM_CLI_TELEMETRY=0 "$VENV/bin/sam" validate --lint --template-file "$ROOT/template.yaml" ;;
  *) echo "usage: $0 start NAME | stop NAME | venv | validate" >&2; exit 2 ;;
esac
