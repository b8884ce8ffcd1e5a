"""Cohere v2 chat (``POST /v2/chat``).

JSON: ``{"id", "finish_reason", "message": {"role", "content": [{"type": "text", "text"}], "tool_calls"},
"usage": {"billed_units": {"input_tokens", "output_tokens"}, "tokens": {...}, "cached_tokens"}}``.

SSE: events whose data carries ``"type"``: ``message-start`` (the id), ``content-delta``,
``tool-call-start``/``-delta``, and ``message-end`` whose delta holds the finish reason and usage.
Cohere reports billed and used tokens; the GenAI conventions ask for the billable ones, so
``billed_units`` wins and ``tokens`` is the fallback. The response does not name the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wireline import _semconv as sc
from wireline.genai._model import as_int
from wireline.genai.formats._base import NamedEventsReader, Reader, WireFormat, type_filter
from wireline.genai.formats._messages import chat_messages

__all__ = ["COHERE_CHAT", "CohereChat"]

_PARAMS = (
    ("max_tokens", sc.GEN_AI_REQUEST_MAX_TOKENS),
    ("temperature", sc.GEN_AI_REQUEST_TEMPERATURE),
    ("p", sc.GEN_AI_REQUEST_TOP_P),
    ("k", sc.GEN_AI_REQUEST_TOP_K),
    ("frequency_penalty", sc.GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", sc.GEN_AI_REQUEST_PRESENCE_PENALTY),
    ("stop_sequences", sc.GEN_AI_REQUEST_STOP_SEQUENCES),
    ("seed", sc.GEN_AI_REQUEST_SEED),
)
_WANTED = frozenset({"message-start", "message-end"})
_WANTED_WITH_CONTENT = _WANTED | {"content-delta", "tool-call-start", "tool-call-delta"}


class CohereChat(WireFormat):
    """Cohere v2 chat (see the module docs)."""

    name = "cohere_chat"
    params = _PARAMS

    def request_content(self, body: Mapping[str, Any]) -> tuple[list[Any] | None, list[Any] | None]:
        return None, chat_messages(body.get("messages"))

    def reader(self, *, capture: bool) -> Reader:
        return _CohereReader(capture=capture)


class _CohereReader(NamedEventsReader):
    wanted = _WANTED
    wanted_with_content = _WANTED_WITH_CONTENT
    wanted_types = type_filter(_WANTED)

    def take(self, obj: Any, event: str | None) -> None:
        if not isinstance(obj, Mapping):
            return
        kind = obj.get("type")
        raw_delta = obj.get("delta")
        delta: Mapping[str, Any] = raw_delta if isinstance(raw_delta, Mapping) else {}
        response = self.response
        if kind is None:  # a whole JSON body
            response.first(obj.get("id"), None)
            self._finish(obj.get("finish_reason"), obj.get("usage"))
            self._message(obj.get("message"))
        elif kind == "message-start":
            response.first(obj.get("id"), None)
            self._message(delta.get("message"))
        elif kind == "message-end":
            self._finish(delta.get("finish_reason"), delta.get("usage"))
        elif response.output is not None:
            self._delta(kind, obj, delta)

    def _finish(self, reason: object, usage: object) -> None:
        response = self.response
        if isinstance(reason, str) and reason:
            response.finish_reasons[0] = reason
        if not isinstance(usage, Mapping):
            return
        billed = usage.get("billed_units")
        used = usage.get("tokens")
        for counts in (billed, used):
            if isinstance(counts, Mapping) and (
                counts.get("input_tokens") is not None or counts.get("output_tokens") is not None
            ):
                response.input_tokens = as_int(counts.get("input_tokens"))
                response.output_tokens = as_int(counts.get("output_tokens"))
                break
        cached = as_int(usage.get("cached_tokens"))
        if cached is not None:
            response.cache_read_tokens = cached

    def _message(self, message: object) -> None:
        output = self.response.output
        if output is None or not isinstance(message, Mapping):
            return
        output.role(0, message.get("role"))
        content = message.get("content")
        for part in content if isinstance(content, list) else ():
            if isinstance(part, Mapping) and part.get("type") == "text":
                output.text(0, part.get("text"))
        for position, call in enumerate(message.get("tool_calls") or ()):
            if isinstance(call, Mapping):
                function: Any = call.get("function") or {}
                output.tool(
                    0, position, call_id=call.get("id"), name=function.get("name"), arguments=function.get("arguments")
                )

    def _delta(self, kind: object, obj: Mapping[str, Any], delta: Mapping[str, Any]) -> None:
        output = self.response.output
        message = delta.get("message")
        if output is None or not isinstance(message, Mapping):
            return
        if kind == "content-delta":
            content = message.get("content")
            if isinstance(content, Mapping):
                output.text(0, content.get("text"))
        elif kind in ("tool-call-start", "tool-call-delta"):
            call = message.get("tool_calls")
            if isinstance(call, Mapping):
                function: Any = call.get("function") or {}
                output.tool(
                    0,
                    as_int(obj.get("index")) or 0,
                    call_id=call.get("id"),
                    name=function.get("name"),
                    arguments=function.get("arguments"),
                )


COHERE_CHAT = CohereChat()
