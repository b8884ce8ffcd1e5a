"""Every base transport behaves like the default: timeouts, errors, connection events, keep-alive, proxies.

Each test runs over every base transport wireline ships (``make_stack``) in every flavour and
mode it serves (``driver``), against real sockets: servers that stall, reset, lie about their
body or never read (``misbehaving``), and trustme certificates. (Proxies and TLS failures are
tested over every base transport in tests/middleware/test_proxy.py and tests/transports/test_tls.py.)
"""

from __future__ import annotations

import asyncio
import socket
import weakref
from typing import Any

import pytest

from tests.conftest import Driver
from tests.proxies import TLSFiles
from tests.servers import RunningServer
from tests.transports import misbehaving
from wireline.middleware import Middleware
from wireline.transports import Limits

pytestmark = pytest.mark.anyio

SHORT = 0.3  # seconds: the timeout under test; everything else gets 10


def timeout(flavor: str, **short: float) -> Any:
    return __import__(flavor).Timeout(10.0, **short)


async def first_chunk_then_read_timeout(driver: Driver, client: Any) -> None:
    """From a server that stalls after one chunk: that chunk, then the flavour's ReadTimeout."""
    http = __import__(driver.flavor)
    with misbehaving.raw_server(misbehaving.stall_after_first_chunk) as server:
        async with client.stream("GET", server.url) as stream:
            assert await stream.next() == b"first"
            with pytest.raises(http.ReadTimeout):
                await stream.next()
    await client.aclose()


class TestTimeouts:
    async def test_connect(self, driver: Driver, make_stack: Any) -> None:
        """A connection that cannot be made in time is a ConnectTimeout."""
        http = __import__(driver.flavor)
        client = driver.client(make_stack(), timeout=timeout(driver.flavor, connect=SHORT))
        with misbehaving.unreachable_port() as port, pytest.raises(http.ConnectTimeout):
            await client.get(f"http://127.0.0.1:{port}/")
        await client.aclose()

    async def test_read_while_waiting_for_the_answer(self, driver: Driver, make_stack: Any) -> None:
        """A server that takes the request and says nothing is a ReadTimeout."""
        http = __import__(driver.flavor)
        client = driver.client(make_stack(), timeout=timeout(driver.flavor, read=SHORT))
        with misbehaving.raw_server(misbehaving.never_answer) as server, pytest.raises(http.ReadTimeout):
            await client.get(server.url)
        await client.aclose()

    async def test_read_is_the_idle_time_between_chunks(self, driver: Driver, make_stack: Any) -> None:
        """The read timeout bounds the silence between chunks: the first chunk arrives, then ReadTimeout."""
        client = driver.client(make_stack(), timeout=timeout(driver.flavor, read=SHORT))
        await first_chunk_then_read_timeout(driver, client)

    async def test_a_read_timeout_changed_after_the_headers_bounds_the_body(
        self, driver: Driver, make_stack: Any
    ) -> None:
        """The read timeout is read at every read, as httpcore does: a layer may shorten it for the body."""

        class IdleTimeout(Middleware):
            def on_response(self, request: Any, response: Any) -> None:
                request.extensions["timeout"]["read"] = SHORT

        # No timeout of the client's own: only the layer's can end the wait.
        client = driver.client(make_stack(IdleTimeout()), timeout=None)
        await first_chunk_then_read_timeout(driver, client)

    async def test_write(self, driver: Driver, make_stack: Any) -> None:
        """A body the server does not read is a WriteTimeout once the socket's buffers are full."""
        http = __import__(driver.flavor)
        client = driver.client(make_stack(), timeout=timeout(driver.flavor, write=SHORT))
        body = b"x" * 32_000_000
        with (
            misbehaving.raw_server(misbehaving.never_read, receive_buffer=4096) as server,
            pytest.raises(http.WriteTimeout),
        ):
            await client.post(server.url, content=body)
        await client.aclose()

    async def test_pool(self, driver: Driver, make_stack: Any, server: RunningServer) -> None:
        """Waiting longer than the pool timeout for a free connection is a PoolTimeout."""
        http = __import__(driver.flavor)
        client = driver.client(make_stack(limits=Limits(max_connections=1)))
        async with client.stream("GET", f"{server.url}/sse?n=10&gate=1") as holding:
            await holding.next()  # the one connection is busy with this stream
            with pytest.raises(http.PoolTimeout):
                await client.get(f"{server.url}/echo", timeout=timeout(driver.flavor, pool=SHORT))
            server.state.gate.set()
            await holding.rest()
        assert (await client.get(f"{server.url}/echo")).status_code == 200  # free again
        await client.aclose()


