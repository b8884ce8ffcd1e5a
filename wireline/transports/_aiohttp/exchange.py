"""One request's state below the session call, and how failures are raised as the flavour's classes.

The state travels from the transport to the connector in a context variable (:data:`current_exchange`):
aiohttp calls the connector inside the request's own task.
"""

from __future__ import annotations

import builtins
import contextvars
import inspect
import os
import re
import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import aiohttp

from wireline.transports._errors import TransportErrorName, flavor_error

if TYPE_CHECKING:
    import asyncio

    from wireline._flavors import Flavor
    from wireline.transports.pooled import PooledTransport

__all__ = ["BODY_SENT", "HEADERS_SENT", "Exchange", "current_exchange", "raise_mapped"]

current_exchange: contextvars.ContextVar[Exchange | None] = contextvars.ContextVar(
    "wireline_aiohttp_exchange", default=None
)


class Exchange:
    """What one request needs below the session call: its timeouts, trace callback and phase."""

    __slots__ = (
        "body_error",
        "connect_timeout",
        "on_closed",
        "pool_timeout",
        "read_timeout",
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
        self.read_timeout = timeouts.get("read")
        self.pool_timeout = timeouts.get("pool")
        self.write_timeout = timeouts.get("write")
        self.writing = False
        self.streamed_body = False
        self.on_closed: Callable[[], None] | None = None  # called once, when the response is closed
        self.body_error: BaseException | None = None
        self.transport: asyncio.Transport | None = None  # the connection's, once it has one
        self.timed_out: TransportErrorName | None = None  # set when wireline's own timer fired
        # Trace events already sent for the request phases, so each is sent once, in order.
        self.sent = 0

    def closed(self) -> None:
        """The exchange is over (its response closed, or it failed): tell whoever counts."""
        on_closed, self.on_closed = self.on_closed, None
        if on_closed is not None:
            on_closed()

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
HEADERS_SENT = 3  # headers written, body started
BODY_SENT = 5  # body written, waiting for the response
_FAILED_STEPS = {
    1: "http11.send_request_headers.failed",
    3: "http11.send_request_body.failed",
    BODY_SENT: "http11.receive_response_headers.failed",
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


def _error_name(exc: BaseException, exchange: Exchange) -> TransportErrorName:
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


def raise_mapped(exc: BaseException, exchange: Exchange, flavor: Flavor, spec: PooledTransport | None = None) -> Any:
    """Raise ``exc`` (from aiohttp or from the request's own body stream) as the flavour expects.

    With ``spec``, a refused TLS handshake's message says what was trusted and how to fix it.
    """
    if exchange.body_error is not None:
        # The request's body stream failed: that error is the caller's, as with httpcore.
        raise exchange.body_error from None
    if exchange.timed_out is not None:
        name = exchange.timed_out
        raise flavor_error(flavor, name, _TIMEOUT_MESSAGES[name], exchange.request) from exc
    error = flavor_error(flavor, _error_name(exc, exchange), _message(exc), exchange.request)
    error.__cause__ = exc  # before explaining: the explanation looks for the TLS error in the causes
    if spec is not None:
        spec.explain_failure(error, exchange.request)
    raise error from exc


def _message(exc: BaseException) -> str:
    """The error's message, worded as httpcore words it where aiohttp wraps the socket's error.

    aiohttp says "Cannot connect to host h:p ssl:default [Connect call failed ('h', p)]" where
    httpcore says "[Errno 111] Connection refused"; the SSL error's own text for a certificate.
    """
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return str(exc.certificate_error)
    if isinstance(exc, aiohttp.ClientConnectorError) and not isinstance(exc, aiohttp.ClientProxyConnectionError):
        cause = exc.os_error
        if isinstance(cause, ssl.SSLError) or not cause.errno or cause.errno < 0:  # < 0: a DNS error
            return f"{str(cause) or exc} ({exc.host}:{exc.port})"
        return f"[Errno {cause.errno}] {os.strerror(cause.errno)} ({exc.host}:{exc.port})"
    return str(exc) or type(exc).__name__


_TIMEOUT_MESSAGES = {
    "PoolTimeout": "timed out waiting for a free connection in the pool (the pool timeout)",
    "WriteTimeout": "timed out writing the request body (the write timeout)",
}
