#!/usr/bin/env bash
# Runs the whole system locally: installs what is missing, builds, starts LocalStack, deploys
# infra/template.yaml into it, seeds a few performances and serves the HTTP API on 127.0.0.1 until Ctrl-C.
#   LOCALSTACK_PORT (4566)  API_PORT (3000)  LOG_LEVEL (info)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STATE="$LOCAL/dev"
PORT="${LOCALSTACK_PORT:-4566}"
API_PORT="${API_PORT:-3000}"
mkdir -p "$STATE"

# One run at a time: a second start finds the lock held and says where the running one is.
exec 9>"$STATE/run.lock"
if ! flock -n 9; then
  echo "The local stack is already running (started by another infra/local/run.sh)."
  echo "API: http://127.0.0.1:$API_PORT   LocalStack: http://127.0.0.1:$PORT   logs: ${STATE#"$ROOT"/}/"
  echo "Stop it with Ctrl-C in its terminal."
  exit 0
fi

cleanup() {
  trap - EXIT INT TERM
  echo
  say "Stopping the gateway and LocalStack"
  stop_gateway
  stop_stack "$STATE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ensure_toolchain
build_binaries
say "Building the console (console/dist, served at /console/)"
bash "$ROOT/infra/local/setup-console.sh"
start_stack "$STATE" "$PORT"
# The local system repairs itself once a minute, as deployed stacks do.
REPAIR_SCHEDULE=ENABLED deploy_stack "$STATE" "$PORT" ticketing-local local
start_gateway "$STATE" "$PORT" "$API_PORT"

ADMIN_EMAIL="${ADMIN_EMAIL:-admin@ticketing.local}"
export TICKETING_ADMIN_PASSWORD="${TICKETING_ADMIN_PASSWORD:-admin-password}"
say "Creating the first admin ($ADMIN_EMAIL) with the bootstrap tool"
create_admin "$STATE" "$PORT" "$ADMIN_EMAIL"

say "Seeding sample performances through the API (an organizer creates them, the admin approves them)"
"$PY" "$ROOT/infra/local/seed.py" "http://127.0.0.1:$API_PORT" "$ROOT/infra/local/seed/performances.json" \
  "$ADMIN_EMAIL" "$TICKETING_ADMIN_PASSWORD"

cat <<MSG

  Local API ready at http://127.0.0.1:$API_PORT
  Console:  http://127.0.0.1:$API_PORT/console/   (log in as $ADMIN_EMAIL / $TICKETING_ADMIN_PASSWORD, or sign up)
    curl http://127.0.0.1:$API_PORT/performances
    curl http://127.0.0.1:$API_PORT/health
    curl -X POST http://127.0.0.1:$API_PORT/login -H 'content-type: application/json' -d '{"email":"$ADMIN_EMAIL","password":"$TICKETING_ADMIN_PASSWORD"}'
    curl http://127.0.0.1:$API_PORT/openapi.json          (the whole API)
  Hold seats: sign up (POST /signup), log in, then POST /reservations {"showtimeId": "...", "seats": [{"row": 5, "col": 12}]}
  LocalStack:  http://127.0.0.1:$PORT   (aws --endpoint-url http://127.0.0.1:$PORT ...)
  Logs:        ${STATE#"$ROOT"/}/localstack.log, ${STATE#"$ROOT"/}/gateway.log, function logs in ${STATE#"$ROOT"/}/lambda-logs/
  Ctrl-C stops everything.

MSG
wait "$GATEWAY_PID"
