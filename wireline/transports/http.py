"""``HTTPTransport``: the flavour's own connection pool (httpcore / httpcore2), configured once.

This is the default base transport. It carries what users set on an httpx transport today —
limits, HTTP/1.1 and HTTP/2, TLS verification and client certificates, a proxy, a local address,
a Unix socket, connection retries — and applies them to whichever flavour a client needs. The
settings are :class:`~wireline.transports.pooled.PooledTransport`'s, shared with every other
pooled backend.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Any

from wireline.errors import MissingDependencyError
from wireline.redaction import redact_url
from wireline.transports.pooled import Limits, PooledTransport

if TYPE_CHECKING:
    from wireline._flavors import Flavor

__all__ = ["HTTPTransport", "Limits"]


class HTTPTransport(PooledTransport):
    """The flavour's own pool (httpcore for httpx, httpcore2 for httpx2), with these settings.

    Takes every setting of :class:`~wireline.transports.pooled.PooledTransport` (limits, http1,
    http2, verify, cert, trust_env, proxy, local_address, uds, retries, socket_options).
    """

    name = "http"

    def build(self, flavor: Flavor, *, asynchronous: bool) -> Any:
        """``flavor``'s own ``HTTPTransport`` / ``AsyncHTTPTransport`` with these settings."""
        if self.http2 and importlib.util.find_spec("h2") is None:
            raise MissingDependencyError("h2", "http2", f"{type(self).__name__}(http2=True)")
        if self.proxy_scheme in ("socks5", "socks5h") and importlib.util.find_spec("socksio") is None:
            raise MissingDependencyError("socksio", "socks", f"the SOCKS proxy {redact_url(self.proxy or '')}")
        http = flavor.http
        cls = (
            flavor.derived("AsyncHTTPTransport", _explaining_async)
            if asynchronous
            else flavor.derived("HTTPTransport", _explaining_sync)
        )
        limits = self.limits
        transport = cls(
            verify=self.ssl_context(),
            http1=self.http1,
            http2=self.http2,
            limits=http.Limits(
                max_connections=limits.max_connections,
                max_keepalive_connections=limits.max_keepalive_connections,
                keepalive_expiry=limits.keepalive_expiry,
            ),
            proxy=self.proxy,
            uds=self.uds,
            local_address=self.local_address,
            retries=self.retries,
            socket_options=self.socket_options,
        )
        transport.wireline_spec = self
        return transport


# -- the flavour's transport, with TLS failures explained ----------------------------------


def _explaining_sync(flavor: Flavor) -> type:
    base = flavor.http.HTTPTransport
    transport_error = flavor.http.TransportError

    def handle_request(self: Any, request: Any) -> Any:
        try:
            return base.handle_request(self, request)
        except transport_error as exc:
            if self.wireline_spec is not None:
                self.wireline_spec.explain_failure(exc, request)
            raise

    return type(
        "HTTPTransport",
        (base,),
        {"handle_request": handle_request, "wireline_spec": None, "__module__": "wireline.transports.http"},
    )


def _explaining_async(flavor: Flavor) -> type:
    base = flavor.http.AsyncHTTPTransport
    transport_error = flavor.http.TransportError

    async def handle_async_request(self: Any, request: Any) -> Any:
        try:
            return await base.handle_async_request(self, request)
        except transport_error as exc:
            if self.wireline_spec is not None:
                self.wireline_spec.explain_failure(exc, request)
            raise

    return type(
        "AsyncHTTPTransport",
        (base,),
        {"handle_async_request": handle_async_request, "wireline_spec": None, "__module__": "wireline.transports.http"},
    )
