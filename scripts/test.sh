#!/usr/bin/env bash
# Runs ALL of pakn's tests on a fresh machine that has the Rust toolchain and
# Python 3: installs the local AWS emulator (moto) and the template linters
# into ./.venv, checks formatting and lints, validates the SAM template, then
# runs every Rust test (the AWS-adapter tests start moto on 127.0.0.1 themselves).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if ! .venv/bin/python -c 'import moto, cfnlint, samcli, openapi_spec_validator, schemathesis, playwright, axe_playwright_python' 2>/dev/null; then
  echo "==> installing test tools into .venv (moto[server], cfn-lint, aws-sam-cli, openapi-spec-validator, schemathesis, playwright, axe-playwright-python)"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet -r infra/requirements-test.txt
fi
# The console's browser tests drive Debian's Chromium (never a downloaded browser).
if [ ! -x /usr/bin/chromium ]; then
  echo "==> installing Debian's chromium for the console's browser tests"
  if ! { [ "$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
    && ! { command -v sudo >/dev/null && sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; then
    echo "error: /usr/bin/chromium is missing and could not be installed." >&2
    echo "       Install it as root with: apt-get install -y chromium" >&2
    echo "       (or set PAKN_CHROMIUM to a Chromium binary and run cargo test yourself)." >&2
    exit 1
  fi
fi
export PAKN_MOTO_SERVER="$root/.venv/bin/moto_server"
export CARGO_INCREMENTAL=0
export CARGO_TERM_COLOR=never
# The linters and the emulator never need real AWS: dummy credentials, a region.
export AWS_REGION=ap-southeast-1 AWS_DEFAULT_REGION=ap-southeast-1
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export SAM_CLI_TELEMETRY=0

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "==> cfn-lint template.yaml"
.venv/bin/cfn-lint template.yaml
echo "==> sam validate --lint"
.venv/bin/sam validate --lint --template-file template.yaml >/dev/null
echo "==> cargo build --workspace --bins (the end-to-end tests run the real binaries)"
cargo build --workspace --bins --quiet
echo "==> cargo build --release of the four Lambda bootstraps (the Runtime API tests run them; pakn-router's package builds pakn-publisher)"
cargo build --release --quiet -p pakn-api -p pakn-router -p pakn-deadlines
echo "==> cargo test --workspace"
cargo test --workspace --no-fail-fast "$@"
