"""Cutting a response body into events as it arrives, without keeping more than one event.

- :class:`SSEFramer` -- server-sent events (``text/event-stream``): ``event:`` and ``data:`` lines,
  events separated by a blank line, any of the three line ends.
- :class:`LinesFramer` -- one JSON document per line (``application/x-ndjson``).
- :class:`JSONArrayFramer` -- a JSON array whose elements arrive one by one (Gemini's
  ``streamGenerateContent`` without ``alt=sse``).
- :class:`WholeFramer` -- a single JSON document, buffered up to a cap, given whole at the end.

Each calls ``emit(event_name, data)`` per complete event (``event_name`` is ``None`` where the
format has none). A body also passes through a :class:`Decoder` first when it is compressed
(``Content-Encoding``), since a transport's stream carries the bytes as they came off the wire.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from typing import Any, Final, Protocol

__all__ = [
    "Decoder",
    "Framer",
    "FramingError",
    "JSONArrayFramer",
    "LinesFramer",
    "SSEFramer",
    "WholeFramer",
    "decoder_for",
]

Emit = Callable[[str | None, bytes], None]

#: The longest single event (or whole JSON body) kept; beyond it the reader gives up on the response.
MAX_EVENT_BYTES: Final = 8 * 1024 * 1024


class FramingError(Exception):
    """The body is not what its framing promised, or an event outgrew :data:`MAX_EVENT_BYTES`."""


class Framer(Protocol):
    """**Protocol:** bytes in (:meth:`feed`), events out through ``emit``; :meth:`close` at the end."""

    def feed(self, data: bytes) -> None: ...

    def close(self) -> None: ...


# Event names seen, decoded once: a stream repeats a handful of them.
_names: dict[bytes, str] = {}
_NAMES_KEPT: Final = 256


def _event_name(raw: bytes) -> str:
    name = _names.get(raw)
    if name is None:
        name = raw.decode("utf-8", "replace").strip()
        if len(_names) < _NAMES_KEPT:
            _names[raw] = name
    return name


class SSEFramer:
    """Server-sent events, per the WHATWG event-stream format (``id:``/``retry:``/comments ignored)."""

    __slots__ = ("_buffer", "_emit", "_held_cr")

    def __init__(self, emit: Emit) -> None:
        self._emit = emit
        self._buffer = b""
        self._held_cr = False  # a chunk ended in "\r": the next may start with its "\n"

    def feed(self, data: bytes) -> None:
        if self._held_cr:
            data = b"\r" + data
            self._held_cr = False
        buffer = self._buffer + data if self._buffer else data
        if b"\r" in buffer:
            if buffer.endswith(b"\r"):
                buffer = buffer[:-1]
                self._held_cr = True
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        start = 0
        find = buffer.find
        emit = self._emit
        while True:
            end = find(b"\n\n", start)
            if end < 0:
                break
            if end > start:
                # Inline fast path: one "data: " line and no name (OpenAI, Gemini, Mistral, Groq...).
                if buffer.startswith(b"data: ", start) and find(b"\n", start, end) < 0:
                    emit(None, buffer[start + 6 : end])
                else:
                    self._event(buffer[start:end])
            start = end + 2
        rest = buffer[start:] if start else buffer
        if len(rest) > MAX_EVENT_BYTES:
            raise FramingError("an event longer than the limit")
        self._buffer = rest

    def close(self) -> None:
        rest, self._buffer = self._buffer.strip(b"\n"), b""
        if rest:
            self._event(rest)

    def _event(self, block: bytes) -> None:
        # Second fast path: "event: <name>" then one "data: " line (Anthropic, Cohere, OpenAI responses).
        if block.startswith(b"event: "):
            newline = block.find(b"\n")
            if newline > 0 and block.startswith(b"data: ", newline + 1) and block.find(b"\n", newline + 1) < 0:
                self._emit(_event_name(block[7:newline]), block[newline + 7 :])
                return
        name: str | None = None
        data: list[bytes] = []
        for line in block.split(b"\n"):
            if line.startswith(b"data:"):
                data.append(line[6:] if line[5:6] == b" " else line[5:])
            elif line.startswith(b"event:"):
                name = (line[7:] if line[6:7] == b" " else line[6:]).decode("utf-8", "replace")
        if data:
            self._emit(name, data[0] if len(data) == 1 else b"\n".join(data))


class LinesFramer:
    """One JSON document per line."""

    __slots__ = ("_buffer", "_emit")

    def __init__(self, emit: Emit) -> None:
        self._emit = emit
        self._buffer = b""

    def feed(self, data: bytes) -> None:
        buffer = self._buffer + data if self._buffer else data
        *lines, rest = buffer.split(b"\n")
        for line in lines:
            stripped = line.strip()
            if stripped:
                self._emit(None, stripped)
        if len(rest) > MAX_EVENT_BYTES:
            raise FramingError("a line longer than the limit")
        self._buffer = rest

    def close(self) -> None:
        rest, self._buffer = self._buffer.strip(), b""
        if rest:
            self._emit(None, rest)


_IN_STRING: Final = re.compile(rb'["\\]')
_STRUCTURE: Final = re.compile(rb'["{}\[\]]')
_QUOTE, _BACKSLASH = 0x22, 0x5C
_OPENERS, _CLOSERS = frozenset(b"{["), frozenset(b"}]")


class JSONArrayFramer:
    """The elements of a top-level JSON array, each emitted once its closing bracket arrives."""

    __slots__ = ("_depth", "_emit", "_in_string", "_pieces", "_size", "_skip_next")

    def __init__(self, emit: Emit) -> None:
        self._emit = emit
        self._depth = 0
        self._in_string = False
        self._skip_next = False  # an escape ended the last chunk: its character starts this one
        self._pieces: list[bytes] | None = None  # the element being read, from its first byte
        self._size = 0

    def feed(self, data: bytes) -> None:
        position = 1 if self._skip_next else 0
        self._skip_next = False
        # Where the element being read starts in this chunk (0: it began in an earlier one).
        start = 0 if self._pieces is not None else -1
        length = len(data)
        while position < length:
            if self._in_string:
                position = self._past_string(data, position)
                continue
            match = _STRUCTURE.search(data, position)
            if match is None:
                break
            at = match.start()
            position = at + 1
            byte = data[at]
            if byte == _QUOTE:
                self._in_string = True
            elif byte in _OPENERS:
                self._depth += 1
                if self._depth == 2:  # noqa: PLR2004 - an element of the top-level array begins
                    self._pieces, self._size, start = [], 0, at
            else:
                self._depth -= 1
                if self._depth == 1 and self._pieces is not None:
                    element = b"".join([*self._pieces, data[start : at + 1]])
                    self._pieces, start = None, -1
                    self._emit(None, element)
                elif self._depth < 0:
                    raise FramingError("a closing bracket without an opening one")
        if self._pieces is not None:
            self._keep(data[start:])

    def _past_string(self, data: bytes, position: int) -> int:
        """The position after the string's closing quote (or the chunk's end), escapes skipped."""
        match = _IN_STRING.search(data, position)
        if match is None:
            return len(data)
        at = match.start()
        if data[at] == _BACKSLASH:
            if at + 1 >= len(data):
                self._skip_next = True
            return at + 2
        self._in_string = False
        return at + 1

    def _keep(self, piece: bytes) -> None:
        self._size += len(piece)
        if self._size > MAX_EVENT_BYTES:
            raise FramingError("an array element longer than the limit")
        self._pieces.append(piece)  # type: ignore[union-attr] # kept only while an element is open

    def close(self) -> None:
        self._pieces = None


class WholeFramer:
    """One JSON document: kept (up to the cap) and emitted whole when the body ends."""

    __slots__ = ("_emit", "_pieces", "_size")

    def __init__(self, emit: Emit) -> None:
        self._emit = emit
        self._pieces: list[bytes] = []
        self._size = 0

    def feed(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > MAX_EVENT_BYTES:
            raise FramingError("a JSON body longer than the limit")
        self._pieces.append(data)

    def close(self) -> None:
        pieces, self._pieces = self._pieces, []
        if pieces:
            self._emit(None, pieces[0] if len(pieces) == 1 else b"".join(pieces))


# -- content decoding ------------------------------------------------------------------------


class Decoder:
    """Undoes one or more content codings (``gzip``, ``deflate``, ``br``, ``zstd``) chunk by chunk."""

    __slots__ = ("_steps",)

    def __init__(self, steps: list[Callable[[bytes], bytes]]) -> None:
        self._steps = steps

    def decode(self, data: bytes) -> bytes:
        for step in self._steps:
            data = step(data)
        return data


class _Deflate:
    """``deflate`` is zlib-wrapped by the RFC but raw in practice from some servers: try both, as httpx does."""

    __slots__ = ("_inner", "_raw_tried")

    def __init__(self) -> None:
        self._inner: Any = zlib.decompressobj()
        self._raw_tried = False

    def __call__(self, data: bytes) -> bytes:
        try:
            return self._inner.decompress(data)  # type: ignore[no-any-return]
        except zlib.error:
            if self._raw_tried:
                raise
            self._raw_tried = True
            self._inner = zlib.decompressobj(-zlib.MAX_WBITS)
            return self._inner.decompress(data)  # type: ignore[no-any-return]


def _brotli_step() -> Callable[[bytes], bytes] | None:
    try:
        import brotli  # type: ignore[import-not-found,unused-ignore]

        return brotli.Decompressor().process  # type: ignore[no-any-return,unused-ignore]
    except ImportError:
        pass
    try:
        import brotlicffi  # type: ignore[import-not-found,unused-ignore]

        return brotlicffi.Decompressor().decompress  # type: ignore[no-any-return,unused-ignore]
    except ImportError:
        return None


def _zstd_step() -> Callable[[bytes], bytes] | None:
    try:
        import zstandard  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return zstandard.ZstdDecompressor().decompressobj().decompress  # type: ignore[no-any-return,unused-ignore]


def decoder_for(content_encoding: str | None) -> Decoder | None:
    """A decoder for the ``Content-Encoding`` header's value, ``None`` when there is nothing to undo.

    Raises:
        FramingError: A coding we cannot undo here (``br`` without the brotli package, say).
    """
    if not content_encoding:
        return None
    steps: list[Callable[[bytes], bytes]] = []
    # Codings are listed in the order they were applied; undo them last first.
    for coding in reversed([c.strip().lower() for c in content_encoding.split(",")]):
        step: Callable[[bytes], bytes] | None
        if coding in ("", "identity"):
            continue
        if coding in ("gzip", "x-gzip"):
            step = zlib.decompressobj(zlib.MAX_WBITS | 16).decompress
        elif coding == "deflate":
            step = _Deflate()
        elif coding == "br":
            step = _brotli_step()
        elif coding == "zstd":
            step = _zstd_step()
        else:
            step = None
        if step is None:
            raise FramingError(f"content coding {coding!r} cannot be undone here")
        steps.append(step)
    return Decoder(steps) if steps else None
