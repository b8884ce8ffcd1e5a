"""The authoring API's edges: what a middleware may yield and return, and the errors when it slips."""

from __future__ import annotations

from typing import Any

import pytest

import wireline
from tests.conftest import Driver
from wireline.middleware import FunctionMiddleware, Middleware, Sleep, as_middleware
from wireline.testing import no_sleep
from wireline.transports import MockTransport

pytestmark = pytest.mark.anyio


def ok(request: Any) -> Any:
    return wireline.respond(request, json={"path": request.url.path})


def mock_stack(*layers: Any) -> wireline.Stack:
    return wireline.Stack(*layers, transport=MockTransport(ok))


async def test_a_generator_function_is_a_middleware(driver: Driver) -> None:
    """A plain generator function works as a layer, in every flavour and mode."""
    seen: list[int] = []

    def tag(request: Any) -> Any:
        request.headers["x-tag"] = "fn"
        response = yield request
        seen.append(response.status_code)
        return response

    stack = mock_stack(tag)
    assert isinstance(stack.layers[0], FunctionMiddleware)
    assert repr(stack.layers[0]).endswith("tag")
    client = driver.client(stack)
    response = await client.get("http://test/a")
    assert response.json() == {"path": "/a"}
    assert seen == [200]
    await client.aclose()


async def test_a_flow_that_returns_nothing_is_named(driver: Driver) -> None:
    """Forgetting `return response` gives an error that names the layer and the fix."""

    class Forgetful(Middleware):
        def handle(self, request: Any) -> Any:
            yield request

    client = driver.client(mock_stack(Forgetful()))
    with pytest.raises(
        TypeError, match=r"Forgetful\(\) returned None from handle\(\); a flow must return the response"
    ):
        await client.get("http://test/")
    await client.aclose()


async def test_a_flow_that_yields_something_else_is_named(driver: Driver) -> None:
    """Yielding what is not a request or a command is refused with the accepted choices."""

    class Confused(Middleware):
        def handle(self, request: Any) -> Any:
            return (yield "GET /")

    client = driver.client(mock_stack(Confused()))
    with pytest.raises(TypeError, match=r"yielded 'GET /'; a flow yields the request to send"):
        await client.get("http://test/")
    await client.aclose()


async def test_sleep_is_done_by_the_shell(driver: Driver) -> None:
    """Sleep waits in either mode; no_sleep() records the wait instead."""

    class Pause(Middleware):
        def handle(self, request: Any) -> Any:
            yield Sleep(1.5)
            return (yield request)

    client = driver.client(mock_stack(Pause()))
    with no_sleep() as waits:
        assert (await client.get("http://test/")).status_code == 200
    assert waits == [1.5]
    await client.aclose()


def test_sleep_refuses_a_negative_wait() -> None:
    """A negative or non-numeric wait is a ConfigError naming the value."""
    with pytest.raises(wireline.ConfigError, match=r"seconds: expected a number of seconds >= 0, got -1"):
        Sleep(-1)
    with pytest.raises(wireline.ConfigError):
        Sleep(True)


def test_anything_else_is_not_a_middleware() -> None:
    """A class instead of an instance, or a plain function, is refused with what to do."""
    with pytest.raises(
        wireline.ConfigError, match=r"middleware\[0\]: expected a middleware instance; call it first: Middleware\(\)"
    ):
        wireline.Stack(Middleware)

    def not_a_generator(request: Any) -> Any:
        return request

    with pytest.raises(
        wireline.ConfigError, match=r"middleware\[1\]: expected a Middleware instance or a generator function"
    ):
        wireline.Stack(Middleware(), not_a_generator)
    assert as_middleware(m := Middleware()) is m


def test_settings_and_repr_show_what_differs_from_defaults() -> None:
    """The repr shows the constructor settings that differ from their defaults, secrets redacted."""

    class Configured(Middleware):
        def __init__(self, *, level: str = "info", api_key: str | None = None, proxy: str | None = None) -> None:
            self.level = level
            self.api_key = api_key
            self._proxy = proxy

    assert repr(Configured()) == "Configured()"
    shown = repr(Configured(level="debug", api_key="sk-secret", proxy="http://user:pw@proxy:3128"))
    assert shown == "Configured(level='debug', api_key='REDACTED', proxy='http://REDACTED:REDACTED@proxy:3128')"
    assert "sk-secret" not in shown
