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


@hooks.on_infra_shutdown()
def kill_function_processes() -> None:
    """Belt and braces: LocalStack stops every execution environment at shutdown, which kills the function
    processes; this catches any that a half-finished start left behind."""
    executor = sys.modules.get("ticketing_localstack.lambda_executor")
    if executor is not None:
        executor._kill_all_live()
