"""Lambda runtime executor that runs ``provided.*`` functions as host processes (no Docker, no downloads).

How LocalStack drives an executor (localstack.services.lambda_.invocation):

* ``RuntimeExecutor.prepare_version`` once per function version (we unzip the code, as the docker executor
  does through ``config.code.prepare_for_execution()``).
* ``ExecutionEnvironment.start`` -> ``executor.start(env_vars)``, which must block until the runtime is
  ready. The docker executor (docker_runtime_executor.DockerRuntimeExecutor) starts a container whose init
  (github.com/localstack/lambda-runtime-init, cmd/localstack/custom_interop.go) posts
  ``/_localstack_lambda/<env>/status/<id>/ready`` (or ``.../error`` with the init error as payload, which
  becomes ``StatusErrorException`` and, in version_manager.invoke, a function error for the caller).
  A startup timer (LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT) calls ``executor.stop()`` if start hangs.
* ``ExecutionEnvironment.invoke`` -> ``executor.invoke({"invoke-id", "invoked-function-arn", "payload",
  "trace-id"})`` returning an ``InvocationResult``. With docker, executor_endpoint.ExecutorEndpoint POSTs that
  to the init's ``/invoke`` and waits for the init to POST ``.../invocations/<id>/response`` or ``/error``
  (and ``/logs``). The init enforces the function timeout itself and reports it as an error, then resets
  (restarts) the runtime before the next invoke.
* ``executor.stop()`` when the environment is released after LAMBDA_KEEPALIVE_MS, on function update or
  deletion, and at shutdown.

Here the executor plays the init's role in-process: it serves the Lambda Runtime API
(https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html) on 127.0.0.1:<ephemeral port> to the
function's ``bootstrap``, started as a child process, and returns ``InvocationResult`` directly instead of
round-tripping through LocalStack's ``/_localstack_lambda`` routes. Observable behaviour is kept:
``is_error`` for /error, /init/error and crashes (errorType ``Runtime.ExitError``), a timeout kills the
process, answers ``Sandbox.Timedout`` (as AWS does today) and the next invoke starts a fresh process;
START/END/REPORT lines plus the function's output become the CloudWatch logs of the invocation.

Function output (stdout and stderr, merged) is also appended, raw, to ``$TICKETING_LAMBDA_LOG_DIR/<function
name>.log`` (stack.py points it to <state dir>/lambda-logs) so the JSON logs can be read with jq.

Child processes never outlive LocalStack: they are SIGKILLed on ``stop()``, at interpreter exit (atexit),
and by the kernel if LocalStack dies (PR_SET_PDEATHSIG, set from one long-lived spawner thread because the
signal follows the *thread* that forked). stack.py's stop also sweeps processes by an environment marker.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import ctypes
import json
import logging
import os
import platform
import queue
import signal
import subprocess
import threading
import time
from collections import deque
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from localstack import config
from localstack.aws.api.lambda_ import PackageType
from localstack.services.lambda_.invocation.execution_environment import ExecutionEnvironment
from localstack.services.lambda_.invocation.executor_endpoint import StatusErrorException
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)

LOG = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
RUNTIME_API_PREFIX = "/2018-06-01/runtime"
# marker put into every function process's environment; stack.py sweeps strays by it
MARKER_ENV = "TICKETING_LOCALSTACK_STATE_DIR"
LOG_TAIL_LINES = 2000

_ARCH_MACHINES = {"x86_64": {"x86_64", "amd64"}, "arm64": {"aarch64", "arm64"}}


# ----------------------------------------------------------------------------------------------------------
# process spawning that cannot leak
# ----------------------------------------------------------------------------------------------------------
_LIVE: set[subprocess.Popen] = set()
_LIVE_LOCK = threading.Lock()


def _kill_all_live() -> None:
    with _LIVE_LOCK:
        procs = list(_LIVE)
    for proc in procs:
        _kill(proc)


atexit.register(_kill_all_live)


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        LOG.warning("function process %s did not die after SIGKILL", proc.pid)
    with _LIVE_LOCK:
        _LIVE.discard(proc)


_LIBC = ctypes.CDLL(None, use_errno=True) if platform.system() == "Linux" else None
_PR_SET_PDEATHSIG = 1


def _pdeathsig_preexec(parent_pid: int):
    """preexec_fn factory: in the child, before exec, ask the kernel to SIGKILL it when the forking thread
    of its parent dies; exit at once if the parent is already gone (it died between fork and prctl)."""

    def preexec() -> None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent_pid:
            os._exit(1)

    return preexec


class _Spawner:
    """Runs every Popen on one daemon thread that lives as long as LocalStack: PR_SET_PDEATHSIG fires when
    the forking *thread* exits, and LocalStack's worker threads come and go."""

    def __init__(self) -> None:
        self._requests: queue.Queue[tuple[dict, Future]] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="lambda-host-spawner", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        preexec = _pdeathsig_preexec(os.getpid()) if _LIBC is not None else None
        while True:
            kwargs, future = self._requests.get()
            try:
                proc = subprocess.Popen(**kwargs, preexec_fn=preexec)
                with _LIVE_LOCK:
                    _LIVE.add(proc)
                future.set_result(proc)
            except BaseException as e:  # noqa: BLE001
                future.set_exception(e)

    def popen(self, **kwargs) -> subprocess.Popen:
        future: Future[subprocess.Popen] = Future()
        self._requests.put((kwargs, future))
        return future.result()


