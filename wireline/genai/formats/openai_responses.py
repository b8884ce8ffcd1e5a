"""OpenAI Responses API (``POST /v1/responses``; Azure ``/openai/v1/responses``).

JSON: a response object ``{"id", "model", "status", "incomplete_details": {"reason"}, "output": [items],
"usage": {"input_tokens", "output_tokens", "input_tokens_details": {"cached_tokens"},
"output_tokens_details": {"reasoning_tokens"}}}``.

SSE: named events (``event: response.output_text.delta``...) whose data carries ``"type"``. The
``response.created`` event holds the id and model, and the closing ``response.completed`` (or
``.incomplete``/``.failed``) holds the whole response, output and usage included: only those are parsed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wireline import _semconv as sc
from wireline.genai._model import Message, text_part, tool_call_part, tool_response_part
from wireline.genai.formats._base import NamedEventsReader, Reader, WireFormat, type_filter
from wireline.genai.formats._messages import content_parts
from wireline.genai.formats.openai_chat import openai_usage

__all__ = ["OPENAI_RESPONSES", "OpenAIResponses"]

_PARAMS = (
    ("max_output_tokens", sc.GEN_AI_REQUEST_MAX_TOKENS),
    ("temperature", sc.GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", sc.GEN_AI_REQUEST_TOP_P),
)
_WANTED = frozenset({"response.created", "response.completed", "response.incomplete", "response.failed", "error"})


class OpenAIResponses(WireFormat):
    """OpenAI responses (see the module docs)."""

    name = "openai_responses"
    params = _PARAMS

    def request_content(self, body: Mapping[str, Any]) -> tuple[list[Any] | None, list[Any] | None]:
        instructions = body.get("instructions")
        system = [text_part(instructions)] if isinstance(instructions, str) and instructions else None
        items = body.get("input")
        if isinstance(items, str):
            return system, [{"role": "user", "parts": [text_part(items)]}]
        if not isinstance(items, list):
            return system, None
        messages: list[Message] = []
        for item in items:
            if not isinstance(item, Mapping):
                continue
            kind = item.get("type")
            if kind == "function_call_output":
                messages.append(
                    {"role": "tool", "parts": [tool_response_part(item.get("call_id"), item.get("output"))]}
                )
            elif kind == "function_call":
                part = tool_call_part(item.get("call_id"), item.get("name"), item.get("arguments"))
                messages.append({"role": "assistant", "parts": [part]})
            elif "role" in item:
                messages.append({"role": str(item.get("role")), "parts": content_parts(item.get("content"))})
        return system, messages

    def reader(self, *, capture: bool) -> Reader:
        return _ResponsesReader(capture=capture)


class _ResponsesReader(NamedEventsReader):
    wanted = wanted_with_content = _WANTED
    wanted_types = type_filter(_WANTED)

    def take(self, obj: Any, event: str | None) -> None:
        if not isinstance(obj, Mapping):
            return
        nested = obj.get("response")
        self._response(nested if isinstance(nested, Mapping) else obj)

    def _response(self, body: Mapping[str, Any]) -> None:
        response = self.response
        response.first(body.get("id"), body.get("model"))
        status = body.get("status")
        details = body.get("incomplete_details")
        reason = details.get("reason") if isinstance(details, Mapping) else None
        if isinstance(reason, str) and reason:
            response.finish_reasons[0] = reason
        elif isinstance(status, str) and status not in ("in_progress", "queued"):
            response.finish_reasons[0] = status
        usage = body.get("usage")
        if isinstance(usage, Mapping):
            self._usage(usage)
        items = body.get("output")
        if response.output is not None and isinstance(items, list):
            self._output(items)

    def _usage(self, usage: Mapping[str, Any]) -> None:
        openai_usage(self.response, usage, inputs="input", outputs="output")

    def _output(self, items: list[Any]) -> None:
        output = self.response.output
        if output is None:
            return
        for position, item in enumerate(items):
            if not isinstance(item, Mapping):
                continue
            if item.get("type") == "message":
                output.role(0, item.get("role"))
                for part in item.get("content") or ():
                    if isinstance(part, Mapping) and part.get("type") == "output_text":
                        output.text(0, part.get("text"))
            elif item.get("type") == "function_call":
                arguments = item.get("arguments")
                output.tool(0, position, call_id=item.get("call_id"), name=item.get("name"), arguments=arguments)


OPENAI_RESPONSES = OpenAIResponses()
