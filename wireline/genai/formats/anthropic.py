"""Anthropic messages (``POST /v1/messages``; also Vertex AI's ``:rawPredict``/``:streamRawPredict``).

JSON: ``{"type": "message", "id", "model", "content": [blocks], "stop_reason", "usage": {"input_tokens",
"output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"}}``.

SSE: named events. ``message_start`` carries the message (id, model, input usage); ``message_delta``
carries the stop reason and the cumulative usage; ``content_block_*`` carry the content (parsed only
when content is captured); ``ping`` and ``message_stop`` carry nothing we need.

Usage rule of the GenAI conventions for Anthropic: ``gen_ai.usage.input_tokens`` is
``input_tokens + cache_read_input_tokens + cache_creation_input_tokens`` (Anthropic's own
``input_tokens`` excludes cached tokens).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wireline import _semconv as sc
from wireline.genai._model import Message, Part, as_int, text_part, tool_call_part, tool_response_part
from wireline.genai.formats._base import NamedEventsReader, Reader, WireFormat, type_filter

__all__ = ["ANTHROPIC_MESSAGES", "AnthropicMessages"]

_PARAMS = (
    ("max_tokens", sc.GEN_AI_REQUEST_MAX_TOKENS),
    ("temperature", sc.GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", sc.GEN_AI_REQUEST_TOP_P),
    ("top_k", sc.GEN_AI_REQUEST_TOP_K),
    ("stop_sequences", sc.GEN_AI_REQUEST_STOP_SEQUENCES),
)
_WANTED = frozenset({"message_start", "message_delta", "error"})
_WANTED_WITH_CONTENT = _WANTED | {"content_block_start", "content_block_delta"}


class AnthropicMessages(WireFormat):
    """Anthropic messages (see the module docs)."""

    name = "anthropic_messages"
    params = _PARAMS

    def request_content(self, body: Mapping[str, Any]) -> tuple[list[Any] | None, list[Any] | None]:
        system = body.get("system")
        instructions: list[Part] | None = None
        if isinstance(system, str) and system:
            instructions = [text_part(system)]
        elif isinstance(system, list):
            instructions = _blocks(system)
        messages = body.get("messages")
        if not isinstance(messages, list):
            return instructions, None
        out: list[Message] = []
        for message in messages:
            if isinstance(message, Mapping):
                content = message.get("content")
                parts = [text_part(content)] if isinstance(content, str) else _blocks(content)
                out.append({"role": str(message.get("role") or "user"), "parts": parts})
        return instructions, out

    def reader(self, *, capture: bool) -> Reader:
        return _MessagesReader(capture=capture)


def _blocks(blocks: object) -> list[Part]:
    parts: list[Part] = []
    for block in blocks if isinstance(blocks, list) else ():
        if not isinstance(block, Mapping):
            continue
        kind = block.get("type")
        if kind == "text" and isinstance(block.get("text"), str):
            parts.append(text_part(block["text"]))
        elif kind == "tool_use":
            parts.append(tool_call_part(block.get("id"), block.get("name"), block.get("input")))
        elif kind == "tool_result":
            parts.append(tool_response_part(block.get("tool_use_id"), block.get("content")))
        else:
            parts.append({"type": str(kind or "unknown")})
    return parts


class _MessagesReader(NamedEventsReader):
    wanted = _WANTED
    wanted_with_content = _WANTED_WITH_CONTENT
    wanted_types = type_filter(_WANTED)

    def take(self, obj: Any, event: str | None) -> None:
        if not isinstance(obj, Mapping):
            return
        kind = obj.get("type")
        if kind == "message":
            self._message(obj)
        elif kind == "message_start" and isinstance(obj.get("message"), Mapping):
            self._message(obj["message"])
        elif kind == "message_delta":
            delta = obj.get("delta")
            if isinstance(delta, Mapping):
                self._stop(delta.get("stop_reason"))
            if isinstance(obj.get("usage"), Mapping):
                self._usage(obj["usage"])
        elif self.response.output is not None:
            self._content_event(kind, obj)

    def _message(self, message: Mapping[str, Any]) -> None:
        self.response.first(message.get("id"), message.get("model"))
        self._stop(message.get("stop_reason"))
        if isinstance(message.get("usage"), Mapping):
            self._usage(message["usage"])
        output = self.response.output
        if output is not None and isinstance(message.get("content"), list):
            for position, block in enumerate(message["content"]):
                self._block(position, block)

    def _stop(self, reason: object) -> None:
        if isinstance(reason, str) and reason:
            self.response.finish_reasons[0] = reason

    def _usage(self, usage: Mapping[str, Any]) -> None:
        # message_delta repeats the counts cumulatively; a count missing from it keeps its earlier value.
        response = self.response
        fresh = as_int(usage.get("input_tokens"))
        cache_read = as_int(usage.get("cache_read_input_tokens"))
        cache_creation = as_int(usage.get("cache_creation_input_tokens"))
        if cache_read is not None:
            response.cache_read_tokens = cache_read
        if cache_creation is not None:
            response.cache_creation_tokens = cache_creation
        if fresh is not None:
            response.input_tokens = fresh + (response.cache_read_tokens or 0) + (response.cache_creation_tokens or 0)
        output_tokens = as_int(usage.get("output_tokens"))
        if output_tokens is not None:
            response.output_tokens = output_tokens

    def _block(self, position: int, block: object) -> None:
        output = self.response.output
        if output is None or not isinstance(block, Mapping):
            return
        kind = block.get("type")
        if kind == "text":
            output.text(0, block.get("text"))
        elif kind == "tool_use":
            arguments = block.get("input")
            output.tool(0, position, call_id=block.get("id"), name=block.get("name"), arguments=arguments or None)
        elif kind not in ("thinking", "redacted_thinking"):
            output.part(0, {"type": str(kind or "unknown")})

    def _content_event(self, kind: object, obj: Mapping[str, Any]) -> None:
        output = self.response.output
        position = as_int(obj.get("index")) or 0
        if kind == "content_block_start":
            self._block(position, obj.get("content_block"))
        elif kind == "content_block_delta" and output is not None:
            delta = obj.get("delta")
            if not isinstance(delta, Mapping):
                return
            if delta.get("type") == "text_delta":
                output.text(0, delta.get("text"))
            elif delta.get("type") == "input_json_delta":
                output.tool(0, position, arguments=delta.get("partial_json"))


ANTHROPIC_MESSAGES = AnthropicMessages()
