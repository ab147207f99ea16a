#!/usr/bin/env bash
# Installs what the web console needs and builds it: Debian's Chromium for the browser tests (the `chromium`
# package; nothing downloads a browser of its own), the npm packages pinned in console/package-lock.json
# (`npm ci`, only when the lock changed), and the built app in console/dist (`npm run build`, only when a
# source changed). Idempotent; a no-op in well under a second when nothing changed.
#
#   infra/local/setup-console.sh            # build only (run.sh)
#   infra/local/setup-console.sh --browser  # and make sure /usr/bin/chromium is there (test.sh)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
console="$repo/console"

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

command -v node >/dev/null || die "node not found: the console is built with the machine's Node.js and npm"
command -v npm >/dev/null || die "npm not found"

if [[ "${1:-}" == "--browser" ]] && ! { [[ -x /usr/bin/chromium ]] && dpkg -s fonts-nanum >/dev/null 2>&1; }; then
    say "Installing Debian's chromium and a Korean font (fonts-nanum) for the browser tests (apt-get)"
    sudo_cmd=()
    [[ "$(id -u)" -eq 0 ]] || sudo_cmd=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-nanum >/dev/null
    [[ -x /usr/bin/chromium ]] || die "apt-get did not install /usr/bin/chromium"
fi

# npm ci when the lock changed (its hash is kept beside node_modules).
lock_hash="$(sha256sum "$console/package-lock.json" | cut -d' ' -f1)"
if [[ "$(cat "$console/node_modules/.ticketing-lock" 2>/dev/null)" != "$lock_hash" ]]; then
    say "npm ci in console/ (packages pinned in package-lock.json)"
    (cd "$console" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$lock_hash" > "$console/node_modules/.ticketing-lock"
fi

# npm run build when a source, the OpenAPI snapshot or the configuration changed.
src_hash="$(cd "$console" && find src index.html openapi.json package-lock.json vite.config.ts tsconfig.json \
    -type f -not -name 'schema.d.ts' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)"
if [[ ! -f "$console/dist/index.html" || "$(cat "$console/dist/.ticketing-src" 2>/dev/null)" != "$src_hash" ]]; then
    say "Building the console (console/dist: generated API client, type check, vite build)"
    (cd "$console" && npm run --silent build)
    # Precompressed copies: the local gateway sends `<file>.gz` to clients that accept gzip.
    find "$console/dist" -type f \( -name '*.js' -o -name '*.css' -o -name '*.html' -o -name '*.svg' \) \
        -exec gzip -9 -k -f {} \;
    echo "$src_hash" > "$console/dist/.ticketing-src"
fi
