"""The response body: aiohttp's chunks as they arrive, as the flavour's ``AsyncByteStream``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from wireline.transports._aiohttp.exchange import Exchange, raise_mapped

if TYPE_CHECKING:
    from wireline._flavors import Flavor
    from wireline.transports._aiohttp.wire import AnyResponse

__all__ = ["ResponseStream", "make_stream"]


class ResponseStream:
    """The response body as the flavour's ``AsyncByteStream``: aiohttp's chunks as they arrive."""

    def __init__(self, response: AnyResponse, exchange: Exchange, flavor: Flavor) -> None:
        self._response = response
        self._exchange = exchange
        self._flavor = flavor
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        response = self._response
        content = response.content
        exchange = self._exchange
        traced = exchange.trace is not None
        if traced:
            await exchange.emit("http11.receive_response_body.started", {"request": exchange.request})
        # httpcore reads request.extensions["timeout"]["read"] at every read, and layers rely on
        # it: Retry shortens it to its idle timeout once the headers are in. Follow its changes.
        timeouts = exchange.request.extensions.get("timeout")
        read_timeout = exchange.read_timeout
        connection = response.connection
        protocol = None if connection is None else connection.protocol
        try:
            while True:
                if timeouts is not None and protocol is not None and timeouts.get("read") != read_timeout:
                    read_timeout = timeouts.get("read")
                    if not content.is_eof():
                        protocol.read_timeout = read_timeout
                        protocol.start_timeout()  # the wait from now on is the one bounded
                # One HTTP chunk at a time (or what arrived, without chunked encoding), as httpcore
                # yields them: an SSE event the server flushed as a chunk arrives as one piece.
                chunk, chunk_ended = await content.readchunk()
                if chunk:
                    yield chunk
                elif not chunk_ended or content.at_eof():
                    # The end of the body. (aiohttp's shared empty body, for HEAD and 204, answers
                    # (b"", True) forever once read: at_eof() is what says it is done.)
                    break
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
        exchange.closed()
        response = self._response
        if response.content.is_eof():
            response.release()  # the connection goes back to the pool
        else:
            response.close()  # a body not read to the end leaves the connection unusable
        if traced:
            await exchange.emit("http11.response_closed.complete", {"return_value": None})


def make_stream(flavor: Flavor) -> type:
    return type("AiohttpResponseStream", (ResponseStream, flavor.http.AsyncByteStream), {})
