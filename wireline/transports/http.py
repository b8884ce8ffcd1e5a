"""``HTTPTransport``: the flavour's own connection pool (httpcore / httpcore2), configured once.

This is the default base transport. It carries what users set on an httpx transport today —
limits, HTTP/1.1 and HTTP/2, TLS verification and client certificates, a proxy, a local address,
a Unix socket, connection retries — and applies them to whichever flavour a client needs. The
settings are :class:`~wireline.transports.pooled.PooledTransport`'s, shared with every other
pooled backend.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Any, Literal

from wireline.errors import MissingDependencyError
from wireline.redaction import redact_url
from wireline.transports.base import OpenConnection
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

    def open_connections(self, transport: Any) -> list[OpenConnection]:
        """The connections in the httpcore/httpcore2 pool of ``transport`` (an httpx ``HTTPTransport``).

        httpcore offers ``pool.connections`` and each connection's ``is_idle()``/``is_closed()``/
        ``info()``; the origin is read from its attributes, as its ``info()`` prints it.
        """
        pool = getattr(transport, "_pool", None)
        connections = getattr(pool, "connections", None)
        if connections is None:
            return []
        out = []
        for connection in list(connections):
            try:
                reported = _describe_connection(connection)
            except Exception:  # noqa: BLE001, S112 - a metrics read must never fail; skip what we cannot read
                continue
            if reported is not None:
                out.append(reported)
        return out


_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _describe_connection(connection: Any) -> OpenConnection | None:
    if connection.is_closed():
        return None
    # Proxy connections keep the target as _remote_origin; direct ones as _origin.
    origin = getattr(connection, "_remote_origin", None) or getattr(connection, "_origin", None)
    if origin is None:
        return None
    scheme = origin.scheme.decode("ascii")
    port = origin.port or _DEFAULT_PORTS.get(scheme, 0)
    info = connection.info()
    version = "2" if "HTTP/2" in info else "1.1" if "HTTP/1.1" in info else None
    state: Literal["active", "idle"] = "idle" if connection.is_idle() else "active"
    return OpenConnection(scheme, origin.host.decode("ascii"), port, state, version)


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
