#!/usr/bin/env bash
# Runs every test: formatting, lints (clippy, cfn-lint), unit and in-process handler tests, the
# integration tests against a local stack of its own (LocalStack on a free port, the template deployed,
# the gateway on another free port), the console's browser tests, the contract run, the dependency graph
# (cargo deny: bans, licences, sources) and a reconciliation of the whole table, then stops the stack again.
# Installs what is missing first.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

command -v cargo >/dev/null || die "cargo not found: this project needs the machine's Rust toolchain (rustup)"

STATE="$LOCAL/test-$$"
PORT="$(free_port)"
API_PORT="$(free_port)"
mkdir -p "$STATE"
# stop_job PID: ends a background step of this run (and what it started) that is still running.
stop_job() {
  if [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; then
    pkill -TERM -P "$1" 2>/dev/null || true
    kill "$1" 2>/dev/null || true
  fi
}
# finish_job PID LOG WHAT: waits for a background step, shows its output, stops the run if it failed.
finish_job() {
  local rc=0
  wait "$1" || rc=$?
  cat "$2"
  [ "$rc" -eq 0 ] || die "$3 failed (exit $rc)"
}
cleanup() {
  trap - EXIT INT TERM
  # Background steps still running (the run ended early) end with it.
  stop_job "${PYTHON_PID:-}"
  stop_job "${PREPARE_PID:-}"
  stop_job "${DENY_PID:-}"
  stop_gateway
  stop_stack "$STATE"
  # Starting and stopping leaves nothing behind: no LocalStack, no function process of this run.
  if pgrep -f -- "$STATE" >/dev/null; then
    echo "error: processes of this run are still alive after stop:" >&2
    pgrep -af -- "$STATE" >&2
    exit 1
  fi
  [ -n "${SUMMARY:-}" ] && printf '\n%s\n' "$SUMMARY"
  [ -n "${KEEP_STATE:-}" ] || rm -rf "$STATE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Steps that do not need each other run side by side: the Python tools install (mostly downloads and
# unpacking) beside the formatting check and clippy; the console's build and the tests' build beside the
# stack's start and deployment (mostly LocalStack's work). Each one's output is shown when it is waited for.
say "Python tools (LocalStack, cfn-lint) in ${VENV#"$ROOT"/}, beside cargo fmt and clippy"
bash "$ROOT/infra/local/setup-python.sh" > "$STATE/python-setup.log" 2>&1 &
PYTHON_PID=$!

say "cargo fmt --check"
cargo fmt --all -- --check

say "cargo clippy --all-targets -- -D warnings"
cargo clippy --locked --workspace --all-targets -- -D warnings

finish_job "$PYTHON_PID" "$STATE/python-setup.log" "setting up the Python tools"
say "cfn-lint infra/template.yaml"
"$VENV/bin/cfn-lint" "$TEMPLATE"

build_binaries
say "The console (Chromium for its browser tests, its npm packages, its build) and the tests' build, beside the stack's start"
(bash "$ROOT/infra/local/setup-console.sh" --browser && cargo test --locked --workspace --no-run) \
  > "$STATE/prepare.log" 2>&1 &
PREPARE_PID=$!

start_stack "$STATE" "$PORT"
say "A second start of the same stack is handled (reports the running one, exit 0)"
start_stack "$STATE" "$PORT"
# The card provider's breaker cools down in 10 s here (30 s by default), so the outage tests stay short; one
# member may send 30 holds per 10 s (10 by default): some tests send many holds as one member on purpose.
BREAKER_COOLDOWN_SECONDS=10 HOLD_RATE_LIMIT=30 deploy_stack "$STATE" "$PORT" ticketing-test test
start_gateway "$STATE" "$PORT" "$API_PORT"
finish_job "$PREPARE_PID" "$STATE/prepare.log" "building the console and the tests"

# cargo-deny is built once per machine (about 3 minutes of CPU): in the background, at the lowest priority,
# while the integration tests mostly wait on the stack; the check itself runs at the end.
DENY_BUILD="$STATE/cargo-deny-build.log"
(nice -n 19 bash -c "source '$ROOT/infra/local/lib.sh'; ensure_cargo_deny") > "$DENY_BUILD" 2>&1 &
DENY_PID=$!

say "cargo test --workspace (unit, in-process, and integration against the local stack)"
RESULTS="$STATE/cargo-test.log"
status=0
TICKETING_API_URL="http://127.0.0.1:$API_PORT" TICKETING_OUTPUTS="$STATE/outputs.json" \
  cargo test --locked --workspace --no-fail-fast 2>&1 | tee "$RESULTS" || status=$?
if [ "$status" -ne 0 ]; then
  # What the stack saw while the tests failed: CI keeps only this output, not the state directory.
  say "Tests failed: the gateway's and LocalStack's last errors"
  grep -E ' (ERROR|WARN) ' "$STATE/gateway.log" | tail -n 40 || true
  grep -E 'ERROR|Exception|Traceback' "$STATE/localstack.log" | tail -n 40 || true
fi

# The console in Debian's Chromium (Playwright through executablePath), on the same stack, as a person uses it.
say "Browser tests of the console (console/tests, Playwright in /usr/bin/chromium)"
CONSOLE_ADMIN="console-admin-$$@ticketing.test"
CONSOLE_PASSWORD="console-admin-$$-$RANDOM-password"
TICKETING_ADMIN_PASSWORD="$CONSOLE_PASSWORD" create_admin "$STATE" "$PORT" "$CONSOLE_ADMIN"
BROWSER="$STATE/browser.log"
rm -rf "$ROOT/console/test-results"
(cd "$ROOT/console" && TICKETING_API_URL="http://127.0.0.1:$API_PORT" CONSOLE_ADMIN_EMAIL="$CONSOLE_ADMIN" \
  CONSOLE_ADMIN_PASSWORD="$CONSOLE_PASSWORD" TICKETING_OUTPUTS="$STATE/outputs.json" \
  TICKETING_ADMIN_BIN="$BIN_DIR/ticketing-admin" npx --no-install playwright test) 2>&1 | tee "$BROWSER" || status=1
# One line for the closing count, from Playwright's JSON report (screenshots stay in console/test-results/).
"$PY" - "$ROOT/console/test-results/results.json" <<'PYEOF' | tee -a "$BROWSER"
import json, sys
try:
    stats = json.load(open(sys.argv[1]))["stats"]
    print(f"browser: {stats['expected'] + stats['flaky']} passed, {stats['unexpected']} failed")
except (OSError, ValueError, KeyError):
    print("browser: 0 passed, 1 failed")
PYEOF

# The contract: schemathesis holds every route of the OpenAPI document to it (every check; coverage, fuzzing
# and stateful phases), as a USER, an ORGANIZER and an ADMIN, on the same stack, bounded in time.
say "Contract: schemathesis against the local stack as USER, ORGANIZER and ADMIN (${CONTRACT_SECONDS:-55} s each)"
FUZZ_ADMIN="fuzz-admin-$$@ticketing.test"
FUZZ_PASSWORD="fuzz-admin-$$-$RANDOM-password"
TICKETING_ADMIN_PASSWORD="$FUZZ_PASSWORD" create_admin "$STATE" "$PORT" "$FUZZ_ADMIN"
CONTRACT="$STATE/contract.log"
"$PY" "$ROOT/infra/local/contract/run.py" --api "http://127.0.0.1:$API_PORT" \
  --admin-email "$FUZZ_ADMIN" --admin-password "$FUZZ_PASSWORD" \
  --seconds-per-role "${CONTRACT_SECONDS:-55}" 2>&1 | tee "$CONTRACT" || status=1

say "cargo deny check bans licenses sources (deny.toml)"
if wait "$DENY_PID"; then
  "$CARGO_DENY" --locked check bans licenses sources || status=1
else
  cat "$DENY_BUILD"
  echo "error: cargo-deny could not be built" >&2
  status=1
fi

# Money and seats reconcile over the whole table after every test: the nightly reconciliation, run now by the
# operator's command (every reservation's money and seats, every wallet against its ledger, every money
# event booked in a statement for its amount, every closed statement against its money). Payments changed
# in the last minute (the contract's tail) are left out of the settlement check only: their events may still
# be on their way to the settlement consumer.
say "Reconciliation of the whole table after every test (ticketing-admin reconcile)"
RECONCILE="$STATE/reconcile.log"
TABLE_NAME="$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["outputs"]["TableName"])' "$STATE/outputs.json")"
if AWS_ENDPOINT_URL="http://127.0.0.1:$PORT" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 \
  AWS_EC2_METADATA_DISABLED=true "$BIN_DIR/ticketing-admin" reconcile --table "$TABLE_NAME" --settle-grace-seconds 60 \
  > "$RECONCILE" 2>&1; then
  tail -n 1 "$RECONCILE"
else
  cat "$RECONCILE"
  echo "error: the whole-table reconciliation found breaks (report above)" >&2
  status=1
fi

# One closing line over every test binary and the contract runs, printed last (after the stack is stopped):
# "N passed, N failed" (the browser tests included).
SUMMARY="$(awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;?$/) p += $i; if ($(i+1) ~ /^failed;?$/) f += $i } }
  /^(contract|browser): [0-9]+ passed, [0-9]+ failed$/ { p += $2; f += $4 }
  END { printf "tests: %d passed, %d failed", p, f }' "$RESULTS" "$BROWSER" "$CONTRACT")"
exit "$status"
