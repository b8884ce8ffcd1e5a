"""The transport: an ``AsyncBaseTransport`` of one flavour over one aiohttp ``ClientSession``."""

from __future__ import annotations

import asyncio
import base64
import inspect
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, NoReturn

import aiohttp
import yarl
from aiohttp.client_proto import ResponseHandler
from aiohttp.client_reqrep import ClientRequest
from multidict import CIMultiDict, CIMultiDictProxy

from wireline.redaction import redact_url
from wireline.transports._aiohttp.connector import (
    ObservedConnector,
    TCPConnector,
    UnixConnector,
    network_stream,
    socket_factory,
)
from wireline.transports._aiohttp.exchange import BODY_SENT, Exchange, current_exchange, raise_mapped
from wireline.transports._aiohttp.stream import make_stream
from wireline.transports._aiohttp.wire import (
    WIRE_USABLE,
    AnyResponse,
    Exchanged,
    read_response,
    request_bytes,
    write_request,
)
from wireline.transports._errors import flavor_error
from wireline.transports.base import OpenConnection

if TYPE_CHECKING:
    import ssl

    from aiohttp.connector import Connection

    from wireline._flavors import Flavor
    from wireline.transports.aiohttp import AiohttpTransport as AiohttpSpec

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


def _accepted(function: Callable[..., Any], **wanted: Any) -> dict[str, Any]:
    """The keyword arguments of ``wanted`` that ``function`` takes (aiohttp adds some over versions)."""
    parameters = inspect.signature(function).parameters
    return {key: value for key, value in wanted.items() if key in parameters}


_HEADER_LIMITS = {"max_line_size": _MAX_LINE_SIZE, "max_field_size": _MAX_LINE_SIZE, "max_headers": _MAX_HEADERS}
_SESSION_LIMITS = _accepted(aiohttp.ClientSession.__init__, **_HEADER_LIMITS)
_RESPONSE_PARAMS = _accepted(
    ResponseHandler.set_response_params,
    read_until_eof=True,
    auto_decompress=False,  # the httpx response decodes
    read_bufsize=2**16,
    **_HEADER_LIMITS,
)
# The direct path (SessionTransport._send_direct) uses aiohttp's request plumbing below its public
# API; those signatures have been stable since aiohttp 3.9. Should a version change them, the
# transport sends through ClientSession.request instead: slower, the same behaviour.
_DIRECT = {"read_timeout", "skip_payload", "read_until_eof", "auto_decompress"} <= set(
    inspect.signature(ResponseHandler.set_response_params).parameters
) and {"headers", "skip_auto_headers", "data", "loop", "session", "proxy", "proxy_headers", "server_hostname"} <= set(
    inspect.signature(ClientRequest.__init__).parameters
)


def transport_class(flavor: Flavor) -> type[SessionTransport]:
    """``SessionTransport`` as a subclass of ``flavor``'s ``AsyncBaseTransport``."""
    return flavor.derived("AiohttpTransport", _make_transport)


# -- the transport --------------------------------------------------------------------------


