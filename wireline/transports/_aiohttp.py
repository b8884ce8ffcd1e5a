"""The aiohttp base transport's machinery: one ``ClientSession`` per pool, httpx's contract on top.

What httpx (httpcore) does and aiohttp does differently, and how each gap is closed here:

- **Timeouts.** ``connect`` and ``read`` map to aiohttp's ``sock_connect`` and ``sock_read`` (the
  idle time between pieces of data from the peer, which is httpcore's read timeout). aiohttp has
  no *pool* timeout of its own (its ``connect`` timeout also bounds making the connection): the
  connector times the wait for a free slot, and only when there is a wait. Nor has it a *write*
  timeout: each body chunk handed to aiohttp starts a timer that, if aiohttp has not asked for
  the next chunk in time, aborts the connection, and the failure is reported as a WriteTimeout.
  Nothing is timed per request when nothing waits, which keeps the common path cheap.
- **Errors.** aiohttp's exceptions are raised as the flavour's classes (:func:`_error_name`).
- **Connection events.** A connector subclass reports connecting, TLS and the request phases to
  ``request.extensions["trace"]`` with httpcore's event names (see docs/transports.md for the
  list and how it differs), and retries failed connection attempts (``retries=``) as httpcore does.
- **Bodies.** Responses stream as aiohttp receives them (``readany``: no buffering); request
  bodies are sent as bytes when small and streamed otherwise.

The per-request state travels from :meth:`_AiohttpTransport.handle_async_request` to the connector
in a context variable: aiohttp calls the connector inside the request's own task.
"""

from __future__ import annotations

import asyncio
import base64
import builtins
import contextvars
import inspect
import itertools
import re
import socket
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

import aiohttp
import yarl

from wireline.redaction import redact_url
from wireline.transports._errors import TransportErrorName, flavor_error

if TYPE_CHECKING:
    import ssl

    from aiohttp.client_proto import ResponseHandler
    from aiohttp.client_reqrep import ClientRequest
    from aiohttp.tracing import Trace

    from wireline._flavors import Flavor
    from wireline.transports.aiohttp import AiohttpTransport

__all__ = ["transport_class"]

# Request bodies up to this size are handed to aiohttp whole: writing them never waits for the
# socket (aiohttp drains only above 64 KiB buffered), so there is no write to time out. Larger
# bodies go in slices of this size, each under the write timeout.
_WHOLE_BODY_LIMIT = 64 * 1024

# aiohttp adds these unless told not to; httpx already decided which to send.
_SKIP_AUTO_HEADERS = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")

# httpcore's header limits are far above aiohttp's defaults (8 KiB a line); LLM providers send
# long headers (rate limits, request ids, cookies) and a response must not fail on them.
_MAX_LINE_SIZE = 64 * 1024
_MAX_HEADERS = 1024

_HTTP_VERSIONS = {(1, 1): b"HTTP/1.1", (1, 0): b"HTTP/1.0"}
_NO_TIMEOUTS: dict[str, float | None] = {}

# httpcore's backoff between connection attempts: 0 s, then 0.5, 1, 2, ...
_RETRY_BACKOFF_FACTOR = 0.5

_exchange: contextvars.ContextVar[_Exchange | None] = contextvars.ContextVar("wireline_aiohttp_exchange", default=None)


def transport_class(flavor: Flavor) -> type[_AiohttpTransport]:
    """``_AiohttpTransport`` as a subclass of ``flavor``'s ``AsyncBaseTransport``."""
    return flavor.derived("AiohttpTransport", _make_transport)


# -- one request's state --------------------------------------------------------------------


