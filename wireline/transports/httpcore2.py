"""``HTTPCore2Transport``: httpcore2's connection pool under clients of *both* flavours.

httpx's async pool (httpcore) slows down as concurrency grows — its bookkeeping scans every
connection for every request — while httpcore2's does not (see docs/transports.md for the
figures). httpx2 clients already use httpcore2; this spec puts the same pool under httpx clients
too, sync and async, with every setting of :class:`~wireline.transports.HTTPTransport` (HTTP/2,
proxies including SOCKS, UDS, TLS, limits, connection retries) and the same connection events in
``request.extensions["trace"]``, because httpcore2 emits them itself.

Needs ``wireline[httpx2]`` (which brings httpcore2).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, NoReturn

from wireline._flavors import get_flavor
from wireline.errors import MissingDependencyError
from wireline.transports._errors import core_error_name, flavor_error
from wireline.transports.http import HTTPTransport

if TYPE_CHECKING:
    from wireline._flavors import Flavor

__all__ = ["HTTPCore2Transport"]


class HTTPCore2Transport(HTTPTransport):
    """httpcore2's pool for httpx and httpx2 clients, sync and async; the settings of ``HTTPTransport``.

    For httpx2 clients this is exactly ``HTTPTransport`` (httpx2's own pool is httpcore2); for httpx
    clients, requests and responses are handed to and from httpcore2 the way httpx hands them to
    httpcore, and httpcore2's errors are raised as httpx's own classes (``httpx.ConnectError``...).
    """

    name = "httpcore2"

    def build(self, flavor: Flavor, *, asynchronous: bool) -> Any:
        try:
            core_flavor = get_flavor("httpx2")
        except MissingDependencyError as exc:
            raise MissingDependencyError(exc.package, "httpx2", "the 'httpcore2' base transport") from None
        native = super().build(core_flavor, asynchronous=asynchronous)
        if flavor is core_flavor:
            return native
        # The pool httpx2's transport built from these settings (proxies, SOCKS and UDS included);
        # building it here instead would copy httpx2's construction code.
        pool = native._pool  # noqa: SLF001
        if asynchronous:
            return flavor.derived("Core2AsyncTransport", _make_async_transport)(self, pool, flavor, core_flavor.core)
        return flavor.derived("Core2SyncTransport", _make_sync_transport)(self, pool, flavor, core_flavor.core)

    def pool_description(self) -> str:
        return "httpcore2 pool (under httpx clients too); " + super().pool_description()


def _core_request(core: Any, request: Any) -> Any:
    """The httpcore2 request for an httpx request (as httpx builds its httpcore one)."""
    url = request.url
    return core.Request(
        method=request.method,
        url=core.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path),
        headers=request.headers.raw,
        content=request.stream,
        extensions=request.extensions,
    )


def _flavor_response(flavor: Flavor, stream_class: Any, response: Any) -> Any:
    """The flavour's response for httpcore2's (as httpx builds its own from httpcore's)."""
    return flavor.http.Response(
        status_code=response.status,
        headers=response.headers,
        stream=stream_class(response.stream, flavor),
        extensions=response.extensions,
    )


def _reraise(flavor: Flavor, exc: Exception, spec: HTTPCore2Transport | None = None, request: Any = None) -> NoReturn:
    """Raise httpcore2's ``exc`` as the flavour's class of the same name; anything else as it is.

    With ``spec`` (and the ``request``), a refused TLS handshake's message says how to fix it.
    """
    name = core_error_name(exc)
    if name is None:
        raise exc
    error = flavor_error(flavor, name, str(exc))  # type: ignore[arg-type]
    error.__cause__ = exc  # before explaining: the explanation looks for the TLS error in the causes
    if spec is not None:
        spec.explain_failure(error, request)
    raise error from exc


class _Core2SyncTransport:
    """An httpx ``BaseTransport`` over an httpcore2 ``ConnectionPool``."""

    def __init__(self, spec: HTTPCore2Transport, pool: Any, flavor: Flavor, core: Any) -> None:
        self._spec = spec
        self._pool = pool
        self._flavor = flavor
        self._core = core
        self._stream_class = flavor.derived("Core2SyncStream", _make_sync_stream)

    def handle_request(self, request: Any) -> Any:
        try:
            response = self._pool.handle_request(_core_request(self._core, request))
        except Exception as exc:  # noqa: BLE001 - re-raised, mapped to the flavour's class
            _reraise(self._flavor, exc, self._spec, request)
        return _flavor_response(self._flavor, self._stream_class, response)

    def close(self) -> None:
        self._pool.close()


class _Core2AsyncTransport:
    """An httpx ``AsyncBaseTransport`` over an httpcore2 ``AsyncConnectionPool``."""

    def __init__(self, spec: HTTPCore2Transport, pool: Any, flavor: Flavor, core: Any) -> None:
        self._spec = spec
        self._pool = pool
        self._flavor = flavor
        self._core = core
        self._stream_class = flavor.derived("Core2AsyncStream", _make_async_stream)

    async def handle_async_request(self, request: Any) -> Any:
        try:
            response = await self._pool.handle_async_request(_core_request(self._core, request))
        except Exception as exc:  # noqa: BLE001 - re-raised, mapped to the flavour's class
            _reraise(self._flavor, exc, self._spec, request)
        return _flavor_response(self._flavor, self._stream_class, response)

    async def aclose(self) -> None:
        await self._pool.aclose()


class _Core2SyncStream:
    def __init__(self, stream: Any, flavor: Flavor) -> None:
        self._stream = stream
        self._flavor = flavor

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._stream
        except Exception as exc:  # noqa: BLE001 - re-raised, mapped to the flavour's class
            _reraise(self._flavor, exc)

    def close(self) -> None:
        self._stream.close()


class _Core2AsyncStream:
    def __init__(self, stream: Any, flavor: Flavor) -> None:
        self._stream = stream
        self._flavor = flavor

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._stream:
                yield chunk
        except Exception as exc:  # noqa: BLE001 - re-raised, mapped to the flavour's class
            _reraise(self._flavor, exc)

    async def aclose(self) -> None:
        await self._stream.aclose()


def _make_sync_transport(flavor: Flavor) -> type:
    return type("HTTPCore2Transport", (_Core2SyncTransport, flavor.http.BaseTransport), {})


def _make_async_transport(flavor: Flavor) -> type:
    return type("AsyncHTTPCore2Transport", (_Core2AsyncTransport, flavor.http.AsyncBaseTransport), {})


def _make_sync_stream(flavor: Flavor) -> type:
    return type("HTTPCore2ResponseStream", (_Core2SyncStream, flavor.http.SyncByteStream), {})


def _make_async_stream(flavor: Flavor) -> type:
    return type("AsyncHTTPCore2ResponseStream", (_Core2AsyncStream, flavor.http.AsyncByteStream), {})
