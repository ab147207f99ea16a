#!/usr/bin/env python3
"""Local AWS stack: LocalStack on the host, offline and without Docker (see infra/local/ext for the plugins
that make that possible: moto-backed serialized DynamoDB, Lambda functions as host processes, a gateway
bound to loopback only).

Run it with the venv's python that infra/local/setup-python.sh creates (.local/venv/bin/python):

  stack.py start  --state-dir DIR --port PORT        start detached, wait until healthy
  stack.py stop   --state-dir DIR                    stop it and every function process it started
  stack.py deploy --state-dir DIR --endpoint http://127.0.0.1:PORT --stack-name NAME \\
                  --template infra/template.yaml --bin-dir target/debug [--parameter-overrides K=V ...]
  stack.py status --state-dir DIR

Files in DIR: localstack.pid, stack.json (pid and port), localstack.log, lambda-logs/<function>.log (the
functions' own stdout/stderr), outputs.json (after deploy), fs/ and tmp/ (LocalStack's files).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

# Services that must report ready before `start` returns. The others load lazily on first use.
REQUIRED_SERVICES = (
    "cloudformation",
    "s3",
    "lambda",
    "dynamodb",
    "sqs",
    "events",
    "stepfunctions",
    "iam",
    "sts",
    "ssm",
    "secretsmanager",
    "logs",
)
READY_STATES = {"available", "running"}
START_TIMEOUT_S = 90
STOP_GRACE_S = 10
ARTIFACT_BUCKET = "ticketing-local-artifacts"
REGION = "us-east-1"
MARKER_ENV = "TICKETING_LOCALSTACK_STATE_DIR"  # also in ext/ticketing_localstack/lambda_executor.py


def say(msg: str) -> None:
    print(f"==> {msg}", flush=True)


def fail(msg: str, code: int = 1) -> None:
    print(f"error: {msg}", file=sys.stderr, flush=True)
    sys.exit(code)


# ------------------------------------------------------------------------------------------------------------
# process helpers
# ------------------------------------------------------------------------------------------------------------
def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie is not alive
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _proc_env(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    env = {}
    for item in raw.split(b"\0"):
        key, sep, value = item.partition(b"=")
        if sep:
            env[key.decode(errors="replace")] = value.decode(errors="replace")
    return env


def _is_our_localstack(pid: int, state_dir: Path) -> bool:
    """Guards against pid reuse: the process must be LocalStack started for this state dir."""
    if not _pid_alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    started_as = (b"ticketing_localstack.main", b"localstack.runtime.main")  # the latter: before the ext had it
    return any(m in cmdline for m in started_as) and _proc_env(pid).get(MARKER_ENV) == str(state_dir)


def _marked_processes(state_dir: Path) -> list[int]:
    """Every process (LocalStack or function) carrying this state dir's marker."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        if _proc_env(int(entry.name)).get(MARKER_ENV) == str(state_dir) and _pid_alive(int(entry.name)):
            pids.append(int(entry.name))
    return pids


