"""Watching a response body go by, chunk by chunk, without buffering it.

A layer that needs the end of a stream (a span, a log line, a duration, a byte count) registers
a :class:`StreamObserver` on the response with :func:`observe`. The body is wrapped **once** for
the whole chain: when a second layer observes the same response, its observer joins the first
wrapper instead of wrapping it again, so the cost per chunk grows by one call per observer, not
by one generator per layer.

Each observer hears about every chunk as it passes (``on_chunk``) and then exactly once how the
stream ended (``on_end``): ``"exhausted"`` (read to the end), ``"closed"`` (closed before the end,
e.g. the caller stopped reading), or ``"failed"`` (reading raised; the error is attached). The
wrapper serves sync and async iteration alike, so one observer class serves both kinds of client.

An observer that raises is contained: the body keeps flowing, the error is reported once through
the standard ``logging`` logger ``"wireline"``, and that observer hears nothing more.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from time import perf_counter
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol, runtime_checkable

from wireline._flavors import Flavor, flavor_of

if TYPE_CHECKING:
    from wireline.typing import Response

__all__ = ["EndReason", "StreamEnd", "StreamObserver", "observe"]

EndReason = Literal["exhausted", "closed", "failed"]

_log = logging.getLogger("wireline")


class StreamEnd(NamedTuple):
    """How a response body ended, as told to every observer once (immutable).

    A named tuple rather than a dataclass: one is made for every response body that is observed,
    and a tuple is made in a third of the time.

    Attributes:
        reason: ``"exhausted"``, ``"closed"`` (before the end) or ``"failed"``.
        error: The exception that ended the stream, when ``reason == "failed"``.
        bytes: Bytes that passed through (as delivered by the transport, before decoding).
        chunks: Chunks that passed through.
        started_at: ``time.perf_counter()`` when the first observer was attached (≈ headers received).
        first_chunk_at: ``perf_counter()`` when the first chunk passed, or ``None``.
        ended_at: ``perf_counter()`` when the stream ended.
    """

    reason: EndReason
    error: BaseException | None
    bytes: int
    chunks: int
    started_at: float
    first_chunk_at: float | None
    ended_at: float

    @property
    def duration(self) -> float:
        """Seconds from the first observer's attachment to the end of the stream."""
        return self.ended_at - self.started_at


@runtime_checkable
class StreamObserver(Protocol):
    """**Protocol:** something that watches a response body. Both methods are optional.

    Subclass it for the no-op defaults, or write any object with one or both methods.
    """

    def on_chunk(self, chunk: bytes) -> None:
        """Called with each chunk as it passes, before the next layer out sees it."""

    def on_end(self, end: StreamEnd) -> None:
        """Called once, when the stream is exhausted, closed early, or fails."""


def observe(response: Response, observer: object) -> None:
    """Have ``observer`` watch ``response``'s body from now on.

    Call it from a middleware once the response headers are in (``on_response`` or after
    ``yield request`` in ``handle``). ``observer`` needs ``on_chunk(bytes)``, ``on_end(StreamEnd)``
    or both. If the body was already read in full (a response built from ``content=``), the
    observer hears it at once: one chunk, then ``"exhausted"``.
    """
    stream = response.stream
    if isinstance(stream, ObservedStream) and stream.end is None:
        stream.add(observer)
        return
    if response.is_stream_consumed:
        _replay_read_body(response, observer)
        return
    cls = _wrappers.get(response.__class__)
    if cls is None:
        cls = _wrappers[response.__class__] = flavor_of(response).derived("ObservedStream", _observed_stream_class)
    wrapped = cls(stream)
    wrapped.add(observer)
    response.stream = wrapped


def watch_end(response: Response, on_end: Any) -> ObservedStream | None:
    """``observe(response, observer)`` for an observer with only ``on_end``, given as the callable.

    For wireline's own telemetry records (one per layer per response): it skips looking the
    methods up. Returns the body's wrapper, or ``None`` when the body was read already (``on_end``
    has been called then).
    """
    stream = response.stream
    if isinstance(stream, ObservedStream) and stream.end is None:
        stream._end_callbacks += (on_end,)  # noqa: SLF001 - same module
        return stream
    if response.is_stream_consumed:
        _replay_read_body(response, _EndOnly(on_end))
        return None
    cls = _wrappers.get(response.__class__)
    if cls is None:
        cls = _wrappers[response.__class__] = flavor_of(response).derived("ObservedStream", _observed_stream_class)
    wrapped: ObservedStream = cls(stream)
    wrapped._end_callbacks = (on_end,)  # noqa: SLF001 - same module
    response.stream = wrapped  # type: ignore[assignment] # a subclass of the flavour's byte streams
    return wrapped


class _EndOnly:
    __slots__ = ("on_end",)

    def __init__(self, on_end: Any) -> None:
        self.on_end = on_end


