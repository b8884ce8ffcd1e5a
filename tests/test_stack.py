"""The stack against a real server: order, short-circuits, repeated calls, streaming, pooling."""

from __future__ import annotations

import asyncio
import gc
import json
from typing import Any

import pytest

import wireline
from tests.conftest import Driver
from tests.servers import RunningServer
from wireline import extensions
from wireline.middleware import Close, Middleware, Read, Sleep, StreamEnd, observe
from wireline.testing import no_sleep

pytestmark = pytest.mark.anyio


class Note(Middleware):
    """Notes when its hooks run."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log

    def on_request(self, request: Any) -> None:
        self.log.append(f"{self.name}>")

    def on_response(self, request: Any, response: Any) -> None:
        self.log.append(f"<{self.name}")


class NoteFlow(Middleware):
    """Notes around the rest of the chain, as a flow."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log

    def handle(self, request: Any) -> Any:
        self.log.append(f"{self.name}>")
        response = yield request
        self.log.append(f"<{self.name}")
        return response


class Ends(Middleware):
    """Keeps how each response body ended."""

    def __init__(self) -> None:
        self.ends: list[StreamEnd] = []

    def on_response(self, request: Any, response: Any) -> None:
        observe(response, self)

    def on_end(self, end: StreamEnd) -> None:
        self.ends.append(end)


class TestOrder:
    async def test_first_listed_is_outermost(self, driver: Driver, make_stack: Any, server: RunningServer) -> None:
        """Requests pass the layers in the order listed, responses in reverse, hooks and flows alike."""
        log: list[str] = []
        stack = make_stack(Note("a", log), NoteFlow("b", log), Note("c", log))
        client = driver.client(stack)
        response = await client.get(f"{server.url}/echo")
        assert response.status_code == 200
        assert log == ["a>", "b>", "c>", "<c", "<b", "<a"]
        await client.aclose()

    async def test_request_changes_reach_the_server(
        self, driver: Driver, make_stack: Any, server: RunningServer
    ) -> None:
        """A header set by an outer layer is visible to inner layers and to the server."""
        seen_inside: list[str | None] = []

        class SetHeader(Middleware):
            def on_request(self, request: Any) -> None:
                request.headers["x-layer"] = "outer"

        class ReadHeader(Middleware):
            def handle(self, request: Any) -> Any:
                seen_inside.append(request.headers.get("x-layer"))
                return (yield request)

        client = driver.client(make_stack(SetHeader(), ReadHeader()))
        response = await client.get(f"{server.url}/echo")
        assert response.json()["headers"]["x-layer"] == "outer"
        assert seen_inside == ["outer"]
        await client.aclose()

    async def test_extensions_carry_data_between_layers(
        self, driver: Driver, make_stack: Any, server: RunningServer
    ) -> None:
        """Per-request data travels in request.extensions; the async chain marks its requests."""
        seen: list[Any] = []

        class Put(Middleware):
            def on_request(self, request: Any) -> None:
                request.extensions["wireline.test"] = "from outer"

        class Get(Middleware):
            def on_request(self, request: Any) -> None:
                seen.append((request.extensions["wireline.test"], extensions.is_async(request)))

        client = driver.client(make_stack(Put(), Get()))
        await client.get(f"{server.url}/echo")
        assert seen == [("from outer", driver.is_async)]
        await client.aclose()


