"""Telemetry that ends with a response body -- and ends even when nobody finishes the body.

A span or a log line for a response is finished when its body is exhausted, closed, or fails
(:func:`wireline.observe`). A caller may also *abandon* a response: never read it, never close it.
Its telemetry must not stay open forever, so each :class:`Pending` record is also ended as
``"abandoned"`` when either:

- the body is dropped: its stream wrapper is garbage-collected unfinished; or
- it has been idle (no new chunk) for ``abandon_after`` seconds while still referenced.

Neither is acted on where it is noticed. A garbage-collection callback may run anywhere -- inside
an exporter holding its lock, say -- so it only queues the record; the queue is drained, and idle
records are looked for (at most once a second), at the next request through Logging or Tracing,
when a metric reader collects, and at interpreter exit. The record is then ended with the time of
the last activity wireline saw: the response headers, or the last check that found the body
progressing. Everything here is thread-safe without locks on the request path: a record is
claimed by popping it from a dict, which happens once.
"""

from __future__ import annotations

import atexit
import itertools
import threading
import weakref
from collections import deque
from dataclasses import dataclass
from time import perf_counter
from typing import TYPE_CHECKING, Final, Protocol

from wireline._faults import report_once
from wireline.streams import StreamEnd, watch_end

if TYPE_CHECKING:
    from wireline.typing import Response

__all__ = ["End", "Ended", "Pending", "abandon_all", "tick"]

#: Idle records are looked for at most this often (seconds).
SWEEP_INTERVAL: Final = 1.0


class End(Protocol):
    """How a watched response ended: a :class:`~wireline.StreamEnd`, or an :class:`Ended` (abandoned)."""

    @property
    def reason(self) -> str: ...
    @property
    def error(self) -> BaseException | None: ...
    @property
    def bytes(self) -> int | None: ...
    @property
    def chunks(self) -> int | None: ...
    @property
    def first_chunk_at(self) -> float | None: ...
    @property
    def ended_at(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Ended:
    """An abandonment, shaped like a :class:`~wireline.StreamEnd` (whose reasons do not include it).

    Attributes:
        reason: ``"abandoned"``.
        error: Always ``None``.
        bytes: Body bytes that passed (``None`` when unknown: a body collected unread).
        chunks: Chunks that passed (``None`` when unknown).
        first_chunk_at: ``perf_counter()`` of the first body chunk, if one passed.
        ended_at: ``perf_counter()`` of the last activity seen.
    """

    reason: str
    error: BaseException | None
    bytes: int | None
    chunks: int | None
    first_chunk_at: float | None
    ended_at: float


class _StreamRef(weakref.ref):  # type: ignore[type-arg]
    """A weak reference to a body's wrapper that knows which record it belongs to (no closure needed)."""

    __slots__ = ("key",)
    key: int


_open: dict[int, Pending] = {}
_dropped: deque[int] = deque()
_keys = itertools.count()
_last_sweep = perf_counter()
_exit_hook = threading.Lock()
_exit_registered = False


class Pending:
    """A per-response telemetry record that must end exactly once (subclasses implement :meth:`finish`).

    Call :meth:`watch` once the response headers are in.
    """

    __slots__ = ("_abandon_after", "_key", "_last_activity", "_seen_chunks", "_stream")

    def watch(self, response: Response, abandon_after: float | None, responded_at: float) -> None:
        """Finish this record when ``response``'s body ends, or when it is abandoned (see the module docs)."""
        key = self._key = next(_keys)
        self._abandon_after = abandon_after
        self._last_activity = responded_at
        self._seen_chunks = 0
        self._stream: _StreamRef | None = None
        _open[key] = self
        stream = watch_end(response, self.on_end)  # a body read already ends the record right here
        if stream is not None:
            # The reference's callback is a plain function: it must not keep this record alive.
            reference = self._stream = _StreamRef(stream, _collected)
            reference.key = key
            if not _exit_registered:
                _register_exit_hook()

    def on_end(self, end: StreamEnd) -> None:
        if _open.pop(self._key, None) is not None:
            try:
                self.finish(end)
            except Exception as exc:  # noqa: BLE001 - finish() contains its own; this is the last net
                report_once(f"{type(self).__qualname__}.finish", exc)

    def finish(self, ended: End) -> None:
        """End the telemetry (called once)."""
        raise NotImplementedError

    def _abandon(self) -> None:
        stream = self._stream() if self._stream is not None else None
        if stream is not None:
            ended = Ended("abandoned", None, stream.bytes, stream.chunks, stream.first_chunk_at, self._last_activity)
        else:
            ended = Ended("abandoned", None, None, None, None, self._last_activity)
        self._finish_safely(ended)

    def _finish_safely(self, ended: End) -> None:
        try:
            self.finish(ended)
        except Exception as exc:  # noqa: BLE001 - finish() contains its own; this is the last net
            report_once(f"{type(self).__qualname__}.finish", exc)

    def _idle(self, now: float) -> bool:
        """Whether the body has been idle too long; notes progress otherwise."""
        stream = self._stream() if self._stream is not None else None
        if stream is not None and stream.chunks != self._seen_chunks:
            self._seen_chunks = stream.chunks
            self._last_activity = now
            return False
        after = self._abandon_after
        return after is not None and now - self._last_activity > after


def _collected(reference: _StreamRef) -> None:
    # Runs inside garbage collection: queue only (deque.append takes no lock a caller might hold).
    key = reference.key
    if key in _open:
        _dropped.append(key)


def tick(now: float) -> None:
    """Called at every request: ends dropped records, and idle ones once a second."""
    if _dropped or now - _last_sweep >= SWEEP_INTERVAL:
        sweep(now)


def sweep(now: float | None = None) -> None:
    """End the records whose bodies were dropped, and those idle for longer than they allow."""
    global _last_sweep  # noqa: PLW0603 - one sweep clock for the process
    now = perf_counter() if now is None else now
    _last_sweep = now
    while _dropped:
        try:
            key = _dropped.popleft()
        except IndexError:  # another thread emptied it
            break
        record = _open.pop(key, None)
        if record is not None:
            record._abandon()  # noqa: SLF001 - same module
    if not _open:
        return
    for key, record in list(_open.items()):
        if record._idle(now) and _open.pop(key, None) is not None:  # noqa: SLF001
            record._abandon()  # noqa: SLF001


def abandon_all() -> None:
    """End every open record as abandoned (at interpreter exit, so no span is lost unexported)."""
    while _open:
        try:
            _, record = _open.popitem()
        except KeyError:
            break
        record._abandon()  # noqa: SLF001


def open_count() -> int:
    """How many records are waiting for their body to end (for tests and diagnostics)."""
    return len(_open)


def _register_exit_hook() -> None:
    # Registered at the first record, not at import: atexit runs hooks last-registered first, and
    # this must run before the OpenTelemetry SDK's own shutdown hook, registered when the
    # application built its providers (usually after importing wireline, before its first request).
    global _exit_registered  # noqa: PLW0603 - once per process
    with _exit_hook:
        if not _exit_registered:
            atexit.register(abandon_all)
            _exit_registered = True