_SPAWNER: _Spawner | None = None
_SPAWNER_LOCK = threading.Lock()


def _spawner() -> _Spawner:
    global _SPAWNER
    with _SPAWNER_LOCK:
        if _SPAWNER is None:
            _SPAWNER = _Spawner()
        return _SPAWNER


# ----------------------------------------------------------------------------------------------------------
# function output: per-function log file, tail for get_logs(), per-invocation capture
# ----------------------------------------------------------------------------------------------------------
_FILE_LOCKS: dict[str, threading.Lock] = {}
_FILE_LOCKS_LOCK = threading.Lock()


def _log_dir() -> Path:
    configured = os.environ.get("TICKETING_LAMBDA_LOG_DIR")
    return Path(configured) if configured else Path(config.dirs.tmp) / "lambda-logs"


class _OutputSink:
    def __init__(self, function_name: str) -> None:
        path = _log_dir() / f"{function_name}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        with _FILE_LOCKS_LOCK:
            self._file_lock = _FILE_LOCKS.setdefault(str(path), threading.Lock())
        self._lock = threading.Lock()
        self.tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)
        self._capture: list[str] | None = None

    def pump(self, stream) -> None:
        """Reader thread body: copy lines from the process's stdout until EOF."""
        with open(self.path, "ab") as out:
            for raw in iter(stream.readline, b""):
                with self._file_lock:
                    out.write(raw if raw.endswith(b"\n") else raw + b"\n")
                    out.flush()
                line = raw.decode("utf-8", "replace").rstrip("\n")
                with self._lock:
                    self.tail.append(line)
                    if self._capture is not None:
                        self._capture.append(line)
        stream.close()

    def note(self, line: str, to_file: bool = True) -> None:
        """A line of our own: into tail and capture, and (crash/timeout reports) the log file. START/END/
        REPORT lines stay out of the file so that it holds only the function's own (JSON) lines."""
        with self._lock:
            self.tail.append(line)
            if self._capture is not None:
                self._capture.append(line)
        if to_file:
            with self._file_lock, open(self.path, "ab") as out:
                out.write(line.encode() + b"\n")

    def begin_capture(self) -> None:
        with self._lock:
            self._capture = []

    def end_capture(self) -> list[str]:
        with self._lock:
            lines, self._capture = self._capture or [], None
        return lines


# ----------------------------------------------------------------------------------------------------------
# the Runtime API of one process lifetime
# ----------------------------------------------------------------------------------------------------------
@dataclass
class _Invocation:
    request_id: str
    payload: bytes
    headers: dict[str, str]
    result: Future = field(default_factory=Future)  # Future[tuple[bool, bytes]]: (is_error, payload)