class TestShortCircuit:
    async def test_hook_answers_without_sending(self, driver: Driver, make_stack: Any, server: RunningServer) -> None:
        """on_request returning a response answers the call; nothing reaches the server or inner layers."""
        log: list[str] = []

        class Canned(Middleware):
            def on_request(self, request: Any) -> Any:
                if request.url.path == "/cached":
                    return wireline.respond(request, 203, json={"cached": True})
                return None

        client = driver.client(make_stack(Canned(), Note("inner", log)))
        response = await client.get(f"{server.url}/cached")
        assert response.status_code == 203
        assert response.json() == {"cached": True}
        assert server.state.seen == []
        assert log == []
        await client.aclose()

    async def test_flow_answers_without_yielding(self, driver: Driver, make_stack: Any, server: RunningServer) -> None:
        """A flow that returns before yielding answers by itself, and outer observers still see the body end."""
        ends = Ends()

        class Offline(Middleware):
            def handle(self, request: Any) -> Any:
                if request.headers.get("x-offline"):
                    return wireline.respond(request, json={"offline": True})
                return (yield request)

        client = driver.client(make_stack(ends, Offline()))
        response = await client.get(f"{server.url}/echo", headers={"x-offline": "1"})
        assert response.json() == {"offline": True}
        assert server.state.seen == []
        assert [end.reason for end in ends.ends] == ["exhausted"]
        assert ends.ends[0].bytes == len(b'{"offline":true}')
        await client.aclose()


class TestCallingTheChainAgain:
    async def test_flow_sends_twice(self, driver: Driver, make_stack: Any, server: RunningServer) -> None:
        """A flow can send the same request twice (bodies replay); the caller gets what it returns."""
        statuses: list[int] = []

        class Twice(Middleware):
            def handle(self, request: Any) -> Any:
                first = yield request
                statuses.append(first.status_code)
                yield Close(first)
                yield Sleep(0.25)
                second = yield request
                statuses.append(second.status_code)
                return second

        client = driver.client(make_stack(Twice()))
        with no_sleep() as waits:
            response = await client.post(f"{server.url}/echo", content=b"payload")
        assert response.status_code == 200
        assert statuses == [200, 200]
        assert [seen.body for seen in server.state.seen] == [b"payload", b"payload"]
        assert waits == [0.25]
        await client.aclose()

    async def test_flow_catches_a_failure_and_answers(
        self, driver: Driver, make_stack: Any, server: RunningServer
    ) -> None:
        """An error from the rest of the chain is raised at the yield, where the flow can handle it."""
        caught: list[str] = []

        class Fallback(Middleware):
            def handle(self, request: Any) -> Any:
                try:
                    return (yield request)
                except Exception as exc:
                    caught.append(type(exc).__name__)
                    return wireline.respond(request, 299, text="fallback")

        class Boom(Middleware):
            def on_request(self, request: Any) -> None:
                raise ConnectionResetError("inner layer failed")

        client = driver.client(make_stack(Fallback(), Boom()))
        response = await client.get(f"{server.url}/echo")
        assert response.status_code == 299
        assert caught == ["ConnectionResetError"]
        await client.aclose()

    async def test_read_command_and_dropped_responses_are_closed(
        self, driver: Driver, make_stack: Any, server: RunningServer
    ) -> None:
        """Read gives a flow the body; a response it drops without closing is closed for it."""
        bodies: list[bytes] = []
        dropped: list[Any] = []

        class PeekThenResend(Middleware):
            def handle(self, request: Any) -> Any:
                first = yield request
                bodies.append((yield Read(first)))
                forgotten = yield request  # never closed by the flow
                dropped.append(forgotten)
                return (yield request)

        client = driver.client(make_stack(PeekThenResend()), headers={"x-n": "1"})
        response = await client.get(f"{server.url}/echo")
        assert response.status_code == 200
        assert json.loads(bodies[0])["path"] == "/echo"
        assert dropped[0].is_closed
        assert len(server.state.seen) == 3
        await client.aclose()


