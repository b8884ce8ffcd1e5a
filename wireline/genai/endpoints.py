"""Recognising an LLM call from its request: the provider, the operation and the wire format.

Only ``POST`` requests to a known endpoint shape are LLM calls; every other request costs a dict
lookup. The shapes, by the end of the path:

==========================================  =====================  ===================
path                                        operation              wire format
==========================================  =====================  ===================
``/models/{model}:generateContent``         ``generate_content``   gemini
``/models/{model}:streamGenerateContent``   ``generate_content``   gemini (streamed)
``/publishers/anthropic/models/{m}:rawPredict`` (``:streamRawPredict``)  ``chat``  anthropic
``/messages`` (Anthropic host or hint, or ``/v1/messages``)  ``chat``  anthropic
``/chat/completions``                       ``chat``               openai chat
``/responses``                              ``chat``               openai responses
``/completions``                            ``text_completion``    openai chat
``/embeddings``                             ``embeddings``         openai chat
``/v2/chat``                                ``chat``               cohere
==========================================  =====================  ===================

The provider is the ``wireline.provider`` extension when a provider adapter set it, else the
host's (:func:`~wireline.genai.hosts.provider_for_host`), else the one the format belongs to
(``openai`` for the OpenAI-compatible shapes: vLLM, Ollama, LiteLLM proxies...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from wireline.genai.formats._base import WireFormat
from wireline.genai.formats.anthropic import ANTHROPIC_MESSAGES
from wireline.genai.formats.cohere import COHERE_CHAT
from wireline.genai.formats.gemini import GEMINI
from wireline.genai.formats.openai_chat import OPENAI_CHAT
from wireline.genai.formats.openai_responses import OPENAI_RESPONSES
from wireline.genai.hosts import provider_for_host, semconv_provider

__all__ = ["Endpoint", "match_endpoint"]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """An LLM endpoint as recognised from the request line.

    Attributes:
        provider: ``gen_ai.provider.name``.
        operation: ``gen_ai.operation.name``.
        wire_format: The format of the request and response bodies.
        model: The model, when the path names it (Gemini, Vertex, an Azure deployment).
        stream: ``True`` when the path says the response streams (Gemini, Vertex).
        model_in_path_wins: Whether ``model`` beats the body's ``model`` (Gemini, Vertex: the body has none).
    """

    provider: str
    operation: str
    wire_format: WireFormat
    model: str | None = None
    stream: bool = False
    model_in_path_wins: bool = False


_GEMINI_PATH: Final = re.compile(r"/models/([^/:]+):(generateContent|streamGenerateContent)$")
_VERTEX_ANTHROPIC_PATH: Final = re.compile(r"/publishers/anthropic/models/([^/:]+):(rawPredict|streamRawPredict)$")
_AZURE_DEPLOYMENT: Final = re.compile(r"/openai/deployments/([^/]+)/")

_cache: dict[tuple[str, str, str | None], Endpoint | None] = {}
_CACHE_LIMIT: Final = 4096


def match_endpoint(host: str, path: str, provider_hint: str | None = None) -> Endpoint | None:
    """The LLM endpoint a ``POST`` to ``host`` + ``path`` is, or ``None`` when it is not one we know."""
    key = (host, path, provider_hint)
    try:
        return _cache[key]
    except KeyError:
        pass
    endpoint = _match(host, path, provider_hint)
    if len(_cache) >= _CACHE_LIMIT:  # paths with ids in them would grow it forever; start over
        _cache.clear()
    _cache[key] = endpoint
    return endpoint


def _match(host: str, path: str, hint: str | None) -> Endpoint | None:  # noqa: PLR0911 - one return per shape
    known = hint or provider_for_host(host)
    if ":" in path:
        gemini = _GEMINI_PATH.search(path)
        if gemini is not None:
            provider = semconv_provider(known) if known else "gcp.gen_ai"
            stream = gemini.group(2) == "streamGenerateContent"
            return Endpoint(provider, "generate_content", GEMINI, gemini.group(1), stream, model_in_path_wins=True)
        vertex = _VERTEX_ANTHROPIC_PATH.search(path)
        if vertex is not None:
            stream = vertex.group(2) == "streamRawPredict"
            return Endpoint(
                "gcp.vertex_ai", "chat", ANTHROPIC_MESSAGES, vertex.group(1), stream, model_in_path_wins=True
            )
        return None
    if path.endswith("/chat/completions"):
        return Endpoint(_provider(known, "openai"), "chat", OPENAI_CHAT, _deployment(path))
    if path.endswith("/messages") and (known == "anthropic" or path.endswith("/v1/messages")):
        return Endpoint(_provider(known, "anthropic"), "chat", ANTHROPIC_MESSAGES)
    if path.endswith("/responses"):
        return Endpoint(_provider(known, "openai"), "chat", OPENAI_RESPONSES, _deployment(path))
    if path.endswith("/completions"):
        return Endpoint(_provider(known, "openai"), "text_completion", OPENAI_CHAT, _deployment(path))
    if path.endswith("/embeddings"):
        return Endpoint(_provider(known, "openai"), "embeddings", OPENAI_CHAT, _deployment(path))
    if path.endswith("/v2/chat"):
        return Endpoint(_provider(known, "cohere"), "chat", COHERE_CHAT)
    return None


def _provider(known: str | None, default: str) -> str:
    return semconv_provider(known or default)


def _deployment(path: str) -> str | None:
    """An Azure OpenAI deployment name (the model stands in for it when the body names none)."""
    if "/deployments/" not in path:
        return None
    match = _AZURE_DEPLOYMENT.search(path)
    return match.group(1) if match else None
