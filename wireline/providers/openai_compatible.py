"""OpenAI-compatible servers (vLLM, Ollama, OpenRouter, DeepSeek, Together...): the OpenAI SDK with ``base_url=``.

Same rules as :mod:`wireline.providers.openai`, plus two of its own:

- ``base_url`` is required: it is what makes the client talk to that server.
- ``api_key`` is required too (any string for a server without authentication, such as a local
  vLLM or Ollama): without it the OpenAI SDK would send ``OPENAI_API_KEY`` from the environment to
  that other server.

Requests are tagged ``wireline.provider = provider_name`` — say which vendor serves them
(``"deepseek"``, ``"x_ai"``...; a ``gen_ai.provider.name`` value), or it is ``"openai_compatible"``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wireline.errors import ConfigError
from wireline.providers._common import build_stainless, tags

if TYPE_CHECKING:
    import openai

    from wireline.stack import Stack

__all__ = ["FLAVOR", "PROVIDER", "async_client", "client"]

#: The ``gen_ai.provider.name`` requests are tagged with unless ``provider_name=`` says otherwise.
PROVIDER = "openai_compatible"
#: The HTTP flavour the SDK is given.
FLAVOR = "httpx2"


def client(stack: Stack, *, provider_name: str = PROVIDER, **sdk_kwargs: Any) -> openai.OpenAI:
    """An ``openai.OpenAI`` for the server at ``base_url``, sending through ``stack``.

    Args:
        stack: The stack the client sends through.
        provider_name: The vendor behind the server, tagged on every request.
        **sdk_kwargs: Passed to ``openai.OpenAI``; ``base_url`` and ``api_key`` are required.
    """
    return _build(stack, sdk_kwargs, provider_name, asynchronous=False)  # type: ignore[no-any-return]


def async_client(stack: Stack, *, provider_name: str = PROVIDER, **sdk_kwargs: Any) -> openai.AsyncOpenAI:
    """An ``openai.AsyncOpenAI`` for the server at ``base_url`` (see :func:`client`)."""
    return _build(stack, sdk_kwargs, provider_name, asynchronous=True)  # type: ignore[no-any-return]


def _build(stack: Stack, sdk_kwargs: dict[str, Any], provider_name: str, *, asynchronous: bool) -> Any:
    if not sdk_kwargs.get("base_url"):
        raise ConfigError(
            "openai_compatible(base_url=...)",
            sdk_kwargs.get("base_url"),
            "the server's base URL, such as 'http://localhost:8000/v1' (vLLM) or 'https://openrouter.ai/api/v1'",
        )
    if sdk_kwargs.get("api_key") is None:
        raise ConfigError(
            "openai_compatible(api_key=...)",
            None,
            "the server's API key (any string if it needs none): without one the OpenAI SDK would send "
            "OPENAI_API_KEY from the environment to another server",
        )
    if not isinstance(provider_name, str) or not provider_name:
        raise ConfigError(
            "openai_compatible(provider_name=...)", provider_name, "a gen_ai.provider.name such as 'deepseek'"
        )
    return build_stainless(
        stack,
        sdk_kwargs,
        sdk=("openai", "OpenAI", "AsyncOpenAI"),
        extra="openai-compatible",
        adapter="openai_compatible",
        flavor=FLAVOR,
        asynchronous=asynchronous,
        extensions=tags(provider_name),
    )
