"""Request messages of the chat-shaped APIs (OpenAI chat, Cohere v2, Mistral, Groq) in the conventions' shape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wireline.genai._model import Message, Part, text_part, tool_call_part, tool_response_part

__all__ = ["chat_messages", "content_parts"]

_TEXT_TYPES = frozenset({"text", "input_text", "output_text"})


def content_parts(content: object) -> list[Part]:
    """A message's ``content`` (a string or a list of typed parts) as parts; media are named, not copied."""
    if isinstance(content, str):
        return [text_part(content)] if content else []
    parts: list[Part] = []
    if isinstance(content, list):
        for item in content:
            if not isinstance(item, Mapping):
                continue
            kind = item.get("type")
            text = item.get("text")
            if kind in _TEXT_TYPES and isinstance(text, str):
                parts.append(text_part(text))
            else:
                parts.append({"type": str(kind or "unknown")})
    return parts


def chat_messages(messages: object) -> list[Message] | None:
    """``[{"role", "content", "tool_calls", "tool_call_id"}...]`` as the conventions' messages."""
    if not isinstance(messages, list):
        return None
    out: list[Message] = []
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        role = str(message.get("role") or "user")
        parts: list[Part]
        if role == "tool":
            parts = [tool_response_part(message.get("tool_call_id"), message.get("content"))]
        else:
            parts = content_parts(message.get("content"))
            for call in message.get("tool_calls") or ():
                if isinstance(call, Mapping):
                    function: Any = call.get("function") or {}
                    parts.append(tool_call_part(call.get("id"), function.get("name"), function.get("arguments")))
        out.append({"role": role, "parts": parts})
    return out
