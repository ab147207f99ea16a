"""The contract run: schemathesis against the local stack, holding every route to the OpenAPI document.

    python infra/local/contract/run.py --api http://127.0.0.1:PORT --admin-email E --admin-password P
        [--seconds-per-role 55] [--workers 2] [--seed N | --fresh-seed]

The admin must exist already (test.sh creates it with the bootstrap tool); a USER and an ORGANIZER are
signed up here. For each of the three roles, schemathesis runs every check and the coverage, fuzzing and
stateful phases with that member's token, bounded in time, using infra/local/contract/schemathesis.toml.
The exit code is non-zero when any run found a failure. The last line is "contract: N passed, N failed"
(one per role).

The seed is derived from the commit under test (`git rev-parse HEAD`) unless given: the same commit fuzzes
the same way on every machine, so a failure at CI reproduces here with the seed it prints, while each new
commit still moves the corpus on. `--fresh-seed` draws a random one (infra/local/fuzz.sh, the longer run).
"""

import argparse
import hashlib
import json
import random
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent.parent


def call(api: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(api + path, data=data, method=method)
    req.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def login(api: str, email: str, password: str) -> dict:
    status, body = call(api, "POST", "/login", {"email": email, "password": password})
    if status != 200:
        raise SystemExit(f"login of {email} failed: {status} {body}")
    return body


def signed_up(api: str, role: str) -> dict:
    email = f"fuzz-{role.lower()}-{uuid.uuid4().hex[:12]}@ticketing.test"
    password = "fuzz-" + uuid.uuid4().hex
    status, body = call(
        api, "POST", "/signup", {"email": email, "password": password, "name": f"Fuzz {role}", "role": role}
    )
    if status != 201:
        raise SystemExit(f"signup of a {role} failed: {status} {body}")
    return login(api, email, password)


def commit_seed() -> int:
    """A seed from the checked-out commit (and whether the tree has changes), or a random one outside git."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return random.randrange(2**31)
    return int(hashlib.sha256((head + dirty).encode()).hexdigest()[:8], 16) % 2**31


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--api", required=True)
    parser.add_argument("--admin-email", required=True)
    parser.add_argument("--admin-password", required=True)
    parser.add_argument("--seconds-per-role", type=int, default=55)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--report-dir", default=None)
    seeds = parser.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=int, default=None, help="replay a run: the seed it printed")
    seeds.add_argument("--fresh-seed", action="store_true", help="a random seed instead of the commit's")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(2**31) if args.fresh_seed else commit_seed()
    print(f"==> contract seed: {seed} (replay: --seed {seed})", flush=True)

    sessions = {
        "USER": signed_up(args.api, "USER"),
        "ORGANIZER": signed_up(args.api, "ORGANIZER"),
        "ADMIN": login(args.api, args.admin_email, args.admin_password),
    }
    env = dict(os.environ)
    env["TICKETING_FUZZ_MEMBERS"] = ",".join(s["memberId"] for s in sessions.values())
    env.setdefault("SCHEMATHESIS_TELEMETRY", "false")
    st = Path(sys.executable).parent / "st"
    passed = failed = 0
    for role, session in sessions.items():
        cmd = [
            str(st),
            "--config-file",
            str(HERE / "schemathesis.toml"),
            "run",
            f"{args.api}/openapi.json",
            "--checks",
            "all",
            "--header",
            f"Authorization: Bearer {session['accessToken']}",
            # POST /logout revokes the token the whole run uses (see hooks.py for the same reason).
            "--exclude-path",
            "/logout",
            "--max-time",
            str(args.seconds_per_role),
            "--workers",
            str(args.workers),
            "--output-truncate",
            "false",
            "--seed",
            str(seed),
        ]
        if args.report_dir:
            cmd += ["--report", "junit", "--report-dir", str(Path(args.report_dir) / role.lower())]
        print(f"==> contract: schemathesis as {role} ({args.seconds_per_role} s)", flush=True)
        started = time.monotonic()
        code = subprocess.call(cmd, cwd=ROOT, env=env)
        print(f"==> contract as {role}: exit {code} in {time.monotonic() - started:.0f} s", flush=True)
        if code == 0:
            passed += 1
        else:
            failed += 1
    print(f"contract: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
