# Sourced by infra/run, infra/test and infra/bench: SDK settings for a local endpoint. Real AWS
# credentials and region in the environment win.
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
# .cargo/config.toml makes Lambda builds (which name --target) non-PIE; on an arm64 machine the
# project's own builds name no target, and Cargo would pass that flag to proc macros too.
if [ "$(uname -m)" = aarch64 ]; then export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS=""; fi

# load_env FILE: exports each NAME=VALUE line of FILE (written by infra/stack.sh or infra/run),
# as data: nothing in it is evaluated.
load_env() {
  local name value
  while IFS='=' read -r name value; do
    [[ "$name" =~ ^[A-Z_][A-Z0-9_]*$ ]] && export "$name=$value"
  done <"$1"
}

# wait_for_api FILE PID SECONDS: waits until FILE names the local API's address
# (`API_ADDRESS=...`: the API's own api.address, or infra/run's run.env once the stack is up) and
# the API answers GET /health there, failing at once if PID (the process that runs it) exits;
# prints the address. The one wait for the API: infra/run's and infra/fuzz's.
wait_for_api() {
  local file="$1" pid="$2" seconds="$3" address=""
  for _ in $(seq 1 $((seconds * 5))); do
    kill -0 "$pid" 2>/dev/null || { echo "the local API's process exited" >&2; return 1; }
    if [ -z "$address" ] && [ -f "$file" ]; then address="$(sed -n 's/^API_ADDRESS=//p' "$file")"; fi
    if [ -n "$address" ] && python3 -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + '/health', timeout=1)" "$address" 2>/dev/null; then
      echo "$address"
      return
    fi
    sleep 0.2
  done
  echo "the local API did not answer within $seconds s" >&2
  return 1
}
