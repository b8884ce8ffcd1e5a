"""Stream observation: every way a body can end, observers that fail, one wrapper per chain."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import wireline
from tests.conftest import Driver
from tests.servers import RunningServer
from wireline.middleware import Middleware, StreamEnd, observe
from wireline.streams import ObservedStream
from wireline.transports import MockTransport

pytestmark = pytest.mark.anyio


class Watcher(Middleware):
    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.ends: list[StreamEnd] = []
        self.streams: list[Any] = []

    def on_response(self, request: Any, response: Any) -> None:
        observe(response, self)
        self.streams.append(response.stream)

    def on_chunk(self, chunk: bytes) -> None:
        self.chunks.append(chunk)

    def on_end(self, end: StreamEnd) -> None:
        self.ends.append(end)


@pytest.fixture
def resetting_server() -> Iterator[str]:
    """A raw server that sends headers and part of a chunked body, then resets the connection."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
                    b"d\r\ndata: first\n\n\r\n"
                )
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    listener.close()


async def test_every_chunk_then_exhausted(driver: Driver, make_stack: Any, server: RunningServer) -> None:
    """Observers see each chunk as it passes, then one "exhausted" with the totals."""
    watcher = Watcher()
    client = driver.client(make_stack(watcher))
    async with client.stream("GET", f"{server.url}/sse?n=200") as stream:
        body = b"".join(await stream.rest())
    assert b"".join(watcher.chunks) == body
    [end] = watcher.ends
    assert (end.reason, end.error, end.bytes, end.chunks) == ("exhausted", None, len(body), len(watcher.chunks))
    assert end.duration >= 0
    await client.aclose()


async def test_a_reset_mid_stream_is_heard_as_failed(driver: Driver, make_stack: Any, resetting_server: str) -> None:
    """A reset while the body is read ends the stream "failed", with the error; the caller gets it too."""
    watcher = Watcher()
    client = driver.client(make_stack(watcher))
    http = __import__(driver.flavor)
    with pytest.raises(http.HTTPError):
        async with client.stream("GET", f"{resetting_server}/") as stream:
            await stream.rest()
    [end] = watcher.ends
    assert end.reason == "failed"
    assert isinstance(end.error, http.HTTPError)
    assert end.bytes == len(b"data: first\n\n")
    await client.aclose()


async def test_layers_share_one_wrapper(driver: Driver, make_stack: Any, server: RunningServer) -> None:
    """Two observing layers wrap the body once: the second joins the first wrapper."""
    outer, inner = Watcher(), Watcher()
    client = driver.client(make_stack(outer, inner))
    await client.get(f"{server.url}/sse?n=5")
    assert isinstance(inner.streams[0], ObservedStream)
    assert outer.streams[0] is inner.streams[0]
    assert len(outer.ends) == len(inner.ends) == 1
    await client.aclose()


async def test_a_failing_observer_is_contained(
    driver: Driver, make_stack: Any, server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    """An observer that raises is switched off and reported once; the body and other observers go on."""

    class Broken(Middleware):
        def on_response(self, request: Any, response: Any) -> None:
            observe(response, self)

        def on_chunk(self, chunk: bytes) -> None:
            raise RuntimeError("observer bug")

        def on_end(self, end: StreamEnd) -> None:
            raise AssertionError("a switched-off observer must not hear the end")

    healthy = Watcher()
    client = driver.client(make_stack(healthy, Broken()))
    with caplog.at_level(logging.ERROR, logger="wireline"):
        for _ in range(3):
            response = await client.get(f"{server.url}/sse?n=20")
            assert response.text.count("data: ") == 20
    assert [end.reason for end in healthy.ends] == ["exhausted"] * 3
    reports = [r for r in caplog.records if "Broken" in r.getMessage()]
    assert len(reports) == 1
    await client.aclose()


def test_a_body_already_read_is_replayed_to_the_observer(flavor: str) -> None:
    """Observing a response whose body was read already (built from content) reports it at once."""
    http = __import__(flavor)
    response = http.Response(200, content=b"hello")
    watcher = Watcher()
    observe(response, watcher)
    assert watcher.chunks == [b"hello"]
    assert [(e.reason, e.bytes, e.chunks) for e in watcher.ends] == [("exhausted", 5, 1)]


def test_an_observer_needs_a_method() -> None:
    """Something with neither on_chunk nor on_end is refused with the reason."""
    stack = wireline.Stack(transport=MockTransport(lambda request: wireline.respond(request, text="x")))

    class Nothing(Middleware):
        def on_response(self, request: Any, response: Any) -> None:
            observe(response, object())

    with pytest.raises(TypeError, match="needs on_chunk"), stack.with_layer(Nothing()).client() as client:
        client.get("http://test/")
