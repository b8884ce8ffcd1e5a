"""Raw-socket clients: the loopback's physical limit, and the server's ceiling.

They send fixed request bytes and read exactly one answer's worth back, parsing nothing they do
not need: what is left between them and an HTTP client is the client's own work.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any
from urllib.parse import urlsplit

__all__ = ["AsyncRawConnection", "SyncRawConnection", "request_bytes"]


def request_bytes(url: str) -> bytes:
    """An HTTP/1.1 GET for ``url`` as a keep-alive client sends it."""
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return f"GET {target} HTTP/1.1\r\nhost: {parts.netloc}\r\naccept: */*\r\n\r\n".encode()


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def _answer_length(buffer: bytes | bytearray) -> int | None:
    """Bytes of the first complete answer in ``buffer`` (content-length or chunked), or None yet."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buffer[:end]).lower()
    at = head.find(b"content-length:")
    if at >= 0:
        stop = head.find(b"\r\n", at)
        total = end + 4 + int(head[at + 15 : stop if stop >= 0 else len(head)])
        return total if len(buffer) >= total else None
    terminator = buffer.find(b"\r\n0\r\n\r\n", end)  # chunked: the last chunk
    return None if terminator < 0 else terminator + 7


class SyncRawConnection:
    """One keep-alive TCP connection; ``get()`` sends a request and reads its whole answer."""

    def __init__(self, url: str) -> None:
        self._request = request_bytes(url)
        self._sock = socket.create_connection(_address(url))
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buffer = bytearray()

    def get(self, pipeline: int = 1) -> None:
        """Send ``pipeline`` requests at once, then read as many answers."""
        self._sock.sendall(self._request * pipeline)
        buffer, recv = self._buffer, self._sock.recv
        for _ in range(pipeline):
            while (length := _answer_length(buffer)) is None:
                data = recv(262144)
                if not data:
                    msg = "the server closed the connection"
                    raise ConnectionError(msg)
                buffer += data
            del buffer[:length]

    def close(self) -> None:
        self._sock.close()


class _AnswerProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = bytearray()
        self.waiter: asyncio.Future[None] | None = None
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        length = _answer_length(self.buffer)
        if length is not None and self.waiter is not None and not self.waiter.done():
            del self.buffer[:length]
            self.waiter.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc or ConnectionError("the server closed the connection"))


class AsyncRawConnection:
    """An async keep-alive connection; ``await get()`` sends one request and awaits its answer."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._request = request_bytes(url)
        self._protocol: _AnswerProtocol | None = None

    async def get(self) -> None:
        protocol = self._protocol
        if protocol is None:
            loop = asyncio.get_running_loop()
            host, port = _address(self._url)
            _, protocol = await loop.create_connection(_AnswerProtocol, host, port)
            protocol.transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._protocol = protocol
        protocol.waiter = asyncio.get_running_loop().create_future()
        protocol.transport.write(self._request)
        await protocol.waiter

    async def aclose(self) -> None:
        if self._protocol is not None:
            self._protocol.transport.close()
            self._protocol = None
