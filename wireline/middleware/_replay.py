"""Sending a request body again: bytes are replayed, streams only when that is safe.

A request body is one of three things to ``Retry``:

- **bytes** (``content=b"..."``, ``json=``, ``data={...}``): httpx keeps them; every resend sends
  them again. Nothing to do.
- **a stream with a factory** (``request.extensions["wireline.body_factory"]``): each resend
  calls the factory for a fresh stream.
- **a stream without one** (a generator, a file, a multipart upload): it is wrapped in a
  :class:`ReplayableStream` that keeps what it passes on, up to ``body_buffer`` bytes. A resend
  replays what was kept, then goes on with the rest of the original stream. Once more than
  ``body_buffer`` bytes have gone by, the kept bytes are dropped and the body cannot be resent —
  never is half a body sent, nor the whole of one held in memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

from wireline.extensions import BODY_FACTORY

if TYPE_CHECKING:
    from wireline._flavors import Flavor

__all__ = ["Body", "ReplayableStream", "body_of"]


class ReplayableStream:
    """A request body stream that keeps what it sends, up to a cap, so it can be sent again.

    Made per flavour as a subclass of that flavour's ``SyncByteStream`` and ``AsyncByteStream``
    (httpx checks the request stream's type before sending).
    """

    __slots__ = ("_async_source", "_cap", "_inner", "_kept", "_kept_bytes", "_source", "overflowed", "sent")

    def __init__(self, inner: Any, cap: int) -> None:
        self._inner = inner
        self._cap = cap
        self._kept: list[bytes] = []
        self._kept_bytes = 0
        self._source: Iterator[bytes] | None = None
        self._async_source: AsyncIterator[bytes] | None = None
        self.overflowed = False
        self.sent = 0

    @property
    def replayable(self) -> bool:
        """Whether every byte taken from the original stream is still kept."""
        return not self.overflowed

    def _keep(self, chunk: bytes) -> None:
        self.sent += len(chunk)
        if self.overflowed:
            return
        self._kept_bytes += len(chunk)
        if self._kept_bytes > self._cap:
            self.overflowed = True
            self._kept = []  # too large to keep: free it now
            return
        self._kept.append(chunk)

    def __iter__(self) -> Iterator[bytes]:
        yield from list(self._kept)
        if self._source is None:
            self._source = iter(self._inner)
        for chunk in self._source:
            self._keep(chunk)
            yield chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in list(self._kept):
            yield chunk
        if self._async_source is None:
            self._async_source = aiter(self._inner)
        async for chunk in self._async_source:
            self._keep(chunk)
            yield chunk


class _FactoryStream:
    """A request body made afresh by the caller's factory (sync or async iterable)."""

    __slots__ = ("_made",)

    def __init__(self, made: Any) -> None:
        self._made = made

    def __iter__(self) -> Iterator[bytes]:
        yield from self._made

    async def __aiter__(self) -> AsyncIterator[bytes]:
        made = self._made
        if hasattr(made, "__aiter__"):
            async for chunk in made:
                yield chunk
        else:
            for chunk in made:
                yield chunk


class Body:
    """How one call's request body is sent again (see the module docs)."""

    __slots__ = ("_factory", "_flavor", "_tee")

    def __init__(self, flavor: Flavor, *, tee: ReplayableStream | None, factory: Callable[[], Any] | None) -> None:
        self._flavor = flavor
        self._tee = tee
        self._factory = factory

    def refusal(self, cap: int) -> str | None:
        """Why the body cannot be sent again, or ``None`` when it can."""
        tee = self._tee
        if tee is None or tee.replayable:
            return None
        return (
            f"the request body is a stream that had sent {tee.sent} bytes, more than body_buffer={cap} bytes "
            "kept to resend it; give a body factory in request.extensions['wireline.body_factory'] "
            "(a function returning the body afresh), or raise body_buffer"
        )

    def rewind(self, request: Any) -> None:
        """Make ``request`` ready to be sent again."""
        if self._factory is not None:
            cls = self._flavor.derived("FactoryStream", _factory_stream_class)
            request.stream = cls(self._factory())


def body_of(request: Any, flavor: Flavor, cap: int) -> Body | None:
    """How ``request``'s body can be resent: ``None`` for bytes (replayed as they are)."""
    stream = request.stream
    if isinstance(stream, flavor.http.ByteStream):
        return None
    factory = request.extensions.get(BODY_FACTORY)
    if factory is not None:
        if not callable(factory):
            from wireline.errors import ConfigError

            raise ConfigError(
                f"request.extensions[{BODY_FACTORY!r}]", factory, "a function that returns the body afresh"
            )
        return Body(flavor, tee=None, factory=factory)
    cls = flavor.derived("ReplayableStream", _replayable_stream_class)
    tee = cls(stream, cap)
    request.stream = tee
    return Body(flavor, tee=tee, factory=None)


def _replayable_stream_class(flavor: Flavor) -> type[ReplayableStream]:
    http = flavor.http
    return type("ReplayableStream", (ReplayableStream, http.SyncByteStream, http.AsyncByteStream), {"__slots__": ()})


def _factory_stream_class(flavor: Flavor) -> type[_FactoryStream]:
    http = flavor.http
    return type("FactoryStream", (_FactoryStream, http.SyncByteStream, http.AsyncByteStream), {"__slots__": ()})
