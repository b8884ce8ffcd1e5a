"""A finished request leaves nothing for the garbage collector: the built-ins make no reference cycles.

An object in a reference cycle outlives its last user until the cyclic collector runs, and the
collector runs more often the more such objects there are. A cycle per request through the chain
holds the request, the response, their headers and the span for every request in between, and at
64 requests in flight costs several percent of the client's CPU time (see docs/performance.md).

The check is made with httpx2 clients: httpx's own ``BoundSyncStream`` / ``BoundAsyncStream`` hold
the response they belong to, a cycle that a bare httpx client makes too.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx2
import pytest

import wireline
from tests.middleware.conftest import Otel
from wireline.middleware import Logging, ProxyRouter, Retry, Tracing
from wireline.testing import no_sleep
from wireline.transports import MockTransport


class Chunks(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    """A body the client reads chunk by chunk (not one read at once, as ``content=`` is)."""

    def __iter__(self) -> Iterator[bytes]:
        yield from (b"data: one\n\n", b"data: two\n\n")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self:
            yield chunk


def full_stack(otel: Otel, answer: Callable[[Any], Any]) -> wireline.Stack:
    return wireline.Stack(
        Logging(),
        Retry(),
        Tracing(**otel.tracing_kwargs()),
        ProxyRouter({"*": None}),
        transport=MockTransport(answer),
    )


def answer_ok(request: Any) -> httpx2.Response:
    return httpx2.Response(200, stream=Chunks())


def answer_503_then_ok() -> Callable[[Any], httpx2.Response]:
    calls = 0

    def answer(request: Any) -> httpx2.Response:
        nonlocal calls
        calls += 1
        return httpx2.Response(503 if calls % 2 else 200, stream=Chunks())

    return answer


def cyclic_garbage(send: Callable[[], None]) -> list[str]:
    """The type names of what ``send()`` left for the cyclic collector (after two warm-up sends)."""
    send()
    send()
    gc.collect()
    gc.disable()
    try:
        send()
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        found = sorted({type(thing).__name__ for thing in gc.garbage})
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    return found


ANSWERS = {"answered": lambda: answer_ok, "retried after a 503": answer_503_then_ok}
READS = ["read whole", "streamed to the end", "closed early"]


@pytest.mark.parametrize("answers", list(ANSWERS))
@pytest.mark.parametrize("read", READS)
def test_sync_requests_leave_no_cycles(otel: Otel, answers: str, read: str) -> None:
    with full_stack(otel, ANSWERS[answers]()) as stack, stack.client("httpx2") as client, no_sleep():

        def send() -> None:
            if read == "read whole":
                assert client.get("http://127.0.0.1:9/x").status_code == 200
                return
            with client.stream("GET", "http://127.0.0.1:9/x") as response:
                if read == "streamed to the end":
                    assert b"".join(response.iter_raw()) == b"data: one\n\ndata: two\n\n"

        assert cyclic_garbage(send) == []
    assert otel.spans()  # the spans were made (and ended) all the same


@pytest.mark.parametrize("answers", list(ANSWERS))
@pytest.mark.parametrize("read", READS)
def test_async_requests_leave_no_cycles(otel: Otel, answers: str, read: str) -> None:
    stack = full_stack(otel, ANSWERS[answers]())
    client = stack.async_client("httpx2")

    async def send_once() -> None:
        if read == "read whole":
            assert (await client.get("http://127.0.0.1:9/x")).status_code == 200
            return
        async with client.stream("GET", "http://127.0.0.1:9/x") as response:
            if read == "streamed to the end":
                assert b"".join([chunk async for chunk in response.aiter_raw()]) == b"data: one\n\ndata: two\n\n"

    loop = asyncio.new_event_loop()
    try:
        with no_sleep():
            found = cyclic_garbage(lambda: loop.run_until_complete(send_once()))
        loop.run_until_complete(client.aclose())
        loop.run_until_complete(stack.aclose())
    finally:
        loop.close()
    assert found == []
    assert otel.spans()
