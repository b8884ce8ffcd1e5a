"""Gemini ``generateContent`` / ``streamGenerateContent`` (Google AI and Vertex AI).

The model and whether it streams are in the path: ``/v1beta/models/{model}:generateContent`` or
``:streamGenerateContent`` (with ``?alt=sse`` for server-sent events, else a streamed JSON array).

JSON: ``{"candidates": [{"index", "content": {"role", "parts": [{"text"} | {"functionCall"}...]},
"finishReason"}], "usageMetadata": {"promptTokenCount", "candidatesTokenCount",
"cachedContentTokenCount", "thoughtsTokenCount", "toolUsePromptTokenCount"}, "modelVersion",
"responseId"}``.

A stream is a sequence of such objects; usage is cumulative and the finish reason comes last, so
only the first event (id, model) and the last one are parsed -- the others are kept raw, one at a
time, until the next arrives. Token counts: input is ``promptTokenCount`` (cached content
included) plus ``toolUsePromptTokenCount``; output is ``candidatesTokenCount`` plus
``thoughtsTokenCount`` (billed as output; reported again as reasoning tokens).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any

from wireline import _semconv as sc
from wireline.genai._model import Message, Part, as_int, text_part, tool_call_part, tool_response_part
from wireline.genai.formats._base import Reader, WireFormat, copy_params

__all__ = ["GEMINI", "Gemini"]

_PARAMS = (
    ("maxOutputTokens", sc.GEN_AI_REQUEST_MAX_TOKENS),
    ("temperature", sc.GEN_AI_REQUEST_TEMPERATURE),
    ("topP", sc.GEN_AI_REQUEST_TOP_P),
    ("topK", sc.GEN_AI_REQUEST_TOP_K),
    ("frequencyPenalty", sc.GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("presencePenalty", sc.GEN_AI_REQUEST_PRESENCE_PENALTY),
    ("stopSequences", sc.GEN_AI_REQUEST_STOP_SEQUENCES),
    ("seed", sc.GEN_AI_REQUEST_SEED),
    ("candidateCount", sc.GEN_AI_REQUEST_CHOICE_COUNT),
)


class Gemini(WireFormat):
    """Gemini generateContent (see the module docs)."""

    name = "gemini"

    def request_attributes(self, body: Mapping[str, Any], attributes: dict[str, Any]) -> None:
        # The model and stream flag come from the path (see endpoints); parameters from the body.
        config = body.get("generationConfig") or body.get("generation_config")
        if isinstance(config, Mapping):
            copy_params(config, attributes, _PARAMS)

    def request_content(self, body: Mapping[str, Any]) -> tuple[list[Any] | None, list[Any] | None]:
        system = body.get("systemInstruction") or body.get("system_instruction")
        instructions = _parts(system.get("parts")) if isinstance(system, Mapping) else None
        contents = body.get("contents")
        if not isinstance(contents, list):
            return instructions, None
        messages: list[Message] = []
        for content in contents:
            if isinstance(content, Mapping):
                role = "assistant" if content.get("role") == "model" else str(content.get("role") or "user")
                messages.append({"role": role, "parts": _parts(content.get("parts"))})
        return instructions, messages

    def reader(self, *, capture: bool) -> Reader:
        return _GeminiReader(capture=capture)


def _parts(parts: object) -> list[Part]:
    out: list[Part] = []
    for part in parts if isinstance(parts, list) else ():
        if not isinstance(part, Mapping):
            continue
        if isinstance(part.get("text"), str):
            out.append(text_part(part["text"]))
        elif isinstance(part.get("functionCall"), Mapping):
            call = part["functionCall"]
            out.append(tool_call_part(call.get("id"), call.get("name"), call.get("args")))
        elif isinstance(part.get("functionResponse"), Mapping):
            answer = part["functionResponse"]
            out.append(tool_response_part(answer.get("id"), answer.get("response")))
        else:
            out.append({"type": next(iter(part), "unknown")})
    return out


class _GeminiReader(Reader):
    def __init__(self, *, capture: bool) -> None:
        super().__init__(capture=capture)
        self._seen_first = False
        self._last: bytes | None = None  # the latest event not parsed yet

    def wants(self, event: str | None, data: bytes) -> bool:
        return self.capture or not self._seen_first

    def skip(self, event: str | None, data: bytes) -> None:
        self._last = data

    def end(self) -> None:
        last, self._last = self._last, None
        if last is not None:
            with contextlib.suppress(ValueError):
                self.take(json.loads(last), None)

    def take(self, obj: Any, event: str | None) -> None:
        if isinstance(obj, list):  # a whole streamed array read as one body
            for item in obj:
                self.take(item, event)
            return
        if not isinstance(obj, Mapping):
            return
        self._seen_first = True
        self._last = None
        response = self.response
        response.first(obj.get("responseId"), obj.get("modelVersion"))
        for position, candidate in enumerate(obj.get("candidates") or ()):
            if isinstance(candidate, Mapping):
                self._candidate(position, candidate)
        usage = obj.get("usageMetadata")
        if isinstance(usage, Mapping):
            self._usage(usage)

    def _candidate(self, position: int, candidate: Mapping[str, Any]) -> None:
        index = as_int(candidate.get("index"))
        index = position if index is None else index
        reason = candidate.get("finishReason")
        if isinstance(reason, str) and reason:
            self.response.finish_reasons[index] = reason
        output = self.response.output
        content = candidate.get("content")
        if output is None or not isinstance(content, Mapping):
            return
        output.role(index, content.get("role"))
        for part in content.get("parts") or ():
            if not isinstance(part, Mapping) or part.get("thought") is True:
                continue
            if isinstance(part.get("text"), str):
                output.text(index, part["text"])
            elif isinstance(part.get("functionCall"), Mapping):
                call = part["functionCall"]
                output.whole_tool(index, call_id=call.get("id"), name=call.get("name"), arguments=call.get("args"))
            else:
                output.part(index, {"type": next(iter(part), "unknown")})

    def _usage(self, usage: Mapping[str, Any]) -> None:
        response = self.response
        prompt = as_int(usage.get("promptTokenCount"))
        tool_prompt = as_int(usage.get("toolUsePromptTokenCount")) or 0
        candidates = as_int(usage.get("candidatesTokenCount"))
        thoughts = as_int(usage.get("thoughtsTokenCount"))
        if prompt is not None:
            response.input_tokens = prompt + tool_prompt
        if candidates is not None or thoughts is not None:
            response.output_tokens = (candidates or 0) + (thoughts or 0)
        if thoughts is not None:
            response.reasoning_tokens = thoughts
        cached = as_int(usage.get("cachedContentTokenCount"))
        if cached is not None:
            response.cache_read_tokens = cached


GEMINI = Gemini()
