# Shared by run.sh and test.sh: paths, messages, and the build/start/deploy steps both need.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL="$ROOT/.local"
VENV="$LOCAL/venv"
PY="$VENV/bin/python"
STACK_PY="$ROOT/infra/local/stack.py"
TEMPLATE="$ROOT/infra/template.yaml"
BIN_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/debug"
# Local credentials for everything we start; never the instance-metadata endpoint (nothing leaves loopback).
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true

# Each step says how long the script has run so far ([m:ss]), so a slow phase shows in CI's output.
say() { printf '\033[1m==> [%d:%02d] %s\033[0m\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# A TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

ensure_toolchain() {
  command -v cargo >/dev/null || die "cargo not found: this project needs the machine's Rust toolchain (rustup)"
  say "Python tools (LocalStack, cfn-lint) in $VENV"
  bash "$ROOT/infra/local/setup-python.sh"
}

# cargo-deny, pinned, built from crates.io with its own lock into .local/tools (once per machine): the test
# command checks the dependency graph's bans, licences and sources against deny.toml.
CARGO_DENY_VERSION=0.20.2
CARGO_DENY="$LOCAL/tools/bin/cargo-deny"
ensure_cargo_deny() {
  if [ ! -x "$CARGO_DENY" ] || ! "$CARGO_DENY" --version 2>/dev/null | grep -qF " $CARGO_DENY_VERSION"; then
    say "cargo-deny $CARGO_DENY_VERSION into $LOCAL/tools (built once)"
    cargo install --locked --quiet --root "$LOCAL/tools" --version "$CARGO_DENY_VERSION" cargo-deny
  fi
}

# One cargo profile (dev, no debug info) for everything: the functions LocalStack runs, the gateway, the
# admin bootstrap tool, the tests.
build_binaries() {
  say "Building the Lambda functions, the local gateway and ticketing-admin (cargo, dev profile)"
  (cd "$ROOT" && cargo build --locked --workspace --bins)
}

# create_admin STATE_DIR PORT EMAIL: the documented first-admin bootstrap, against the local stack
# (password from TICKETING_ADMIN_PASSWORD).
create_admin() {
  local table
  table="$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["outputs"]["TableName"])' "$1/outputs.json")"
  AWS_ENDPOINT_URL="http://127.0.0.1:$2" "$BIN_DIR/ticketing-admin" create-admin --table "$table" --email "$3"
}

# start_stack STATE_DIR PORT: LocalStack on 127.0.0.1:PORT, state and logs in STATE_DIR.
start_stack() {
  say "Starting LocalStack on 127.0.0.1:$2 (state and logs: ${1#"$ROOT"/})"
  "$PY" "$STACK_PY" start --state-dir "$1" --port "$2"
}

stop_stack() {
  "$PY" "$STACK_PY" stop --state-dir "$1" || true
}

# deploy_stack STATE_DIR PORT STACK_NAME STAGE: creates every resource from infra/template.yaml. The repairer's
# schedule is off unless REPAIR_SCHEDULE=ENABLED (run.sh): tests run it themselves, with a grace of their own.
deploy_stack() {
  verify_mail_sender "$2"
  say "Deploying infra/template.yaml as stack $3 (functions from ${BIN_DIR#"$ROOT"/})"
  "$PY" "$STACK_PY" deploy --state-dir "$1" --endpoint "http://127.0.0.1:$2" --stack-name "$3" \
    --template "$TEMPLATE" --bin-dir "$BIN_DIR" --parameter-overrides "Stage=$4" "LogLevel=${LOG_LEVEL:-info}" "FaultInjection=${FAULT_INJECTION:-on}" "MailFrom=tickets@ticketing.local" "MailSenderIdentity=existing" "ConsumerVisibilitySeconds=2" "InletSeconds=0" "InletSchedule=DISABLED" "RepairSchedule=${REPAIR_SCHEDULE:-DISABLED}" "SettlementScheduleState=${SETTLEMENT_SCHEDULE:-DISABLED}" "ReconciliationScheduleState=${RECONCILIATION_SCHEDULE:-DISABLED}" "Alarms=DISABLED" "Console=DISABLED" "BreakerCooldownSeconds=${BREAKER_COOLDOWN_SECONDS:-30}" "HoldRateLimit=${HOLD_RATE_LIMIT:-10}" "QueueJoinRateLimit=${QUEUE_JOIN_RATE_LIMIT:-5}" "PaymentBreaker=${PAYMENT_BREAKER:-ENABLED}"
}

# verify_mail_sender PORT: verifies the notifier's sender in LocalStack's SES before the stack is deployed
# (LocalStack has no provider for AWS::SES::EmailIdentity; its SES refuses unverified senders).
verify_mail_sender() {
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test "$PY" -c 'import sys, boto3
boto3.client("ses", endpoint_url=sys.argv[1], region_name="us-east-1").verify_email_identity(EmailAddress="tickets@ticketing.local")' "http://127.0.0.1:$1"
}

# start_gateway STATE_DIR PORT API_PORT: the local HTTP API in the background; sets GATEWAY_PID.
start_gateway() {
  say "Starting the local API gateway on 127.0.0.1:$3"
  "$BIN_DIR/local-gateway" --template "$TEMPLATE" --outputs "$1/outputs.json" \
    --lambda-endpoint "http://127.0.0.1:$2" --listen "127.0.0.1:$3" --console-dir "$ROOT/console/dist" \
    >>"$1/gateway.log" 2>&1 &
  GATEWAY_PID=$!
  for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$3/health" 2>/dev/null; then return 0; fi
    kill -0 "$GATEWAY_PID" 2>/dev/null || { tail -n 20 "$1/gateway.log" >&2; die "the gateway exited"; }
    sleep 0.2
  done
  tail -n 20 "$1/gateway.log" >&2
  die "the gateway did not answer GET /health within 20 s"
}

stop_gateway() {
  if [ -n "${GATEWAY_PID:-}" ] && kill -0 "$GATEWAY_PID" 2>/dev/null; then
    kill "$GATEWAY_PID" 2>/dev/null || true
    wait "$GATEWAY_PID" 2>/dev/null || true
  fi
  GATEWAY_PID=""
}