def _error_payload(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


def _exit_description(code: int) -> str:
    # wording of the Lambda service ("Runtime exited with error: exit status 1" / "signal: killed")
    if code < 0:
        try:
            name = signal.Signals(-code).name.removeprefix("SIG").lower()
        except ValueError:
            name = str(-code)
        name = {"kill": "killed", "term": "terminated", "segv": "segmentation fault", "abrt": "aborted"}.get(
            name, name
        )
        return f"signal: {name}"
    return f"exit status {code}"


class _QuietHTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # a long-polling /next must never block shutdown

    def handle_error(self, request, client_address) -> None:
        # the runtime process went away mid-request (killed on timeout or at stop): not worth a traceback
        LOG.debug("runtime API connection from %s failed", client_address, exc_info=True)


class RuntimeApi:
    """State shared between the Runtime API HTTP handlers and the executor, for one process lifetime.
    A restarted process gets a new RuntimeApi (and port), so a straggling request of a killed process can
    never take an invocation meant for its successor."""

    def __init__(self) -> None:
        self.ready = threading.Event()  # first /next seen: init is done
        self.init_error: bytes | None = None
        self.exit_code: int | None = None
        self.closed = False
        self._cond = threading.Condition()
        self._pending: _Invocation | None = None
        self._current: _Invocation | None = None
        self.server = _QuietHTTPServer((LOOPBACK, 0), _make_handler(self))
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.2},
            daemon=True,
            name=f"lambda-runtime-api-{self.port}",
        )
        self._thread.start()

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def usable(self) -> bool:
        return not self.closed and self.exit_code is None and self.init_error is None

    # called by the executor
    def submit(self, invocation: _Invocation) -> None:
        with self._cond:
            if not self.usable:
                invocation.result.set_result((True, self._death_payload(invocation.request_id)))
                return
            self._pending = invocation
            self._cond.notify_all()

    def process_exited(self, code: int) -> None:
        with self._cond:
            self.exit_code = code
            for inv in (self._current, self._pending):
                if inv is not None and not inv.result.done():
                    inv.result.set_result((True, self._death_payload(inv.request_id)))
            self._current = self._pending = None
            self._cond.notify_all()
        self.ready.set()  # wake a start() that waits for readiness

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()
        self.ready.set()
        self.server.shutdown()
        self.server.server_close()

    def _death_payload(self, request_id: str) -> bytes:
        code = self.exit_code if self.exit_code is not None else -signal.SIGKILL
        return _error_payload(
            "Runtime.ExitError",
            f"RequestId: {request_id} Error: Runtime exited with error: {_exit_description(code)}",
        )

    # called by the HTTP handlers
    def next_invocation(self) -> _Invocation | None:
        self.ready.set()
        with self._cond:
            while self._pending is None and self.usable:
                self._cond.wait()
            if not self.usable:
                return None
            invocation, self._pending = self._pending, None
            self._current = invocation
            return invocation

    def complete(self, request_id: str, is_error: bool, payload: bytes) -> bool:
        with self._cond:
            current = self._current
            if current is None or current.request_id != request_id:
                return False
            self._current = None
        if not current.result.done():
            current.result.set_result((is_error, payload))
        return True

    def fail_init(self, payload: bytes) -> None:
        with self._cond:
            self.init_error = payload
            self._cond.notify_all()
        self.ready.set()


