"""Gateway server that honours the host part of GATEWAY_LISTEN.

LocalStack's localstack.runtime.server.twisted.TwistedRuntimeServer.register() creates
``endpoints.TCP4ServerEndpoint(reactor, port)`` without ``interface`` (its own TODO says so), i.e. it
listens on 0.0.0.0 whatever GATEWAY_LISTEN says. The hypercorn server binds correctly but sometimes hangs on
shutdown. This subclass keeps twisted (and its clean shutdown) and passes the interface through.
"""

from localstack import config
from localstack.aws.serving.twisted import TLSMultiplexerFactory
from localstack.runtime.server.twisted import TwistedRuntimeServer
from rolo.gateway import Gateway
from rolo.serving.twisted import TwistedGateway
from twisted.internet import endpoints, reactor, ssl


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
