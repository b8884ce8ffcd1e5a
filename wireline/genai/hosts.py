"""Which LLM provider a host belongs to, and each provider's ``gen_ai.provider.name``.

Provider names here are wireline's (the names of the provider adapters, also the value of the
``wireline.provider`` request extension): ``openai``, ``azure_openai``, ``anthropic``, ``gemini``,
``vertex_ai``, ``mistral``, ``cohere``, ``groq``, ``deepseek``, ``xai``, ``perplexity``, ``bedrock``,
``openrouter``, ``openai_compatible``. :data:`SEMCONV_PROVIDER` maps them to the GenAI conventions'
well-known values (``mistral`` -> ``mistral_ai``, ``gemini`` -> ``gcp.gemini``...).
"""

from __future__ import annotations

from typing import Final

__all__ = ["SEMCONV_PROVIDER", "provider_for_host", "semconv_provider"]

_EXACT_HOSTS: Final = {
    "api.openai.com": "openai",
    "us.api.openai.com": "openai",
    "eu.api.openai.com": "openai",
    "api.anthropic.com": "anthropic",
    "generativelanguage.googleapis.com": "gemini",
    "aiplatform.googleapis.com": "vertex_ai",
    "api.mistral.ai": "mistral",
    "api.cohere.com": "cohere",
    "api.cohere.ai": "cohere",
    "api.groq.com": "groq",
    "api.deepseek.com": "deepseek",
    "api.x.ai": "xai",
    "api.perplexity.ai": "perplexity",
    "openrouter.ai": "openrouter",
}

# (suffix, provider): a host ending with the suffix belongs to the provider.
_HOST_SUFFIXES: Final = (
    (".openai.azure.com", "azure_openai"),
    (".cognitiveservices.azure.com", "azure_openai"),
    (".services.ai.azure.com", "azure_openai"),
    ("-aiplatform.googleapis.com", "vertex_ai"),
    (".amazonaws.com", "bedrock"),  # only bedrock-runtime hosts, checked below
)

#: wireline provider name -> ``gen_ai.provider.name``.
SEMCONV_PROVIDER: Final = {
    "openai": "openai",
    "openai_compatible": "openai",
    "azure_openai": "azure.ai.openai",
    "anthropic": "anthropic",
    "gemini": "gcp.gemini",
    "vertex_ai": "gcp.vertex_ai",
    "mistral": "mistral_ai",
    "cohere": "cohere",
    "groq": "groq",
    "deepseek": "deepseek",
    "xai": "x_ai",
    "perplexity": "perplexity",
    "bedrock": "aws.bedrock",
    "openrouter": "openrouter",
}

_cache: dict[str, str | None] = {}
_CACHE_LIMIT: Final = 4096


def provider_for_host(host: str) -> str | None:
    """The provider serving ``host`` (wireline's name), or ``None`` for a host we do not know."""
    try:
        return _cache[host]
    except KeyError:
        pass
    provider = _EXACT_HOSTS.get(host)
    if provider is None:
        for suffix, candidate in _HOST_SUFFIXES:
            if host.endswith(suffix) and (candidate != "bedrock" or host.startswith("bedrock-runtime.")):
                provider = candidate
                break
    if len(_cache) >= _CACHE_LIMIT:  # hosts are few; a flood of distinct ones just starts over
        _cache.clear()
    _cache[host] = provider
    return provider


def semconv_provider(provider: str) -> str:
    """``gen_ai.provider.name`` for a wireline provider name (unknown names are kept as given)."""
    return SEMCONV_PROVIDER.get(provider, provider)
