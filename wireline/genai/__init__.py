"""GenAI telemetry for LLM calls seen at the HTTP layer: what ``Tracing`` adds to a span.

- :func:`match_endpoint` recognises an LLM call from its host and path (see :mod:`.endpoints`).
- :func:`read_request` reads the model, stream flag and parameters from the request body.
- :class:`ResponseParser` reads id, model, finish reasons and token usage from the response as it
  streams (JSON, server-sent events, JSON lines, streamed JSON arrays), one parser per wire format
  in :mod:`wireline.genai.formats`: OpenAI chat completions (and the many APIs that copy it: Azure
  OpenAI, Groq, Mistral, DeepSeek, xAI, vLLM...), OpenAI responses, Anthropic messages, Gemini
  ``generateContent``, Cohere v2 chat.
- :func:`provider_for_host` names the provider behind a host (``Logging`` uses it too).

Nothing here imports OpenTelemetry; the attribute names are the GenAI conventions'.
"""

from __future__ import annotations

from wireline.genai._model import GenAIResponse
from wireline.genai.endpoints import Endpoint, match_endpoint
from wireline.genai.hosts import SEMCONV_PROVIDER, provider_for_host, semconv_provider
from wireline.genai.reading import ResponseParser, read_request

__all__ = [
    "SEMCONV_PROVIDER",
    "Endpoint",
    "GenAIResponse",
    "ResponseParser",
    "match_endpoint",
    "provider_for_host",
    "read_request",
    "semconv_provider",
]
