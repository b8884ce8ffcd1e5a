"""aiohttp's connectors with what wireline needs around its pool.

The pool timeout (aiohttp bounds the wait for a free connection and making it with one timeout;
httpx bounds them separately), connection retries (``retries=``) with httpcore's backoff, and the
connection events of ``request.extensions["trace"]``.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import socket
import weakref
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

import aiohttp
from aiohttp.client_proto import ResponseHandler

from wireline.transports._aiohttp.exchange import BODY_SENT, HEADERS_SENT, Exchange, current_exchange
from wireline.transports.base import OpenConnection

if TYPE_CHECKING:
    from aiohttp.client_reqrep import ClientRequest
    from aiohttp.tracing import Trace

__all__ = [
    "NetworkStream",
    "ObservedConnector",
    "PoolTimeoutError",
    "ReadTimedHandler",
    "TCPConnector",
    "UnixConnector",
    "network_stream",
    "socket_factory",
]

# httpcore's backoff between connection attempts: 0 s, then 0.5, 1, 2, ...
_RETRY_BACKOFF_FACTOR = 0.5
_DEFAULT_PORTS = {"http": 80, "https": 443}


class ObservedConnector(aiohttp.BaseConnector):
    """The hooks wireline needs around aiohttp's pool; mixed into its TCP and Unix connectors."""

    wireline_retries = 0
    wireline_local_address: str | None = None
    wireline_socket_options: tuple[tuple[Any, ...], ...] | None = None
    # The connections this connector made, with the origin each serves: written on the event loop
    # only, read (a snapshot) by open_connections() from any thread.
    wireline_origins: dict[Any, tuple[str, str, int]]

    def use_read_timed_handler(self) -> None:
        """Make this connector's connections with :class:`ReadTimedHandler` (when aiohttp's internals allow)."""
        if not (_LAZY_READ_TIMER and isinstance(getattr(self, "_factory", None), functools.partial)):
            return
        probe = ResponseHandler(loop=self._loop)
        if all(hasattr(probe, name) for name in ("_read_timeout", "_read_timeout_handle", "_loop")):
            self._factory = functools.partial(ReadTimedHandler, loop=self._loop)  # type: ignore[assignment] # a subclass

    def open_connections(self) -> list[OpenConnection]:
        """The connections open now, active (in use) or idle (in the pool); safe from any thread."""
        in_use = self._acquired  # aiohttp's set of the connections lent out
        return [
            OpenConnection(scheme, host, port, "active" if protocol in in_use else "idle", "1.1")
            for protocol, (scheme, host, port) in list(self.wireline_origins.items())
            if protocol.is_connected()
        ]

    def _made(self, req: ClientRequest, protocol: Any) -> None:
        origins = self.wireline_origins
        for gone in [known for known in origins if not known.is_connected()]:
            del origins[gone]
        url = req.url
        origins[protocol] = (url.scheme, url.host or "", req.port or _DEFAULT_PORTS.get(url.scheme, 0))

    async def connect(
        self,
        req: ClientRequest,
        traces: list[Trace],
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109 - aiohttp's signature
    ) -> Any:
        exchange = current_exchange.get()
        connection = await super().connect(req, traces, timeout)
        if exchange is None:
            return connection
        exchange.transport = connection.transport
        if exchange.trace is not None:
            # aiohttp writes the request line, the headers and a small body right after this returns.
            await exchange.request_phase(HEADERS_SENT if exchange.streamed_body else BODY_SENT)
        return connection

    async def _create_connection(
        self,
        req: ClientRequest,
        traces: list[Trace],
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109 - aiohttp's signature
    ) -> ResponseHandler:
        exchange = current_exchange.get()
        if exchange is None:
            protocol = await super()._create_connection(req, traces, timeout)
            self._made(req, protocol)
            return protocol
        retries_left = self.wireline_retries
        delays = _backoff()
        while True:
            started, info = self._connect_event(req, exchange)
            await exchange.emit(f"{started}.started", info)
            try:
                protocol = await super()._create_connection(req, traces, timeout)
            except (TimeoutError, aiohttp.ClientConnectorError) as exc:
                await exchange.emit(f"{started}.failed", {"exception": exc})
                if retries_left <= 0 or isinstance(exc, aiohttp.ClientConnectorCertificateError):
                    raise
                retries_left -= 1
                delay = next(delays)
                await exchange.emit("connection.retry.started", info)
                await asyncio.sleep(delay)
                await exchange.emit("connection.retry.complete", {"return_value": None})
                continue
            self._made(req, protocol)
            if exchange.trace is not None:
                await self._connected_events(req, exchange, protocol, started)
            return protocol

    async def _wait_for_available_connection(self, key: Any, traces: list[Trace]) -> None:
        # Called only when every connection is busy: the pool timeout bounds this wait alone.
        exchange = current_exchange.get()
        seconds = None if exchange is None else exchange.pool_timeout
        if seconds is None:
            await super()._wait_for_available_connection(key, traces)
            return
        try:
            async with asyncio.timeout(seconds):
                await super()._wait_for_available_connection(key, traces)
        except TimeoutError:
            # Not a TimeoutError out of here: aiohttp would report it as a connect timeout.
            exchange.timed_out = "PoolTimeout"  # type: ignore[union-attr] # seconds is not None
            raise PoolTimeoutError from None

    def _connect_event(self, req: ClientRequest, exchange: Exchange) -> tuple[str, dict[str, Any]]:
        if isinstance(self, aiohttp.UnixConnector):
            return "connection.connect_unix_socket", {
                "path": self.path,
                "timeout": exchange.connect_timeout,
                "socket_options": None,
            }
        target = req.proxy if req.proxy is not None else req.url
        return "connection.connect_tcp", {
            "host": target.host,
            "port": target.port,
            "local_address": self.wireline_local_address,
            "timeout": exchange.connect_timeout,
            "socket_options": self.wireline_socket_options,
        }

    @staticmethod
    async def _connected_events(req: ClientRequest, exchange: Exchange, protocol: Any, started: str) -> None:
        stream = network_stream(protocol.transport)
        await exchange.emit(f"{started}.complete", {"return_value": stream})
        if req.is_ssl():
            # aiohttp connects and shakes hands in one call: the handshake's time is inside the
            # connect events above; these say that TLS happened and with what.
            tls = "proxy.start_tls" if req.proxy is not None else "connection.start_tls"
            ssl_object = protocol.transport.get_extra_info("ssl_object") if protocol.transport else None
            context = getattr(ssl_object, "context", None)
            info = {
                "ssl_context": context,
                "server_hostname": req.server_hostname or req.host,
                "timeout": exchange.connect_timeout,
            }
            await exchange.emit(f"{tls}.started", info)
            await exchange.emit(f"{tls}.complete", {"return_value": stream})


