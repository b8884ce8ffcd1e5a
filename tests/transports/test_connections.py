"""``Stack.connections()``: the connections a stack's pools hold open, and the protocol base transports use."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

import wireline
from tests.conftest import Driver
from wireline.transports import MockTransport, OpenConnection, ReportsConnections, TransportSpec

pytestmark = pytest.mark.anyio


async def test_the_pools_connections_active_then_idle(driver: Driver, make_stack, server) -> None:
    stack = make_stack()
    client = driver.client(stack)
    assert stack.connections() == []
    async with client.stream("GET", f"{server.url}/sse?n=4&gate=1") as stream:
        await stream.next()
        [active] = stack.connections()
        assert (active.host, active.port, active.state, active.scheme) == ("127.0.0.1", server.port, "active", "http")
        server.state.gate.set()
        await stream.rest()
    [idle] = stack.connections()
    assert idle.state == "idle"
    assert idle.http_version == "1.1"
    await client.aclose()


class Reporting:
    """A built transport that reports its connections through the protocol."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def handle_request(self, request: Any) -> Any:
        return self.inner.handle_request(request)

    def open_connections(self) -> Iterable[OpenConnection]:
        return [OpenConnection("https", "api.example.com", 443, "idle", "2")]


class ReportingSpec(TransportSpec):
    def build(self, flavor: Any, *, asynchronous: bool) -> Any:
        inner = MockTransport(lambda request: wireline.respond(request, text="ok")).build(
            flavor, asynchronous=asynchronous
        )
        transport = Reporting(inner)
        assert isinstance(transport, ReportsConnections)
        return flavor.derived("ReportingTransport", lambda f: type("R", (Reporting, f.http.BaseTransport), {}))(inner)


def test_a_base_transport_reports_through_the_protocol() -> None:
    stack = wireline.Stack(transport=ReportingSpec())
    client = stack.client()
    client.get("https://api.example.com/")
    assert stack.connections() == [OpenConnection("https", "api.example.com", 443, "idle", "2")]
    stack.close()
    assert stack.connections() == []


def test_a_transport_that_says_nothing_reports_nothing() -> None:
    stack = wireline.Stack(transport=MockTransport(lambda request: wireline.respond(request, text="ok")))
    stack.client().get("https://api.example.com/")
    assert stack.connections() == []
    stack.close()
