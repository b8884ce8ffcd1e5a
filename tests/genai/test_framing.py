"""Framing and decoding: events come out whole however the body is cut, and compressed bodies decode."""

from __future__ import annotations

import gzip
import itertools
import json
import zlib
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from wireline.genai.framing import (
    MAX_EVENT_BYTES,
    FramingError,
    JSONArrayFramer,
    LinesFramer,
    SSEFramer,
    WholeFramer,
    decoder_for,
)

SSE = (
    b": a comment, ignored\n"
    b"event: message_start\n"
    b'data: {"a": 1}\n'
    b"\n"
    b"id: 7\n"
    b"retry: 100\n"
    b"data: first line\n"
    b"data: second line\n"
    b"\n"
    b"data:no-space\n"
    b"\n"
    b"event: ping\n\n"  # an event without data is not emitted
    b"data: [DONE]\n\n"
)
SSE_EVENTS = [
    ("message_start", b'{"a": 1}'),
    (None, b"first line\nsecond line"),
    (None, b"no-space"),
    (None, b"[DONE]"),
]


def frame(framer_class: Any, chunks: list[bytes]) -> list[tuple[str | None, bytes]]:
    events: list[tuple[str | None, bytes]] = []
    framer = framer_class(lambda name, data: events.append((name, bytes(data))))
    for chunk in chunks:
        framer.feed(chunk)
    framer.close()
    return events


def cut(data: bytes, points: list[int]) -> list[bytes]:
    points = sorted({p % (len(data) + 1) for p in points})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n", b"\r"], ids=["lf", "crlf", "cr"])
def test_sse_events_whole_whatever_the_line_ends(line_end: bytes) -> None:
    body = SSE.replace(b"\n", line_end)
    assert frame(SSEFramer, [body]) == SSE_EVENTS
    assert frame(SSEFramer, [body[i : i + 1] for i in range(len(body))]) == SSE_EVENTS


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0), max_size=12), st.sampled_from([b"\n", b"\r\n", b"\r"]))
def test_sse_events_whole_however_cut(points: list[int], line_end: bytes) -> None:
    body = SSE.replace(b"\n", line_end)
    assert frame(SSEFramer, cut(body, points)) == SSE_EVENTS


def test_sse_last_event_without_blank_line_is_kept() -> None:
    assert frame(SSEFramer, [b"data: 1\n\ndata: 2"]) == [(None, b"1"), (None, b"2")]


def test_sse_an_oversized_event_is_refused() -> None:
    framer = SSEFramer(lambda _name, _data: None)
    with pytest.raises(FramingError):
        framer.feed(b"data: " + b"x" * (MAX_EVENT_BYTES + 1))


ELEMENTS = [
    {"text": 'quote " bracket ] brace } backslash \\', "n": [1, [2, {"deep": "]"}]]},
    {"text": '\\"', "unicode": "é ☃"},
    {"empty": {}},
]
ARRAY = json.dumps(ELEMENTS, indent=2, ensure_ascii=False).encode()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0), max_size=15))
def test_json_array_elements_whole_however_cut(points: list[int]) -> None:
    events = frame(JSONArrayFramer, cut(ARRAY, points))
    assert [json.loads(data) for _, data in events] == ELEMENTS


def test_json_array_byte_by_byte() -> None:
    events = frame(JSONArrayFramer, [ARRAY[i : i + 1] for i in range(len(ARRAY))])
    assert [json.loads(data) for _, data in events] == ELEMENTS


def test_lines() -> None:
    body = b'{"a":1}\n\n{"b":2}\r\n{"c":3}'
    events = frame(LinesFramer, cut(body, [3, 9, 15]))
    assert [json.loads(data) for _, data in events] == [{"a": 1}, {"b": 2}, {"c": 3}]


def test_whole_body_is_one_event_and_capped() -> None:
    assert frame(WholeFramer, [b'{"a"', b": 1}"]) == [(None, b'{"a": 1}')]
    framer = WholeFramer(lambda _name, _data: None)
    with pytest.raises(FramingError):
        framer.feed(b"x" * (MAX_EVENT_BYTES + 1))


BODY = b'{"id": "x", "usage": {"prompt_tokens": 3}}' * 50


@pytest.mark.parametrize(
    ("coding", "encoded"),
    [
        ("gzip", gzip.compress(BODY)),
        ("deflate", zlib.compress(BODY)),
        ("deflate", zlib.compress(BODY)[2:-4]),  # raw deflate, as some servers send it
        ("identity", BODY),
    ],
    ids=["gzip", "deflate-zlib", "deflate-raw", "identity"],
)
def test_decoders_undo_content_codings_chunk_by_chunk(coding: str, encoded: bytes) -> None:
    decoder = decoder_for(coding)
    if decoder is None:
        assert coding == "identity"
        return
    out = b"".join(decoder.decode(encoded[i : i + 7]) for i in range(0, len(encoded), 7))
    assert out == BODY


def test_stacked_codings_are_undone_last_first() -> None:
    decoder = decoder_for("deflate, gzip")
    assert decoder is not None
    assert decoder.decode(gzip.compress(zlib.compress(BODY))) == BODY


def test_a_coding_we_cannot_undo_is_refused() -> None:
    with pytest.raises(FramingError, match="compress"):
        decoder_for("compress")
