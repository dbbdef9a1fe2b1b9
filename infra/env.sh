# Sourced by infra/run, infra/test and infra/bench: SDK settings for a local endpoint. Real AWS
# credentials and region in the environment win.
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
# .cargo/config.toml makes Lambda builds (which name --target) non-PIE; on an arm64 machine the
# project's own builds name no target, and Cargo would pass that flag to proc macros too.
if [ "$(uname -m)" = aarch64 ]; then export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS=""; fi
