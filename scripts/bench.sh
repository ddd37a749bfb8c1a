#!/usr/bin/env bash
# Run the benchmark suite and print its figures. docs/benchmarks.md
# describes each benchmark, its target and the latest results.
#
#   scripts/bench.sh [SECTION...]
#
# SECTION is one or more of serving, cold-start, import, dynamodb, baking and
# mail; without one, every section runs. Results go to target/bench-results/
# (BADGES_BENCH_OUT overrides it): raw tool output, one JSON file per
# figure, and summary.md, which scripts/bench/report.py writes at the end.
#
# The script needs wrk, hyperfine, nginx and /usr/bin/time from Debian's
# packages and installs them with apt-get when it runs as root. It installs
# moto into .venv-moto (as scripts/test.sh does) and openbadges-bakery and
# cargo-lambda into .venv-bench, pinned in scripts/requirements-bench.txt.
# Release builds go to target/bench-release (BADGES_BENCH_TARGET_DIR
# overrides it) and run under `nice -n 10`. Every server it starts listens
# on 127.0.0.1 and is stopped by its PID on exit.
set -euo pipefail

repo_root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
out_dir=${BADGES_BENCH_OUT:-$repo_root/target/bench-results}
target_dir=${BADGES_BENCH_TARGET_DIR:-$repo_root/target/bench-release}
bench_venv=${BADGES_BENCH_VENV:-$repo_root/.venv-bench}
moto_venv=${BADGES_MOTO_VENV:-$repo_root/.venv-moto}
release_bin=$target_dir/release

# Lambda functions and the sample event each one answers in the cold-start runs.
lambda_functions=(badges-admin badges-claim badges-awards badges-notify badges-ses-events badges-reminders)
declare -A lambda_events=(
  [badges-admin]=events/http/admin-get-badge.json
  [badges-claim]=events/http/claim-get.json
  [badges-awards]=events/http/awards-get-badge.json
  [badges-notify]=events/dynamodb/award-queued.json
  [badges-ses-events]=events/sns/ses-delivery.json
  [badges-reminders]=events/schedule/reminders.json
)

all_sections=(serving cold-start import dynamodb baking mail)
service_pids=()
declare -A bench_executables=()

log_step() {
  printf '\n==> %s\n' "$*"
}

fail() {
  echo "error: $*" >&2
  exit 1
}