def _health(port: int, timeout: float = 2.0) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_localstack/health", timeout=timeout) as r:
            return json.loads(r.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _services_ready(health: dict[str, Any] | None) -> list[str]:
    """The required services that are not ready yet (empty list = all ready)."""
    if not health:
        return list(REQUIRED_SERVICES)
    services = health.get("services", {})
    return [s for s in REQUIRED_SERVICES if services.get(s) not in READY_STATES]


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    # something bound to 0.0.0.0 or another loopback address would also answer here
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _read_state(state_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((state_dir / "stack.json").read_text())
    except (OSError, ValueError):
        return {}


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# ------------------------------------------------------------------------------------------------------------
# start / stop / status
# ------------------------------------------------------------------------------------------------------------
def localstack_env(state_dir: Path, port: int) -> dict[str, str]:
    # Start from the caller's environment minus AWS settings, which would leak into LocalStack's own clients.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {
            # a /.dockerenv exists on these machines; without this LocalStack uses system paths
            "OVERRIDE_IN_DOCKER": "0",
            "FILESYSTEM_ROOT": str(state_dir / "fs"),
            # unzipped Lambda code lives under tempfile.gettempdir(): keep it per state dir
            "TMPDIR": str(state_dir / "tmp"),
            "DNS_ADDRESS": "0",  # no DNS server (it would bind port 53)
            "GATEWAY_LISTEN": f"127.0.0.1:{port}",
            "GATEWAY_SERVER": "twisted-loopback",  # ext: twisted bound to GATEWAY_LISTEN's host
            # URLs handed out (queue URLs...): loopback, this port; *.localstack.cloud needs DNS
            "LOCALSTACK_HOST": f"127.0.0.1:{port}",
            "SQS_ENDPOINT_STRATEGY": "path",
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "DISABLE_EVENTS": "1",  # no analytics
            "PERSISTENCE": "0",
            # SAM HttpApi resources (AWS::ApiGatewayV2::*) have no provider in the community edition: the
            # local gateway (infra/local/gateway) serves the routes; CloudFormation must just accept them
            "CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES": "1",
            "PROVIDER_OVERRIDE_DYNAMODB": "ticketing",  # ext: moto-backed, serialized
            "PROVIDER_OVERRIDE_DYNAMODBSTREAMS": "ticketing",
            "LAMBDA_RUNTIME_EXECUTOR": "host-process",  # ext: functions as host processes
            # SQS event source mappings back off up to 10 s on empty polls: messages then wait seconds
            # before the function sees them. 1 s keeps tests snappy at the cost of one poll/s per mapping.
            "LAMBDA_EVENT_SOURCE_MAPPING_MAX_BACKOFF_ON_EMPTY_POLL_SEC": "1",
            # After a poll that found records, the next comes 1 s later by default: each hop of an event
            # (stream -> publisher, queue -> consumer) waited up to a second. 0.2 s.
            "LAMBDA_EVENT_SOURCE_MAPPING_POLL_INTERVAL_SEC": "0.2",
            # Only what the template uses. Without CloudWatch, LocalStack stops putting a metric (a whole
            # internal request and a SQLite write) for every Lambda invocation and SQS batch: about a tenth
            # of its single Python process under load, which every event's hops wait behind.
            "SERVICES": ",".join(REQUIRED_SERVICES + ("dynamodbstreams", "ses")),
            "TICKETING_LAMBDA_LOG_DIR": str(state_dir / "lambda-logs"),
            MARKER_ENV: str(state_dir),
            "PYTHONUNBUFFERED": "1",
        }
    )
    # One log line per request costs LocalStack's one Python process a few percent under load; warnings and
    # errors are kept. LS_LOG=info in the caller's environment brings the request lines back (bench.sh
    # counts DynamoDB calls from them).
    env.setdefault("LS_LOG", "warn")
    return env