class _Exchange:
    """What one request needs below the session call: its timeouts, trace callback and phase."""

    __slots__ = (
        "body_error",
        "connect_timeout",
        "pool_timeout",
        "request",
        "sent",
        "streamed_body",
        "timed_out",
        "trace",
        "transport",
        "write_timeout",
        "writing",
    )

    def __init__(self, request: Any, timeouts: dict[str, float | None]) -> None:
        self.request = request
        self.trace: Callable[[str, dict[str, Any]], Any] | None = request.extensions.get("trace")
        self.connect_timeout = timeouts.get("connect")
        self.pool_timeout = timeouts.get("pool")
        self.write_timeout = timeouts.get("write")
        self.writing = False
        self.streamed_body = False
        self.body_error: BaseException | None = None
        self.transport: asyncio.Transport | None = None  # the connection's, once it has one
        self.timed_out: TransportErrorName | None = None  # set when wireline's own timer fired
        # Trace events already sent for the request phases, so each is sent once, in order.
        self.sent = 0

    def write_timer_fired(self) -> None:
        """The write timeout: abort the connection, so aiohttp's writer and the reader both fail."""
        self.timed_out = "WriteTimeout"
        if self.transport is not None:
            self.transport.abort()

    async def emit(self, name: str, info: dict[str, Any]) -> None:
        """Send one event to the ``trace`` callback (httpcore's contract: awaited in async mode)."""
        trace = self.trace
        if trace is not None:
            result = trace(name, info)
            if inspect.isawaitable(result):
                await result

    async def failed(self, exc: BaseException) -> None:
        """Send the ``failed`` event of the request phase that was under way, then the close, as httpcore."""
        name = _FAILED_STEPS.get(self.sent)
        if name is not None:
            await self.emit(name, {"exception": exc})
            await self.emit("http11.response_closed.started", {})
            await self.emit("http11.response_closed.complete", {"return_value": None})

    async def request_phase(self, upto: int) -> None:
        """Send the request-phase events not sent yet, up to step ``upto`` of ``_REQUEST_STEPS``."""
        while self.sent < upto:
            name, with_request = _REQUEST_STEPS[self.sent]
            self.sent += 1
            await self.emit(name, {"request": self.request} if with_request else {"return_value": None})


# The request's phases as httpcore reports them for HTTP/1.1, in order. The step numbers below
# name how far the request has got: connection acquired, body sent, response headers expected.
_REQUEST_STEPS = (
    ("http11.send_request_headers.started", True),
    ("http11.send_request_headers.complete", False),
    ("http11.send_request_body.started", True),
    ("http11.send_request_body.complete", False),
    ("http11.receive_response_headers.started", True),
)
_HEADERS_SENT = 3  # headers written, body started
_BODY_SENT = 5  # body written, waiting for the response
_FAILED_STEPS = {
    1: "http11.send_request_headers.failed",
    3: "http11.send_request_body.failed",
    _BODY_SENT: "http11.receive_response_headers.failed",
}


# -- errors ---------------------------------------------------------------------------------


# aiohttp's exception classes -> the flavour's, most specific first (httpcore's choice for the same failure).
_ERROR_NAMES: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], TransportErrorName], ...] = (
    (aiohttp.ClientHttpProxyError, "ProxyError"),  # the proxy answered CONNECT with an error status
    (aiohttp.ConnectionTimeoutError, "ConnectTimeout"),
    (aiohttp.ServerTimeoutError, "ReadTimeout"),
    # Refused, DNS, TLS handshake and certificate errors, an unreachable proxy:
    (aiohttp.ClientConnectorError, "ConnectError"),
    # Closed early, a truncated body, a malformed response:
    ((aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientResponseError), "RemoteProtocolError"),
    ((aiohttp.NonHttpUrlClientError, aiohttp.InvalidURL), "UnsupportedProtocol"),
    (aiohttp.ClientConnectionError, "ReadError"),
    (ValueError, "LocalProtocolError"),  # a header or method aiohttp refuses to send
)


