"""Cold start, zip size and idle memory of Lambda binaries (a benchmark, not a test; bench.sh rush runs it).

Each binary is started as Lambda starts a custom runtime: a fresh process with the runtime API's address in
AWS_LAMBDA_RUNTIME_API, here a small Runtime API server of this script's on 127.0.0.1. Measured per start:
  init     process spawn -> its first GET .../invocation/next (what Lambda reports as Init Duration)
  first    spawn -> the first invocation's answer: an API Gateway request without a signed-in caller (a
           public route reads the table: its SDK client is built then, on first use, and the call goes to a
           stub AWS endpoint of this script's that answers every request at once with an empty JSON object),
           or an empty batch. `calls` is the number of AWS requests that answer made.
  idle RSS VmRSS once it waits for its second invocation
and per binary the size of the deployment zip (the binary as `bootstrap`, deflated, as cargo-lambda packs it).
Prints a table with each binary's init time relative to a bare lambda_runtime "hello" binary, measured in the
same run, interleaved (hello, f1, hello, f2, ...): the ratio is the median over the starts of each start's time
to that of the hello start just before it, so drift over the run hits both sides of every pair alike.

usage: coldstart.py --hello BIN [--runs N] BIN...
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

API_EVENT = {
    "version": "2.0",
    "routeKey": "GET /health",
    "rawPath": "/health",
    "rawQueryString": "",
    "headers": {"host": "127.0.0.1"},
    "requestContext": {
        "accountId": "000000000000",
        "apiId": "bench",
        "domainName": "127.0.0.1",
        "domainPrefix": "bench",
        "http": {
            "method": "GET",
            "path": "/health",
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": "coldstart",
        },
        "requestId": "bench",
        "routeKey": "GET /health",
        "stage": "$default",
        "time": "03/Dec/2026:00:00:00 +0000",
        "timeEpoch": 1796256000000,
    },
    "isBase64Encoded": False,
    # An SQS-shaped field too: batch consumers see an empty batch.
    "Records": [],
}

ENV = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_LOG_FORMAT": "JSON",
    "RUST_LOG": "warn",
    "TABLE_NAME": "bench",
    "SIGNING_KEY_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:000000000000:secret:bench",
    "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:000000000000:stateMachine:bench",
    "SWEEP_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:000000000000:stateMachine:sweep",
    "CANCELLATION_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:000000000000:stateMachine:cancel",
    "EVENT_BUS_NAME": "bench",
    "MAIL_FROM": "bench@ticketing.local",
    "AUDIT_RETENTION_DAYS": "400",
    "ACCESS_TOKEN_TTL_SECONDS": "900",
    "FAULT_INJECTION": "off",
    "INLET_SECONDS": "0",
}


def serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """A server on a free loopback port, answering on threads of its own until shut down."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    return server


def address(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"{host}:{port}"


class Runtime:
    """One Runtime API for one process: hands out one event, records when things happen."""

    def __init__(self) -> None:
        self.t0 = 0.0
        self.first_next: float | None = None
        self.answered: float | None = None
        self.idle = threading.Event()
        self.gets = 0
        runtime = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                runtime.gets += 1
                if runtime.gets == 1:
                    runtime.first_next = time.perf_counter()
                    body = json.dumps(API_EVENT).encode()
                    self.send_response(200)
                    self.send_header("Lambda-Runtime-Aws-Request-Id", "bench-1")
                    self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30_000))
                    self.send_header(
                        "Lambda-Runtime-Invoked-Function-Arn",
                        "arn:aws:lambda:us-east-1:000000000000:function:bench",
                    )
                    self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                # The second poll: the process is idle. Hold the request until the process is killed.
                runtime.idle.set()
                time.sleep(30)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                runtime.answered = time.perf_counter()
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = serve(Handler)

    @property
    def address(self) -> str:
        return address(self.server)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class StubAws:
    """Every AWS API answered at once with `{}` (an empty result to the JSON protocols): what is measured is
    the client's construction, signing and one local round trip, not a service."""

    def __init__(self) -> None:
        self.calls = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                stub.calls += 1
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = b"{}"
                self.send_response(200)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST  # noqa: N815

        self.server = serve(Handler)

    @property
    def url(self) -> str:
        return f"http://{address(self.server)}"


