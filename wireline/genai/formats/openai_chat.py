"""OpenAI chat completions, and the APIs that copy it; also legacy completions and embeddings.

The copies: Azure OpenAI, Groq, Mistral, DeepSeek, xAI, OpenRouter, vLLM, Ollama's ``/v1``...

JSON: ``{"id", "model", "choices": [{"index", "message", "finish_reason"}], "usage": {"prompt_tokens",
"completion_tokens", "prompt_tokens_details": {"cached_tokens"}, "completion_tokens_details":
{"reasoning_tokens"}}}``.

SSE: ``data: {chat.completion.chunk}`` events, then ``data: [DONE]``. Every chunk repeats the id and
model; the finish reason comes in the last content chunk; usage comes in a final chunk with empty
choices when ``stream_options.include_usage`` is set (Mistral always sends it; Groq also puts it in
``x_groq.usage``).
"""

from __future__ import annotations

import contextlib
import json
from collections import deque
from collections.abc import Mapping
from typing import Any, Final

from wireline import _semconv as sc
from wireline.genai._model import GenAIResponse, as_int
from wireline.genai.formats._base import Reader, WireFormat
from wireline.genai.formats._messages import chat_messages

__all__ = ["OPENAI_CHAT", "OpenAIChat"]

_PARAMS = (
    ("max_tokens", sc.GEN_AI_REQUEST_MAX_TOKENS),
    ("max_completion_tokens", sc.GEN_AI_REQUEST_MAX_TOKENS),
    ("temperature", sc.GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", sc.GEN_AI_REQUEST_TOP_P),
    ("frequency_penalty", sc.GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", sc.GEN_AI_REQUEST_PRESENCE_PENALTY),
    ("stop", sc.GEN_AI_REQUEST_STOP_SEQUENCES),
    ("seed", sc.GEN_AI_REQUEST_SEED),
    ("n", sc.GEN_AI_REQUEST_CHOICE_COUNT),
)

#: Streamed chunks kept raw and parsed when the stream ends: finish reasons and usage arrive in the
#: last few (one finishing chunk per choice, then the usage chunk).
TAIL: Final = 16


class OpenAIChat(WireFormat):
    """OpenAI chat completions and look-alikes (see the module docs)."""

    name = "openai_chat"
    params = _PARAMS

    def request_content(self, body: Mapping[str, Any]) -> tuple[list[Any] | None, list[Any] | None]:
        prompt = body.get("prompt")
        if isinstance(prompt, str):  # legacy completions
            return None, [{"role": "user", "parts": [{"type": "text", "content": prompt}]}]
        return None, chat_messages(body.get("messages"))

    def reader(self, *, capture: bool) -> Reader:
        return _ChatReader(capture=capture)


class _ChatReader(Reader):
    """Parses a stream's first chunk (id, model) at once, and its last :data:`TAIL` at the end.

    The chunks between carry tokens only; keeping a reference to each of the last few costs far
    less than searching every one for a finish reason. With content capture, every chunk is parsed.
    """

    def __init__(self, *, capture: bool) -> None:
        super().__init__(capture=capture)
        self._seen_first = False
        self._tail: deque[bytes] = deque(maxlen=TAIL)

    def wants(self, event: str | None, data: bytes) -> bool:
        return self.capture or not self._seen_first

    def skip(self, event: str | None, data: bytes) -> None:
        self._tail.append(data)

    def end(self) -> None:
        tail, self._tail = self._tail, deque(maxlen=TAIL)
        for data in tail:
            with contextlib.suppress(ValueError):
                self.take(json.loads(data), None)

    def take(self, obj: Any, event: str | None) -> None:
        if not isinstance(obj, Mapping):
            return
        response = self.response
        self._seen_first = True
        response.first(obj.get("id"), obj.get("model"))
        for choice in obj.get("choices") or ():
            if isinstance(choice, Mapping):
                self._choice(choice)
        usage = obj.get("usage")
        if not isinstance(usage, Mapping):
            groq = obj.get("x_groq")
            usage = groq.get("usage") if isinstance(groq, Mapping) else None
        if isinstance(usage, Mapping):
            self._usage(usage)

    def _choice(self, choice: Mapping[str, Any]) -> None:
        index = as_int(choice.get("index")) or 0
        reason = choice.get("finish_reason")
        if isinstance(reason, str) and reason:
            self.response.finish_reasons[index] = reason
        output = self.response.output
        if output is None:
            return
        message = choice.get("message") or choice.get("delta")
        if isinstance(message, Mapping):
            output.role(index, message.get("role"))
            output.text(index, message.get("content"))
            for position, call in enumerate(message.get("tool_calls") or ()):
                if isinstance(call, Mapping):
                    function: Any = call.get("function") or {}
                    tool_index = as_int(call.get("index"))
                    output.tool(
                        index,
                        position if tool_index is None else tool_index,
                        call_id=call.get("id"),
                        name=function.get("name"),
                        arguments=function.get("arguments"),
                    )
        else:
            output.text(index, choice.get("text"))  # legacy completions

    def _usage(self, usage: Mapping[str, Any]) -> None:
        openai_usage(self.response, usage, inputs="prompt", outputs="completion")


def openai_usage(response: GenAIResponse, usage: Mapping[str, Any], *, inputs: str, outputs: str) -> None:
    """OpenAI's usage object: ``{inputs}_tokens``, ``{outputs}_tokens`` and their ``_details``.

    Chat completions name them ``prompt``/``completion``, the responses API ``input``/``output``.
    """
    response.input_tokens = as_int(usage.get(f"{inputs}_tokens"))
    response.output_tokens = as_int(usage.get(f"{outputs}_tokens"))
    input_details = usage.get(f"{inputs}_tokens_details")
    if isinstance(input_details, Mapping):
        response.cache_read_tokens = as_int(input_details.get("cached_tokens"))
    output_details = usage.get(f"{outputs}_tokens_details")
    if isinstance(output_details, Mapping):
        response.reasoning_tokens = as_int(output_details.get("reasoning_tokens"))


OPENAI_CHAT = OpenAIChat()
