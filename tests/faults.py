"""A raw HTTP/1.1 server on 127.0.0.1 that fails on purpose, request by request, as a test scripts it.

Real sockets, real resets: what a client sees from an overloaded or broken upstream. Each request
takes the next fault from the script (``server.plan(...)``), then the server answers normally::

    server.plan(Fault.reset_before(), Fault.status(503), Fault.ok())
    ...
    assert server.attempts == 3

Faults:

- ``ok(chunks, size, every)``: 200 with a chunked body of ``chunks`` chunks, ``every`` seconds apart.
- ``status(code, headers)``: that status, a small JSON body, and the headers.
- ``reset_before()``: read the request, then reset the connection (TCP RST) before any response.
- ``close_before()``: read the request, then close the connection cleanly, without a response.
- ``reset_mid(chunks)``: headers and ``chunks`` body chunks, then a reset.
- ``slow_headers(seconds)``: wait that long before answering (stops early if the client leaves).
- ``stall(chunks)``: headers and ``chunks`` body chunks, then silence until the client leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

__all__ = ["Fault", "FaultServer", "Seen", "in_flight", "run_fault_server"]

_STALL_LIMIT = 60.0  # a stalled answer gives up after this long, so a broken test cannot hang


@dataclass(frozen=True)
class Fault:
    """One scripted behaviour (see the module docs)."""

    kind: str
    code: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    chunks: int = 3
    size: int = 16
    seconds: float = 0.0

    @classmethod
    def ok(cls, chunks: int = 3, size: int = 16, every: float = 0.0) -> Fault:
        return cls("ok", chunks=chunks, size=size, seconds=every)

    @classmethod
    def status(cls, code: int, headers: dict[str, str] | None = None) -> Fault:
        return cls("status", code=code, headers=tuple((headers or {}).items()))

    @classmethod
    def reset_before(cls) -> Fault:
        return cls("reset_before")

    @classmethod
    def close_before(cls) -> Fault:
        return cls("close_before")

    @classmethod
    def reset_mid(cls, chunks: int = 1) -> Fault:
        return cls("reset_mid", chunks=chunks)

    @classmethod
    def slow_headers(cls, seconds: float) -> Fault:
        return cls("slow_headers", seconds=seconds)

    @classmethod
    def stall(cls, chunks: int = 0) -> Fault:
        return cls("stall", chunks=chunks)


@dataclass
class Seen:
    """One request as the server read it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    connection: int


@dataclass
class FaultServer:
    url: str
    port: int
    script: list[Fault] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def plan(self, *faults: Fault) -> None:
        """The faults for the next requests, in order; requests after them are answered ``ok()``."""
        with self.lock:
            self.script = list(faults)
            self.seen.clear()

    @property
    def attempts(self) -> int:
        """Requests the server read since the last ``plan``."""
        return len(self.seen)

    def _next(self, seen: Seen) -> Fault:
        with self.lock:
            self.seen.append(seen)
            return self.script.pop(0) if self.script else Fault.ok()


def chunk_payload(index: int, size: int) -> bytes:
    """The body of chunk ``index``: recognisable, ``size`` bytes."""
    text = f"data: {index}\n\n".encode()
    return (text * (size // len(text) + 1))[:size]


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str], bytes] | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = b""
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            data = await reader.readexactly(size + 2)
            if size == 0:
                break
            parts.append(data[:-2])
        body = b"".join(parts)
    return method, path, headers, body


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _wait_for_client_to_leave(reader: asyncio.StreamReader, seconds: float) -> bool:
    """Wait up to ``seconds``; ``True`` if the client closed the connection meanwhile."""
    try:
        data = await asyncio.wait_for(reader.read(1), timeout=seconds)
    except TimeoutError:
        return False
    except ConnectionError:
        return True
    return data == b""


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


