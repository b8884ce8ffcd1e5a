"""The flow drivers' less common paths: what a flow received is closed whichever way it ends."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Driver
from tests.servers import RunningServer
from wireline.middleware import Middleware

pytestmark = pytest.mark.anyio


class FlowError(Exception):
    pass


async def test_a_flow_that_raises_after_receiving_closes_the_response(
    driver: Driver, make_stack: Any, server: RunningServer
) -> None:
    """The flow's own error reaches the caller, and the response it held goes back to the pool."""
    held: list[Any] = []

    class RaiseAfter(Middleware):
        def handle(self, request: Any) -> Any:
            response = yield request
            held.append(response)
            raise FlowError("decided to fail")

    client = driver.client(make_stack(RaiseAfter()))
    with pytest.raises(FlowError, match="decided to fail"):
        await client.get(f"{server.url}/echo")
    assert held[0].is_closed
    await client.aclose()


async def test_a_flow_may_return_a_response_other_than_the_one_received(
    driver: Driver, make_stack: Any, server: RunningServer
) -> None:
    """A new response around the received body keeps that body open; the caller reads it in full."""

    class Rewrap(Middleware):
        def handle(self, request: Any) -> Any:
            response = yield request
            return type(response)(299, headers=response.headers, stream=response.stream, request=request)

    client = driver.client(make_stack(Rewrap()))
    response = await client.get(f"{server.url}/echo")
    assert response.status_code == 299
    assert response.json()["path"] == "/echo"
    await client.aclose()


async def test_a_subclass_of_the_request_class_is_sent(driver: Driver, make_stack: Any, server: RunningServer) -> None:
    """Flows may yield a request of a subclass; it goes through like any request."""

    class Resend(Middleware):
        def handle(self, request: Any) -> Any:
            subclass = type("TaggedRequest", (type(request),), {})
            tagged = subclass(request.method, request.url, headers=request.headers, extensions=request.extensions)
            return (yield tagged)

    client = driver.client(make_stack(Resend()))
    response = await client.get(f"{server.url}/echo")
    assert response.status_code == 200
    await client.aclose()
