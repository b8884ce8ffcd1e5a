"""A request written straight onto an aiohttp connection, and its response read off it by aiohttp's parser.

aiohttp's ``ClientRequest.send`` and ``ClientResponse.start`` are built for its users: a stream
writer, a task to write any body, a response object with cookies, history, a timer... none of which
the httpx client above needs. For a request with no body or a small one, going to the server itself
(no proxy), this is what is left: the request's bytes in one write, and the response's head from the
connection's own parser. The connection still comes from aiohttp's connector (pool, limits, TLS,
connect timeouts, connection events) and the response is still parsed by aiohttp's protocol (its C
parser, its read timeout), so the paths behave alike. Proxied requests and streamed bodies keep
aiohttp's request (it speaks to proxies and frames bodies); the suite runs every path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

import aiohttp
from aiohttp.client_proto import ResponseHandler
from aiohttp.http_exceptions import HttpProcessingError
from multidict import CIMultiDict, CIMultiDictProxy

from wireline.redaction import redact_headers

if TYPE_CHECKING:
    from aiohttp.connector import Connection
    from aiohttp.http_parser import RawResponseMessage
    from aiohttp.streams import StreamReader

__all__ = ["WIRE_USABLE", "AnyResponse", "Exchanged", "read_response", "request_bytes", "write_request"]

# The parts of aiohttp's connection this relies on beyond its public API; should a version change
# them, every request takes the direct path (aiohttp's own request and response objects).
WIRE_USABLE = callable(getattr(ResponseHandler, "read", None)) and hasattr(ResponseHandler, "upgraded")


def request_bytes(
    method: str, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes | None, *, close: bool
) -> bytes:
    """The request line, the headers as the httpx client set them (their bytes, in order) and the body.

    With ``close`` (a pool that keeps no connection) the request says ``Connection: close`` unless
    it names a ``Connection`` itself, as aiohttp's writer does. A carriage return or line feed
    inside a header or the target is refused, as httpcore and aiohttp refuse it (``ValueError``,
    raised as ``LocalProtocolError``): one count over the head finds any.
    """
    parts = [method.encode("ascii"), b" ", target, b" HTTP/1.1\r\n"]
    for name, value in headers:
        parts += (name, b": ", value, b"\r\n")
    lines = len(headers) + 2  # the request line, the headers, the empty line
    if close and not any(name.lower() == b"connection" for name, _ in headers):
        parts.append(b"Connection: close\r\n")
        lines += 1
    parts.append(b"\r\n")
    head = b"".join(parts)
    if head.count(b"\n") != lines or head.count(b"\r") != lines:
        raise ValueError(_line_break_in(method, target, headers))
    return head if body is None else head + body


def _line_break_in(method: str, target: bytes, headers: list[tuple[bytes, bytes]]) -> str:
    """What says which part of the request holds a line break (a secret header's value redacted)."""
    for name, value in headers:
        if b"\r" in name or b"\n" in name or b"\r" in value or b"\n" in value:
            [(shown_name, shown_value)] = redact_headers([(name.decode("latin-1"), value.decode("latin-1"))])
            return (
                f"header {shown_name!r}: expected a name and value without a carriage return or line feed,"
                f" got {shown_value!r}"
            )
    return f"request target: expected no carriage return or line feed, got {method} {target!r}"


def write_request(connection: Connection, message: bytes) -> None:
    """Write the request whole and start the wait for its answer, as aiohttp's writer does."""
    transport = connection.transport
    if transport is None or transport.is_closing():
        msg = "Cannot write to closing transport"
        raise aiohttp.ClientConnectionResetError(msg)
    transport.write(message)
    protocol: Any = connection.protocol
    protocol.start_timeout()  # the read timeout runs from here


async def read_response(connection: Connection, method: str, url: Any) -> Exchanged:
    """Read the response's head (skipping any ``1xx`` but ``101``), as ``ClientResponse.start`` does."""
    protocol: Any = connection.protocol
    while True:
        try:
            message, payload = await protocol.read()
        except HttpProcessingError as exc:  # a malformed response: aiohttp's own error for it
            info = aiohttp.RequestInfo(url, method, CIMultiDictProxy(CIMultiDict()), url)
            raise aiohttp.ClientResponseError(
                info, (), status=exc.code, message=exc.message, headers=exc.headers
            ) from exc
        code = message.code
        if code < 100 or code > 199 or code == 101:  # noqa: PLR2004 - the informational statuses
            return Exchanged(connection, message, payload)


class Exchanged:
    """A response on its connection: what the transport and its response stream read of aiohttp's ``ClientResponse``.

    The connection goes back to the pool as soon as the body has been read to its end, before the
    response is closed (as aiohttp's own response does), or is closed with a body left unread.
    """

    __slots__ = ("connection", "content", "raw_headers", "reason", "status", "version")

    def __init__(self, connection: Connection, message: RawResponseMessage, payload: StreamReader) -> None:
        self.connection: Connection | None = connection
        self.status = message.code
        self.reason = message.reason
        self.version = message.version
        self.raw_headers = message.raw_headers
        self.content = payload
        payload.on_eof(self._body_read)

    def _body_read(self) -> None:
        connection = self.connection
        if connection is not None and not (connection.protocol is not None and connection.protocol.upgraded):
            self.release()

    def release(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            connection.release()

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            connection.close()


# A response as the transport and its stream read it: aiohttp's own (the direct and session paths) or this module's.
AnyResponse: TypeAlias = "aiohttp.ClientResponse | Exchanged"
