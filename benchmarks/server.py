"""The benchmarks' HTTP/1.1 server: fast, in its own process, pinned to its own CPU.

It must never be the bottleneck, so it is as small as an HTTP server can be: an asyncio protocol
(on uvloop when installed) that parses just enough HTTP/1.1 — the request line, ``content-length``
and ``connection: close`` — and answers from bytes prepared in advance. Keep-alive is the default;
pipelined requests are answered in order (the ceiling measurement pipelines).

- any path: a ~400-byte JSON answer shaped like a chat completion;
- ``/sse?n=N``: ``N`` server-sent events, each one HTTP chunk (``transfer-encoding: chunked``), so
  that httpcore hands the client one chunk per event, then ``data: [DONE]``.

It counts the connections it accepts and the requests it answers in shared memory, so the harness
reads them without a request of its own (see :class:`ServerProcess`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import mmap
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Self

__all__ = ["JSON_BODY", "SSE_EVENT", "ServerProcess", "json_response_size"]

JSON_BODY = json.dumps(
    {
        "id": "chatcmpl-bench-0001",
        "object": "chat.completion",
        "created": 1764000000,
        "model": "bench-model-1",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "The quick brown fox jumps over the lazy dog. " * 3},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 30, "total_tokens": 42},
    },
    separators=(",", ":"),
).encode()

SSE_EVENT = (
    b'data: {"id":"chatcmpl-bench-0001","object":"chat.completion.chunk","model":"bench-model-1",'
    b'"choices":[{"index":0,"delta":{"content":"token "}}]}\n\n'
)
_SSE_DONE = b"data: [DONE]\n\n"

_JSON_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n" % len(JSON_BODY)
_KEEP_ALIVE = _JSON_HEAD + b"\r\n" + JSON_BODY
_CLOSE = _JSON_HEAD + b"connection: close\r\n\r\n" + JSON_BODY
_SSE_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n"

# Counters in shared memory: connections accepted, requests answered.
CONNECTIONS, REQUESTS = 0, 1
_COUNTERS_SIZE = 16
_ROOT = Path(__file__).resolve().parent.parent


def json_response_size() -> int:
    """Bytes of one keep-alive JSON answer (the raw clients read exactly this much)."""
    return len(_KEEP_ALIVE)


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


_sse_cache: dict[tuple[int, bool], bytes] = {}


def _sse_response(events: int, *, close: bool) -> bytes:
    key = (events, close)
    answer = _sse_cache.get(key)
    if answer is None:
        head = _SSE_HEAD + (b"connection: close\r\n" if close else b"") + b"\r\n"
        answer = head + _chunk(SSE_EVENT) * events + _chunk(_SSE_DONE) + b"0\r\n\r\n"
        if len(_sse_cache) < 64:
            _sse_cache[key] = answer
    return answer


def _events_in(target: bytes) -> int:
    _, _, query = target.partition(b"?")
    for pair in query.split(b"&"):
        name, _, value = pair.partition(b"=")
        if name == b"n" and value.isdigit():
            return int(value)
    return 100


class _Protocol(asyncio.Protocol):
    __slots__ = ("buffer", "counters", "transport")

    def __init__(self, counters: Any) -> None:
        self.counters = counters
        self.buffer = b""
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.counters[CONNECTIONS] += 1

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        out = []
        close = False
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buffer[:end].lower()
            length = 0
            at = head.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = head.find(b"\r\n", at + 2)
                length = int(head[at + 17 : stop if stop >= 0 else len(head)])
            total = end + 4 + length
            if len(buffer) < total:
                break
            buffer = buffer[total:]
            self.counters[REQUESTS] += 1
            close = b"\r\nconnection: close" in head
            first_space = head.find(b" ")
            target = head[first_space + 1 : head.find(b" ", first_space + 1)]
            if target.startswith(b"/sse"):
                out.append(_sse_response(_events_in(target), close=close))
            else:
                out.append(_CLOSE if close else _KEEP_ALIVE)
            if close:
                break
        self.buffer = buffer
        if out:
            self.transport.write(out[0] if len(out) == 1 else b"".join(out))
        if close:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


def serve(port_out: Any, counters_path: str, cpu: int | None) -> None:
    """Serve on 127.0.0.1 (a free port, written to ``port_out``) until stdin closes."""
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})
    loop_name = "asyncio"
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        loop_name = "uvloop"
    with Path(counters_path).open("r+b") as file, mmap.mmap(file.fileno(), _COUNTERS_SIZE) as shared:
        counters = memoryview(shared).cast("q")

        async def main() -> None:
            loop = asyncio.get_running_loop()
            server = await loop.create_server(lambda: _Protocol(counters), "127.0.0.1", 0, backlog=4096)
            port = server.sockets[0].getsockname()[1]
            port_out.write(f"{port} {loop_name}\n")
            port_out.flush()
            # The harness closes our stdin when it is done (or dies): then stop.
            await loop.run_in_executor(None, sys.stdin.buffer.read)
            server.close()

        try:
            asyncio.run(main())
        finally:
            counters.release()


class ServerProcess:
    """The server, started as ``python -m benchmarks.server`` in a process of its own.

    Its counters live in a small memory-mapped file that both processes map, so reading them
    costs the server nothing.
    """

    def __init__(self, cpu: int | None = None) -> None:
        self.cpu = cpu
        self.port = 0
        self.loop = ""
        self.pid: int | None = None
        self._process: subprocess.Popen[str] | None = None
        self._file: Any = None
        self._shared: mmap.mmap | None = None
        self._counters: memoryview | None = None

    def __enter__(self) -> Self:
        self._file = tempfile.NamedTemporaryFile(prefix="wireline-bench-", suffix=".counters")
        self._file.write(b"\0" * _COUNTERS_SIZE)
        self._file.flush()
        self._shared = mmap.mmap(self._file.fileno(), _COUNTERS_SIZE)
        self._counters = memoryview(self._shared).cast("q")
        command = [sys.executable, "-m", "benchmarks.server", self._file.name]
        if self.cpu is not None:
            command.append(str(self.cpu))
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=_ROOT)
        self.pid = self._process.pid
        assert self._process.stdout is not None
        line = self._process.stdout.readline().split()
        if len(line) != 2:
            self.__exit__()
            msg = "the benchmark server did not start (see its error above)"
            raise RuntimeError(msg)
        self.port, self.loop = int(line[0]), line[1]
        return self

    def __exit__(self, *_: object) -> None:
        if self._process is not None:
            assert self._process.stdin is not None
            assert self._process.stdout is not None
            self._process.stdin.close()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process.stdout.close()
            self._process = None
        if self._counters is not None:
            self._counters.release()
            self._counters = None
        if self._shared is not None:
            self._shared.close()
            self._shared = None
        if self._file is not None:
            self._file.close()
            self._file = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def connections(self) -> int:
        """Connections accepted so far."""
        return int(self._counters[CONNECTIONS]) if self._counters is not None else 0

    @property
    def requests(self) -> int:
        """Requests answered so far."""
        return int(self._counters[REQUESTS]) if self._counters is not None else 0


if __name__ == "__main__":
    serve(sys.stdout, sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else None)
