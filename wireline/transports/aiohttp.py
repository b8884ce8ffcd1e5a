"""``AiohttpTransport``: aiohttp's connection pool under async httpx and httpx2 clients.

httpx's async pool spends milliseconds per request at high concurrency; aiohttp's spends tens of
microseconds (docs/transports.md has the figures). This spec keeps the client API — a real
``httpx.AsyncClient`` or ``httpx2.AsyncClient`` that SDKs accept, with every wireline layer — and
sends the requests through one aiohttp ``ClientSession`` per pool (pools are per event loop).

It takes the settings of every pooled transport (:class:`~wireline.transports.PooledTransport`)
and behaves like the default where aiohttp can: responses stream chunk by chunk; the connect,
read, write and pool timeouts of the request apply; errors are the flavour's own classes; the
connection events Tracing reads are emitted to ``request.extensions["trace"]``. What aiohttp
cannot do is refused when the spec is made (HTTP/2, SOCKS proxies) or when a client is built
(sync clients).

Needs ``wireline[aiohttp]``. The machinery lives in :mod:`wireline.transports._aiohttp`, imported
when a pool is built, so listing or configuring this transport does not import aiohttp.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wireline.errors import ConfigError, MissingDependencyError
from wireline.transports.pooled import PooledTransport

if TYPE_CHECKING:
    from wireline._flavors import Flavor

__all__ = ["AiohttpTransport"]

_OTHER_BACKENDS = "the 'http' or 'httpcore2' base transport (same settings)"


class AiohttpTransport(PooledTransport):
    """aiohttp's pool under async clients of both flavours; the settings of every pooled transport.

    What differs from :class:`~wireline.transports.HTTPTransport`:

    - async clients only (aiohttp has no sync client): building a sync client from a stack over
      this transport raises :class:`~wireline.ConfigError` saying so;
    - HTTP/1.1 only (``http2=True`` is refused), and HTTP(S) proxies only (no SOCKS);
    - ``limits.max_keepalive_connections`` is not enforced: aiohttp keeps every idle connection
      until ``keepalive_expiry``;
    - ``uds`` serves ``http://`` URLs only (aiohttp does no TLS over a Unix socket).
    """

    name = "aiohttp"

    def check_settings(self) -> None:
        if self.http2:
            raise ConfigError(
                "http2", self.http2, f"false: aiohttp speaks HTTP/1.1 only; for HTTP/2 use {_OTHER_BACKENDS}"
            )
        if not self.http1:
            raise ConfigError("http1", self.http1, "true: aiohttp speaks HTTP/1.1 only")
        if self.proxy_scheme in ("socks5", "socks5h"):
            raise ConfigError(
                "proxy",
                self.proxy,
                f"an http:// or https:// proxy: aiohttp cannot use SOCKS proxies; use {_OTHER_BACKENDS} "
                "with wireline[socks]",
            )
        if self.uds is not None:
            for key, value in (("proxy", self.proxy), ("local_address", self.local_address)):
                if value is not None:
                    raise ConfigError(key, value, "nothing: the aiohttp transport cannot combine it with uds=")
            if self.socket_options:
                raise ConfigError("socket_options", self.socket_options, "nothing: not with uds= on aiohttp")

    def unsupported(self, flavor: str, *, asynchronous: bool) -> str | None:
        if not asynchronous:
            return f"aiohttp has no sync client, so this transport serves async clients only; use {_OTHER_BACKENDS}"
        return None

    def build(self, flavor: Flavor, *, asynchronous: bool) -> Any:
        try:
            from wireline.transports import _aiohttp
        except ImportError as exc:
            if exc.name not in ("aiohttp", "yarl", "multidict"):
                raise
            raise MissingDependencyError("aiohttp", "aiohttp", "the 'aiohttp' base transport") from exc
        return _aiohttp.transport_class(flavor)(self, flavor)

    def pool_description(self) -> str:
        limits = self.limits
        return (
            f"aiohttp connection pool, HTTP/1.1; up to {limits.max_connections or 'unlimited'} connections, "
            f"idle ones kept {limits.keepalive_expiry}s"
        )
