#!/usr/bin/env bash
# Run every test of the project: the Rust tests, two independent Open Badges
# 3.0 verifiers on the credentials that the Rust tests issue, then the browser
# tests in headless Chromium. CI runs this script through .ci/run.
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

# Install the two offline Open Badges 3.0 verifiers that
# scripts/ob3-verify-issued runs. verifier-core, pinned by
# tests/ob3-verifiers/package-lock.json, comes from `npm ci`, which prefers
# npm's cache, so a warm cache needs no registry. openbadgeslib, pinned in
# scripts/requirements-ob3.txt, goes into its own virtual environment. Each
# install runs again only when its lock or requirements file changes.
prepare_ob3_verifiers() {
  local folder="$repo_root/tests/ob3-verifiers"
  local venv="${BADGES_OB3_VENV:-$repo_root/.venv-ob3}"
  local requirements="$repo_root/scripts/requirements-ob3.txt"
  if ! cmp -s "$folder/package-lock.json" "$folder/node_modules/.installed-package-lock.json"; then
    log_step "Installing verifier-core in $folder"
    (cd -- "$folder" && npm ci --prefer-offline --no-audit --no-fund)
    cp -- "$folder/package-lock.json" "$folder/node_modules/.installed-package-lock.json"
  fi
  if [[ ! -x "$venv/bin/python" ]] || ! cmp -s "$requirements" "$venv/.installed-requirements.txt"; then
    log_step "Installing openbadgeslib into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --require-virtualenv -r "$requirements"
    cp -- "$requirements" "$venv/.installed-requirements.txt"
  fi
  export BADGES_OB3_VENV="$venv"
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

# Debian's chromium for the browser tests. As root the script installs it
# with apt-get; otherwise it stops and names the package, because the
# browser tests are never skipped.
prepare_chromium() {
  if [[ -x /usr/bin/chromium ]]; then
    return 0
  fi
  if [[ $(id -u) -ne 0 ]]; then
    echo "The browser tests need Debian's chromium package (/usr/bin/chromium). Install it with: sudo apt-get install chromium" >&2
    return 1
  fi
  log_step "Installing Debian's chromium package for the browser tests"
  apt_get_update_once
  DEBIAN_FRONTEND=noninteractive apt-get install --yes --no-install-recommends chromium
}

apt_get_update_once() {
  if [[ -z "${apt_updated:-}" ]]; then
    apt-get update
    apt_updated=1
  fi
}

# Install the browser tests' npm packages (playwright-core and axe-core,
# pinned in tests/browser/package-lock.json). playwright-core downloads no
# browser: the tests drive /usr/bin/chromium.
prepare_browser_tests() {
  local folder="$repo_root/tests/browser"
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "The browser tests need Node.js 20 or later with npm (Debian packages nodejs and npm)." >&2
    return 1
  fi
  log_step "Installing the browser tests' npm packages in $folder"
  (cd -- "$folder" && npm ci --no-audit --no-fund)
}

# Check the Open Badges 3.0 credentials that the Rust tests issued into
# target/ob3-issued/ (or BADGES_OB3_ISSUED_DIR) with both verifiers, keeping a
# copy of the output for the totals. A missing or empty manifest fails here.
run_ob3_verifiers() {
  ob3_log="$repo_root/target/ob3-verify.log"
  local folder="${BADGES_OB3_ISSUED_DIR:-$repo_root/target/ob3-issued}"
  if [[ $# -gt 0 && ! -f $folder/manifest.json ]]; then
    # A filtered run (scripts/test.sh FILTER) may leave out the test that
    # issues the credentials. The full run always checks them.
    log_step "No credentials issued by this filtered run: the verifiers have nothing to check"
    : >"$ob3_log"
    return
  fi
  log_step "Verifying the issued Open Badges 3.0 credentials with verifier-core and openbadgeslib"
  "$repo_root/scripts/ob3-verify-issued" 2>&1 | tee -- "$ob3_log"
}

# Build the badges-local binary that the browser tests start.
build_local_binary() {
  log_step "Building badges-local for the browser tests"
  cargo build --locked -p badges-local
}

# Run the browser tests with node's test runner, keeping a copy of the
# output for the totals. They write screenshots at phone and desktop widths
# to tests/output/screenshots/.
run_browser_tests() {
  local screenshots="$repo_root/tests/output/screenshots"
  browser_log="$repo_root/target/browser-test.log"
  log_step "Running the browser tests (screenshots: $screenshots)"
  (cd -- "$repo_root/tests/browser" \
    && BADGES_LOCAL_BIN="$repo_root/target/debug/badges-local" BADGES_SCREENSHOT_DIR="$screenshots" node --test) 2>&1 \
    | tee -- "$browser_log"
  echo "Screenshots of every page: $screenshots"
}

# Run the Rust tests, keeping a copy of their output so that the totals can
# be added up at the end.
run_cargo_tests() {
  local command=(cargo test --workspace --locked "$@")
  cargo_log="$repo_root/target/cargo-test.log"
  mkdir -p -- "$repo_root/target"
  # The credentials of an earlier run must never stand in for this run's.
  rm -rf -- "${BADGES_OB3_ISSUED_DIR:-$repo_root/target/ob3-issued}"
  log_step "Running ${command[*]}"
  "${command[@]}" 2>&1 | tee -- "$cargo_log"
}

# Print one line with the totals of every `test result:` line cargo printed,
# because cargo's own last line is the (empty) doc-test run of one crate,
# plus the `# pass` and `# fail` lines of node's test runner and of
# scripts/ob3-verify-issued.
print_totals() {
  local passed failed
  passed=$(grep -Eo '^test result: [a-zA-Z]+\. [0-9]+ passed' -- "$cargo_log" | grep -Eo '[0-9]+ passed' | awk '{sum += $1} END {print sum + 0}')
  failed=$(grep -Eo '; [0-9]+ failed' -- "$cargo_log" | grep -Eo '[0-9]+' | awk '{sum += $1} END {print sum + 0}')
  passed=$((passed + $(awk '/^# pass / {sum += $3} END {print sum + 0}' "$browser_log")))
  failed=$((failed + $(awk '/^# fail / {sum += $3} END {print sum + 0}' "$browser_log")))
  passed=$((passed + $(awk '/^# pass / {sum += $3} END {print sum + 0}' "$ob3_log")))
  failed=$((failed + $(awk '/^# fail / {sum += $3} END {print sum + 0}' "$ob3_log")))
  echo
  echo "tests: $passed passed, $failed failed"
}

main() {
  cd -- "$repo_root"
  prepare_ob2_validator
  prepare_moto
  prepare_chromium
  prepare_browser_tests
  prepare_ob3_verifiers
  start_moto
  run_cargo_tests "$@"
  run_ob3_verifiers "$@"
  build_local_binary
  run_browser_tests
  log_step "All tests passed."
  print_totals
}

main "$@"