# Prints the load average, so that every section records the load it ran under.
record_load() {
  local section=$1
  printf '%s\t%s\n' "$section" "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$out_dir/load.tsv"
  echo "load average before $section: $(cut -d' ' -f1-3 /proc/loadavg)"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Waits until URL answers, or fails after 20 seconds or when PID exits.
wait_for_url() {
  local url=$1 pid=$2 log=$3 attempt
  for attempt in $(seq 1 200); do
    if curl --silent --output /dev/null "$url"; then
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { tail -n 30 -- "$log" >&2; fail "the process $pid exited before $url answered"; }
    sleep 0.1
  done
  fail "$url did not answer within 20 seconds (log: $log)"
}

stop_pid() {
  local pid=$1
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
}

stop_services() {
  local pid
  for pid in "${service_pids[@]}"; do
    stop_pid "$pid"
  done
  service_pids=()
}

# ---------------------------------------------------------------------------
# Tools, virtual environments and builds
# ---------------------------------------------------------------------------

install_debian_tools() {
  local -A tool_packages=([wrk]=wrk [hyperfine]=hyperfine [nginx]=nginx [/usr/bin/time]=time [curl]=curl)
  local missing=() tool
  for tool in "${!tool_packages[@]}"; do
    if ! command -v "$tool" >/dev/null 2>&1 && [[ ! -x /usr/sbin/$tool ]]; then
      missing+=("${tool_packages[$tool]}")
    fi
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if [[ $(id -u) -ne 0 ]]; then
    fail "missing Debian packages: ${missing[*]}. Install them with: sudo apt-get install ${missing[*]}"
  fi
  log_step "Installing ${missing[*]} with apt-get"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Installs a pinned requirements file into a virtual environment, unless
# the same file was installed there before.
install_venv() {
  local venv=$1 requirements=$2
  if [[ -x "$venv/bin/python" ]] && cmp -s "$requirements" "$venv/.installed-requirements.txt"; then
    return 0
  fi
  log_step "Installing $(basename -- "$requirements") into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --require-virtualenv -r "$requirements"
  cp -- "$requirements" "$venv/.installed-requirements.txt"
}

# Builds the release binaries and the criterion benches, and records the
# path of each bench executable in bench_executables. The benches are built
# with the release profile, because `cargo bench` would build every
# dependency again under its own profile.
build_release() {
  log_step "Building badges-local and the benchmark programs (release, $target_dir)"
  CARGO_TARGET_DIR=$target_dir nice -n 10 cargo build --release --locked -p badges-local -p badges-bench --bins --benches \
    --message-format=json-render-diagnostics >"$out_dir/build-artifacts.json"
  local name path
  while read -r name path; do
    bench_executables[$name]=$path
  done < <(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    message = json.loads(line)
    if message.get("reason") == "compiler-artifact" and message.get("executable") and "bench" in message["target"]["kind"]:
        print(message["target"]["name"], message["executable"])
' "$out_dir/build-artifacts.json")
}

# Runs one criterion bench executable, which writes its estimates under
# $target_dir/criterion for report.py.
run_criterion() {
  local name=$1
  shift
  [[ -n ${bench_executables[$name]:-} ]] || fail "the build produced no executable for the bench $name"
  CARGO_TARGET_DIR=$target_dir "${bench_executables[$name]}" --bench "$@"
}

build_lambdas() {
  local packages=() name
  for name in "${lambda_functions[@]}"; do
    packages+=(-p "$name")
  done
  log_step "Building the Lambda bootstraps with cargo lambda build --release --x86-64"
  PATH=$bench_venv/bin:$PATH CARGO_TARGET_DIR=$target_dir \
    nice -n 10 cargo lambda build --release --x86-64 --locked "${packages[@]}"
}

# Starts moto on a free loopback port and exports the AWS variables that
# point the SDK at it, with fixed credentials and no instance metadata.
start_moto() {
  local port log
  port=$(free_port)
  log=$out_dir/moto-server.log
  log_step "Starting moto on 127.0.0.1:$port (log: $log)"
  "$moto_venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  local pid=$!
  service_pids+=("$pid")
  wait_for_url "http://127.0.0.1:$port/moto-api/data.json" "$pid" "$log"
  export AWS_ENDPOINT_URL=http://127.0.0.1:$port
  export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
  export AWS_EC2_METADATA_DISABLED=true
}

write_machine() {
  {
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "nproc: $(nproc)"
    echo "cpu: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)"
    echo "memory: $(free -g | awk '/^Mem:/ {print $2 " GiB"}')"
    echo "kernel: $(uname -sr)"
    echo "rustc: $(rustc --version)"
    echo "wrk: $(wrk --version 2>&1 | head -n 1 || true)"
    echo "hyperfine: $(hyperfine --version)"
    echo "nginx: $(nginx -v 2>&1)"
    echo "commit: $(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  } >"$out_dir/machine.txt"
  cat -- "$out_dir/machine.txt"
}

# ---------------------------------------------------------------------------
# Serving: badges-local against nginx on the same bytes
# ---------------------------------------------------------------------------

# Starts badges-local on a new data folder, creates and accepts an award,
# and saves the assertion JSON and the award page. Sets badges_url and award_path.
start_badges_local() {
  local data=$out_dir/serving/data port log token award_id claim_link
  rm -rf -- "$data"
  port=$(free_port)
  log=$out_dir/serving/badges-local.log
  BADGES_ADMIN_TOKEN=bench-admin-token "$release_bin/badges-local" --listen "127.0.0.1:$port" --data "$data" \
    >"$log" 2>&1 &
  local pid=$!
  service_pids+=("$pid")
  badges_pid=$pid
  badges_url=http://127.0.0.1:$port
  wait_for_url "$badges_url/" "$pid" "$log"

  award_id=$(curl --silent --fail -H 'Authorization: Bearer bench-admin-token' -H 'Content-Type: application/json' \
    --data '{"badge_id": "rda-serials-cataloging-update", "recipient": {"email": "ada.abbott@citylib.example.net", "name": "Ada Abbott"}, "evidence": "https://www.example.org/recordings/rda-serials"}' \
    "$badges_url/admin/awards" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
  local attempt
  for attempt in $(seq 1 100); do
    claim_link=$(grep -o "http://[^ ]*/claim/$award_id?token=[A-Za-z0-9_-]*" -- "$log" | head -n 1 || true)
    [[ -n $claim_link ]] && break
    sleep 0.1
  done
  [[ -n $claim_link ]] || fail "badges-local printed no claim link for award $award_id (log: $log)"
  token=${claim_link#*token=}
  curl --silent --fail --output /dev/null --data "token=$token" "$badges_url/claim/$award_id/accept"
  award_path=/awards/$award_id
  curl --silent --fail -H 'Accept: application/ld+json' -o "$out_dir/serving/www/assertion.json" "$badges_url$award_path"
  curl --silent --fail -H 'Accept: text/html' -o "$out_dir/serving/www/award.html" "$badges_url$award_path"
}

# Starts nginx on a free port with its own prefix, serving the saved bytes
# as static files. Sets nginx_url.
start_nginx() {
  local prefix=$out_dir/serving/nginx port
  rm -rf -- "$prefix"
  mkdir -p -- "$prefix/temp" "$prefix/logs"
  port=$(free_port)
  cat >"$prefix/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $prefix/nginx.pid;
error_log $prefix/logs/error.log;
events { worker_connections 1024; }
http {
  access_log $prefix/logs/access.log;
  client_body_temp_path $prefix/temp/body;
  proxy_temp_path $prefix/temp/proxy;
  fastcgi_temp_path $prefix/temp/fastcgi;
  uwsgi_temp_path $prefix/temp/uwsgi;
  scgi_temp_path $prefix/temp/scgi;
  server {
    listen 127.0.0.1:$port;
    root $out_dir/serving/www;
    location = /assertion.json { default_type application/ld+json; }
    location = /award.html { default_type text/html; }
  }
}
EOF
  nginx -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/logs/error.log" &
  local pid=$!
  service_pids+=("$pid")
  nginx_pid=$pid
  nginx_url=http://127.0.0.1:$port
  wait_for_url "$nginx_url/assertion.json" "$pid" "$prefix/logs/error.log"
}

# Prints the CPU time (user plus system, in clock ticks) that a process and
# its direct children have used so far, such as nginx's master and workers.
cpu_ticks() {
  local pid=$1 total=0 child ticks
  for child in "$pid" $(pgrep -P "$pid" || true); do
    # Fields 14 and 15 of /proc/PID/stat; the command name in field 2 may
    # contain spaces, so the fields are counted after its closing parenthesis.
    ticks=$(sed 's/^.*) //' "/proc/$child/stat" | awk '{print $12 + $13}')
    total=$((total + ticks))
  done
  echo "$total"
}

# Runs wrk against one URL served by the process SERVER_PID and saves its
# output as NAME.txt, with the server's CPU seconds during the timed run in
# NAME.cpu.json.
run_wrk() {
  local name=$1 url=$2 accept=$3 server_pid=$4 before after
  # A short first run warms up connections and caches; its figures are dropped.
  wrk -t2 -c32 -d2s -H "Accept: $accept" "$url" >/dev/null
  echo "wrk -t2 -c32 -d10s --latency -H 'Accept: $accept' $url" >"$out_dir/serving/$name.txt"
  before=$(cpu_ticks "$server_pid")
  wrk -t2 -c32 -d10s --latency -H "Accept: $accept" "$url" | tee -a "$out_dir/serving/$name.txt"
  after=$(cpu_ticks "$server_pid")
  printf '{"server_cpu_seconds": %s}\n' "$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" 'BEGIN {print t / hz}')" \
    >"$out_dir/serving/$name.cpu.json"
}

bench_serving() {
  log_step "Serving: badges-local and nginx under wrk -t2 -c32 -d10s"
  mkdir -p -- "$out_dir/serving/www"
  start_badges_local
  start_nginx
  record_load serving
  run_wrk badges-assertion "$badges_url$award_path" application/ld+json "$badges_pid"
  run_wrk nginx-assertion "$nginx_url/assertion.json" application/ld+json "$nginx_pid"
  run_wrk badges-page "$badges_url$award_path" text/html "$badges_pid"
  run_wrk nginx-page "$nginx_url/award.html" text/html "$nginx_pid"
  stop_services
}

# ---------------------------------------------------------------------------
# Cold start of the Lambda bootstraps
# ---------------------------------------------------------------------------

bench_cold_start() {
  log_step "Cold start of each Lambda bootstrap against a local Runtime API stand-in"
  mkdir -p -- "$out_dir/cold-start"
  start_moto
  export BADGES_TABLE=badges-bench BADGES_BUCKET=badges-bench-images BADGES_SENDER=badges@example.org
  export BADGES_BASE_URL=https://badges.example.org BADGES_ISSUER_NAME='Example Library Association'
  export BADGES_ISSUER_URL=https://www.example.org BADGES_ISSUER_EMAIL=badges@example.org
  export BADGES_IMAGE_BASE_URL=https://badges-bench-images.s3.us-east-1.amazonaws.com/images
  export BADGES_SES_MAX_SEND_RATE=14
  export BADGES_COOKIE_SECRET=sample-events-cookie-secret-0123456789abcdef
  # The awards function reads its issuer key from this secret at start-up,
  # as on a deployed stack; bench-seed-events creates it.
  export BADGES_ISSUER_KEY_SECRET=badges-bench-issuer-key
  export AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128 AWS_LAMBDA_FUNCTION_VERSION='$LATEST'
  export AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/bench AWS_LAMBDA_LOG_STREAM_NAME=bench
  "$release_bin/bench-seed-events" setup
  record_load cold-start

  local name before_run
  for name in "${lambda_functions[@]}"; do
    before_run=()
    if [[ $name == badges-notify ]]; then
      # Each run sends the claim email again, as after a resend.
      before_run=(--before-run "$release_bin/bench-seed-events queue")
    fi
    AWS_LAMBDA_FUNCTION_NAME=$name python3 "$repo_root/scripts/bench/lambda_cold_start.py" \
      --bootstrap "$target_dir/lambda/$name/bootstrap" --event "$repo_root/${lambda_events[$name]}" --runs 20 \
      --time-output "$out_dir/cold-start/$name.time.txt" --log "$out_dir/cold-start/$name.log" \
      "${before_run[@]}" | tee "$out_dir/cold-start/$name.json"
  done
  stop_services
  unset AWS_ENDPOINT_URL
}

# ---------------------------------------------------------------------------
# Import: embedded store and DynamoDB request counts
# ---------------------------------------------------------------------------

bench_import() {
  log_step "Import into the embedded store: 5,000, 50,000 and 500,000 rows"
  mkdir -p -- "$out_dir/import"
  record_load import
  local rows
  for rows in 5000 50000 500000; do
    /usr/bin/time -v -o "$out_dir/import/rows-$rows.time.txt" "$release_bin/bench-import" "$rows" \
      | tee "$out_dir/import/rows-$rows.json"
  done
  hyperfine --warmup 1 --runs 5 --export-json "$out_dir/import/hyperfine-small.json" \
    "$release_bin/bench-import 5000" "$release_bin/bench-import 50000"
  hyperfine --runs 3 --export-json "$out_dir/import/hyperfine-500k.json" "$release_bin/bench-import 500000"

  log_step "Import benchmarks in-process (criterion)"
  run_criterion import --warm-up-time 2 | tee "$out_dir/import/criterion.txt"
}

# moto slows down as its table grows (a 2,000-row import took minutes and
# gigabytes there), so the count runs on 500 rows: the figures that matter
# are per award and per row.
bench_dynamodb() {
  log_step "DynamoDB requests of a 500-row import and its re-import, counted against moto"
  mkdir -p -- "$out_dir/import"
  start_moto
  record_load dynamodb
  "$release_bin/bench-dynamo-requests" 500 | tee "$out_dir/import/dynamodb-requests.json"
  stop_services
  unset AWS_ENDPOINT_URL
}

# ---------------------------------------------------------------------------
# Baking: in-process against openbadges-bakery 2.0
# ---------------------------------------------------------------------------

bench_baking() {
  log_step "Baking a 68 KB PNG and a 20 KB SVG: criterion, then openbadges-bakery on the same files"
  mkdir -p -- "$out_dir/baking"
  "$release_bin/bench-fixtures" "$out_dir/baking/fixtures"
  record_load baking
  run_criterion baking --warm-up-time 1 --measurement-time 3 | tee "$out_dir/baking/criterion.txt"
  "$bench_venv/bin/python" "$repo_root/scripts/bench/bakery_timing.py" "$out_dir/baking/fixtures" \
    | tee "$out_dir/baking/openbadges-bakery.json"
}

# ---------------------------------------------------------------------------
# Mail: SES pacing against moto
# ---------------------------------------------------------------------------

bench_mail() {
  log_step "Mail: 1,000 claim emails through the SES mailer at 14 messages per second (about 75 s)"
  mkdir -p -- "$out_dir/mail"
  start_moto
  record_load mail
  "$release_bin/bench-ses-pacing" 1000 14 | tee "$out_dir/mail/ses-pacing.json"
  stop_services
  unset AWS_ENDPOINT_URL
}

main() {
  local sections=("$@") section
  [[ ${#sections[@]} -eq 0 ]] && sections=("${all_sections[@]}")
  for section in "${sections[@]}"; do
    [[ " ${all_sections[*]} " == *" $section "* ]] || fail "unknown section $section; choose from: ${all_sections[*]}"
  done

  cd -- "$repo_root"
  trap stop_services EXIT
  mkdir -p -- "$out_dir"
  : >"$out_dir/load.tsv"
  install_debian_tools
  install_venv "$moto_venv" "$repo_root/scripts/requirements-moto.txt"
  install_venv "$bench_venv" "$repo_root/scripts/requirements-bench.txt"
  build_release
  if [[ " ${sections[*]} " == *" cold-start "* ]]; then
    build_lambdas
  fi
  log_step "Machine"
  write_machine

  for section in "${sections[@]}"; do
    case $section in
      serving) bench_serving ;;
      cold-start) bench_cold_start ;;
      import) bench_import ;;
      dynamodb) bench_dynamodb ;;
      baking) bench_baking ;;
      mail) bench_mail ;;
    esac
  done

  log_step "Summary ($out_dir/summary.md)"
  python3 "$repo_root/scripts/bench/report.py" "$out_dir" "$target_dir" | tee "$out_dir/summary.md"
}

main "$@"
