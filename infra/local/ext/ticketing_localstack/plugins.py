"""Plugins in namespaces whose base classes live in LocalStack (plux finds them through our entry points)."""

from localstack.runtime.server.core import RuntimeServer, RuntimeServerPlugin
from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin


class HostProcessRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    """LAMBDA_RUNTIME_EXECUTOR=host-process: functions run as host processes (no Docker)."""

    name = "host-process"

    def load(self, *args, **kwargs):
        from .lambda_executor import HostProcessRuntimeExecutor

        return HostProcessRuntimeExecutor


class LoopbackTwistedServerPlugin(RuntimeServerPlugin):
    """GATEWAY_SERVER=twisted-loopback: LocalStack's default server, but bound to GATEWAY_LISTEN's host."""

    name = "twisted-loopback"

    def load(self, *args, **kwargs) -> RuntimeServer:
        from .server import LoopbackTwistedRuntimeServer

        return LoopbackTwistedRuntimeServer()