FAILURES = [
    (misbehaving.close_without_answer, "RemoteProtocolError"),
    (misbehaving.truncated_body, "RemoteProtocolError"),
    (misbehaving.not_http, "RemoteProtocolError"),
    (misbehaving.reset_mid_body, "ReadError"),
]


class TestErrors:
    @pytest.mark.parametrize(("behaviour", "expected"), FAILURES, ids=[name for _, name in FAILURES])
    async def test_a_broken_server_raises_the_flavours_class(
        self, driver: Driver, make_stack: Any, behaviour: misbehaving.Behaviour, expected: str
    ) -> None:
        """Each failure is the flavour's own exception class, the one its default pool raises."""
        http = __import__(driver.flavor)
        client = driver.client(make_stack())
        with misbehaving.raw_server(behaviour) as server, pytest.raises(http.TransportError) as caught:
            await client.get(server.url)
        assert type(caught.value) is getattr(http, expected)
        await client.aclose()

    async def test_a_failing_request_body_raises_its_own_error(
        self, driver: Driver, make_stack: Any, server: RunningServer
    ) -> None:
        """An error from the caller's body stream reaches the caller as it is, not as a transport error."""
        client = driver.client(make_stack())

        class BodyFailedError(Exception):
            pass

        def pieces() -> Any:
            yield b"x" * 100_000
            raise BodyFailedError

        async def apieces() -> Any:
            for piece in pieces():
                yield piece

        with pytest.raises(BodyFailedError):
            await client.post(f"{server.url}/echo", content=apieces() if driver.is_async else pieces())
        assert (await client.get(f"{server.url}/echo")).status_code == 200  # the pool is fine
        await client.aclose()

    async def test_a_header_with_a_line_break_is_refused(self, driver: Driver, make_stack: Any) -> None:
        """A header that would split the request is the flavour's LocalProtocolError, and nothing is sent."""
        http = __import__(driver.flavor)
        client = driver.client(make_stack())
        with misbehaving.raw_server(misbehaving.echo_each_request) as server:
            with pytest.raises(http.LocalProtocolError):
                await client.get(server.url, headers={"x-injected": "a\r\nGET /other HTTP/1.1"})
            assert (await client.get(server.url)).status_code == 200  # the pool is fine
        await client.aclose()

    async def test_a_refused_connection_is_a_connect_error(self, driver: Driver, make_stack: Any) -> None:
        http = __import__(driver.flavor)
        client = driver.client(make_stack())
        with pytest.raises(http.ConnectError):
            await client.get(f"http://127.0.0.1:{misbehaving.closed_port()}/")
        await client.aclose()

    async def test_connection_retries_are_made_and_reported(self, driver: Driver, make_stack: Any) -> None:
        """retries=2 makes three connection attempts; each retry is a connection.retry event."""
        http = __import__(driver.flavor)
        events: list[str] = []
        client = driver.client(make_stack(retries=2))
        with pytest.raises(http.ConnectError):
            await client.get(
                f"http://127.0.0.1:{misbehaving.closed_port()}/", extensions={"trace": recorder(driver, events)}
            )
        assert events.count("connection.retry.started") == 2
        assert events.count("connection.connect_tcp.started") == 3
        await client.aclose()


def recorder(driver: Driver, events: list[str], infos: dict[str, Any] | None = None) -> Any:
    """A ``trace`` extension callback of the driver's mode that records event names (and infos)."""

    def record(name: str, info: dict[str, Any]) -> None:
        events.append(name)
        if infos is not None:
            infos[name] = info

    if not driver.is_async:
        return record

    async def arecord(name: str, info: dict[str, Any]) -> None:
        record(name, info)

    return arecord


REQUEST_EVENTS = [
    "http11.send_request_headers.started",
    "http11.send_request_headers.complete",
    "http11.send_request_body.started",
    "http11.send_request_body.complete",
    "http11.receive_response_headers.started",
    "http11.receive_response_headers.complete",
    "http11.receive_response_body.started",
    "http11.receive_response_body.complete",
    "http11.response_closed.started",
    "http11.response_closed.complete",
]


