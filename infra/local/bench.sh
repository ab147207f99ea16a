#!/usr/bin/env bash
# Seat-hold benchmark: starts a local stack of its own (like test.sh), then runs tests/src/bin/bench_holds.rs,
# which prints holds per second through the gateway, p50/p99 latency and DynamoDB calls per hold.
# Arguments go to the benchmark, e.g.: infra/local/bench.sh --holds 2000 --concurrency 64
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_toolchain
build_binaries
cargo build --locked -p ticketing-tests --bin bench-holds

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

start_stack "$STATE" "$PORT"
deploy_stack "$STATE" "$PORT" ticketing-bench bench
start_gateway "$STATE" "$PORT" "$API_PORT"
say "Benchmark"
TICKETING_API_URL="http://127.0.0.1:$API_PORT" TICKETING_OUTPUTS="$STATE/outputs.json" \
  "$BIN_DIR/bench-holds" --localstack-log "$STATE/localstack.log" "$@"