def _make_handler(api: RuntimeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the runtime clients reuse one connection
        server_version = "ticketing-lambda-runtime-api"

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
            LOG.debug("runtime-api %s: " + format, api.port, *args)

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass  # trailers
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _accepted(self) -> None:
            self._send(HTTPStatus.ACCEPTED, b'{"status":"OK"}')

        def do_GET(self) -> None:
            if self.path != f"{RUNTIME_API_PREFIX}/invocation/next":
                return self._send(HTTPStatus.NOT_FOUND, _error_payload("NotFound", self.path))
            invocation = api.next_invocation()
            if invocation is None:  # the process is being replaced or shut down
                self.close_connection = True
                return self._send(
                    HTTPStatus.INTERNAL_SERVER_ERROR,
                    _error_payload("ServiceException", "execution environment is shutting down"),
                )
            self._send(HTTPStatus.OK, invocation.payload, invocation.headers)

        def do_POST(self) -> None:
            body = self._body()
            parts = self.path.removeprefix(RUNTIME_API_PREFIX).strip("/").split("/")
            if parts == ["init", "error"]:
                api.fail_init(self._normalized_error(body))
                return self._accepted()
            if len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                request_id, kind = parts[1], parts[2]
                payload = body if kind == "response" else self._normalized_error(body)
                if api.complete(request_id, kind == "error", payload):
                    return self._accepted()
                return self._send(
                    HTTPStatus.BAD_REQUEST,
                    _error_payload("InvalidRequestID", f"Invalid request ID: {request_id}"),
                )
            self._send(HTTPStatus.NOT_FOUND, _error_payload("NotFound", self.path))

        def _normalized_error(self, body: bytes) -> bytes:
            """The runtime's error document goes to the caller as is (the errorType is what Step Functions'
            ErrorEquals matches); the Lambda-Runtime-Function-Error-Type header fills a missing errorType."""
            header_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
            try:
                doc = json.loads(body) if body else {}
            except ValueError:
                doc = None
            if isinstance(doc, dict):
                if header_type and not doc.get("errorType"):
                    doc["errorType"] = header_type
                    return json.dumps(doc).encode()
                return body if body else json.dumps(doc or {"errorType": "Unhandled"}).encode()
            return _error_payload(header_type or "Unhandled", body.decode("utf-8", "replace"))

    return Handler


# ----------------------------------------------------------------------------------------------------------
# the executor
# ----------------------------------------------------------------------------------------------------------
class HostProcessRuntimeExecutor(RuntimeExecutor):
    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self._lock = threading.RLock()  # guards _api/_proc replacement
        self._api: RuntimeApi | None = None
        self._proc: subprocess.Popen | None = None
        self._env: dict[str, str] = {}
        self._stopped = threading.Event()
        self._output = _OutputSink(function_version.id.function_name)
        self.client_context: str | None = None  # set per invoke by the ExecutionEnvironment patch below

    # -- RuntimeExecutor: addresses ----------------------------------------------------------------------
    def get_address(self) -> str:
        return LOOPBACK

    def get_endpoint_from_executor(self) -> str:
        # used for AWS_ENDPOINT_URL / LOCALSTACK_HOSTNAME: the gateway listens on loopback only
        return LOOPBACK

    def get_runtime_endpoint(self) -> str:
        # only ends up in LOCALSTACK_RUNTIME_ENDPOINT; kept in the docker executor's format
        return f"http://{LOOPBACK}:{config.GATEWAY_LISTEN[0].port}/_localstack_lambda/{self.id}"

    # -- lifecycle ---------------------------------------------------------------------------------------
    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        cfg = function_version.config
        if cfg.package_type != PackageType.Zip or not cfg.code:
            raise LambdaRuntimeException("host-process executor: only Zip packages are supported")
        if not (cfg.runtime or "").startswith("provided"):
            raise LambdaRuntimeException(
                f"host-process executor: runtime {cfg.runtime} is not supported (only provided.*)"
            )
        arch = (cfg.architectures or ["x86_64"])[0]
        if platform.machine().lower() not in _ARCH_MACHINES.get(arch, {arch}):
            LOG.warning(
                "function %s is built for %s, this host is %s",
                function_version.qualified_arn,
                arch,
                platform.machine(),
            )
        cfg.code.prepare_for_execution()  # unzip to a temp dir, chmod 755 (lambda_models.S3Code)

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        pass

    def start(self, env_vars: dict[str, str]) -> None:
        code_dir = str(self.function_version.config.code.get_unzipped_code_location())
        env = {k: str(v) for k, v in env_vars.items() if v is not None}
        env.update(
            {
                "PATH": "/usr/local/bin:/usr/bin:/bin",
                "LANG": "C.UTF-8",
                "LAMBDA_TASK_ROOT": code_dir,
                "LAMBDA_RUNTIME_DIR": code_dir,
                MARKER_ENV: os.environ.get(MARKER_ENV, ""),
            }
        )
        # user-defined variables win, as in ExecutionEnvironment.get_environment_variables
        env.update({k: str(v) for k, v in (self.function_version.config.environment or {}).items()})
        self._env = env
        init_error = self._spawn_and_wait()
        if init_error is not None:
            raise StatusErrorException("Environment startup failed", payload=init_error)

    def stop(self) -> None:
        self._stopped.set()
        with self._lock:
            self._teardown()

    def get_logs(self) -> str:
        return "\n".join(self._output.tail)

    # -- invocation --------------------------------------------------------------------------------------
    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        request_id = payload["invoke-id"]
        timeout = float(self.function_version.config.timeout or 3)
        started = time.monotonic()
        self._output.begin_capture()
        version = self.function_version.id.qualifier
        self._output.note(f"START RequestId: {request_id} Version: {version}", to_file=False)

        with self._lock:
            api = self._api
            init_error = None
            if api is None or not api.usable:
                # the previous process timed out or crashed: a fresh one, like the init's reset
                init_error = self._spawn_and_wait()
                api = self._api
        if init_error is not None or api is None:
            is_error, body = True, init_error or _error_payload("Runtime.Unknown", "no runtime")
        else:
            headers = {
                "Lambda-Runtime-Aws-Request-Id": request_id,
                "Lambda-Runtime-Deadline-Ms": str(int((time.time() + timeout) * 1000)),
                "Lambda-Runtime-Invoked-Function-Arn": payload.get("invoked-function-arn", ""),
                "Lambda-Runtime-Trace-Id": payload.get("trace-id", ""),
            }
            if client_context := self._decoded_client_context():
                headers["Lambda-Runtime-Client-Context"] = client_context
            if cognito := payload.get("cognito-identity"):
                headers["Lambda-Runtime-Cognito-Identity"] = cognito
            invocation = _Invocation(request_id, (payload.get("payload") or "").encode(), headers)
            api.submit(invocation)
            try:
                is_error, body = invocation.result.result(timeout=timeout)
            except FutureTimeout:
                LOG.info("function %s timed out after %.2fs", self.function_version.qualified_arn, timeout)
                with self._lock:
                    self._teardown()
                is_error = True
                body = _error_payload(
                    "Sandbox.Timedout",
                    f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds",
                )
                self._output.note(
                    f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {request_id} "
                    f"Task timed out after {timeout:.2f} seconds"
                )

        duration_ms = (time.monotonic() - started) * 1000
        self._output.note(f"END RequestId: {request_id}", to_file=False)
        self._output.note(
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {max(1, int(duration_ms + 0.999))} ms\t"
            f"Memory Size: {self.function_version.config.memory_size} MB\t"
            f"Max Memory Used: {self._max_rss_mb()} MB",
            to_file=False,
        )
        logs = "\n".join(self._output.end_capture()) + "\n"
        return InvocationResult(request_id=request_id, payload=body, is_error=is_error, logs=logs)

    # -- internals ---------------------------------------------------------------------------------------
    def _decoded_client_context(self) -> str | None:
        # The Invoke API carries base64(JSON) in X-Amz-Client-Context; the runtime gets the JSON.
        raw = self.client_context
        if not raw:
            return None
        try:
            return base64.b64decode(raw, validate=True).decode()
        except ValueError:
            return raw

    def _max_rss_mb(self) -> int:
        proc = self._proc
        if proc is None:
            return 0
        try:
            for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
        except OSError:
            pass
        return 0

    def _spawn_and_wait(self) -> bytes | None:
        """Start bootstrap with a new RuntimeApi and wait until it asks for work (returns None), or fails
        during init (returns the error document). Raises if stop() interrupts it (startup timeout)."""
        with self._lock:
            if self._stopped.is_set():
                raise LambdaRuntimeException(f"execution environment {self.id} is stopped")
            self._teardown()
            code_dir = Path(self._env["LAMBDA_TASK_ROOT"])
            bootstrap = code_dir / "bootstrap"
            if not bootstrap.is_file():
                return _error_payload(
                    "Runtime.InvalidEntrypoint", f"Couldn't find valid bootstrap(s): [{bootstrap}]"
                )
            api = RuntimeApi()
            env = dict(self._env, AWS_LAMBDA_RUNTIME_API=api.address)
            try:
                proc = _spawner().popen(
                    args=[str(bootstrap)],
                    cwd=str(code_dir),
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    close_fds=True,
                )
            except OSError as e:
                api.close()
                return _error_payload("Runtime.InvalidEntrypoint", f"{bootstrap}: {e}")
            self._api, self._proc = api, proc
            threading.Thread(
                target=self._output.pump,
                args=(proc.stdout,),
                daemon=True,
                name=f"lambda-output-{proc.pid}",
            ).start()
            threading.Thread(
                target=self._watch, args=(proc, api), daemon=True, name=f"lambda-watch-{proc.pid}"
            ).start()
            LOG.debug("started %s for %s as pid %s", bootstrap, self.function_version.qualified_arn, proc.pid)

        deadline = time.monotonic() + config.LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT
        while not api.ready.wait(0.05):
            if self._stopped.is_set() or time.monotonic() > deadline:
                break
        if self._stopped.is_set() or api.closed:
            raise LambdaRuntimeException(f"execution environment {self.id} stopped during init")
        if api.init_error is not None:
            with self._lock:
                self._teardown()
            return api.init_error
        if api.exit_code is not None:
            self._output.note(f"bootstrap exited during init: {_exit_description(api.exit_code)}")
            return _error_payload(
                "Runtime.ExitError",
                f"RequestId: init Error: Runtime exited with error: {_exit_description(api.exit_code)}",
            )
        if not api.ready.is_set():
            with self._lock:
                self._teardown()
            return _error_payload("Runtime.InitTimeout", "bootstrap did not call the Runtime API in time")
        return None

    def _watch(self, proc: subprocess.Popen, api: RuntimeApi) -> None:
        code = proc.wait()
        with _LIVE_LOCK:
            _LIVE.discard(proc)
        if not api.closed:
            # SIGTERM/SIGKILL from outside: most likely `stack.py stop` signalling the process group
            level = logging.INFO if code in (-signal.SIGTERM, -signal.SIGKILL) else logging.WARNING
            LOG.log(
                level,
                "function process %s of %s exited: %s",
                proc.pid,
                self.function_version.qualified_arn,
                _exit_description(code),
            )
        api.process_exited(code)

    def _teardown(self) -> None:
        """Kill the current process and close its Runtime API (callers hold self._lock)."""
        api, proc = self._api, self._proc
        self._api = self._proc = None
        if api is not None:
            api.closed = True  # before the kill: the watcher must not report an expected death
        if proc is not None:
            _kill(proc)
        if api is not None:
            api.close()


# ExecutionEnvironment.invoke builds the executor payload without the invocation's client context (the
# docker init does not support it either). Hand it to our executor through a small wrapper.
if not getattr(ExecutionEnvironment.invoke, "_ticketing_patched", False):
    _original_invoke = ExecutionEnvironment.invoke

    def _invoke_with_client_context(self: ExecutionEnvironment, invocation):
        if isinstance(self.runtime_executor, HostProcessRuntimeExecutor):
            self.runtime_executor.client_context = invocation.client_context
        return _original_invoke(self, invocation)

    _invoke_with_client_context._ticketing_patched = True  # type: ignore[attr-defined]
    ExecutionEnvironment.invoke = _invoke_with_client_context  # type: ignore[method-assign]
