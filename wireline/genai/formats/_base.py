"""What every wire format provides: request attributes, request content, and a response reader."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from wireline import _semconv as sc
from wireline.genai._model import GenAIResponse

__all__ = ["NamedEventsReader", "Reader", "WireFormat", "copy_params"]


class Reader:
    """Reads one response of a wire format: a whole JSON body, or a stream's events one by one.

    For a stream, :meth:`wants` is asked first with the event's name and raw data; only wanted
    events are parsed (``json.loads``) and given to :meth:`take`. That keeps the cost of a long
    stream to a substring search per event: the id, the model, the finish reason and the usage sit
    in a few events at the start and the end. With content capture every event is wanted.
    """

    def __init__(self, *, capture: bool) -> None:
        self.response = GenAIResponse(capture=capture)
        self.capture = capture

    def wants(self, event: str | None, data: bytes) -> bool:
        """Whether a streamed event must be parsed (the default: all of them)."""
        return True

    def skip(self, event: str | None, data: bytes) -> None:
        """An event that was not wanted went by (formats that keep the last one override this)."""

    def take(self, obj: Any, event: str | None) -> None:
        """A parsed JSON object: the whole body, or one streamed event's data."""
        raise NotImplementedError

    def end(self) -> None:
        """The response ended; finish what is pending."""


class NamedEventsReader(Reader):
    """A reader of streams whose events are named (``event: message_start``), or typed in their data.

    Subclasses list the event types that hold what is read; the others are skipped unparsed.
    """

    wanted: ClassVar[frozenset[str]] = frozenset()
    #: The event types worth parsing when content is captured.
    wanted_with_content: ClassVar[frozenset[str]] = frozenset()
    #: A search for ``"type": "<one of wanted>"``, for streams that do not name their events.
    wanted_types: ClassVar[re.Pattern[bytes]]

    def wants(self, event: str | None, data: bytes) -> bool:
        if event is not None:
            return event in (self.wanted_with_content if self.capture else self.wanted)
        return self.capture or self.wanted_types.search(data) is not None


class WireFormat:
    """One provider API's wire format. Subclasses are stateless singletons.

    Class attributes:
        name: The format's name (``"openai_chat"``...).
        params: ``(body key, attribute)`` pairs of the request parameters copied to attributes.
    """

    name: ClassVar[str] = ""
    params: ClassVar[tuple[tuple[str, str], ...]] = ()

    def request_attributes(self, body: Mapping[str, Any], attributes: dict[str, Any]) -> None:
        """Add the ``gen_ai.request.*`` attributes ``body`` shows (model, stream, parameters)."""
        model_and_stream(body, attributes)
        copy_params(body, attributes, self.params)

    def request_content(self, body: Mapping[str, Any]) -> tuple[list[Any] | None, list[Any] | None]:
        """``(system_instructions, input_messages)`` in the conventions' shapes (content capture)."""
        return None, None

    def reader(self, *, capture: bool) -> Reader:
        raise NotImplementedError


def copy_params(body: Mapping[str, Any], attributes: dict[str, Any], params: tuple[tuple[str, str], ...]) -> None:
    """Copy request parameters to attributes: ``(body key, attribute)`` pairs, numbers and strings only."""
    for key, attribute in params:
        value = body.get(key)
        if value is None or isinstance(value, bool):
            continue
        if attribute == sc.GEN_AI_REQUEST_STOP_SEQUENCES:
            if isinstance(value, str):
                attributes[attribute] = [value]
            elif isinstance(value, list) and all(isinstance(item, str) for item in value):
                attributes[attribute] = list(value)
        elif attribute == sc.GEN_AI_REQUEST_CHOICE_COUNT:
            if isinstance(value, int) and value != 1:
                attributes[attribute] = value
        elif isinstance(value, (int, float)):
            attributes[attribute] = value


def model_and_stream(body: Mapping[str, Any], attributes: dict[str, Any]) -> None:
    model = body.get("model")
    if isinstance(model, str) and model:
        attributes[sc.GEN_AI_REQUEST_MODEL] = model
    if body.get("stream") is True:
        attributes[sc.GEN_AI_REQUEST_STREAM] = True


def type_filter(types: frozenset[str]) -> re.Pattern[bytes]:
    """A search for ``"type": "<one of types>"`` in raw event data (for streams without event names)."""
    alternatives = b"|".join(re.escape(t.encode()) for t in sorted(types))
    return re.compile(rb'"type"\s*:\s*"(?:' + alternatives + rb')"')
