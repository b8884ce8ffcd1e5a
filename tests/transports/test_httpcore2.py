"""What is particular to the httpcore2 base transport: httpcore2's pool under httpx clients too.

Its behaviour like the default's is tested with every other base transport's (``make_stack``).
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

import wireline
from tests.conftest import Driver
from tests.servers import RunningServer
from wireline.transports import HTTPCore2Transport

pytestmark = pytest.mark.anyio


async def test_httpx_clients_get_httpcore2s_pool(driver: Driver, server: RunningServer) -> None:
    """Both flavours, both modes: the pool under the client is httpcore2's."""
    stack = wireline.Stack(transport=HTTPCore2Transport())
    client = driver.client(stack)
    assert (await client.get(f"{server.url}/echo")).status_code == 200
    pools: dict[Any, Any] = (
        stack._pools._sync if not driver.is_async else next(iter(stack._pools._by_loop.values())).pools
    )
    [transport] = pools.values()
    assert type(transport._pool).__module__.partition(".")[0] == "httpcore2"
    assert isinstance(
        transport,
        __import__(driver.flavor).AsyncBaseTransport if driver.is_async else __import__(driver.flavor).BaseTransport,
    )
    await client.aclose()
    if driver.is_async:
        await stack.aclose()
    else:
        stack.close()


def test_by_name_in_config() -> None:
    stack = wireline.Stack.from_config({"transport": {"use": "httpcore2", "http2": True}})
    assert isinstance(stack.base, HTTPCore2Transport)
    assert str(stack).endswith("base: HTTPCore2Transport(http2=True)")
    assert "httpcore2 pool (under httpx clients too)" in "\n".join(stack.explain("https://example.test/"))


def test_a_missing_httpx2_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from wireline import _flavors

    monkeypatch.setitem(sys.modules, "httpx2", None)
    monkeypatch.delitem(_flavors._flavors, "httpx2", raising=False)
    with (
        wireline.Stack(transport=HTTPCore2Transport()) as stack,
        pytest.raises(
            wireline.MissingDependencyError, match=r"'httpcore2' base transport .*pip install 'wireline\[httpx2\]'"
        ),
    ):
        stack.client("httpx").get("http://127.0.0.1:9/")
