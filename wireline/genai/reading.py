"""Reading both ends of an LLM call: the request body once, the response body as it streams by.

:func:`read_request` parses the request's JSON body (the SDKs send bytes, so it is in memory
already) for the model, the stream flag and the sampling parameters. :class:`ResponseParser` is a
stream observer: it decodes and frames the response as chunks pass (see :mod:`~wireline.genai.framing`)
and hands the events its wire format wants to that format's reader. It never keeps more than one
event, except a plain JSON body, which is one event by nature (kept up to a cap).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

from wireline import _semconv as sc
from wireline.genai._model import GenAIResponse, dumps
from wireline.genai.endpoints import Endpoint
from wireline.genai.framing import (
    Framer,
    FramingError,
    JSONArrayFramer,
    LinesFramer,
    SSEFramer,
    WholeFramer,
    decoder_for,
)

__all__ = ["ResponseParser", "read_request"]

#: Request bodies larger than this are not parsed whole; the model and stream flag are looked for
#: near the start and the end instead (where SDKs put them; message content is in between).
MAX_PARSED_REQUEST_BYTES: Final = 4 * 1024 * 1024
_EDGE: Final = 8192
_MODEL_IN_TEXT: Final = re.compile(rb'"model"\s*:\s*"([^"\\]{1,256})"')
_STREAM_IN_TEXT: Final = re.compile(rb'"stream"\s*:\s*true')


def read_request(endpoint: Endpoint, body: bytes | None, *, capture: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(attributes, content_attributes)`` of an LLM request.

    ``attributes`` are the ``gen_ai.request.*`` ones; ``content_attributes`` (only when ``capture``)
    are ``gen_ai.input.messages`` and ``gen_ai.system_instructions``, as JSON strings.

    ``body`` is ``None`` when the request streams its body (nothing is read from it then).
    """
    attributes: dict[str, Any] = {}
    content: dict[str, Any] = {}
    parsed: Any = None
    if body:
        if len(body) <= MAX_PARSED_REQUEST_BYTES:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
        else:
            _edges(body, attributes)
    if isinstance(parsed, Mapping):
        endpoint.wire_format.request_attributes(parsed, attributes)
        if capture:
            system, messages = endpoint.wire_format.request_content(parsed)
            if system:
                content[sc.GEN_AI_SYSTEM_INSTRUCTIONS] = dumps(system)
            if messages:
                content[sc.GEN_AI_INPUT_MESSAGES] = dumps(messages)
    if endpoint.model is not None and (endpoint.model_in_path_wins or sc.GEN_AI_REQUEST_MODEL not in attributes):
        attributes[sc.GEN_AI_REQUEST_MODEL] = endpoint.model
    if endpoint.stream:
        attributes[sc.GEN_AI_REQUEST_STREAM] = True
    return attributes, content


def _edges(body: bytes, attributes: dict[str, Any]) -> None:
    for edge in (body[:_EDGE], body[-_EDGE:]):
        match = _MODEL_IN_TEXT.search(edge)
        if match is not None and sc.GEN_AI_REQUEST_MODEL not in attributes:
            attributes[sc.GEN_AI_REQUEST_MODEL] = match.group(1).decode("utf-8", "replace")
        if _STREAM_IN_TEXT.search(edge) is not None:
            attributes[sc.GEN_AI_REQUEST_STREAM] = True


class ResponseParser:
    """A stream observer that reads an LLM response into a :class:`GenAIResponse` as it passes.

    Its failures are its own: a body it cannot decode or frame only means no response data for the
    span; the body keeps flowing to the caller untouched.
    """

    __slots__ = ("_decoder", "_framer", "failed", "reader")

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        content_type: str | None,
        content_encoding: str | None,
        stream_requested: bool,
        capture: bool,
    ) -> None:
        self.reader = endpoint.wire_format.reader(capture=capture)
        self.failed = False
        self._framer: Framer | None = None
        try:
            self._decoder = decoder_for(content_encoding)
        except FramingError:
            self._decoder = None
            self.failed = True
            return
        media = (content_type or "").partition(";")[0].strip().lower()
        emit = self._event
        if media == "text/event-stream":
            self._framer = SSEFramer(emit)
        elif media in ("application/x-ndjson", "application/jsonl", "application/jsonlines"):
            self._framer = LinesFramer(emit)
        elif stream_requested and endpoint.wire_format.name == "gemini":
            self._framer = JSONArrayFramer(emit)
        else:
            self._framer = WholeFramer(self._body)

    def on_chunk(self, chunk: bytes) -> None:
        framer = self._framer
        if framer is None:
            return
        try:
            decoder = self._decoder
            framer.feed(decoder.decode(chunk) if decoder is not None else chunk)
        except Exception:  # noqa: BLE001 - a body we cannot read is the response's business, not ours
            self._give_up()

    def result(self) -> GenAIResponse | None:
        """What was read, once the body ended; ``None`` when the body could not be read."""
        framer = self._framer
        if framer is not None:
            try:
                framer.close()
                self.reader.end()
            except Exception:  # noqa: BLE001 - as in on_chunk
                self._give_up()
        return None if self.failed else self.reader.response

    def _give_up(self) -> None:
        self.failed = True
        self._framer = None

    def _body(self, event: str | None, data: bytes) -> None:
        # A whole JSON body: always parsed (``wants`` is about the events of a stream).
        try:
            obj = json.loads(data)
        except ValueError:
            return
        self.reader.take(obj, None)

    def _event(self, event: str | None, data: bytes) -> None:
        if not data or data == b"[DONE]":
            return
        reader = self.reader
        if reader.wants(event, data):
            try:
                obj = json.loads(data)
            except ValueError:
                return
            reader.take(obj, event)
        else:
            reader.skip(event, data)
