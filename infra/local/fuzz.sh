#!/usr/bin/env bash
# The longer contract run with fresh seeds, against a running local stack (infra/local/run.sh): schemathesis as
# USER, ORGANIZER and ADMIN for FUZZ_SECONDS each (default 600), a new random seed per run (printed, so a find
# replays with `--seed`). The test command's contract run is shorter and seeded by the commit.
#   infra/local/fuzz.sh        API_URL (http://127.0.0.1:3000)  FUZZ_SECONDS (600)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_toolchain
api="${API_URL:-http://127.0.0.1:3000}"
curl -fsS -o /dev/null "$api/health" || die "no API at $api: start infra/local/run.sh first"
exec "$PY" "$ROOT/infra/local/contract/run.py" --api "$api" \
  --admin-email "${ADMIN_EMAIL:-admin@ticketing.local}" --admin-password "${TICKETING_ADMIN_PASSWORD:-admin-password}" \
  --seconds-per-role "${FUZZ_SECONDS:-600}" --fresh-seed
