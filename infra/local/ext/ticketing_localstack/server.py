"""Gateway server that honours the host part of GATEWAY_LISTEN.

LocalStack's localstack.runtime.server.twisted.TwistedRuntimeServer.register() creates
``endpoints.TCP4ServerEndpoint(reactor, port)`` without ``interface`` (its own TODO says so), i.e. it
listens on 0.0.0.0 whatever GATEWAY_LISTEN says. The hypercorn server binds correctly but sometimes hangs on
shutdown. This subclass keeps twisted and passes the interface through.

Its shutdown also differs: TwistedRuntimeServer.shutdown runs on LocalStack's "Runtime-Shutdown" thread and
calls ``reactor.stop()`` there, which is not thread-safe and does not wake the reactor: the main loop only
notices at its next wake-up (Site's once-a-second log clock, or I/O). ``callFromThread`` wakes it at once.
"""

import contextlib

from localstack import config
from localstack.aws.serving.twisted import TLSMultiplexerFactory
from localstack.runtime.server.twisted import TwistedRuntimeServer
from rolo.gateway import Gateway
from rolo.serving.twisted import TwistedGateway
from twisted.internet import endpoints, error, reactor, ssl

# How long requests still in flight at shutdown may take; the services behind them are stopped by then.
REQUEST_DRAIN_S = 3


class LoopbackTwistedRuntimeServer(TwistedRuntimeServer):
    def register(
        self,
        gateway: Gateway,
        listen: list[config.HostAndPort],
        ssl_creds: tuple[str, str] | None = None,
    ):
        # same as TwistedRuntimeServer.register, plus interface=host
        site = TwistedGateway(gateway)
        if ssl_creds:
            cert_file_name, key_file_name = ssl_creds
            context_factory = ssl.DefaultOpenSSLContextFactory(key_file_name, cert_file_name)
            context_factory.getContext().use_certificate_chain_file(cert_file_name)
            protocol_factory = TLSMultiplexerFactory(context_factory, False, site)
        else:
            protocol_factory = site

        for host_and_port in listen:
            if config.is_ipv6_address(host_and_port.host):
                endpoint = endpoints.TCP6ServerEndpoint(
                    reactor, host_and_port.port, interface=host_and_port.host
                )
            else:
                endpoint = endpoints.TCP4ServerEndpoint(
                    reactor, host_and_port.port, interface=host_and_port.host or "127.0.0.1"
                )
            endpoint.listen(protocol_factory)

    def shutdown(self):
        if self.thread_pool:
            self.thread_pool.stop(timeout=REQUEST_DRAIN_S)  # LocalStack's patched stop: joins with a timeout
        reactor.callFromThread(_stop_reactor)


def _stop_reactor() -> None:
    with contextlib.suppress(error.ReactorNotRunning):
        reactor.stop()
