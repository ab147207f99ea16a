#!/usr/bin/env bash
# Creates/updates the Python venv of the local AWS stack: .local/venv (repo-relative) with
# infra/local/requirements.lock (LocalStack, cfn-lint, every dependency pinned) and our LocalStack
# extension (infra/local/ext). Idempotent; a no-op in well under a second when the stamp (hash of the
# lock, the extension's sources and this script) is unchanged.
#
#   infra/local/setup-python.sh            # then: .local/venv/bin/python infra/local/stack.py ...
#   PYTHON=/path/to/python3.13 infra/local/setup-python.sh   # choose the interpreter (>= 3.13)
#
# Python 3.13 or newer: localstack-core 2026.3.0 declares >=3.10 but imports warnings.deprecated (new in
# 3.13); on 3.12 the runtime fails at start with "No component plugins found in namespace
# localstack.runtime.components".
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="$repo/.local/venv"
lock="$here/requirements.lock"
ext="$here/ext"
stamp="$venv/.ticketing-stamp"

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Stamp: lock + extension sources + this script. Anything else changed by hand is not detected
# (delete .local/venv to start over).
compute_stamp() {
    {
        sha256sum "$lock" "$here/setup-python.sh"
        find "$ext" -type f \( -name '*.py' -o -name '*.toml' \) -not -path '*/build/*' -print0 \
            | sort -z | xargs -0 sha256sum
    } | sed "s|$repo/||" | sha256sum | cut -d' ' -f1
}
want="$(compute_stamp)"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    exit 0
fi

python_ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 13) else 1)' 2>/dev/null; }

find_python() {
    if [[ -n "${PYTHON:-}" ]]; then
        python_ok "$PYTHON" || die "PYTHON=$PYTHON is not a Python >= 3.13"
        echo "$PYTHON"; return
    fi
    local candidate
    for candidate in python3.14 python3.13; do
        if command -v "$candidate" >/dev/null && python_ok "$(command -v "$candidate")"; then
            command -v "$candidate"; return
        fi
    done
    local pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
    # newest first
    for candidate in $(ls -d "$pyenv_root"/versions/3.1[3-9]* 2>/dev/null | sort -rV); do
        if [[ -x "$candidate/bin/python3" ]] && python_ok "$candidate/bin/python3"; then
            echo "$candidate/bin/python3"; return
        fi
    done
    die "no Python >= 3.13 found (tried \$PYTHON, python3.14 and python3.13 on PATH, $pyenv_root/versions/3.1[3-9]*).
       Install one, e.g. 'pyenv install 3.13', or set PYTHON=/path/to/python3.13+"
}

# A venv built with another interpreter (or a broken one) is rebuilt from scratch.
if [[ -d "$venv" ]] && ! { [[ -x "$venv/bin/python" ]] && python_ok "$venv/bin/python"; }; then
    say "removing unusable venv $venv"
    rm -rf "$venv"
fi
if [[ ! -x "$venv/bin/python" ]]; then
    py="$(find_python)"
    say "creating venv .local/venv with $py ($("$py" -c 'import platform; print(platform.python_version())'))"
    mkdir -p "$repo/.local"
    "$py" -m venv "$venv"
fi

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
say "installing pinned requirements (infra/local/requirements.lock)"
# --no-deps: the lock is complete, nothing unpinned may sneak in.
"$venv/bin/python" -m pip install --quiet --no-deps -r "$lock"

say "installing the LocalStack extension (infra/local/ext)"
# Non-editable; --no-build-isolation builds with the venv's pinned setuptools (no download).
# The build dir is kept out of the source tree.
build_tmp="$(mktemp -d)"
trap 'rm -rf "$build_tmp"' EXIT
cp -r "$ext/." "$build_tmp/"
rm -rf "$build_tmp"/build "$build_tmp"/*.egg-info
"$venv/bin/python" -m pip install --quiet --no-deps --no-build-isolation --force-reinstall "$build_tmp"

say "checking dependencies"
# kclpy-ext lists 'argparse' (stdlib; the PyPI backport is not wanted): newer pips ignore it, pip 24 does not.
if ! out="$("$venv/bin/python" -m pip check 2>&1)"; then
    rest="$(grep -v "requires argparse, which is not installed" <<<"$out" || true)"
    [[ -z "$rest" ]] || die "pip check failed:
$rest"
fi
"$venv/bin/python" - <<'EOF'
from importlib.metadata import entry_points
names = {(ep.group, ep.name) for g in ("localstack.aws.provider", "localstack.lambda.runtime_executor",
         "localstack.runtime.server") for ep in entry_points(group=g)}
need = {("localstack.aws.provider", "dynamodb:ticketing"),
        ("localstack.lambda.runtime_executor", "host-process"),
        ("localstack.runtime.server", "twisted-loopback")}
missing = need - names
if missing:
    raise SystemExit(f"extension entry points missing: {sorted(missing)}")
EOF

echo "$want" > "$stamp"
say "python environment ready: .local/venv ($("$venv/bin/python" -c 'import platform; print(platform.python_version())'))"
