#!/usr/bin/env bash
# The console's budget, printed (a benchmark, not a test): the JavaScript the first page loads, gzipped (budget
# 200 KB), and the time to open and draw a 100,000-seat map and pick a seat in headless Chromium, against a
# running local stack (infra/local/run.sh; its admin approves the benchmark's show).
#   infra/local/bench-console.sh        API_URL (http://127.0.0.1:3000)  RUNS (3)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash "$ROOT/infra/local/setup-console.sh" --browser
dist="$ROOT/console/dist"
# What index.html loads before the first page shows: its module script, the modules that one imports
# statically (Vite's modulepreload links) and the stylesheet.
first_page="$(grep -oE '(src|href)="/console/assets/[^"]+\.(js|css)"' "$dist/index.html" | sed -E 's/.*"\/console\/(.*)"/\1/')"
total=0
for f in $first_page; do
  size="$(gzip -9 -c "$dist/$f" | wc -c)"
  total=$((total + size))
  awk -v f="$f" -v s="$size" 'BEGIN { printf "  %-44s %7.1f KB gzipped\n", f, s / 1024 }'
done
awk -v s="$total" 'BEGIN { printf "first page: %.1f KB gzipped (budget 200 KB)\n", s / 1024 }'
api="${API_URL:-http://127.0.0.1:3000}"
curl -fsS -o /dev/null "$api/health" || die "no API at $api: start infra/local/run.sh first"
for run in $(seq 1 "${RUNS:-3}"); do
  (cd "$ROOT/console" && TICKETING_API_URL="$api" CONSOLE_ADMIN_EMAIL="${ADMIN_EMAIL:-admin@ticketing.local}" \
    CONSOLE_ADMIN_PASSWORD="${TICKETING_ADMIN_PASSWORD:-admin-password}" BIG_MAP_BUDGET_MS=60000 \
    npx --no-install playwright test tests/bigmap.spec.ts --reporter=line 2>&1) | grep -E '100,000-seat map: |[0-9]+ failed' | sed "s/^/run $run: /"
done