class SessionTransport:
    """An ``AsyncBaseTransport`` (of one flavour) over one aiohttp ``ClientSession``."""

    def __init__(self, spec: AiohttpSpec, flavor: Flavor) -> None:
        self._spec = spec
        self._flavor = flavor
        http = flavor.http
        self._response_class = http.Response
        self._byte_stream = http.ByteStream
        self._request_not_read = http.RequestNotRead
        self._stream_class: Any = flavor.derived("AiohttpResponseStream", make_stream)
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._send = self._send_direct if _DIRECT else self._send_through_session
        self._timeouts: dict[tuple[float | None, float | None], aiohttp.ClientTimeout] = {}
        self._proxy: yarl.URL | None = None
        self._proxy_authorization: str | None = None
        if spec.proxy is not None:
            proxy = yarl.URL(spec.proxy)
            if proxy.user is not None:
                self._proxy_authorization = _basic_auth(proxy.user, proxy.password or "")
            self._proxy = proxy.with_user(None)
        self._uds = spec.uds
        # Requests with no proxy are written straight onto the connection (see the wire module).
        self._wire = _DIRECT and WIRE_USABLE and self._proxy is None
        self._connect_keys: dict[tuple[bytes, bytes, int | None, str | None], ClientRequest] = {}
        self._in_flight = 0

    def open_connections(self) -> list[OpenConnection]:
        """The connections this pool holds open (``ReportsConnections``: Stack.connections(), metrics)."""
        session = self._session
        connector = None if session is None or session.closed else session.connector
        if not isinstance(connector, ObservedConnector):
            return []
        try:
            return connector.open_connections()
        except Exception:  # noqa: BLE001 - a metrics read must never fail (aiohttp's internals moved?)
            return []

    def in_flight(self) -> int:
        """Requests sent through this pool whose response is not closed yet (for tests and metrics)."""
        return self._in_flight

    def _one_less(self) -> None:
        self._in_flight -= 1

    def _open(self) -> aiohttp.ClientSession:
        spec = self._spec
        limits = spec.limits
        common: dict[str, Any] = {"limit": limits.max_connections or 0}  # aiohttp's 0: no limit
        if limits.keepalive_expiry == 0:
            common["force_close"] = True  # no connection is kept (aiohttp refuses a timeout with it)
        else:
            common["keepalive_timeout"] = limits.keepalive_expiry  # None: kept until the server closes
        connector: ObservedConnector
        if spec.uds is not None:
            connector = UnixConnector(spec.uds, **common)
        else:
            ssl_context: ssl.SSLContext = spec.ssl_context()
            connector = TCPConnector(
                ssl=ssl_context,
                local_addr=None if spec.local_address is None else (spec.local_address, 0),
                socket_factory=None if not spec.socket_options else socket_factory(spec.socket_options),
                **common,
            )
        connector.wireline_origins = {}
        connector.wireline_retries = spec.retries
        connector.wireline_local_address = spec.local_address
        connector.wireline_socket_options = spec.socket_options
        connector.use_read_timed_handler()
        self._session = aiohttp.ClientSession(
            connector=connector,
            proxy=self._proxy,
            cookie_jar=aiohttp.DummyCookieJar(),  # the httpx client keeps the cookies
            skip_auto_headers=_SKIP_AUTO_HEADERS,
            auto_decompress=False,  # the httpx response decodes
            timeout=aiohttp.ClientTimeout(total=None),
            trust_env=False,  # proxy variables are ProxyRouter's business; TLS ones are in ssl_context()
            **_SESSION_LIMITS,
        )
        # ClientSession.request resends an idempotent request once when its connection fails; over
        # httpcore nothing is resent behind the stack's back, and neither is it here.
        self._session._retry_connection = False  # noqa: SLF001 - no public switch for it
        self._loop = asyncio.get_running_loop()
        self._connect_keys.clear()  # they name the session they were made for
        return self._session

    def _client_timeout(self, exchange: Exchange) -> aiohttp.ClientTimeout:
        key = (exchange.connect_timeout, exchange.read_timeout)
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
        exchange = Exchange(request, timeouts)
        url = request.url
        flavor = self._flavor
        if self._uds is not None and url.scheme == "https":
            msg = (
                f"the aiohttp transport cannot use TLS over a Unix socket ({self._uds}); use the 'http' base transport"
            )
            raise flavor_error(flavor, "UnsupportedProtocol", msg, request)
        data = self._body(request, exchange)
        sni: str | None = request.extensions.get("sni_hostname")
        send = self._send_wire if self._wire and not exchange.streamed_body else self._send
        self._in_flight += 1
        exchange.on_closed = self._one_less
        token = current_exchange.set(exchange)
        try:
            response = await send(session, exchange, data, sni)
        except Exception as exc:  # noqa: BLE001 - re-raised as the flavour's class
            exchange.closed()
            if exchange.trace is not None:
                await exchange.failed(exc)
            raise_mapped(exc, exchange, flavor, self._spec)
        except BaseException:  # cancelled: nothing is in flight any more
            exchange.closed()
            raise
        finally:
            current_exchange.reset(token)
        if exchange.trace is not None:
            await self._headers_received(response, exchange)
        return self._response(response, exchange)

    def _arguments(self, exchange: Exchange, sni: str | None) -> tuple[list[tuple[str, str]], dict[str, Any]]:
        """The headers and the keyword arguments for aiohttp's request."""
        request = exchange.request
        items = _header_items(request.headers)
        if exchange.streamed_body and not any(key.lower() == "content-length" for key, _ in items):
            # aiohttp frames a body of unknown length itself and refuses a ready-made header.
            items = [(key, value) for key, value in items if key.lower() != "transfer-encoding"]
        options: dict[str, Any] = {}
        if sni is not None:
            options["server_hostname"] = sni
        if self._proxy_authorization is not None:
            if request.url.scheme == "https":  # on the CONNECT request to the proxy
                options["proxy_headers"] = {"Proxy-Authorization": self._proxy_authorization}
            else:  # the request itself goes to the proxy
                items.append(("Proxy-Authorization", self._proxy_authorization))
        return items, options

    async def _send_through_session(
        self, session: aiohttp.ClientSession, exchange: Exchange, data: Any, sni: str | None
    ) -> aiohttp.ClientResponse:
        """Send through ``ClientSession.request``: aiohttp's public API (the fallback, see ``_DIRECT``)."""
        items, options = self._arguments(exchange, sni)
        return await session.request(
            exchange.request.method,
            _aiohttp_url(exchange.request.url),
            headers=items,
            data=data,
            allow_redirects=False,  # the httpx client follows redirects (or not), as configured
            timeout=self._client_timeout(exchange),
            **options,
        )

    async def _send_direct(
        self, session: aiohttp.ClientSession, exchange: Exchange, data: Any, sni: str | None
    ) -> aiohttp.ClientResponse:
        """Send with the session's connector, request and response classes, without its ``request()``.

        ``ClientSession.request`` is built for aiohttp's users: redirects, cookies, auth, netrc,
        proxy variables, middlewares, a total timeout... none of which applies here (the httpx
        client above does all that), and together they cost about a fifth of aiohttp's time per
        request. This is what is left of it: connect, send, read the head. (Nor does it resend an
        idempotent request that failed, as ``ClientSession.request`` does: resending is the
        stack's ``Retry`` policy's decision, as it is over httpcore.)
        """
        items, options = self._arguments(exchange, sni)
        method = exchange.request.method
        request = _REQUEST_CLASS(
            method,
            _aiohttp_url(exchange.request.url),
            headers=items,
            skip_auto_headers=_SKIP_AUTO_HEADERS,
            data=data,
            loop=self._loop,
            session=session,
            proxy=self._proxy,
            proxy_headers=options.get("proxy_headers"),
            server_hostname=sni,
        )
        connection = await _connect(session, request, self._client_timeout(exchange))
        _expect_response(connection, method, exchange)
        try:
            response = await request.send(connection)
            try:
                await response.start(connection)
            except BaseException:
                response.close()
                raise
        except BaseException as exc:  # noqa: BLE001 - re-raised, once the connection is closed
            _failed_on(connection, exc)
        return response

    async def _send_wire(
        self, session: aiohttp.ClientSession, exchange: Exchange, data: bytes | None, sni: str | None
    ) -> Exchanged:
        """Send a request with no body or a small one, to the server itself: see the ``wire`` module.

        Its bytes are made before a connection is taken: a header that cannot be sent fails first.
        """
        request = exchange.request
        url = request.url
        method = request.method
        connector = session.connector
        assert connector is not None  # noqa: S101 - the session is open
        message = request_bytes(method, url.raw_path, request.headers.raw, data, close=connector.force_close)
        connection = await _connect(session, self._connect_key(session, url, sni), self._client_timeout(exchange))
        _expect_response(connection, method, exchange)
        try:
            write_request(connection, message)
            return await read_response(connection, method, _aiohttp_url(url))
        except BaseException as exc:  # noqa: BLE001 - re-raised, once the connection is closed
            _failed_on(connection, exc)

    def _connect_key(self, session: aiohttp.ClientSession, url: Any, sni: str | None) -> ClientRequest:
        """The request aiohttp's connector takes a connection for: one per origin, made once.

        The connector only reads it (which pool, which host and port, TLS or not): with no proxy it
        needs nothing of the request's own, so one per origin serves every request to that origin.
        """
        key = (url.raw_scheme, url.raw_host, url.port, sni)
        request = self._connect_keys.get(key)
        if request is None:
            if len(self._connect_keys) >= _URL_CACHE_SIZE:
                self._connect_keys.clear()
            origin = _aiohttp_url(url).origin()
            request = _REQUEST_CLASS("GET", origin, loop=self._loop, session=session, server_hostname=sni)
            self._connect_keys[key] = request
        return request

    @staticmethod
    async def _headers_received(response: AnyResponse, exchange: Exchange) -> None:
        await exchange.request_phase(BODY_SENT)
        value = (_http_version(response), response.status, _reason(response), list(response.raw_headers))
        await exchange.emit("http11.receive_response_headers.complete", {"return_value": value})

    def _body(self, request: Any, exchange: Exchange) -> Any:
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
        exchange.streamed_body = True
        return _timed_body(chunks, exchange)

    def _response(self, response: AnyResponse, exchange: Exchange) -> Any:
        extensions: dict[str, Any] = {
            "http_version": _http_version(response),
            "reason_phrase": _reason(response),
            # The connection may be back in the pool already (a body read whole on arrival).
            "network_stream": network_stream(exchange.transport),
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


async def _connect(
    session: aiohttp.ClientSession,
    request: ClientRequest,
    timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109 - aiohttp's timeouts, applied by its connector
) -> Connection:
    """A connection for ``request`` from the session's pool, a timeout raised as aiohttp's own error."""
    connector = session.connector
    assert connector is not None  # noqa: S101 - the session is open
    try:
        return await connector.connect(request, [], timeout)
    except TimeoutError as exc:
        if isinstance(exc, aiohttp.ClientError):
            raise
        raise aiohttp.ConnectionTimeoutError(f"Connection timeout to host {request.url}") from exc


def _expect_response(connection: Connection, method: str, exchange: Exchange) -> None:
    """Tell the connection's parser what response to expect, and how long a read may wait."""
    protocol = connection.protocol
    assert protocol is not None  # noqa: S101 - a connection from connect() has one
    protocol.set_response_params(skip_payload=method == "HEAD", read_timeout=exchange.read_timeout, **_RESPONSE_PARAMS)


def _failed_on(connection: Connection, exc: BaseException) -> NoReturn:
    """The request failed on ``connection``: close it, and raise a socket error as aiohttp's class."""
    connection.close()
    if isinstance(exc, OSError) and not isinstance(exc, aiohttp.ClientError):  # aiohttp's timeouts are OSErrors
        raise aiohttp.ClientOSError(*exc.args) from exc
    raise exc


def _header_items(headers: Any) -> list[tuple[str, str]]:
    """The request's headers as aiohttp takes them: text, in order, duplicates kept.

    ``Headers.encoding`` decodes every header once more to guess the encoding; nearly always the
    headers are ASCII, which each of its candidates decodes alike, so that guess is made only when
    a header is not (or when the encoding was set explicitly).
    """
    raw = headers.raw
    if getattr(headers, "_encoding", None) is None:
        try:
            return [(key.decode("ascii"), value.decode("ascii")) for key, value in raw]
        except UnicodeDecodeError:
            pass
    encoding = headers.encoding
    return [(key.decode(encoding), value.decode(encoding)) for key, value in raw]


class _Request(ClientRequest):
    """aiohttp's request, without the work of choosing headers for its users (see ``_REQUEST_CLASS``)."""

    def update_headers(self, headers: Any) -> None:
        # aiohttp adds the URL's Host, then the headers one by one, each Host replacing it in
        # place. httpx puts its one Host header first, so building the multidict in one call
        # gives the same headers in the same order; anything else goes aiohttp's way.
        if headers and headers[0][0].lower() == "host":
            built: CIMultiDict[str] = CIMultiDict(headers)
            if len(built.getall("Host")) == 1:
                self.headers = built
                return
        super().update_headers(headers)

    def update_auto_headers(self, skip_auto_headers: Any) -> None:
        # aiohttp would copy the headers and build a skip set to see which of its default headers
        # (Accept, Accept-Encoding, User-Agent) to add: all of them are skipped, so none is added,
        # and the skip set (which Content-Type of a body is also checked against) is always the same.
        self._skip_auto_headers = _SKIPPED_HEADERS  # type: ignore[assignment] # read-only view: shared by all requests


_SKIPPED_HEADERS = CIMultiDictProxy(CIMultiDict((name, None) for name in sorted(_SKIP_AUTO_HEADERS)))
# _Request relies on every header aiohttp adds being skipped, and on where aiohttp keeps the skip
# set; should either change, requests are aiohttp's own class (the same behaviour, a little slower).
_REQUEST_CLASS: type[ClientRequest] = (
    _Request
    if {*ClientRequest.DEFAULT_HEADERS, "User-Agent"} <= _SKIPPED_HEADERS.keys()
    and "_skip_auto_headers" in vars(ClientRequest)
    else ClientRequest
)


def _basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode("latin-1")).decode("ascii")


def _http_version(response: AnyResponse) -> bytes:
    version = response.version
    return b"HTTP/1.1" if version is None else _HTTP_VERSIONS.get((version.major, version.minor), b"HTTP/1.1")


def _reason(response: AnyResponse) -> bytes:
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


async def _timed_body(chunks: AsyncIterable[bytes], exchange: Exchange) -> AsyncIterator[bytes]:
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
        await exchange.request_phase(BODY_SENT)


def _make_transport(flavor: Flavor) -> type:
    return type("AiohttpTransport", (SessionTransport, flavor.http.AsyncBaseTransport), {})