class ObservedStream:
    """A response body wrapped once for every observer of the chain (see the module docs).

    Made per flavour as a subclass of that flavour's ``SyncByteStream`` and ``AsyncByteStream``,
    because httpx checks those types before iterating.
    """

    __slots__ = (
        "__weakref__",  # telemetry notices a body dropped unread when its wrapper is collected
        "_chunk_callbacks",
        "_end_callbacks",
        "_inner",
        "bytes",
        "chunks",
        "end",
        "first_chunk_at",
        "started_at",
    )

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        # Tuples, replaced (not changed) when an observer joins or is dropped: a body may be read on
        # one thread while another layer adds an observer, and iterating a tuple is cheapest.
        self._chunk_callbacks: tuple[Any, ...] = ()
        self._end_callbacks: tuple[Any, ...] = ()
        self.bytes = 0
        self.chunks = 0
        self.started_at = perf_counter()
        self.first_chunk_at: float | None = None
        self.end: StreamEnd | None = None

    def add(self, observer: object) -> None:
        """Add an observer; it hears the chunks from now on and the end."""
        on_chunk, on_end = _callbacks(observer)
        if on_chunk is not None:
            self._chunk_callbacks += (on_chunk,)
        if on_end is not None:
            self._end_callbacks += (on_end,)

    # -- shared, I/O-free bookkeeping -----------------------------------------------------
    # Runs for every chunk of every observed body: the counting is written out in the shells'
    # loops, and only observers that watch chunks cost a call per chunk.

    def _passing(self, chunk: bytes) -> None:
        for callback in self._chunk_callbacks:
            try:
                callback(chunk)
            except Exception as exc:  # noqa: BLE001 - an observer must never break the body
                self._drop(callback, exc)

    def _finish(self, reason: EndReason, error: BaseException | None = None) -> None:
        if self.end is not None:
            return
        end = StreamEnd(reason, error, self.bytes, self.chunks, self.started_at, self.first_chunk_at, perf_counter())
        self.end = end
        self._chunk_callbacks = ()
        callbacks, self._end_callbacks = self._end_callbacks, ()
        for callback in callbacks:
            try:
                callback(end)
            except Exception as exc:  # noqa: BLE001 - nor the end of it
                _report_observer_error(callback, exc)

    def _drop(self, callback: Any, exc: Exception) -> None:
        self._chunk_callbacks = tuple(cb for cb in self._chunk_callbacks if cb is not callback)
        owner = getattr(callback, "__self__", None)
        if owner is not None:
            self._end_callbacks = tuple(cb for cb in self._end_callbacks if getattr(cb, "__self__", None) is not owner)
        _report_observer_error(callback, exc)

    # -- sync shell -----------------------------------------------------------------------

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._inner:
                if self.first_chunk_at is None:
                    self.first_chunk_at = perf_counter()
                self.bytes += len(chunk)
                self.chunks += 1
                if self._chunk_callbacks:
                    self._passing(chunk)
                yield chunk
        except GeneratorExit:
            self._finish("closed")
            raise
        except BaseException as exc:
            self._finish("failed", exc)
            raise
        self._finish("exhausted")

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            if self.end is None:
                self._finish("closed")

    # -- async shell ----------------------------------------------------------------------

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                if self.first_chunk_at is None:
                    self.first_chunk_at = perf_counter()
                self.bytes += len(chunk)
                self.chunks += 1
                if self._chunk_callbacks:
                    self._passing(chunk)
                yield chunk
        except GeneratorExit:
            self._finish("closed")
            raise
        except BaseException as exc:
            self._finish("failed", exc)
            raise
        self._finish("exhausted")

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            if self.end is None:
                self._finish("closed")


def _observed_stream_class(flavor: Flavor) -> type[ObservedStream]:
    http = flavor.http
    return type("ObservedStream", (ObservedStream, http.SyncByteStream, http.AsyncByteStream), {"__slots__": ()})


# Response class -> its flavour's ObservedStream class.
_wrappers: dict[type, type[Any]] = {}


def _callbacks(observer: object) -> tuple[Any, Any]:
    on_chunk = getattr(observer, "on_chunk", None)
    on_end = getattr(observer, "on_end", None)
    if on_chunk is None and on_end is None:
        msg = f"a stream observer needs on_chunk() or on_end(); {type(observer).__qualname__} has neither"
        raise TypeError(msg)
    return on_chunk, on_end


def _replay_read_body(response: Response, observer: object) -> None:
    on_chunk, on_end = _callbacks(observer)
    now = perf_counter()
    body = response.content
    try:
        if on_chunk is not None and body:
            on_chunk(body)
        if on_end is not None:
            on_end(StreamEnd("exhausted", None, len(body), 1 if body else 0, now, now if body else None, now))
    except Exception as exc:  # noqa: BLE001 - contained like any observer error
        _report_observer_error(on_end or on_chunk, exc)


_reported: set[type] = set()


def _report_observer_error(callback: Any, exc: Exception) -> None:
    """Report a failing observer once per observer class, then keep quiet about it."""
    owner = getattr(callback, "__self__", callback)
    if type(owner) in _reported:
        return
    _reported.add(type(owner))
    name = f"{type(owner).__module__}.{type(owner).__qualname__}"
    _log.error(
        "wireline: stream observer %s raised %s; it is switched off for this response and the body keeps flowing",
        name,
        type(exc).__name__,
        exc_info=exc,
    )