def cmd_start(args: argparse.Namespace) -> None:
    state_dir: Path = args.state_dir
    port: int = args.port
    state_dir.mkdir(parents=True, exist_ok=True)
    state = _read_state(state_dir)
    pid = state.get("pid")

    if pid and _is_our_localstack(pid, state_dir):
        if state.get("port") != port:
            fail(
                f"LocalStack for {state_dir} already runs on port {state.get('port')} (pid {pid}), "
                f"not {port}; stop it first"
            )
        if not _services_ready(_health(port)):
            say(f"LocalStack already running for {state_dir} on port {port} (pid {pid})")
            return
        say(f"LocalStack for {state_dir} is running (pid {pid}) but not healthy yet; waiting")
    else:
        if pid:  # stale state or leftovers of a crash
            _stop_processes(state_dir, quiet=True)
        if not _port_free(port):
            fail(
                f"port {port} on 127.0.0.1 is already in use by another process "
                f"(see: ss -ltnp 'sport = :{port}'); choose another --port or stop that process"
            )
        (state_dir / "tmp").mkdir(exist_ok=True)
        log_path = state_dir / "localstack.log"
        say(f"starting LocalStack on 127.0.0.1:{port} (state {state_dir}, log {log_path})")
        with open(log_path, "ab") as log:
            log.write(f"\n---- start {time.strftime('%Y-%m-%d %H:%M:%S')} ----\n".encode())
            log.flush()
            proc = subprocess.Popen(
                # localstack.runtime.main plus a fast exit once its shutdown is done (see ext's main.py)
                [sys.executable, "-m", "ticketing_localstack.main"],
                cwd=state_dir,
                env=localstack_env(state_dir, port),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: stop() signals the whole group
            )
        pid = proc.pid
        (state_dir / "localstack.pid").write_text(f"{pid}\n")
        (state_dir / "stack.json").write_text(json.dumps({"pid": pid, "port": port}) + "\n")

    started = time.monotonic()
    missing: list[str] = list(REQUIRED_SERVICES)
    while time.monotonic() - started < START_TIMEOUT_S:
        if not _pid_alive(pid):
            print(_tail(state_dir / "localstack.log"), file=sys.stderr)
            fail("LocalStack exited during startup (log tail above)")
        missing = _services_ready(_health(port))
        if not missing:
            say(f"LocalStack ready in {time.monotonic() - started:.1f}s (pid {pid}, http://127.0.0.1:{port})")
            return
        time.sleep(0.2)
    print(_tail(state_dir / "localstack.log"), file=sys.stderr)
    fail(f"LocalStack not ready after {START_TIMEOUT_S}s (services not ready: {', '.join(missing)})")


def _stop_processes(state_dir: Path, quiet: bool = False) -> bool:
    """SIGTERM LocalStack's process group, SIGKILL after a grace period, then sweep marked stragglers."""
    state = _read_state(state_dir)
    pid = state.get("pid")
    stopped_something = False
    if pid and _is_our_localstack(pid, state_dir):
        stopped_something = True
        if not quiet:
            say(f"stopping LocalStack (pid {pid})")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _pid_alive(pid):
            say(f"LocalStack did not stop within {STOP_GRACE_S}s: SIGKILL")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)  # whatever is left in the group
    # function processes die with LocalStack (PDEATHSIG), but make sure: anything still carrying our marker
    deadline = time.monotonic() + 5
    while (stragglers := _marked_processes(state_dir)) and time.monotonic() < deadline:
        stopped_something = True
        for straggler in stragglers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(straggler, signal.SIGKILL)
        time.sleep(0.1)
    if stragglers := _marked_processes(state_dir):
        fail(f"processes still alive after stop: {stragglers}")
    for name in ("localstack.pid", "stack.json"):
        (state_dir / name).unlink(missing_ok=True)
    return stopped_something


def cmd_stop(args: argparse.Namespace) -> None:
    started = time.monotonic()
    if _stop_processes(args.state_dir):
        say(f"stopped in {time.monotonic() - started:.1f}s")
    else:
        say(f"nothing running for {args.state_dir}")


def cmd_status(args: argparse.Namespace) -> None:
    state = _read_state(args.state_dir)
    pid, port = state.get("pid"), state.get("port")
    if not pid or not _is_our_localstack(pid, args.state_dir):
        print(f"stopped ({args.state_dir})")
        sys.exit(3)
    health = _health(port)
    missing = _services_ready(health)
    print(
        f"running: pid {pid}, http://127.0.0.1:{port}, "
        + ("healthy" if not missing else f"not ready: {', '.join(missing)}")
    )
    if health:
        running = sorted(s for s, st in health.get("services", {}).items() if st == "running")
        print(f"services loaded: {', '.join(running) or '-'}")
    functions = [p for p in _marked_processes(args.state_dir) if p != pid]
    print(f"function processes: {len(functions)}")
    outputs = args.state_dir / "outputs.json"
    if outputs.exists():
        print(f"last deploy: {outputs}")
    sys.exit(0 if not missing else 1)


