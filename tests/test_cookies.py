"""Clients built by a stack keep and send cookies as httpx does (httpx ones with httpx2's fast check)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Driver
from tests.servers import RunningServer

pytestmark = pytest.mark.anyio


async def test_cookies_set_by_a_response_are_sent_back(driver: Driver, make_stack: Any, server: RunningServer) -> None:
    client = driver.client(make_stack(), cookies={"given": "1"})
    await client.get(f"{server.url}/echo")  # no Set-Cookie: nothing changes
    await client.get(f"{server.url}/status/200?h-set-cookie=session%3Dabc%3B%20Path%3D%2F")
    response = await client.get(f"{server.url}/echo")
    sent = sorted(part.strip() for part in response.json()["headers"]["cookie"].split(";"))
    assert sent == ["given=1", "session=abc"]
    assert client.inner.cookies["session"] == "abc"
    await client.aclose()


def test_httpx_clients_skip_responses_without_cookies(make_stack: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The urllib objects httpx builds to read cookies are not built for a response that sets none."""
    import httpx

    built: list[object] = []
    original = httpx.Cookies._CookieCompatRequest.__init__

    def counting(self: Any, request: Any) -> None:
        built.append(request)
        original(self, request)

    monkeypatch.setattr(httpx.Cookies._CookieCompatRequest, "__init__", counting)
    client = make_stack().async_client("httpx")
    request = client.build_request("GET", "http://example.test/")
    client.cookies.extract_cookies(httpx.Response(200, request=request))
    assert built == []
    client.cookies.extract_cookies(httpx.Response(200, headers={"set-cookie": "a=b"}, request=request))
    assert len(built) == 1
    assert client.cookies["a"] == "b"