STUB: StubAws | None = None


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def one_start(binary: Path) -> tuple[float, float, int, int] | str:
    """One start of `binary`'s deployed copy (`deployed`): a fresh process, as Lambda makes it."""
    assert STUB is not None
    runtime = Runtime()
    STUB.calls = 0
    env = dict(ENV, AWS_LAMBDA_RUNTIME_API=runtime.address, AWS_LAMBDA_FUNCTION_NAME=binary.name,
               AWS_ENDPOINT_URL=STUB.url)
    env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
    runtime.t0 = time.perf_counter()
    proc = subprocess.Popen([str(DEPLOYED[binary])], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        if not runtime.idle.wait(20):
            proc.kill()
            err = proc.communicate()[1].decode(errors="replace").strip().splitlines()
            return "no second poll within 20 s" + (f": {err[-1]}" if err else "")
        rss = rss_kib(proc.pid)
        assert runtime.first_next is not None and runtime.answered is not None
        return (runtime.first_next - runtime.t0, runtime.answered - runtime.t0, rss, STUB.calls)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        runtime.close()


def deployment_zip(binary: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo("bootstrap", date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o755 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, binary.read_bytes())
    return buf.getvalue()


def zip_kib(binary: Path) -> float:
    return len(deployment_zip(binary)) / 1024


# Each binary as Lambda runs it: its deployment zip unpacked into a directory of its own (`/var/task` there),
# a freshly written `bootstrap`. Started from the build directory instead, the same binary measured 15 %
# slower here than its fresh copy (how the kernel happened to cache the linker's output), which says nothing
# about Lambda.
DEPLOYED: dict[Path, Path] = {}


def deploy(binary: Path, under: Path) -> None:
    task = under / f"{len(DEPLOYED)}-{binary.name}"
    task.mkdir()
    with zipfile.ZipFile(io.BytesIO(deployment_zip(binary))) as z:
        z.extract("bootstrap", task)
    (task / "bootstrap").chmod(0o755)
    DEPLOYED[binary] = task / "bootstrap"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hello", required=True, type=Path)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("binaries", nargs="+", type=Path)
    a = p.parse_args()
    runs = max(1, min(a.runs, 50))
    global STUB
    STUB = StubAws()
    tasks = tempfile.TemporaryDirectory(prefix="coldstart-")
    for binary in [a.hello, *a.binaries]:
        if binary not in DEPLOYED:
            deploy(binary, Path(tasks.name))
    hello_init: list[float] = []
    hello_first: list[float] = []
    rows = []
    for binary in [a.hello, *a.binaries]:
        inits, firsts, rss, calls = [], [], [], []
        # Each start against the hello start just before it: the machine drifts over a run (a hello
        # measured late in the run came out 15 % slower than one measured early), and a pair shares it.
        init_ratios, first_ratios = [], []
        failure = None
        for _ in range(runs):
            # Interleaved: a hello start before each start of the binary measured.
            h = one_start(a.hello)
            if isinstance(h, tuple):
                hello_init.append(h[0])
                hello_first.append(h[1])
            r = one_start(binary)
            if isinstance(r, str):
                failure = r
                break
            inits.append(r[0])
            firsts.append(r[1])
            rss.append(r[2])
            calls.append(r[3])
            if isinstance(h, tuple):
                init_ratios.append(r[0] / h[0])
                first_ratios.append(r[1] / h[1])
        rows.append((binary, inits, firsts, rss, calls, failure, init_ratios, first_ratios))
    hello = statistics.median(hello_init)
    hello_f = statistics.median(hello_first)
    print(f"cold starts: {runs} starts each, medians; bare lambda_runtime hello: init {hello * 1000:.2f} ms, "
          f"first answer {hello_f * 1000:.2f} ms ({len(hello_init)} starts, interleaved)")
    print(f"  {'binary':34} {'zip KiB':>8} {'init ms':>8} {'x hello':>8} {'first ms':>9} {'x hello':>8} "
          f"{'calls':>6} {'idle RSS MiB':>13}")
    worst = worst_first = 0.0
    for binary, inits, firsts, rss, calls, failure, init_ratios, first_ratios in rows:
        if failure:
            print(f"  {binary.name:34} {zip_kib(binary):8.0f}  failed: {failure}")
            continue
        init = statistics.median(inits)
        first = statistics.median(firsts)
        ratio = statistics.median(init_ratios) if init_ratios else init / hello
        first_ratio = statistics.median(first_ratios) if first_ratios else first / hello_f
        if binary != a.hello:
            worst = max(worst, ratio)
            if max(calls) == 0:
                worst_first = max(worst_first, first_ratio)
        print(
            f"  {binary.name:34} {zip_kib(binary):8.0f} {init * 1000:8.2f} {ratio:8.2f} "
            f"{first * 1000:9.2f} {first_ratio:8.2f} {max(calls):6d} {statistics.median(rss) / 1024:13.1f}"
        )
    print(f"  worst init ratio to hello: {worst:.2f}x (the bar: 1.3x); worst first-answer ratio of the answers "
          f"made without an AWS call: {worst_first:.2f}x")
    sys.exit(0)


if __name__ == "__main__":
    main()
