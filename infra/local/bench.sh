#!/usr/bin/env bash
# Benchmarks on a local stack of their own (like test.sh):
#   infra/local/bench.sh [holds] --holds 2000 --concurrency 64   seat holds/s, p50/p99, DynamoDB calls per hold
#                                                                 (tests/src/bin/bench_holds.rs)
#   infra/local/bench.sh saga --reservations 200 --concurrency 8  confirmed reservations/s end to end, p50/p99
#                                                                 of POST with Prefer: wait, transitions per
#                                                                 reservation (tests/src/bin/bench_saga.rs)
#   infra/local/bench.sh events --reservations 300 [--pay]        event -> my-page lag p50/p99 under a burst
#                                                                 (tests/src/bin/bench_events.rs)
#   infra/local/bench.sh rush --buyers 200 --polls 1000 --holds 50 the waiting room: joins/s, polls/s, holds/s
#                                                                 and DynamoDB calls of each (bench_rush.rs),
#                                                                 then, in the same run, cold start / zip size /
#                                                                 idle RSS of every function in release against
#                                                                 a bare lambda_runtime binary (coldstart.py;
#                                                                 COLDSTART_RUNS=0 leaves that part out)
#   infra/local/bench.sh reconcile --items 100000 --segments 8    the nightly reconciliation over a seeded table:
#                                                                 time, DynamoDB calls and items read per item
#                                                                 (tests/src/bin/bench_reconcile.rs)
#   infra/local/bench.sh outage --buyers 100 [--delay-ms 4000]   card buyers under a staged provider outage:
#                                                                 paid now / fell back / failed and the p50/p99
#                                                                 of POST /reservations, with the payment
#                                                                 breaker, then the same run without it
#                                                                 (tests/src/bin/bench_outage.rs)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

BENCH=bench-holds
case "${1:-}" in
  saga) BENCH=bench-saga; shift ;;
  events) BENCH=bench-events; shift ;;
  rush) BENCH=bench-rush; shift ;;
  reconcile) BENCH=bench-reconcile; shift ;;
  outage) BENCH=bench-outage; shift ;;
  holds) shift ;;
esac

ensure_toolchain
build_binaries
cargo build --locked -p ticketing-tests --bin "$BENCH"

STATE="$LOCAL/bench-$$"
PORT="$(free_port)"
API_PORT="$(free_port)"
mkdir -p "$STATE"
cleanup() {
  trap - EXIT INT TERM
  stop_gateway
  stop_stack "$STATE"
  [ -n "${KEEP_STATE:-}" ] || rm -rf "$STATE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# bench-holds counts DynamoDB calls from LocalStack's request log lines; a bench stack has no crash switches
# (each would add its own read to the request it sits in).
# The outage benchmark stages its outage with the test-mode provider's fault switch, which needs them.
if [ "$BENCH" = bench-outage ]; then export FAULT_INJECTION=on; else export FAULT_INJECTION=off; fi
export LS_LOG="${LS_LOG:-info}"
# Benchmarks send many holds per buyer: the per-member budget still counts each one (its write is measured),
# but does not refuse them.
export HOLD_RATE_LIMIT="${HOLD_RATE_LIMIT:-100000}"
start_stack "$STATE" "$PORT"
deploy_stack "$STATE" "$PORT" ticketing-bench bench
start_gateway "$STATE" "$PORT" "$API_PORT"
say "Benchmark"
export TICKETING_API_URL="http://127.0.0.1:$API_PORT" TICKETING_OUTPUTS="$STATE/outputs.json" TICKETING_ADMIN_BIN="$BIN_DIR/ticketing-admin"
if [ "$BENCH" = bench-holds ] || [ "$BENCH" = bench-rush ]; then
  "$BIN_DIR/$BENCH" --localstack-log "$STATE/localstack.log" "$@"
elif [ "$BENCH" = bench-outage ]; then
  # The same outage twice: with the breaker (the stack's default), then with it disabled.
  PAYMENT_BREAKER=ENABLED "$BIN_DIR/$BENCH" "$@"
  say "The same outage with the payment breaker disabled"
  PAYMENT_BREAKER=DISABLED deploy_stack "$STATE" "$PORT" ticketing-bench bench
  PAYMENT_BREAKER=DISABLED "$BIN_DIR/$BENCH" "$@"
else
  "$BIN_DIR/$BENCH" "$@"
fi

if [ "$BENCH" = bench-rush ] && [ "${COLDSTART_RUNS:-15}" != 0 ]; then
  cleanup
  say "Cold starts: every function in release, against a bare lambda_runtime binary"
  RELEASE_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/release"
  cargo build --locked --release -p ticketing-functions -p bare-hello
  mapfile -t FUNCTIONS < <(cargo metadata --format-version 1 --no-deps --offline |
    "$PY" -c 'import json, sys; m = json.load(sys.stdin); print("\n".join(t["name"] for p in m["packages"] if p["name"] == "ticketing-functions" for t in p["targets"] if "bin" in t["kind"]))')
  "$PY" "$ROOT/infra/local/coldstart.py" --runs "${COLDSTART_RUNS:-15}" --hello "$RELEASE_DIR/bare-hello" \
    "${FUNCTIONS[@]/#/$RELEASE_DIR/}"
fi