class TestStreaming:
    async def test_a_thousand_events_arrive_in_pieces(
        self, driver: Driver, make_stack: Any, server: RunningServer
    ) -> None:
        """Bodies flow chunk by chunk: the first piece arrives before the server has sent the last."""
        ends = Ends()
        client = driver.client(make_stack(ends, NoteFlow("flow", [])))
        async with client.stream("GET", f"{server.url}/sse?n=1000&gate=1") as stream:
            first = await stream.next()
            assert first.startswith(b"id: 0")
            assert server.state.sse_sent < 1000, "the server had sent everything: the body was buffered"
            server.state.gate.set()
            rest = await stream.rest()
        body = first + b"".join(rest)
        assert body.count(b"data: ") == 1000
        assert len(rest) >= 1
        [end] = ends.ends
        assert end.reason == "exhausted"
        assert end.bytes == len(body)
        assert end.chunks == 1 + len(rest)
        assert end.first_chunk_at is not None
        await client.aclose()

    async def test_an_early_close_is_heard(self, driver: Driver, make_stack: Any, server: RunningServer) -> None:
        """Closing a stream before its end tells observers "closed" with what passed so far."""
        ends = Ends()
        client = driver.client(make_stack(ends))
        async with client.stream("GET", f"{server.url}/sse?n=1000&gate=1") as stream:
            first = await stream.next()
            await stream.close()
        server.state.gate.set()
        [end] = ends.ends
        assert end.reason == "closed"
        assert end.bytes == len(first)
        await client.aclose()


class TestPool:
    async def test_two_clients_share_a_connection(self, driver: Driver, make_stack: Any, server: RunningServer) -> None:
        """Clients of one stack share its pool; closing one (as SDKs do) leaves the other working."""
        stack = make_stack()
        first = driver.client(stack)
        second = driver.client(stack)
        port_a = (await first.get(f"{server.url}/echo")).json()["client_port"]
        port_b = (await second.get(f"{server.url}/echo")).json()["client_port"]
        assert port_a == port_b
        await first.aclose()
        response = await second.get(f"{server.url}/echo")
        assert response.status_code == 200
        assert response.json()["client_port"] == port_a
        await second.aclose()

    async def test_transport_works_in_mounts(self, driver: Driver, make_stack: Any, server: RunningServer) -> None:
        """What stack.transport() returns is a real transport: it works mounted in a plain client."""
        log: list[str] = []
        stack = make_stack(Note("n", log))
        http = __import__(driver.flavor)
        if driver.is_async:
            client = http.AsyncClient(mounts={"http://127.0.0.1": stack.async_transport(driver.flavor)})
        else:
            client = http.Client(mounts={"http://127.0.0.1": stack.transport(driver.flavor)})
        response = await driver.wrap(client).get(f"{server.url}/echo")
        assert response.status_code == 200
        assert log == ["n>", "<n"]
        await driver.wrap(client).aclose()


def test_a_stack_serves_two_event_loops(flavor: str, server: RunningServer) -> None:
    """Each event loop gets its own pool; the first loop's pool is closed when that loop shuts down."""
    stack = wireline.Stack()
    client = stack.async_client(flavor)  # type: ignore[call-overload]

    async def call() -> int:
        response = await client.get(f"{server.url}/echo")
        return int(response.json()["client_port"])

    first = asyncio.run(call())
    assert stack._pools.describe()["async"] == 0, "the first loop's pool outlived its loop"
    second = asyncio.run(call())
    assert first != second  # a new connection for the new loop
    gc.collect()  # a leaked socket would surface here as a ResourceWarning (an error in this suite)
    stack.close()


def test_a_closed_stack_says_so(server: RunningServer) -> None:
    """Requests after close() fail with a message that says what happened and what to do."""
    with wireline.Stack() as stack:
        client = stack.client()
        assert client.get(f"{server.url}/echo").status_code == 200
    with pytest.raises(wireline.StackClosedError, match="stack is closed"):
        client.get(f"{server.url}/echo")


async def test_aclose_closes_this_loops_pools(server: RunningServer) -> None:
    """async with closes the pools of the running loop."""
    async with wireline.Stack() as stack:
        client = stack.async_client("httpx2")
        await client.get(f"{server.url}/echo")
        assert stack._pools.describe() == {"sync": 0, "async": 1}
    assert stack._pools.describe() == {"sync": 0, "async": 0}
    assert stack.closed
