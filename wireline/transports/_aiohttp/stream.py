"""The response body: aiohttp's chunks as they arrive, as the flavour's ``AsyncByteStream``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from wireline.transports._aiohttp.exchange import Exchange, raise_mapped

if TYPE_CHECKING:
    import aiohttp

    from wireline._flavors import Flavor

__all__ = ["ResponseStream", "make_stream"]


class ResponseStream:
    """The response body as the flavour's ``AsyncByteStream``: aiohttp's chunks as they arrive."""

    def __init__(self, response: aiohttp.ClientResponse, exchange: Exchange, flavor: Flavor) -> None:
        self._response = response
        self._exchange = exchange
        self._flavor = flavor
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        content = self._response.content
        exchange = self._exchange
        traced = exchange.trace is not None
        if traced:
            await exchange.emit("http11.receive_response_body.started", {"request": exchange.request})
        try:
            while True:
                chunk = await content.readany()
                if not chunk:
                    break
                yield chunk
        except Exception as exc:  # noqa: BLE001 - re-raised as the flavour's class
            if traced:
                await exchange.emit("http11.receive_response_body.failed", {"exception": exc})
            raise_mapped(exc, exchange, self._flavor)
        if traced:
            await exchange.emit("http11.receive_response_body.complete", {"return_value": None})

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        exchange = self._exchange
        traced = exchange.trace is not None
        if traced:
            await exchange.emit("http11.response_closed.started", {})
        response = self._response
        if response.content.is_eof():
            response.release()  # the connection goes back to the pool
        else:
            response.close()  # a body not read to the end leaves the connection unusable
        if traced:
            await exchange.emit("http11.response_closed.complete", {"return_value": None})


def make_stream(flavor: Flavor) -> type:
    return type("AiohttpResponseStream", (ResponseStream, flavor.http.AsyncByteStream), {})
