"""``HTTPTransport``: the flavour's own connection pool (httpcore / httpcore2), configured once.

This is the default base transport. It carries what users set on an httpx transport today —
limits, HTTP/1.1 and HTTP/2, TLS verification and client certificates, a proxy, a local address,
a Unix socket, connection retries — and applies them to whichever flavour a client needs.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from wireline.errors import ConfigError, MissingDependencyError
from wireline.redaction import redact_url
from wireline.transports.base import OpenConnection, TransportSpec
from wireline.transports.tls import CertTypes, TLSConfig, VerifyTypes, explain_tls_failure

if TYPE_CHECKING:
    import ssl

    from wireline._flavors import Flavor

__all__ = ["HTTPTransport", "Limits"]

_PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")


@dataclass(frozen=True)
class Limits:
    """Connection pool limits.

    The defaults are those of the OpenAI and Anthropic SDKs' own clients (1000 connections, 100
    kept alive), not httpx's (100 / 20): an LLM application that fans out more than 20
    concurrent calls would otherwise close and reopen connections all the time.

    Attributes:
        max_connections: Connections open at once, per pool; ``None`` for no limit.
        max_keepalive_connections: Idle connections kept for reuse; ``None`` for no limit.
        keepalive_expiry: Seconds an idle connection is kept.
    """

    max_connections: int | None = 1000
    max_keepalive_connections: int | None = 100
    keepalive_expiry: float | None = 5.0

    def __post_init__(self) -> None:
        for key in ("max_connections", "max_keepalive_connections"):
            value = getattr(self, key)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise ConfigError(key, value, "a whole number >= 1, or None for no limit")
        expiry = self.keepalive_expiry
        if expiry is not None and (not isinstance(expiry, (int, float)) or isinstance(expiry, bool) or expiry < 0):
            raise ConfigError("keepalive_expiry", expiry, "a number of seconds >= 0, or None")

    @classmethod
    def coerce(cls, value: Limits | Mapping[str, Any] | Any) -> Limits:
        """A ``Limits`` from itself, a mapping (config), or an ``httpx.Limits`` / ``httpx2.Limits``."""
        if isinstance(value, Limits):
            return value
        if isinstance(value, Mapping):
            unknown = set(value) - {"max_connections", "max_keepalive_connections", "keepalive_expiry"}
            if unknown:
                key = min(unknown)
                raise ConfigError(
                    key, value[key], "one of the keys max_connections, max_keepalive_connections, keepalive_expiry"
                )
            return cls(**value)
        if all(hasattr(value, key) for key in ("max_connections", "max_keepalive_connections", "keepalive_expiry")):
            return cls(value.max_connections, value.max_keepalive_connections, value.keepalive_expiry)
        raise ConfigError("limits", value, "a wireline.transports.Limits, an httpx Limits or a mapping")


class HTTPTransport(TransportSpec):
    """The flavour's own pool (httpcore for httpx, httpcore2 for httpx2), with these settings.

    Args:
        http1: Offer HTTP/1.1.
        http2: Offer HTTP/2 (needs ``wireline[http2]``).
        verify: What to trust: ``True`` (certifi), a CA bundle path, ``"system"`` (the OS store,
            needs ``wireline[truststore]``), an ``ssl.SSLContext``, or ``False`` (warned about once).
        cert: A client certificate for mTLS: a PEM path, ``(cert, key)`` or ``(cert, key, password)``.
        trust_env: Honour ``SSL_CERT_FILE``, ``SSL_CERT_DIR`` and ``SSLKEYLOGFILE``.
            (Proxy variables are ``ProxyRouter``'s business.)
        limits: Pool limits; see :class:`Limits`.
        proxy: Send everything through this proxy (``http://user:pass@host:port``,
            ``socks5://...`` with ``wireline[socks]``). Credentials are never shown.
        local_address: The local IP address to connect from.
        uds: Connect through this Unix domain socket.
        retries: How many times to retry *establishing a connection* (not requests).
        socket_options: Options set on each new socket, as httpcore takes them.
    """

    name = "http"

    def __init__(
        self,
        *,
        http1: bool = True,
        http2: bool = False,
        verify: VerifyTypes = True,
        cert: CertTypes | None = None,
        trust_env: bool = True,
        limits: Limits | Mapping[str, Any] | None = None,
        proxy: str | None = None,
        local_address: str | None = None,
        uds: str | None = None,
        retries: int = 0,
        socket_options: Iterable[tuple[Any, ...]] | None = None,
    ) -> None:
        for key, value in (("http1", http1), ("http2", http2), ("trust_env", trust_env)):
            if not isinstance(value, bool):
                raise ConfigError(key, value, "true or false")
        if not (http1 or http2):
            raise ConfigError("http1", http1, "http1 or http2 (or both) to be true")
        if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
            raise ConfigError("retries", retries, "a whole number of connection retries >= 0")
        if proxy is not None:
            _check_proxy(proxy)
        for key, text in (("local_address", local_address), ("uds", uds)):
            if text is not None and not isinstance(text, str):
                raise ConfigError(key, text, "a string")
        self.http1 = http1
        self.http2 = http2
        self.tls = TLSConfig(verify=verify, cert=cert, trust_env=trust_env)
        self.limits = Limits() if limits is None else Limits.coerce(limits)
        self.proxy = proxy
        self.local_address = local_address
        self.uds = uds
        self.retries = retries
        self.socket_options = None if socket_options is None else tuple(socket_options)
        self._ssl_context: ssl.SSLContext | None = None
        self._ssl_lock = threading.Lock()

    # The TLS settings live in one TLSConfig; these read them back for repr and replace().
    @property
    def verify(self) -> VerifyTypes:
        return self.tls.verify

    @property
    def cert(self) -> CertTypes | None:
        return self.tls.cert

    @property
    def trust_env(self) -> bool:
        return self.tls.trust_env

    def ssl_context(self) -> ssl.SSLContext:
        """This spec's TLS context, built on first use and shared by every pool it builds."""
        context = self._ssl_context
        if context is None:
            with self._ssl_lock:
                context = self._ssl_context
                if context is None:
                    context = self._ssl_context = self.tls.ssl_context()
        return context

    def build(self, flavor: Flavor, *, asynchronous: bool) -> Any:
        if self.http2 and importlib.util.find_spec("h2") is None:
            raise MissingDependencyError("h2", "http2", "HTTPTransport(http2=True)")
        if self.proxy is not None and self.proxy.startswith("socks") and importlib.util.find_spec("socksio") is None:
            raise MissingDependencyError("socksio", "socks", f"the SOCKS proxy {redact_url(self.proxy)}")
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

    def explain(self, url: str) -> Iterator[str]:
        yield f"base transport: {self!r}"
        scheme = urlsplit(url).scheme
        protocols = " and ".join(p for p, on in (("HTTP/1.1", self.http1), ("HTTP/2", self.http2)) if on)
        yield f"  offers {protocols}; pool of up to {self.limits.max_connections} connections"
        if self.uds:
            yield f"  connects through the Unix socket {self.uds}"
        if self.proxy:
            yield f"  through the proxy {redact_url(self.proxy)}"
        if scheme == "https":
            yield f"  TLS: trusts {self.tls.trust_source}" + ("; presents a client certificate" if self.cert else "")

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

    def settings(self) -> dict[str, Any]:
        shown = super().settings()
        shown.pop("limits", None)
        if self.limits != Limits():
            shown["limits"] = self.limits
        return shown


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


def _check_proxy(proxy: object) -> None:
    if not isinstance(proxy, str):
        raise ConfigError("proxy", proxy, "a proxy URL string such as 'http://proxy.corp:3128'")
    try:
        parts = urlsplit(proxy)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError("proxy", proxy, "a proxy URL such as 'http://proxy.corp:3128'") from None
    if parts.scheme not in _PROXY_SCHEMES or not parts.hostname:
        raise ConfigError("proxy", proxy, f"a proxy URL with a host and a scheme among {', '.join(_PROXY_SCHEMES)}")


# -- the flavour's transport, with TLS failures explained ----------------------------------


def _explain(error: BaseException, request: Any, spec: HTTPTransport | None) -> None:
    """Put which host, what was trusted and how to fix it in a TLS failure's message, in place.

    The error keeps its type (``httpx.ConnectError``...) so SDKs classify it as before.
    """
    if spec is None:
        return
    url = request.url
    message = explain_tls_failure(error, host=url.host, port=url.port, tls=spec.tls, proxy=spec.proxy)
    if message is not None:
        error.args = (message, *error.args[1:])


def _explaining_sync(flavor: Flavor) -> type:
    base = flavor.http.HTTPTransport
    transport_error = flavor.http.TransportError

    def handle_request(self: Any, request: Any) -> Any:
        try:
            return base.handle_request(self, request)
        except transport_error as exc:
            _explain(exc, request, self.wireline_spec)
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
            _explain(exc, request, self.wireline_spec)
            raise

    return type(
        "AsyncHTTPTransport",
        (base,),
        {"handle_async_request": handle_async_request, "wireline_spec": None, "__module__": "wireline.transports.http"},
    )
