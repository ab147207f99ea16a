"""LocalStack runtime hooks (entry-point namespaces localstack.hooks.on_infra_start / on_infra_shutdown)."""

import logging
import os
import sys

from localstack.runtime import hooks

LOG = logging.getLogger(__name__)


@hooks.on_infra_start()
def faster_cloudformation_polling() -> None:
    """CloudFormation's resource loop (localstack.services.cloudformation.resource_provider.
    ResourceProviderExecutor.deploy_loop) sleeps ``sleep_time=1`` s between polls of a resource that is
    IN_PROGRESS, e.g. every Lambda function until it is Active. Functions get Active here in ~0.1 s, so the
    1 s steps made each function cost a second of deploy time. The per-resource timeout is unchanged."""
    from localstack.services.cloudformation.resource_provider import ResourceProviderExecutor

    original = ResourceProviderExecutor.deploy_loop
    if getattr(original, "_ticketing_patched", False):
        return
    interval = float(os.environ.get("TICKETING_CFN_POLL_SECONDS", "0.1"))

    def deploy_loop(self, resource_provider, resource, raw_payload, *args, **kwargs):
        if len(args) < 2:  # sleep_time not given positionally
            kwargs.setdefault("sleep_time", interval)
        return original(self, resource_provider, resource, raw_payload, *args, **kwargs)

    deploy_loop._ticketing_patched = True  # type: ignore[attr-defined]
    ResourceProviderExecutor.deploy_loop = deploy_loop  # type: ignore[method-assign]


@hooks.on_infra_start()
def faster_lambda_shutdown() -> None:
    """LambdaService.stop (localstack.services.lambda_.invocation.lambda_service) stops each function's event
    manager on a pool of min(32, cores + 4) workers, and each stop joins a poller thread that sits in a 2 s
    long poll of its internal SQS queue (event_manager.Poller.run, WaitTimeSeconds=2): with 26 functions on
    2 cores that is about 5 s of shutdown. Signalling every poller first and waking their queues (the same
    InterruptibleQueue.shutdown the SQS provider uses for its own queues at stop) lets them all return at
    once; the original stop then finds nothing to wait for."""
    from localstack.services.lambda_.invocation.internal_sqs_queue import get_fake_sqs_client
    from localstack.services.lambda_.invocation.lambda_service import LambdaService

    original = LambdaService.stop
    if getattr(original, "_ticketing_patched", False):
        return

    def stop(self) -> None:
        managers = list(self.event_managers.values())
        if managers:
            queues = get_fake_sqs_client().queue_manager.queues
            for manager in managers:
                if manager.poller is not None:
                    manager.poller.stop()  # sets its shutdown event (idempotent)
            for manager in managers:
                if (queue := queues.get(manager.event_queue_url)) is not None:
                    queue.shutdown()  # a blocked receive returns now instead of after up to 2 s
        original(self)

    stop._ticketing_patched = True  # type: ignore[attr-defined]
    LambdaService.stop = stop  # type: ignore[method-assign]


@hooks.on_infra_start()
def cached_jsonpath_parsing() -> None:
    """Step Functions evaluates every JSONPath (``$.reservationId``, ``$$.Map.Item.Value``...) with
    ``jsonpath_ng``'s ``parse``, which builds a new PLY parser, and so its LALR tables, on every call
    (jsonpath_ng.ext.parser.ExtentedJsonPathParser.__init__ -> ply.yacc.yacc, tens of ms each). Sampled with
    py-spy during the saga tests, that was over a third of LocalStack's CPU on 2 cores. A parsed path is an
    immutable expression tree (``find`` only reads it), so parsing each distinct path once is safe across
    threads and executions; the state machines here use a few hundred distinct paths."""
    import functools

    import jsonpath_ng
    import jsonpath_ng.ext

    from localstack.services.stepfunctions.asl.component.common.path import result_path
    from localstack.services.stepfunctions.asl.utils import json_path

    for module, parse in ((json_path, jsonpath_ng.ext.parse), (result_path, jsonpath_ng.parse)):
        if getattr(module.parse, "_ticketing_patched", False):
            continue
        cached = functools.lru_cache(maxsize=4096)(parse)
        cached._ticketing_patched = True  # type: ignore[attr-defined]
        module.parse = cached  # type: ignore[attr-defined]


@hooks.on_infra_start()
def parsed_state_machines_reused() -> None:
    """Every execution (each reservation's saga, each child of a Distributed Map) starts by parsing its whole
    state machine definition with ANTLR again (backend.execution_worker.ExecutionWorker.
    _get_evaluation_entrypoint): about a quarter of LocalStack's CPU in the cancellation tests, sampled with
    py-spy. The parsed program is built once per definition and reused. Its components hold only what the
    definition says; an execution's state lives in its Environment, keyed by each component's ``heap_key``,
    which is created lazily: it is created here, before the program is shared, so that two executions
    starting at once cannot give one component two keys."""
    import threading

    from localstack.services.stepfunctions.asl.component.eval_component import EvalComponent
    from localstack.services.stepfunctions.asl.parse.asl_parser import AmazonStateLanguageParser
    from localstack.services.stepfunctions.backend.execution_worker import ExecutionWorker

    original = ExecutionWorker._get_evaluation_entrypoint
    if getattr(original, "_ticketing_patched", False):
        return
    programs: dict[str, EvalComponent] = {}
    lock = threading.Lock()

    def assign_heap_keys(root: object) -> None:
        seen: set[int] = set()
        todo = [root]
        while todo:
            node = todo.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, EvalComponent):
                _ = node.heap_key
                todo.extend(vars(node).values())
            elif isinstance(node, (list, tuple, set, frozenset)):
                todo.extend(node)
            elif isinstance(node, dict):
                todo.extend(node.values())

    def entrypoint(self) -> EvalComponent:
        definition = self._evaluation_details.state_machine_details.definition
        with lock:
            program = programs.get(definition)
        if program is None:
            program = AmazonStateLanguageParser.parse(definition)[0]
            assign_heap_keys(program)
            with lock:
                program = programs.setdefault(definition, program)
        return program

    entrypoint._ticketing_patched = True  # type: ignore[attr-defined]
    ExecutionWorker._get_evaluation_entrypoint = entrypoint  # type: ignore[method-assign]


@hooks.on_infra_shutdown()
def kill_function_processes() -> None:
    """Belt and braces: LocalStack stops every execution environment at shutdown, which kills the function
    processes; this catches any that a half-finished start left behind."""
    executor = sys.modules.get("ticketing_localstack.lambda_executor")
    if executor is not None:
        executor._kill_all_live()
