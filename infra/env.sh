# Sourced by infra/run, infra/test and infra/bench: SDK settings for a local endpoint. Real AWS
# credentials and region in the environment win.
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