async def _serve(  # noqa: PLR0911, PLR0912 - one branch per fault, read top to bottom
    server: FaultServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    with server.lock:
        server.connections += 1
        connection = server.connections
    try:
        while True:
            request = await _read_request(reader)
            if request is None:
                return
            method, path, headers, body = request
            fault = server._next(Seen(method, path, headers, body, connection))
            kind = fault.kind
            if kind == "reset_before":
                _reset(writer)
                return
            if kind == "close_before":
                writer.close()
                return
            if kind == "slow_headers":
                if await _wait_for_client_to_leave(reader, fault.seconds):
                    return
                kind = "ok"
            if kind == "status":
                payload = json.dumps({"status": fault.code}).encode()
                extra = "".join(f"{name}: {value}\r\n" for name, value in fault.headers)
                writer.write(
                    f"HTTP/1.1 {fault.code} Fault\r\ncontent-type: application/json\r\n"
                    f"content-length: {len(payload)}\r\n{extra}\r\n".encode()
                    + payload
                )
                await writer.drain()
                continue
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
            sent = fault.chunks if kind in ("ok", "reset_mid", "stall") else 0
            for index in range(sent):
                if index and fault.kind == "ok" and fault.seconds:
                    await asyncio.sleep(fault.seconds)
                writer.write(_chunk(chunk_payload(index, fault.size)))
                await writer.drain()
            if kind == "reset_mid":
                await asyncio.sleep(0.05)  # let the chunks reach the client before the reset
                _reset(writer)
                return
            if kind == "stall":
                await _wait_for_client_to_leave(reader, _STALL_LIMIT)
                return
            writer.write(b"0\r\n\r\n")
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        return
    finally:
        if not writer.transport.is_closing():
            writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


@contextlib.contextmanager
def run_fault_server() -> Iterator[FaultServer]:
    """Run a :class:`FaultServer` in a thread of its own; closed (every connection too) on exit."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, Any] = {}
    open_connections: dict[asyncio.StreamWriter, asyncio.Task[Any]] = {}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        open_connections[writer] = task
        try:
            await _serve(holder["server"], reader, writer)
        finally:
            open_connections.pop(writer, None)

    async def main() -> None:
        listener = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        holder["server"] = FaultServer(url=f"http://127.0.0.1:{port}", port=port)
        holder["listener"] = listener
        started.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(main())
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True, name="fault-server")
    thread.start()
    if not started.wait(10):
        raise RuntimeError("the fault server did not start")
    try:
        yield holder["server"]
    finally:

        async def shutdown() -> None:
            holder["listener"].close()
            # Closing the sockets ends each connection's handler on its own (no cancellation noise).
            for writer in list(open_connections):
                writer.transport.abort()
            await asyncio.gather(*open_connections.values(), return_exceptions=True)
            await holder["listener"].wait_closed()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def in_flight(stack: Any) -> int:
    """Requests the stack's pools hold now (queued or with a connection), over every pool it opened.

    Knows httpcore / httpcore2 pools (``HTTPTransport``); another base transport can answer by
    having an ``in_flight()`` method.
    """
    pools = stack._pools
    transports = list(pools._sync.values())
    for loop_pools in list(pools._by_loop.values()):
        transports.extend(loop_pools.pools.values())
    total = 0
    for transport in transports:
        counter = getattr(transport, "in_flight", None)
        if counter is not None:
            total += int(counter())
            continue
        core_pool = getattr(transport, "_pool", None)
        requests = getattr(core_pool, "_requests", None)
        if requests is None:
            raise AssertionError(
                f"tests/faults.py cannot count requests in flight on {type(transport).__qualname__}: "
                "give it an in_flight() method"
            )
        total += len(requests)
    return total


@pytest.fixture(scope="session")
def _session_fault_server() -> Iterator[FaultServer]:
    with run_fault_server() as server:
        yield server


@pytest.fixture
def fault_server(_session_fault_server: FaultServer) -> FaultServer:
    """The shared fault server, with an empty script and nothing seen."""
    _session_fault_server.plan()
    return _session_fault_server