class TestConnectionEvents:
    async def test_a_new_then_a_reused_connection(self, driver: Driver, make_stack: Any, server: RunningServer) -> None:
        """httpcore's events, in httpcore's order: connecting only when a connection is new."""
        events: list[str] = []
        infos: dict[str, Any] = {}
        client = driver.client(make_stack())
        trace = recorder(driver, events, infos)
        await client.post(f"{server.url}/echo", content=b"hello", extensions={"trace": trace})
        assert events == ["connection.connect_tcp.started", "connection.connect_tcp.complete", *REQUEST_EVENTS]
        assert infos["connection.connect_tcp.started"]["port"] == server.port
        http_version, status, _, headers = infos["http11.receive_response_headers.complete"]["return_value"]
        assert (http_version, status) == (b"HTTP/1.1", 200)
        assert (b"x-request-id", b"req-1") in [(key.lower(), value) for key, value in headers]
        events.clear()
        async with client.stream("GET", f"{server.url}/sse?n=3", extensions={"trace": trace}) as stream:
            await stream.rest()
        assert events == REQUEST_EVENTS
        await client.aclose()

    async def test_tls_is_reported(
        self, driver: Driver, make_stack: Any, https_server: RunningServer, tls_files: TLSFiles
    ) -> None:
        """A TLS connection reports start_tls after connecting, with the server name."""
        events: list[str] = []
        infos: dict[str, Any] = {}
        client = driver.client(make_stack(verify=tls_files.ca_file))
        await client.get(f"{https_server.url}/echo", extensions={"trace": recorder(driver, events, infos)})
        assert events[:4] == [
            "connection.connect_tcp.started",
            "connection.connect_tcp.complete",
            "connection.start_tls.started",
            "connection.start_tls.complete",
        ]
        assert infos["connection.start_tls.started"]["server_hostname"] == "127.0.0.1"
        stream = infos["connection.start_tls.complete"]["return_value"]
        assert stream.get_extra_info("ssl_object") is not None
        await client.aclose()

    async def test_a_failed_answer_is_reported(self, driver: Driver, make_stack: Any) -> None:
        """A request that fails waiting for the answer ends with receive_response_headers.failed."""
        events: list[str] = []
        client = driver.client(make_stack())
        http = __import__(driver.flavor)
        with misbehaving.raw_server(misbehaving.close_without_answer) as server, pytest.raises(http.TransportError):
            await client.get(server.url, extensions={"trace": recorder(driver, events)})
        assert events[-3:] == [
            "http11.receive_response_headers.failed",
            "http11.response_closed.started",
            "http11.response_closed.complete",
        ]
        await client.aclose()


