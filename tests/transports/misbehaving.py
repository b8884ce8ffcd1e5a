"""TCP servers on 127.0.0.1 that misbehave at the socket level, for timeout and error tests.

Each accepted connection is handed to a behaviour (a function of the socket) in a thread of its
own; behaviours that wait do so on the server's ``stop`` event, so leaving the ``with`` block
ends them. ``unreachable_port()`` is a listener whose backlog is full: connecting to it hangs,
which is how a connect timeout is provoked without leaving 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

__all__ = ["Behaviour", "RawServer", "closed_port", "raw_server", "unreachable_port"]

_WAIT_LIMIT = 30.0  # a waiting behaviour gives up after this long, so a broken test cannot hang


@dataclass
class RawServer:
    port: int
    stop: threading.Event = field(default_factory=threading.Event)
    connections: int = 0
    open_connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


Behaviour = Callable[[socket.socket, RawServer], None]


@contextlib.contextmanager
def raw_server(behaviour: Behaviour, *, receive_buffer: int | None = None) -> Iterator[RawServer]:
    """Run a server that gives every connection to ``behaviour``; yields it (``.url``, ``.port``)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if receive_buffer is not None:  # inherited by accepted sockets: a small window fills fast
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.05)
    server = RawServer(listener.getsockname()[1])
    threads: list[threading.Thread] = []

    def serve(conn: socket.socket) -> None:
        # OSError: the client went away, which is the point of most behaviours.
        try:
            with conn, contextlib.suppress(OSError):
                behaviour(conn, server)
        finally:
            with server.lock:
                server.open_connections -= 1

    def accept() -> None:
        while not server.stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with server.lock:
                server.connections += 1
                server.open_connections += 1
            thread = threading.Thread(target=serve, args=(conn,), daemon=True)
            thread.start()
            threads.append(thread)

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield server
    finally:
        server.stop.set()
        acceptor.join(5)
        listener.close()
        for thread in threads:
            thread.join(5)


@contextlib.contextmanager
def unreachable_port() -> Iterator[int]:
    """A port whose listener never accepts and whose backlog is full: connecting to it hangs."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def closed_port() -> int:
    """A port nothing listens on (connecting is refused)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    sock.close()
    return port


# -- behaviours -----------------------------------------------------------------------------


def read_head(conn: socket.socket) -> bytes:
    """Read a request up to the end of its headers."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def wait_for_client_to_leave(conn: socket.socket, server: RawServer) -> None:
    """Hold the connection, reading and dropping whatever comes, until the client closes it."""
    conn.settimeout(0.05)
    waited = 0.0
    while not server.stop.is_set() and waited < _WAIT_LIMIT:
        try:
            if not conn.recv(65536):
                return
        except TimeoutError:
            waited += 0.05


def never_answer(conn: socket.socket, server: RawServer) -> None:
    read_head(conn)
    wait_for_client_to_leave(conn, server)


def never_read(conn: socket.socket, server: RawServer) -> None:
    server.stop.wait(_WAIT_LIMIT)


def stall_after_first_chunk(conn: socket.socket, server: RawServer) -> None:
    read_head(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nfirst\r\n")
    wait_for_client_to_leave(conn, server)


def close_without_answer(conn: socket.socket, server: RawServer) -> None:
    read_head(conn)


def truncated_body(conn: socket.socket, server: RawServer) -> None:
    read_head(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly ten b")


def reset_mid_body(conn: socket.socket, server: RawServer) -> None:
    read_head(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly ten b")
    server.stop.wait(0.05)  # let the client take the headers and the first bytes
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a RST


def not_http(conn: socket.socket, server: RawServer) -> None:
    read_head(conn)
    conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")


def keep_alive_answers(conn: socket.socket, server: RawServer) -> None:
    """Answer every request on the connection (a 256 KiB body) until the client closes it."""
    body = b"x" * 262_144
    _answer_each_request(conn, server, lambda _request: _ok(body))


def echo_each_request(conn: socket.socket, server: RawServer) -> None:
    """Answer every request on the connection with its own bytes, head and body, until the client closes it."""
    _answer_each_request(conn, server, _ok)


def _ok(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(body) + body


def _answer_each_request(conn: socket.socket, server: RawServer, answer: Callable[[bytes], bytes]) -> None:
    """Send ``answer(request)`` for each request the connection brings, in order, until the client closes it."""
    conn.settimeout(0.05)
    waited = 0.0
    data = b""
    while not server.stop.is_set() and waited < _WAIT_LIMIT:
        try:
            chunk = conn.recv(65536)
        except TimeoutError:
            waited += 0.05
            continue
        if not chunk:
            return
        data += chunk
        while (split := _first_request(data)) is not None:
            request, data = split
            conn.sendall(answer(request))


def _first_request(data: bytes) -> tuple[bytes, bytes] | None:
    """The first whole request in ``data`` (a body framed by content-length) and what follows it."""
    head, end, rest = data.partition(b"\r\n\r\n")
    if not end:
        return None
    lengths = [line.split(b":", 1)[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
    length = int(lengths[0]) if lengths else 0
    if len(rest) < length:
        return None
    return head + end + rest[:length], rest[length:]


def informational_answers_first(conn: socket.socket, server: RawServer) -> None:
    """Answer with 100 Continue and 103 Early Hints before the final answer, all in one write."""
    read_head(conn)
    conn.sendall(
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\n"
        b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-final: yes\r\n\r\nfinal"
    )
    wait_for_client_to_leave(conn, server)


def answer_before_reading_body(conn: socket.socket, server: RawServer) -> None:
    """Refuse a request by its headers (413) without reading its body, then close."""
    read_head(conn)
    conn.sendall(b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 8\r\nconnection: close\r\n\r\ntoo big!")
    server.stop.wait(0.2)