def _error_name(exc: BaseException, exchange: _Exchange) -> TransportErrorName:
    """The flavour's exception class for an aiohttp error."""
    if isinstance(exc, aiohttp.ClientPayloadError) and _lost_to_os_error(exc):
        return "ReadError"  # the connection was reset (or broke) mid-body, as httpcore reports it
    if (
        isinstance(exc, aiohttp.ClientOSError)
        and not isinstance(exc, aiohttp.ClientConnectorError)
        and (exchange.writing or "write request body" in str(exc))
    ):
        return "WriteError"
    for classes, name in _ERROR_NAMES:
        if isinstance(exc, classes):
            return name
    return "TransportError"


def _lost_to_os_error(exc: aiohttp.ClientPayloadError) -> bool:
    """Whether an incomplete body was cut by a socket error (a reset) rather than a clean close.

    aiohttp keeps that error only in the message: "... is not completed: <...>. ConnectionResetError(...)".
    """
    match = _TRAILING_ERROR.search(str(exc))
    error_class = getattr(builtins, match.group(1), None) if match else None
    return isinstance(error_class, type) and issubclass(error_class, OSError)


_TRAILING_ERROR = re.compile(r"\. (\w+)\([^()]*\)$")


def _raise_mapped(exc: BaseException, exchange: _Exchange, flavor: Flavor) -> Any:
    """Raise ``exc`` (from aiohttp or from the request's own body stream) as the flavour expects."""
    if exchange.body_error is not None:
        # The request's body stream failed: that error is the caller's, as with httpcore.
        raise exchange.body_error from None
    if exchange.timed_out is not None:
        name = exchange.timed_out
        raise flavor_error(flavor, name, _TIMEOUT_MESSAGES[name], exchange.request) from exc
    raise flavor_error(flavor, _error_name(exc, exchange), str(exc) or type(exc).__name__, exchange.request) from exc


_TIMEOUT_MESSAGES = {
    "PoolTimeout": "timed out waiting for a free connection in the pool (the pool timeout)",
    "WriteTimeout": "timed out writing the request body (the write timeout)",
}


# -- the connector: pool timeout, connection retries, connection events ---------------------


class _ObservedConnector(aiohttp.BaseConnector):
    """The hooks wireline needs around aiohttp's pool; mixed into its TCP and Unix connectors."""

    wireline_retries = 0
    wireline_local_address: str | None = None
    wireline_socket_options: tuple[tuple[Any, ...], ...] | None = None

    async def connect(
        self,
        req: ClientRequest,
        traces: list[Trace],
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109 - aiohttp's signature
    ) -> Any:
        exchange = _exchange.get()
        connection = await super().connect(req, traces, timeout)
        if exchange is None:
            return connection
        exchange.transport = connection.transport
        if exchange.trace is not None:
            # aiohttp writes the request line, the headers and a small body right after this returns.
            await exchange.request_phase(_HEADERS_SENT if exchange.streamed_body else _BODY_SENT)
        return connection

    async def _create_connection(
        self,
        req: ClientRequest,
        traces: list[Trace],
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109 - aiohttp's signature
    ) -> ResponseHandler:
        exchange = _exchange.get()
        if exchange is None:
            return await super()._create_connection(req, traces, timeout)
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
            if exchange.trace is not None:
                await self._connected_events(req, exchange, protocol, started)
            return protocol

    async def _wait_for_available_connection(self, key: Any, traces: list[Trace]) -> None:
        # Called only when every connection is busy: the pool timeout bounds this wait alone.
        exchange = _exchange.get()
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
            raise _PoolTimeoutError from None

    def _connect_event(self, req: ClientRequest, exchange: _Exchange) -> tuple[str, dict[str, Any]]:
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
    async def _connected_events(req: ClientRequest, exchange: _Exchange, protocol: Any, started: str) -> None:
        stream = _NetworkStream(protocol.transport)
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


class _PoolTimeoutError(Exception):
    """The wait for a free connection took longer than the pool timeout (raised as PoolTimeout)."""


class _TCPConnector(_ObservedConnector, aiohttp.TCPConnector):
    pass


class _UnixConnector(_ObservedConnector, aiohttp.UnixConnector):
    pass


