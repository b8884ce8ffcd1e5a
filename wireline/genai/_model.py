"""What a GenAI parser learns from a response, and the message shapes of the GenAI conventions.

A wire format's reader fills a :class:`GenAIResponse` as it sees the response (one JSON body, or
the events of a stream); the tracer turns it into ``gen_ai.*`` attributes and metrics. Message
content (opt-in) uses the conventions' JSON shapes: a message is ``{"role", "parts"}`` and a part
is ``{"type": "text", "content"}``, ``{"type": "tool_call", "id", "name", "arguments"}``,
``{"type": "tool_call_response", "id", "response"}``, or ``{"type": <other>}`` for media, whose
data is never copied.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from wireline import _semconv as sc

__all__ = ["MAX_CAPTURED_CHARS", "GenAIResponse", "Output", "as_int", "dumps", "text_part"]

#: Captured text per message is cut at this many characters (content capture is opt-in).
MAX_CAPTURED_CHARS: Final = 1_000_000

Part = dict[str, Any]
Message = dict[str, Any]


def as_int(value: object) -> int | None:
    """A token count from JSON (ints, or floats such as Cohere's ``12.0``); ``None`` otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def text_part(text: str) -> Part:
    return {"type": "text", "content": text[:MAX_CAPTURED_CHARS]}


def dumps(value: object) -> str:
    """JSON for a span attribute: compact, non-ASCII kept."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


class GenAIResponse:
    """What is known about a model's answer; every field is ``None`` until seen."""

    __slots__ = (
        "cache_creation_tokens",
        "cache_read_tokens",
        "finish_reasons",
        "id",
        "input_tokens",
        "model",
        "output",
        "output_tokens",
        "reasoning_tokens",
    )

    def __init__(self, *, capture: bool = False) -> None:
        self.id: str | None = None
        self.model: str | None = None
        self.finish_reasons: dict[int, str] = {}
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.cache_read_tokens: int | None = None
        self.cache_creation_tokens: int | None = None
        self.reasoning_tokens: int | None = None
        self.output: Output | None = Output() if capture else None

    def first(self, response_id: object, model: object) -> None:
        """Record the id and model the first time they show (streams repeat them in every event)."""
        if self.id is None and isinstance(response_id, str) and response_id:
            self.id = response_id
        if self.model is None and isinstance(model, str) and model:
            self.model = model

    @property
    def has_usage(self) -> bool:
        return self.input_tokens is not None or self.output_tokens is not None

    def attributes(self) -> dict[str, Any]:
        """The ``gen_ai.response.*`` and ``gen_ai.usage.*`` attributes (opt-in content included)."""
        attributes: dict[str, Any] = {}
        if self.id is not None:
            attributes[sc.GEN_AI_RESPONSE_ID] = self.id
        if self.model is not None:
            attributes[sc.GEN_AI_RESPONSE_MODEL] = self.model
        if self.finish_reasons:
            attributes[sc.GEN_AI_RESPONSE_FINISH_REASONS] = [
                self.finish_reasons[i] for i in sorted(self.finish_reasons)
            ]
        counts = (
            (sc.GEN_AI_USAGE_INPUT_TOKENS, self.input_tokens),
            (sc.GEN_AI_USAGE_OUTPUT_TOKENS, self.output_tokens),
            (sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, self.cache_read_tokens),
            (sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, self.cache_creation_tokens),
            (sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, self.reasoning_tokens),
        )
        attributes.update({name: value for name, value in counts if value is not None})
        if self.output is not None and self.output.choices:
            attributes[sc.GEN_AI_OUTPUT_MESSAGES] = dumps(self.output.messages(self.finish_reasons))
        return attributes


class _Choice:
    __slots__ = ("parts", "role", "text", "text_length", "tools")

    def __init__(self) -> None:
        self.role = "assistant"
        self.text: list[str] = []
        self.text_length = 0
        # tool index -> [id, name, argument pieces]
        self.tools: dict[int, list[Any]] = {}
        self.parts: list[Part] = []  # parts that arrived whole (JSON bodies)


class Output:
    """The model's output messages as they arrive whole or in pieces (content capture only)."""

    __slots__ = ("choices",)

    def __init__(self) -> None:
        self.choices: dict[int, _Choice] = {}

    def _choice(self, index: int) -> _Choice:
        choice = self.choices.get(index)
        if choice is None:
            choice = self.choices[index] = _Choice()
        return choice

    def role(self, index: int, role: object) -> None:
        if isinstance(role, str) and role:
            self._choice(index).role = "assistant" if role in ("model", "CHATBOT") else role

    def text(self, index: int, text: object) -> None:
        """Add a piece of text to choice ``index`` (streams send many; bodies one)."""
        if not isinstance(text, str) or not text:
            return
        choice = self._choice(index)
        if choice.text_length < MAX_CAPTURED_CHARS:
            choice.text.append(text)
            choice.text_length += len(text)

    def tool(
        self, index: int, tool_index: int, *, call_id: object = None, name: object = None, arguments: object = None
    ) -> None:
        """Add to tool call ``tool_index`` of choice ``index``; streamed arguments arrive in pieces."""
        entry = self._choice(index).tools.setdefault(tool_index, [None, None, []])
        if isinstance(call_id, str) and call_id:
            entry[0] = call_id
        if isinstance(name, str) and name:
            entry[1] = name
        if isinstance(arguments, str):
            entry[2].append(arguments)
        elif arguments is not None:
            entry[2].append(dumps(arguments))

    def whole_tool(self, index: int, *, call_id: object, name: object, arguments: object) -> None:
        """Add a tool call that arrives whole (never in pieces) to choice ``index``."""
        self.tool(index, len(self._choice(index).tools), call_id=call_id, name=name, arguments=arguments)

    def part(self, index: int, part: Part) -> None:
        """Add a whole part (e.g. ``{"type": "image"}``) to choice ``index``."""
        self._choice(index).parts.append(part)

    def messages(self, finish_reasons: Mapping[int, str]) -> list[Message]:
        out: list[Message] = []
        for index in sorted(self.choices):
            choice = self.choices[index]
            parts: list[Part] = []
            if choice.text:
                parts.append(text_part("".join(choice.text)))
            parts.extend(choice.parts)
            for tool_index in sorted(choice.tools):
                tool_id, name, pieces = choice.tools[tool_index]
                parts.append(tool_call_part(tool_id, name, "".join(pieces)))
            message: Message = {"role": choice.role, "parts": parts}
            if index in finish_reasons:
                message["finish_reason"] = finish_reasons[index]
            out.append(message)
        return out


def tool_call_part(tool_id: object, name: object, arguments: object) -> Part:
    part: Part = {"type": "tool_call", "name": name if isinstance(name, str) else ""}
    if isinstance(tool_id, str) and tool_id:
        part["id"] = tool_id
    if isinstance(arguments, str):
        try:
            part["arguments"] = json.loads(arguments) if arguments else {}
        except ValueError:
            part["arguments"] = arguments[:MAX_CAPTURED_CHARS]
    elif arguments is not None:
        part["arguments"] = arguments
    return part


def tool_response_part(tool_id: object, response: object) -> Part:
    part: Part = {"type": "tool_call_response", "response": _plain(response)}
    if isinstance(tool_id, str) and tool_id:
        part["id"] = tool_id
    return part


def _plain(value: object) -> object:
    if isinstance(value, str):
        return value[:MAX_CAPTURED_CHARS]
    if isinstance(value, list):
        texts = [item.get("text") for item in value if isinstance(item, Mapping)]
        if texts and all(isinstance(text, str) for text in texts):
            return "".join(texts)[:MAX_CAPTURED_CHARS]  # type: ignore[arg-type] # checked just above
    return value