class ReadTimedHandler(ResponseHandler):
    """aiohttp's connection protocol, with a read timeout (``sock_read``) that is not re-armed per read.

    aiohttp cancels its read timer and schedules a new one every time data arrives: two timer
    handles per response (one when the request is sent, one for the data), each made, pushed on
    the loop's heap and cancelled. Here data only moves the deadline; the one timer, when it goes
    off, looks whether the deadline moved and waits the rest if so. The deadline is the same
    (the last data plus the timeout), so a read times out exactly when aiohttp's would.
    """

    _wireline_deadline = 0.0

    def _reschedule_timeout(self) -> None:
        timeout = self._read_timeout
        if not timeout:
            self._drop_timeout()
            return
        loop = self._loop
        deadline = self._wireline_deadline = loop.time() + timeout
        handle = self._read_timeout_handle
        if handle is not None:
            if handle.when() <= deadline:
                return  # the timer goes off first and finds the later deadline
            handle.cancel()  # a shorter timeout than the armed one (Retry's idle timeout)
        self._read_timeout_handle = loop.call_at(deadline, self._wireline_read_timer)

    def _wireline_read_timer(self) -> None:
        self._read_timeout_handle = None
        deadline = self._wireline_deadline
        if deadline > self._loop.time():  # data came since the timer was set: wait the rest
            self._read_timeout_handle = self._loop.call_at(deadline, self._wireline_read_timer)
        else:
            self._on_read_timeout()


# ReadTimedHandler overrides a private method of aiohttp's protocol and relies on its private
# attributes (checked on a probe by use_read_timed_handler); should a version rename them,
# connections keep aiohttp's own protocol: the same behaviour, one more timer per response.
_LAZY_READ_TIMER = all(
    callable(getattr(ResponseHandler, name, None))
    for name in ("_reschedule_timeout", "_drop_timeout", "_on_read_timeout")
)


class PoolTimeoutError(Exception):
    """The wait for a free connection took longer than the pool timeout (raised as PoolTimeout)."""


class TCPConnector(ObservedConnector, aiohttp.TCPConnector):
    pass


class UnixConnector(ObservedConnector, aiohttp.UnixConnector):
    pass


def _backoff() -> Iterator[float]:
    yield 0
    for n in itertools.count():
        yield _RETRY_BACKOFF_FACTOR * 2**n


def socket_factory(options: tuple[tuple[Any, ...], ...]) -> Callable[[Any], socket.socket]:
    def make_socket(addr_info: Any) -> socket.socket:
        family, kind, proto, _, _ = addr_info
        sock = socket.socket(family=family, type=kind, proto=proto)
        try:
            for option in options:
                sock.setsockopt(*option)
        except BaseException:
            sock.close()
            raise
        return sock

    return make_socket


# -- the network stream httpcore puts in response.extensions --------------------------------


def network_stream(transport: asyncio.Transport | None) -> NetworkStream:
    """The connection's network stream: one object per connection, as httpcore's (layers compare them)."""
    if transport is None:
        return _NO_STREAM
    stream = _streams.get(transport)
    if stream is None:
        stream = _streams[transport] = NetworkStream(transport)
    return stream


class NetworkStream:
    """``response.extensions["network_stream"]``: the connection's details (httpcore's names).

    Only ``get_extra_info`` is offered: the connection belongs to aiohttp's pool, so it cannot be
    read from, written to or upgraded through this object.
    """

    __slots__ = ("__weakref__", "_transport")

    _NAMES: ClassVar[dict[str, str]] = {
        "client_addr": "sockname",
        "server_addr": "peername",
        "ssl_object": "ssl_object",
        "socket": "socket",
    }

    def __init__(self, transport: asyncio.BaseTransport | None) -> None:
        self._transport = transport

    def get_extra_info(self, info: str) -> Any:
        transport = self._transport
        if transport is None:
            return None
        if info == "is_readable":
            return not transport.is_closing()
        name = self._NAMES.get(info)
        return None if name is None else transport.get_extra_info(name)

    def __repr__(self) -> str:
        return f"<wireline aiohttp network stream {self.get_extra_info('server_addr')!r}>"


_NO_STREAM = NetworkStream(None)
# Connections' streams, by their asyncio transport (gone with it).
_streams: weakref.WeakKeyDictionary[asyncio.BaseTransport, NetworkStream] = weakref.WeakKeyDictionary()