def _backoff() -> Iterator[float]:
    yield 0
    for n in itertools.count():
        yield _RETRY_BACKOFF_FACTOR * 2**n


def _socket_factory(options: tuple[tuple[Any, ...], ...]) -> Callable[[Any], socket.socket]:
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


class _NetworkStream:
    """``response.extensions["network_stream"]``: the connection's details (httpcore's names).

    Only ``get_extra_info`` is offered: the connection belongs to aiohttp's pool, so it cannot be
    read from, written to or upgraded through this object.
    """

    __slots__ = ("_transport",)

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


# -- the transport --------------------------------------------------------------------------


class _AiohttpTransport:
    """An ``AsyncBaseTransport`` (of one flavour) over one aiohttp ``ClientSession``."""

    def __init__(self, spec: AiohttpTransport, flavor: Flavor) -> None:
        self._spec = spec
        self._flavor = flavor
        http = flavor.http
        self._response_class = http.Response
        self._byte_stream = http.ByteStream
        self._request_not_read = http.RequestNotRead
        self._stream_class: Any = flavor.derived("AiohttpResponseStream", _make_stream)
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[tuple[float | None, float | None], aiohttp.ClientTimeout] = {}
        self._proxy: yarl.URL | None = None
        self._proxy_authorization: str | None = None
        if spec.proxy is not None:
            proxy = yarl.URL(spec.proxy)
            if proxy.user is not None:
                self._proxy_authorization = _basic_auth(proxy.user, proxy.password or "")
            self._proxy = proxy.with_user(None)
        self._uds = spec.uds

    def _open(self) -> aiohttp.ClientSession:
        spec = self._spec
        limits = spec.limits
        common: dict[str, Any] = {
            "limit": limits.max_connections or 0,
            "keepalive_timeout": limits.keepalive_expiry,
            "force_close": limits.keepalive_expiry == 0,
        }
        connector: _ObservedConnector
        if spec.uds is not None:
            connector = _UnixConnector(spec.uds, **common)
        else:
            ssl_context: ssl.SSLContext = spec.ssl_context()
            connector = _TCPConnector(
                ssl=ssl_context,
                local_addr=None if spec.local_address is None else (spec.local_address, 0),
                socket_factory=None if not spec.socket_options else _socket_factory(spec.socket_options),
                **common,
            )
        connector.wireline_retries = spec.retries
        connector.wireline_local_address = spec.local_address
        connector.wireline_socket_options = spec.socket_options
        self._session = aiohttp.ClientSession(
            connector=connector,
            proxy=self._proxy,
            cookie_jar=aiohttp.DummyCookieJar(),  # the httpx client keeps the cookies
            skip_auto_headers=_SKIP_AUTO_HEADERS,
            auto_decompress=False,  # the httpx response decodes
            timeout=aiohttp.ClientTimeout(total=None),
            trust_env=False,  # proxy variables are ProxyRouter's business; TLS ones are in ssl_context()
            max_line_size=_MAX_LINE_SIZE,
            max_field_size=_MAX_LINE_SIZE,
            max_headers=_MAX_HEADERS,
        )
        return self._session

    def _client_timeout(self, timeouts: dict[str, float | None]) -> aiohttp.ClientTimeout:
        key = (timeouts.get("connect"), timeouts.get("read"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            if len(self._timeouts) > 64:  # noqa: PLR2004 - a few distinct timeouts are normal; bound the odd app
                self._timeouts.clear()
            timeout = self._timeouts[key] = aiohttp.ClientTimeout(
                total=None, connect=None, sock_connect=key[0], sock_read=key[1]
            )
        return timeout

    async def handle_async_request(self, request: Any) -> Any:
        session = self._session or self._open()
        timeouts = request.extensions.get("timeout") or _NO_TIMEOUTS
        exchange = _Exchange(request, timeouts)
        url = request.url
        flavor = self._flavor
        if self._uds is not None and url.scheme == "https":
            msg = (
                f"the aiohttp transport cannot use TLS over a Unix socket ({self._uds}); use the 'http' base transport"
            )
            raise flavor_error(flavor, "UnsupportedProtocol", msg, request)
        headers = request.headers
        encoding = headers.encoding
        items = [(key.decode(encoding), value.decode(encoding)) for key, value in headers.raw]
        data = self._body(request, exchange, items)
        options: dict[str, Any] = {}
        if (sni := request.extensions.get("sni_hostname")) is not None:
            options["server_hostname"] = sni
        if self._proxy_authorization is not None:
            if url.scheme == "https":  # on the CONNECT request to the proxy
                options["proxy_headers"] = {"Proxy-Authorization": self._proxy_authorization}
            else:  # the request itself goes to the proxy
                items.append(("Proxy-Authorization", self._proxy_authorization))
        token = _exchange.set(exchange)
        try:
            call = session.request(
                request.method,
                _aiohttp_url(url),
                headers=items,
                data=data,
                allow_redirects=False,  # the httpx client follows redirects (or not), as configured
                timeout=self._client_timeout(timeouts),
                **options,
            )
            response = await call
        except Exception as exc:  # noqa: BLE001 - re-raised as the flavour's class
            if exchange.trace is not None:
                await exchange.failed(exc)
            _raise_mapped(exc, exchange, flavor)
        finally:
            _exchange.reset(token)
        if exchange.trace is not None:
            await self._headers_received(response, exchange)
        return self._response(response, exchange)

    @staticmethod
    async def _headers_received(response: aiohttp.ClientResponse, exchange: _Exchange) -> None:
        await exchange.request_phase(_BODY_SENT)
        value = (_http_version(response), response.status, _reason(response), list(response.raw_headers))
        await exchange.emit("http11.receive_response_headers.complete", {"return_value": value})

    def _body(self, request: Any, exchange: _Exchange, items: list[tuple[str, str]]) -> Any:
        """What to give aiohttp as ``data``: ``None``, the bytes, or a timed async iterator."""
        stream = request.stream
        if isinstance(stream, self._byte_stream):
            try:
                body: bytes = request.content
            except self._request_not_read:  # a request made with stream=ByteStream(...)
                body = b"".join(stream)
            if not body:
                return None
            if len(body) <= _WHOLE_BODY_LIMIT:
                return body
            chunks: AsyncIterable[bytes] = _slices(body)
        else:
            chunks = stream
            if not any(key.lower() == "content-length" for key, _ in items):
                # aiohttp frames a body of unknown length itself and refuses a ready-made header.
                items[:] = [(key, value) for key, value in items if key.lower() != "transfer-encoding"]
        exchange.streamed_body = True
        return _timed_body(chunks, exchange)

    def _response(self, response: aiohttp.ClientResponse, exchange: _Exchange) -> Any:
        extensions: dict[str, Any] = {
            "http_version": _http_version(response),
            "reason_phrase": _reason(response),
            # The connection may be back in the pool already (a body read whole on arrival).
            "network_stream": _NetworkStream(exchange.transport),
        }
        return self._response_class(
            status_code=response.status,
            headers=response.raw_headers,
            stream=self._stream_class(response, exchange, self._flavor),
            extensions=extensions,
        )

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def __repr__(self) -> str:
        shown = f" through {redact_url(self._spec.proxy)}" if self._spec.proxy else ""
        return f"<wireline aiohttp transport ({self._flavor.name}){shown}>"


def _basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode("latin-1")).decode("ascii")


def _http_version(response: aiohttp.ClientResponse) -> bytes:
    version = response.version
    return b"HTTP/1.1" if version is None else _HTTP_VERSIONS.get((version.major, version.minor), b"HTTP/1.1")


def _reason(response: aiohttp.ClientResponse) -> bytes:
    return (response.reason or "").encode("ascii", "replace")


def _aiohttp_url(url: Any) -> yarl.URL:
    """The request URL for aiohttp, already encoded (no re-quoting) and without credentials.

    LLM clients call a handful of URLs over and over: they are parsed once (a bounded cache).
    """
    key = (url.raw_scheme, url.raw_host, url.port, url.raw_path)
    parsed = _urls.get(key)
    if parsed is None:
        host = url.raw_host.decode("ascii")
        if ":" in host:
            host = f"[{host}]"
        port = url.port
        authority = host if port is None else f"{host}:{port}"
        text = f"{url.raw_scheme.decode('ascii')}://{authority}{url.raw_path.decode('ascii')}"
        if len(_urls) >= _URL_CACHE_SIZE:
            _urls.clear()
        parsed = _urls[key] = yarl.URL(text, encoded=True)
    return parsed


_URL_CACHE_SIZE = 512
_urls: dict[tuple[bytes, bytes, int | None, bytes], yarl.URL] = {}


async def _slices(body: bytes) -> AsyncIterator[bytes]:
    view = memoryview(body)
    for start in range(0, len(body), _WHOLE_BODY_LIMIT):
        yield bytes(view[start : start + _WHOLE_BODY_LIMIT])


async def _timed_body(chunks: AsyncIterable[bytes], exchange: _Exchange) -> AsyncIterator[bytes]:
    """The request body for aiohttp, each chunk's write under the write timeout.

    aiohttp asks for the next chunk once the previous one is written (buffered below its high-water
    mark), so the time between handing a chunk over and being asked again is that write.
    """
    write_timeout = exchange.write_timeout
    loop = asyncio.get_running_loop()
    iterator = aiter(chunks)
    exchange.writing = True
    try:
        while True:
            try:
                chunk = await anext(iterator)
            except StopAsyncIteration:
                break
            except Exception as exc:
                exchange.body_error = exc
                raise
            if write_timeout is None:
                yield chunk
                continue
            timer = loop.call_later(write_timeout, exchange.write_timer_fired)
            try:
                yield chunk
            finally:
                timer.cancel()
    finally:
        exchange.writing = False
    if exchange.trace is not None:
        await exchange.request_phase(_BODY_SENT)


# -- the response body ----------------------------------------------------------------------


class _AiohttpResponseStream:
    """The response body as the flavour's ``AsyncByteStream``: aiohttp's chunks as they arrive."""

    def __init__(self, response: aiohttp.ClientResponse, exchange: _Exchange, flavor: Flavor) -> None:
        self._response = response
        self._exchange = exchange
        self._flavor = flavor
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        content = self._response.content
        exchange = self._exchange
        traced = exchange.trace is not None
        if traced:
            await exchange.emit("http11.receive_response_body.started", {"request": exchange.request})
        try:
            while True:
                chunk = await content.readany()
                if not chunk:
                    break
                yield chunk
        except Exception as exc:  # noqa: BLE001 - re-raised as the flavour's class
            if traced:
                await exchange.emit("http11.receive_response_body.failed", {"exception": exc})
            _raise_mapped(exc, exchange, self._flavor)
        if traced:
            await exchange.emit("http11.receive_response_body.complete", {"return_value": None})

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        exchange = self._exchange
        traced = exchange.trace is not None
        if traced:
            await exchange.emit("http11.response_closed.started", {})
        response = self._response
        if response.content.is_eof():
            response.release()  # the connection goes back to the pool
        else:
            response.close()  # a body not read to the end leaves the connection unusable
        if traced:
            await exchange.emit("http11.response_closed.complete", {"return_value": None})


def _make_transport(flavor: Flavor) -> type:
    return type("AiohttpTransport", (_AiohttpTransport, flavor.http.AsyncBaseTransport), {})


def _make_stream(flavor: Flavor) -> type:
    return type("AiohttpResponseStream", (_AiohttpResponseStream, flavor.http.AsyncByteStream), {})
