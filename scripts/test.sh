#!/usr/bin/env bash
# Run every test of the project. CI runs this script through .ci/run.
#
#   scripts/test.sh [CARGO_TEST_ARGS...]
#
# Arguments are passed to `cargo test --workspace --locked`, for example a test
# name filter. The script exits non-zero as soon as a step fails.
set -euo pipefail

repo_root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)

log_step() {
  printf '\n==> %s\n' "$*"
}

# Install the Open Badges 2.0 reference validator into the project's virtual
# environment and point the Rust tests at its runner.
prepare_ob2_validator() {
  local runner="$repo_root/scripts/ob2-validate"
  log_step "Installing the Open Badges 2.0 validator into ${BADGES_VENV:-$repo_root/.venv} (no-op when it is up to date)"
  "$runner" --install-only
  export BADGES_OB2_VALIDATE="$runner"
  echo "BADGES_OB2_VALIDATE=$BADGES_OB2_VALIDATE"
}

run_cargo_tests() {
  local command=(cargo test --workspace --locked "$@")
  log_step "Running ${command[*]}"
  "${command[@]}"
}

main() {
  cd -- "$repo_root"
  prepare_ob2_validator
  run_cargo_tests "$@"
  log_step "All tests passed."
}

main "$@"