class TestResponse:
    async def test_extensions(self, driver: Driver, make_stack: Any, server: RunningServer) -> None:
        """http_version, reason_phrase and network_stream, as the default pool gives them."""
        client = driver.client(make_stack())
        response = await client.get(f"{server.url}/echo")
        assert response.http_version == "HTTP/1.1"
        assert response.reason_phrase == "OK"
        network_stream = response.extensions["network_stream"]
        assert network_stream.get_extra_info("server_addr") == ("127.0.0.1", server.port)
        assert network_stream.get_extra_info("client_addr")[1] == response.json()["client_port"]
        await client.aclose()

    async def test_one_network_stream_per_connection(
        self, driver: Driver, make_stack: Any, server: RunningServer
    ) -> None:
        """Responses on one connection share its network stream (layers tell reuse by it), weakly referable."""
        client = driver.client(make_stack())
        first = await client.get(f"{server.url}/echo")
        second = await client.get(f"{server.url}/echo")
        assert first.json()["client_port"] == second.json()["client_port"]
        assert first.extensions["network_stream"] is second.extensions["network_stream"]
        assert weakref.ref(first.extensions["network_stream"])() is not None
        await client.aclose()

    async def test_responses_without_a_body_one_after_another(
        self, driver: Driver, make_stack: Any, server: RunningServer
    ) -> None:
        """HEAD answers (no body, whatever their content-length) end at once, again and again."""
        client = driver.client(make_stack())
        for _ in range(3):
            response = await client.request("HEAD", f"{server.url}/echo")
            assert (response.status_code, response.content) == (200, b"")
        async with client.stream("HEAD", f"{server.url}/echo") as stream:
            assert await stream.rest() == []
        await client.aclose()

    async def test_informational_answers_are_skipped(self, driver: Driver, make_stack: Any) -> None:
        """100 Continue and 103 Early Hints before the answer: the client sees the final answer only."""
        client = driver.client(make_stack())
        with misbehaving.raw_server(misbehaving.informational_answers_first) as server:
            response = await client.post(server.url, content=b"body")
        assert (response.status_code, response.headers.get("x-final"), response.content) == (200, "yes", b"final")
        await client.aclose()

    async def test_socket_options_are_set(self, driver: Driver, make_stack: Any, server: RunningServer) -> None:
        """socket_options= are set on each new socket."""
        client = driver.client(make_stack(socket_options=[(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]))
        response = await client.get(f"{server.url}/echo")
        sock = response.extensions["network_stream"].get_extra_info("socket")
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        await client.aclose()

    async def test_a_request_body_arrives_whole(self, driver: Driver, make_stack: Any, server: RunningServer) -> None:
        """Small and large bodies, bytes and streamed, reach the server as sent."""
        client = driver.client(make_stack())
        large = bytes(range(256)) * 1024  # 256 KiB: sent in slices
        for body in (b"", b"small", large):
            response = await client.post(f"{server.url}/echo", content=body)
            assert response.json()["body"].encode("latin-1") == body
            assert response.json()["headers"].get("content-length") == str(len(body))
        if driver.is_async:

            async def pieces() -> Any:
                for piece in (b"one,", b"two,", b"three"):
                    yield piece

            response = await client.post(f"{server.url}/echo", content=pieces())
        else:
            response = await client.post(f"{server.url}/echo", content=iter([b"one,", b"two,", b"three"]))
        assert response.json()["body"] == "one,two,three"
        assert response.json()["headers"]["transfer-encoding"] == "chunked"
        await client.aclose()


class TestKeepAlive:
    async def test_an_idle_connection_expires(self, driver: Driver, make_stack: Any, server: RunningServer) -> None:
        """A connection idle longer than keepalive_expiry is not reused; within it, it is."""
        client = driver.client(make_stack(limits=Limits(keepalive_expiry=0.2)))
        first = (await client.get(f"{server.url}/echo")).json()["client_port"]
        assert (await client.get(f"{server.url}/echo")).json()["client_port"] == first
        await asyncio.sleep(0.4)
        assert (await client.get(f"{server.url}/echo")).json()["client_port"] != first
        await client.aclose()

    async def test_no_keep_alive(self, driver: Driver, make_stack: Any, server: RunningServer) -> None:
        """keepalive_expiry=0 keeps no connection: each request makes its own."""
        client = driver.client(make_stack(limits=Limits(keepalive_expiry=0, max_connections=None)))
        ports = {(await client.get(f"{server.url}/echo")).json()["client_port"] for _ in range(3)}
        assert len(ports) == 3
        await client.aclose()

    async def test_closing_the_stack_closes_every_connection(self, driver: Driver, make_stack: Any) -> None:
        """No connection outlives its stack, whatever state its responses were left in."""
        stack = make_stack()
        client = driver.client(stack)
        with misbehaving.raw_server(misbehaving.keep_alive_answers) as server:
            await client.get(server.url)
            async with client.stream("GET", server.url) as stream:
                await stream.next()  # left unread: this connection cannot go back to the pool
            await client.get(server.url)
            assert server.open_connections >= 1
            if driver.is_async:
                await stack.aclose()
            else:
                stack.close()
            await wait_until(lambda: server.open_connections == 0)
        await client.aclose()


async def test_a_cancelled_request_leaves_nothing_behind(make_stack: Any, server: RunningServer) -> None:
    """Cancelling a call mid-flight (asyncio.wait_for, a task group) closes its connection cleanly."""
    stack = make_stack()
    client = stack.async_client("httpx2")
    with misbehaving.raw_server(misbehaving.never_answer) as silent:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(client.get(silent.url), 0.2)
        await wait_until(lambda: silent.open_connections == 0)
    assert (await client.get(f"{server.url}/echo")).status_code == 200
    await stack.aclose()


async def wait_until(condition: Any, limit: float = 5.0) -> None:
    waited = 0.0
    while not condition():
        assert waited < limit, "condition not met in time"
        await asyncio.sleep(0.02)
        waited += 0.02