# ------------------------------------------------------------------------------------------------------------
# deploy
# ------------------------------------------------------------------------------------------------------------
def _cfn_yaml_loader():
    """A YAML loader that turns CloudFormation short tags (!Ref, !GetAtt, !Sub...) into their long JSON
    forms, so the template can be sent as JSON."""
    import yaml

    class CfnLoader(yaml.SafeLoader):
        pass

    def make(tag: str):
        def constructor(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
            if isinstance(node, yaml.ScalarNode):
                value: Any = loader.construct_scalar(node)
            elif isinstance(node, yaml.SequenceNode):
                value = loader.construct_sequence(node, deep=True)
            else:
                value = loader.construct_mapping(node, deep=True)
            if tag in ("Ref", "Condition"):
                return {tag: value}
            if tag == "GetAtt" and isinstance(value, str):
                resource, _, attribute = value.partition(".")
                return {"Fn::GetAtt": [resource, attribute]}
            return {f"Fn::{tag}": value}

        return constructor

    for tag in (
        "Ref",
        "Condition",
        "GetAtt",
        "Sub",
        "Join",
        "If",
        "Equals",
        "Not",
        "And",
        "Or",
        "FindInMap",
        "Select",
        "Split",
        "ImportValue",
        "Base64",
        "Cidr",
        "GetAZs",
        "Transform",
        "ToJsonString",
        "Length",
        "ForEach",
    ):
        CfnLoader.add_constructor(f"!{tag}", make(tag))
    return CfnLoader


def load_template(path: Path) -> dict[str, Any]:
    import yaml

    text = path.read_text()
    if path.suffix == ".json":
        return json.loads(text)
    return yaml.load(text, Loader=_cfn_yaml_loader())  # noqa: S506 - SafeLoader subclass


def _deterministic_zip(files: dict[str, tuple[bytes, int]]) -> bytes:
    """Zip with fixed timestamps so that the same inputs give the same bytes (and S3 key)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name in sorted(files):
            data, mode = files[name]
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so the mode bits count
            zf.writestr(info, data, compresslevel=1)  # level 1: 3-4x faster than the default 6
    return buf.getvalue()


class Deployer:
    def __init__(self, args: argparse.Namespace) -> None:
        import boto3
        from botocore.config import Config

        self.args = args
        session = boto3.session.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION
        )
        cfg = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=120)
        self.s3 = session.client("s3", endpoint_url=args.endpoint, config=cfg)
        self.cfn = session.client("cloudformation", endpoint_url=args.endpoint, config=cfg)
        self.template_dir = args.template.resolve().parent
        self._bucket_ready = False
        self._zip_cache_path = args.state_dir / "artifact-cache.json"
        try:
            self._zip_cache: dict[str, str] = json.loads(self._zip_cache_path.read_text())
        except (OSError, ValueError):
            self._zip_cache = {}

    # -- artifacts -----------------------------------------------------------------------------------------
    def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        try:
            self.s3.head_bucket(Bucket=ARTIFACT_BUCKET)
        except Exception:  # noqa: BLE001 - 404 or 403: create it
            self.s3.create_bucket(Bucket=ARTIFACT_BUCKET)
        self._bucket_ready = True

    def upload(self, prefix: str, data: bytes) -> dict[str, str]:
        """Upload under a content-addressed key unless it is already there."""
        key = f"{prefix}/{hashlib.sha256(data).hexdigest()[:32]}.zip"
        if not self._exists(key):
            self.s3.put_object(Bucket=ARTIFACT_BUCKET, Key=key, Body=data)
            say(f"uploaded s3://{ARTIFACT_BUCKET}/{key} ({len(data) // 1024} KiB)")
        return {"Bucket": ARTIFACT_BUCKET, "Key": key}

    def _exists(self, key: str) -> bool:
        self._ensure_bucket()
        try:
            self.s3.head_object(Bucket=ARTIFACT_BUCKET, Key=key)
            return True
        except Exception:  # noqa: BLE001 - 404
            return False

    def rust_function_code(self, logical_id: str, props: dict[str, Any], meta: dict[str, Any]) -> dict:
        binary = (meta.get("BuildProperties") or {}).get("Binary") or logical_id
        path = self.args.bin_dir / binary
        if not path.is_file():
            fail(
                f"{logical_id}: binary {path} not found (build it first, e.g. "
                f"`cargo build -p ticketing-functions`, or point --bin-dir at the build output)"
            )
        # Zipping a debug binary takes a while: remember the key of an unchanged file (same size, mtime,
        # inode). The key holds the zip's content hash, so a stale entry can only cost an upload.
        st = path.stat()
        ident = f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"
        cached = self._zip_cache.get(ident)
        if cached and self._exists(cached):
            return {"Bucket": ARTIFACT_BUCKET, "Key": cached}
        data = _deterministic_zip({"bootstrap": (path.read_bytes(), 0o755)})
        location = self.upload(f"functions/{binary}", data)
        self._zip_cache[ident] = location["Key"]
        return location

    def directory_code(self, logical_id: str, code_uri: str) -> dict:
        root = (self.template_dir / code_uri).resolve()
        if not root.is_dir():
            fail(f"{logical_id}: CodeUri {code_uri} is neither s3:// nor a directory")
        files = {
            str(p.relative_to(root)): (p.read_bytes(), 0o755 if os.access(p, os.X_OK) else 0o644)
            for p in root.rglob("*")
            if p.is_file()
        }
        return self.upload(f"functions/{logical_id}", _deterministic_zip(files))

    def prepare_template(self, template: dict[str, Any]) -> dict[str, Any]:
        """Rewrite local code and definitions to what LocalStack can use (in a copy of the template)."""
        # deep copy; YAML dates (an unquoted 2010-09-09) become strings
        template = json.loads(json.dumps(template, default=str))
        globals_fn = (template.get("Globals") or {}).get("Function") or {}
        rust_functions: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        for logical_id, resource in (template.get("Resources") or {}).items():
            rtype = resource.get("Type")
            props = resource.setdefault("Properties", {})
            meta = resource.get("Metadata") or {}
            if rtype == "AWS::Serverless::Function":
                if meta.get("BuildMethod") == "rust-cargolambda":
                    rust_functions.append((logical_id, props, meta))
                else:
                    code_uri = props.get("CodeUri", globals_fn.get("CodeUri"))
                    if (
                        isinstance(code_uri, str)
                        and not code_uri.startswith("s3://")
                        and not props.get("InlineCode")
                    ):
                        props["CodeUri"] = self.directory_code(logical_id, code_uri)
            elif rtype == "AWS::Serverless::StateMachine":
                uri = props.get("DefinitionUri")
                if isinstance(uri, str) and not uri.startswith("s3://"):
                    path = (self.template_dir / uri).resolve()
                    text = path.read_text()
                    props["Definition"] = json.loads(text) if path.suffix == ".json" else load_template(path)
                    del props["DefinitionUri"]
        # zip and upload the binaries in parallel (zlib releases the GIL)
        if rust_functions:
            self._ensure_bucket()
        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
            codes = list(pool.map(lambda f: self.rust_function_code(*f), rust_functions))
        for (_, props, _), code in zip(rust_functions, codes, strict=True):
            props["CodeUri"] = code
        return template

    # -- CloudFormation ------------------------------------------------------------------------------------
    def _stack(self, name: str) -> dict[str, Any] | None:
        try:
            return self.cfn.describe_stacks(StackName=name)["Stacks"][0]
        except self.cfn.exceptions.ClientError as e:
            if "does not exist" in str(e):
                return None
            raise

    def _wait_stack(self, name: str, since: float) -> dict[str, Any]:
        while True:
            stack = self._stack(name)
            if stack is None:
                fail(f"stack {name} disappeared")
            status = stack["StackStatus"]
            if not status.endswith("_IN_PROGRESS"):
                return stack
            if time.monotonic() - since > self.args.timeout:
                fail(f"stack {name} still {status} after {self.args.timeout}s")
            time.sleep(0.5)

    def _print_failures(self, name: str) -> None:
        try:
            events = self.cfn.describe_stack_events(StackName=name)["StackEvents"]
        except Exception as e:  # noqa: BLE001
            print(f"  (could not read stack events: {e})", file=sys.stderr)
            return
        for ev in reversed(events):
            if ev.get("ResourceStatus", "").endswith("FAILED"):
                print(
                    f"  {ev['LogicalResourceId']} ({ev.get('ResourceType')}): {ev['ResourceStatus']}: "
                    f"{ev.get('ResourceStatusReason', '')}",
                    file=sys.stderr,
                )

    def deploy(self) -> None:
        args = self.args
        started = time.monotonic()
        template = self.prepare_template(load_template(args.template))
        args.state_dir.mkdir(parents=True, exist_ok=True)
        self._zip_cache_path.write_text(json.dumps(self._zip_cache, indent=1, sort_keys=True) + "\n")
        body = json.dumps(template, sort_keys=True, separators=(",", ":"))
        parameters = []
        for override in args.parameter_overrides or []:
            key, sep, value = override.partition("=")
            if not sep:
                fail(f"--parameter-overrides: expected K=V, got {override!r}")
            parameters.append({"ParameterKey": key, "ParameterValue": value})
        fingerprint = hashlib.sha256(
            json.dumps([body, parameters, args.stack_name], sort_keys=True).encode()
        ).hexdigest()

        name = args.stack_name
        stamp_path = args.state_dir / f"deploy-{name}.sha256"
        stack = self._stack(name)
        ok_states = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE")
        if (
            stack
            and stack["StackStatus"] in ok_states
            and stamp_path.exists()
            and stamp_path.read_text().strip() == fingerprint
        ):
            say(f"stack {name} is up to date")
        else:
            if stack and stack["StackStatus"] in (
                "ROLLBACK_COMPLETE",
                "CREATE_FAILED",
                "ROLLBACK_FAILED",
                "DELETE_FAILED",
            ):
                say(f"stack {name} is {stack['StackStatus']}: deleting it first")
                self.cfn.delete_stack(StackName=name)
                self._wait_stack_gone(name, started)
                stack = None
            stack = self._apply_change_set(name, body, parameters, create=stack is None, started=started)
            stamp_path.write_text(fingerprint + "\n")
        self.write_outputs(name, template, stack)
        say(
            f"deploy finished in {time.monotonic() - started:.1f}s; outputs in {args.state_dir / 'outputs.json'}"
        )

    def _wait_stack_gone(self, name: str, since: float) -> None:
        while (stack := self._stack(name)) is not None and stack["StackStatus"] != "DELETE_COMPLETE":
            if time.monotonic() - since > self.args.timeout:
                fail(f"stack {name} not deleted after {self.args.timeout}s")
            time.sleep(0.5)

    def _apply_change_set(
        self, name: str, body: str, parameters: list[dict], create: bool, started: float
    ) -> dict[str, Any]:
        # the same calls as `aws cloudformation deploy`: a change set (needed for the SAM transform)
        cs_name = f"deploy-{int(time.time() * 1000)}"
        say(f"{'creating' if create else 'updating'} stack {name}")
        kwargs: dict[str, Any] = dict(
            StackName=name,
            ChangeSetName=cs_name,
            ChangeSetType="CREATE" if create else "UPDATE",
            Parameters=parameters,
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
        if len(body) <= 51_200:
            kwargs["TemplateBody"] = body
        else:  # CloudFormation's TemplateBody limit: go through S3
            location = self.upload(f"templates/{name}", body.encode())
            kwargs["TemplateURL"] = f"{self.args.endpoint}/{location['Bucket']}/{location['Key']}"
        self.cfn.create_change_set(**kwargs)
        while True:
            cs = self.cfn.describe_change_set(StackName=name, ChangeSetName=cs_name)
            if cs["Status"] in ("CREATE_COMPLETE", "FAILED"):
                break
            if time.monotonic() - started > self.args.timeout:
                fail(f"change set still {cs['Status']} after {self.args.timeout}s")
            time.sleep(0.3)
        if cs["Status"] == "FAILED":
            reason = cs.get("StatusReason", "")
            if "didn't contain changes" in reason or "No updates" in reason:
                say(f"stack {name}: no changes")
                self.cfn.delete_change_set(StackName=name, ChangeSetName=cs_name)
                return self._stack(name) or {}
            fail(f"change set for {name} failed: {reason}")
        self.cfn.execute_change_set(StackName=name, ChangeSetName=cs_name)
        stack = self._wait_stack(name, started)
        status = stack["StackStatus"]
        if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
            print(f"stack {name}: {status} {stack.get('StackStatusReason', '')}", file=sys.stderr)
            self._print_failures(name)
            fail(f"deploy of {name} failed ({status})")
        say(f"stack {name}: {status}")
        return stack

    def write_outputs(self, name: str, template: dict[str, Any], stack: dict[str, Any]) -> None:
        resources: dict[str, str] = {}
        paginator = self.cfn.get_paginator("list_stack_resources")
        for page in paginator.paginate(StackName=name):
            for res in page["StackResourceSummaries"]:
                resources[res["LogicalResourceId"]] = res.get("PhysicalResourceId", "")
        functions = {
            logical_id: resources.get(logical_id, "")
            for logical_id, res in (template.get("Resources") or {}).items()
            if res.get("Type") in ("AWS::Serverless::Function", "AWS::Lambda::Function")
        }
        stack = self._stack(name) or stack
        outputs = {o["OutputKey"]: o.get("OutputValue") for o in stack.get("Outputs") or []}
        doc = {
            "stackName": name,
            "endpoint": self.args.endpoint,
            "region": REGION,
            "functions": functions,
            "resources": resources,
            "outputs": outputs,
        }
        self.args.state_dir.mkdir(parents=True, exist_ok=True)
        (self.args.state_dir / "outputs.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")


def cmd_deploy(args: argparse.Namespace) -> None:
    if not args.template.is_file():
        fail(f"template {args.template} not found")
    try:
        with urllib.request.urlopen(f"{args.endpoint}/_localstack/health", timeout=5):
            pass
    except (urllib.error.URLError, OSError) as e:
        fail(f"LocalStack is not reachable at {args.endpoint} ({e}); start it first with `stack.py start`")
    Deployer(args).deploy()


# ------------------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def state_dir_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("--state-dir", type=lambda s: Path(s).resolve(), required=True)

    p = sub.add_parser("start", help="start LocalStack detached and wait until healthy")
    state_dir_arg(p)
    p.add_argument("--port", type=int, default=4566)
    p.set_defaults(func=cmd_start)

    p = sub.add_parser("stop", help="stop LocalStack and its function processes (idempotent)")
    state_dir_arg(p)
    p.set_defaults(func=cmd_stop)

    p = sub.add_parser("status", help="is it running, healthy; exit 0 healthy, 1 unhealthy, 3 stopped")
    state_dir_arg(p)
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("deploy", help="deploy a SAM template with locally built Rust binaries")
    state_dir_arg(p)
    p.add_argument("--endpoint", required=True, help="e.g. http://127.0.0.1:4566")
    p.add_argument("--stack-name", required=True)
    p.add_argument("--template", type=Path, required=True)
    p.add_argument("--bin-dir", type=Path, required=True, help="where the function binaries are")
    p.add_argument("--parameter-overrides", nargs="*", default=[], metavar="K=V")
    p.add_argument("--timeout", type=float, default=300, help="seconds to wait for the stack")
    p.set_defaults(func=cmd_deploy)

    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
