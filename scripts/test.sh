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

# Install the AWS emulator (moto in server mode, pinned in
# scripts/requirements-moto.txt) into its own virtual environment, because
# its dependencies conflict with the validator's pins.
prepare_moto() {
  local venv="${BADGES_MOTO_VENV:-$repo_root/.venv-moto}"
  local requirements="$repo_root/scripts/requirements-moto.txt"
  moto_server_bin="$venv/bin/moto_server"
  if [[ -x "$moto_server_bin" ]] && cmp -s "$requirements" "$venv/.installed-requirements.txt"; then
    return 0
  fi
  log_step "Installing moto into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --require-virtualenv -r "$requirements"
  cp -- "$requirements" "$venv/.installed-requirements.txt"
}

# Start moto on a free loopback port and export its address for the tests.
# The EXIT trap stops it by its PID.
start_moto() {
  local port log
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  log="$repo_root/target/moto-server.log"
  mkdir -p -- "$repo_root/target"
  log_step "Starting moto on 127.0.0.1:$port (log: $log)"
  "$moto_server_bin" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  moto_pid=$!
  trap stop_services EXIT
  local attempt
  for attempt in $(seq 1 100); do
    if curl --silent --fail --output /dev/null "http://127.0.0.1:$port/moto-api/data.json"; then
      export BADGES_TEST_AWS_ENDPOINT="http://127.0.0.1:$port"
      echo "BADGES_TEST_AWS_ENDPOINT=$BADGES_TEST_AWS_ENDPOINT"
      return 0
    fi
    kill -0 "$moto_pid" 2>/dev/null || { cat -- "$log" >&2; echo "moto exited before it was ready" >&2; return 1; }
    sleep 0.2
  done
  echo "moto did not answer on port $port within 20 seconds" >&2
  return 1
}

stop_services() {
  if [[ -n "${moto_pid:-}" ]]; then
    kill "$moto_pid" 2>/dev/null || true
    wait "$moto_pid" 2>/dev/null || true
  fi
}

# Run the Rust tests, keeping a copy of their output so that the totals can
# be added up at the end.
run_cargo_tests() {
  local command=(cargo test --workspace --locked "$@")
  cargo_log="$repo_root/target/cargo-test.log"
  mkdir -p -- "$repo_root/target"
  log_step "Running ${command[*]}"
  "${command[@]}" 2>&1 | tee -- "$cargo_log"
}

# Print one line with the totals of every `test result:` line cargo printed,
# because cargo's own last line is the (empty) doc-test run of one crate.
print_totals() {
  local passed failed
  passed=$(grep -Eo '^test result: [a-zA-Z]+\. [0-9]+ passed' -- "$cargo_log" | grep -Eo '[0-9]+ passed' | awk '{sum += $1} END {print sum + 0}')
  failed=$(grep -Eo '; [0-9]+ failed' -- "$cargo_log" | grep -Eo '[0-9]+' | awk '{sum += $1} END {print sum + 0}')
  echo
  echo "tests: $passed passed, $failed failed"
}

main() {
  cd -- "$repo_root"
  prepare_ob2_validator
  prepare_moto
  start_moto
  run_cargo_tests "$@"
  log_step "All tests passed."
  print_totals
}

main "$@"
