"""The Deliver command: a flow that stays with the body it handed up, and acts on its failures."""

from __future__ import annotations

import gc
from typing import Any

import pytest

import wireline
from tests.conftest import Driver
from tests.faults import Fault, FaultServer, chunk_payload, in_flight
from wireline.middleware import Deliver, Middleware
from wireline.transports import MockTransport

pytestmark = pytest.mark.anyio


class ResendOnce(Middleware):
    """Delivers; on a body failure resends once and delivers the new answer (or gives up)."""

    def __init__(self, *, give_up: str = "") -> None:
        self.failures: list[tuple[str, int]] = []
        self.closed = 0
        self.give_up = give_up

    def handle(self, request: Any) -> Any:
        response = yield request
        resent = False
        try:
            while True:
                deliver = Deliver(response)
                try:
                    yield deliver
                except Exception as exc:
                    self.failures.append((type(exc).__name__, deliver.bytes_delivered))
                    if self.give_up == "return":
                        return response  # the original error reaches the caller
                    if self.give_up == "raise":
                        raise RuntimeError("gave up") from exc
                    if resent:
                        raise
                    resent = True
                    response = yield request
        finally:
            self.closed += 1  # the flow is closed when the body ends


async def read(client: Any, url: str) -> bytes:
    async with client.stream("GET", url) as reader:
        return b"".join(await reader.rest())


def chunks(count: int) -> bytes:
    return b"".join(chunk_payload(index, 16) for index in range(count))


async def test_a_failed_body_goes_on_with_the_resent_answer(
    driver: Driver, make_stack: Any, fault_server: FaultServer
) -> None:
    layer = ResendOnce()
    stack = make_stack(layer)
    client = driver.client(stack)
    fault_server.plan(Fault.reset_mid(chunks=0), Fault.ok())
    assert await read(client, f"{fault_server.url}/s") == chunks(3)
    assert layer.failures == [("ReadError", 0)]
    assert layer.closed == 1
    assert fault_server.attempts == 2
    assert in_flight(stack) == 0
    await client.aclose()


async def test_the_flow_hears_how_many_bytes_reached_the_caller(
    driver: Driver, make_stack: Any, fault_server: FaultServer
) -> None:
    """The caller's read goes on after the bytes it had: here the resend repeats them (the flow's choice)."""
    layer = ResendOnce()
    stack = make_stack(layer)
    client = driver.client(stack)
    fault_server.plan(Fault.reset_mid(chunks=2), Fault.ok())
    assert await read(client, f"{fault_server.url}/s") == chunks(2) + chunks(3)
    assert layer.failures == [("ReadError", 32)]
    assert in_flight(stack) == 0
    await client.aclose()


@pytest.mark.parametrize("give_up", ["return", "raise"])
async def test_a_flow_that_gives_up_passes_an_error_to_the_caller(
    driver: Driver, make_stack: Any, fault_server: FaultServer, give_up: str
) -> None:
    http = __import__(driver.flavor)
    layer = ResendOnce(give_up=give_up)
    stack = make_stack(layer)
    client = driver.client(stack)
    fault_server.plan(Fault.reset_mid(chunks=1))
    expected = http.ReadError if give_up == "return" else RuntimeError
    with pytest.raises(expected):
        await read(client, f"{fault_server.url}/s")
    assert layer.closed == 1
    assert fault_server.attempts == 1
    assert in_flight(stack) == 0
    await client.aclose()


async def test_the_flow_is_closed_when_the_caller_stops_early(
    driver: Driver, make_stack: Any, fault_server: FaultServer
) -> None:
    layer = ResendOnce()
    stack = make_stack(layer)
    client = driver.client(stack)
    fault_server.plan(Fault.ok(chunks=5))
    async with client.stream("GET", f"{fault_server.url}/s") as reader:
        assert await reader.next() == chunk_payload(0, 16)
    assert layer.closed == 1
    assert layer.failures == []
    assert in_flight(stack) == 0
    await client.aclose()


@pytest.mark.parametrize("stop", ["read to the end", "closed early"])
async def test_a_body_that_ended_lets_go_of_its_response(
    driver: Driver, make_stack: Any, fault_server: FaultServer, stop: str
) -> None:
    """The delivered body's stream stops holding the response once the body ends.

    The response holds that stream (``response.stream``): were the stream to keep holding the
    response, each request's objects (response, request, headers, spans...) would wait for the
    garbage collector instead of going when the caller drops them.
    """
    stack = make_stack(ResendOnce())
    client = driver.client(stack)
    fault_server.plan(Fault.ok(chunks=3))
    async with client.stream("GET", f"{fault_server.url}/s") as reader:
        response = reader.response
        stream = _resumable_stream(response)
        assert response in gc.get_referents(stream)  # while the body is read, the flow may need it
        if stop == "read to the end":
            await reader.rest()
    assert stream.ended
    assert response not in gc.get_referents(stream)
    await client.aclose()


def _resumable_stream(response: Any) -> Any:
    """The delivering flow's stream under the client's own wrapper(s) of ``response.stream``."""
    from wireline.transports._chain import ResumableStream

    stream = response.stream
    while not isinstance(stream, ResumableStream):
        stream = stream._stream  # httpx's and httpx2's BoundSyncStream / BoundAsyncStream
    return stream


async def test_delivering_the_failed_response_again_is_named(driver: Driver, fault_server: FaultServer) -> None:
    class Stubborn(Middleware):
        def handle(self, request: Any) -> Any:
            response = yield request
            while True:
                try:
                    yield Deliver(response)
                except Exception:  # noqa: S112 - the mistake under test
                    continue

    with wireline.Stack(Stubborn()) as stack:
        client = driver.client(stack)
        fault_server.plan(Fault.reset_mid(chunks=0))
        with pytest.raises(TypeError, match=r"delivered a response whose body failed already; deliver a new one"):
            await read(client, f"{fault_server.url}/s")
        await client.aclose()


async def test_deliver_needs_a_response(driver: Driver) -> None:
    class Confused(Middleware):
        def handle(self, request: Any) -> Any:
            yield Deliver("body")  # type: ignore[arg-type]
            return (yield request)

    stack = wireline.Stack(Confused(), transport=MockTransport(lambda request: wireline.respond(request, text="ok")))
    client = driver.client(stack)
    with pytest.raises(TypeError, match=r"yielded Deliver\('body'\); deliver a response"):
        await client.get("http://test/")
    await client.aclose()
