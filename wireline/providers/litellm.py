"""LiteLLM: its calls through a stack, as far as LiteLLM lets them.

LiteLLM sends a call down one of two kinds of route, and each takes a client in its own way
(``docs/litellm-routes.md``, written by the tests, says which route does what):

- **Routes built on the OpenAI SDK** (``openai``, ``azure``, and OpenAI-compatible providers it
  serves with that SDK: ``perplexity``, ``deepinfra``, ``cerebras``...) use the module globals
  ``litellm.client_session`` / ``litellm.aclient_session``. :func:`install` sets them to clients
  built on the stack (httpx, the flavour LiteLLM speaks) and flushes LiteLLM's cache of SDK clients,
  which would otherwise keep using the clients made before.
- **Routes built on LiteLLM's own HTTP handler** (``anthropic``, ``gemini``, ``mistral``, ``groq``,
  ``deepseek``, ``openrouter``, ``hosted_vllm``...) ignore the globals and send through aiohttp or a
  client of their own, unless the call is given ``client=`` an ``HTTPHandler`` /
  ``AsyncHTTPHandler``: :func:`completion_kwargs` makes one on the stack.
- **Cohere** (``cohere``, ``cohere_chat``) takes neither: its traffic does not go through the stack.

Retries: the OpenAI-SDK routes retry twice by default (the SDK inside LiteLLM), whatever the
globals; when the stack retries, :func:`completion_kwargs` carries ``max_retries=0`` for those
routes. LiteLLM's own ``num_retries`` (off by default) is the caller's to leave off.

Usage::

    providers.litellm.install(stack)
    litellm.completion(model="openai/gpt-4o", messages=...)                     # through the stack
    litellm.completion(model="anthropic/claude-sonnet-5", messages=...,
                       **providers.litellm.completion_kwargs(stack, "anthropic/claude-sonnet-5"))
    providers.litellm.uninstall()
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from wireline.errors import ConfigError
from wireline.providers._common import import_sdk, tags

if TYPE_CHECKING:
    from wireline.stack import Stack

__all__ = [
    "HANDLER",
    "NOT_ROUTED",
    "OPENAI_SDK",
    "OPENAI_SDK_ROUTES",
    "completion_kwargs",
    "http_handler",
    "install",
    "installed",
    "route_kind",
    "uninstall",
]

#: Route kinds (see :func:`route_kind`).
OPENAI_SDK = "openai-sdk"
HANDLER = "handler"
NOT_ROUTED = "not-routed"

#: LiteLLM providers whose chat route is built on the OpenAI SDK (it refuses an ``HTTPHandler``
#: there). Checked against the installed LiteLLM by the tests that write docs/litellm-routes.md.
OPENAI_SDK_ROUTES = frozenset(
    {
        "openai",
        "azure",
        "text-completion-openai",
        "azure_text",
        "custom_openai",
        "perplexity",
        "deepinfra",
        "nvidia_nim",
        "cerebras",
        "sambanova",
        "lm_studio",
    }
)
#: LiteLLM providers whose route takes no client at all: their traffic does not reach the stack.
NOT_ROUTED_ROUTES = frozenset({"cohere", "cohere_chat"})

# LiteLLM's provider names -> gen_ai.provider.name, for the tag of a handler's requests.
_GEN_AI_NAMES = {
    "anthropic": "anthropic",
    "azure": "azure.ai.openai",
    "bedrock": "aws.bedrock",
    "cohere": "cohere",
    "cohere_chat": "cohere",
    "deepseek": "deepseek",
    "gemini": "gcp.gemini",
    "groq": "groq",
    "mistral": "mistral_ai",
    "openai": "openai",
    "perplexity": "perplexity",
    "vertex_ai": "gcp.vertex_ai",
    "xai": "x_ai",
}

_lock = threading.Lock()
# The globals install() replaced (restored by uninstall()), while installed.
_replaced: tuple[Any, Any] | None = None


def install(stack: Stack) -> None:
    """Make LiteLLM's OpenAI-SDK routes send through ``stack``.

    Sets ``litellm.client_session`` and ``litellm.aclient_session`` to clients built on ``stack``, and
    flushes LiteLLM's client cache. Installing again replaces the stack.
    """
    litellm = _litellm()
    global _replaced  # noqa: PLW0603 - LiteLLM's settings are module globals; so is what they were
    with _lock:
        if _replaced is None:
            _replaced = (litellm.client_session, litellm.aclient_session)
        litellm.client_session = stack.client("httpx", follow_redirects=True)
        litellm.aclient_session = stack.async_client("httpx", follow_redirects=True)
        _flush(litellm.in_memory_llm_clients_cache)


def uninstall() -> None:
    """Put back the ``client_session`` / ``aclient_session`` :func:`install` replaced, and flush the cache."""
    litellm = _litellm()
    global _replaced  # noqa: PLW0603 - see install()
    with _lock:
        if _replaced is None:
            return
        litellm.client_session, litellm.aclient_session = _replaced
        _replaced = None
        _flush(litellm.in_memory_llm_clients_cache)


def installed() -> bool:
    """Whether :func:`install` is in force."""
    return _replaced is not None


def route_kind(model: str, *, custom_llm_provider: str | None = None) -> str:
    """How LiteLLM routes ``model``: :data:`OPENAI_SDK`, :data:`HANDLER` or :data:`NOT_ROUTED`."""
    provider = _provider(model, custom_llm_provider)
    if provider in OPENAI_SDK_ROUTES:
        return OPENAI_SDK
    if provider in NOT_ROUTED_ROUTES:
        return NOT_ROUTED
    return HANDLER


def completion_kwargs(
    stack: Stack, model: str | None = None, *, custom_llm_provider: str | None = None, asynchronous: bool = False
) -> dict[str, Any]:
    """Keyword arguments for ``litellm.completion`` / ``acompletion`` that send the call through ``stack``.

    With ``model``, what its route needs: for a route on LiteLLM's HTTP handler, ``client=`` a
    handler built on the stack; for an OpenAI-SDK route (covered by :func:`install`), nothing, or
    ``max_retries=0`` when the stack retries; for Cohere, nothing (it takes no client).
    Without ``model``, the handler: pass it only to the routes that take one.

    Args:
        stack: The stack to send through.
        model: The model as given to LiteLLM (``"anthropic/claude-sonnet-5"``).
        custom_llm_provider: The provider, when ``model`` does not say it.
        asynchronous: For ``acompletion`` (an ``AsyncHTTPHandler``).
    """
    provider = None if model is None else _provider(model, custom_llm_provider)
    if provider in OPENAI_SDK_ROUTES:
        return {"max_retries": 0} if stack.owns_retries else {}
    if provider in NOT_ROUTED_ROUTES:
        return {}
    return {"client": http_handler(stack, asynchronous=asynchronous, provider=provider)}


def http_handler(stack: Stack, *, asynchronous: bool = False, provider: str | None = None) -> Any:
    """LiteLLM's ``HTTPHandler`` (or ``AsyncHTTPHandler``) on a client built from ``stack``.

    ``provider`` (LiteLLM's name) tags the requests with its ``gen_ai.provider.name``.
    """
    _litellm()
    from litellm.llms.custom_httpx import http_handler as handlers

    extensions = tags(_GEN_AI_NAMES.get(provider, provider)) if provider else None
    if asynchronous:
        # Given a transport, LiteLLM builds its client around it with its own settings.
        return handlers.AsyncHTTPHandler(transport=stack.async_transport("httpx", extensions=extensions))
    # Given a client, LiteLLM uses it as is: build it as LiteLLM builds its own (its User-Agent).
    client = stack.client(
        "httpx",
        extensions=extensions,
        headers=handlers.get_default_headers(),
        follow_redirects=True,
        trust_env=False,
    )
    return handlers.HTTPHandler(client=client)


def _provider(model: str, custom_llm_provider: str | None) -> str:
    litellm = _litellm()
    try:
        return str(litellm.get_llm_provider(model, custom_llm_provider=custom_llm_provider)[1])
    except Exception as exc:
        raise ConfigError("model", model, "a model LiteLLM can route, such as 'anthropic/claude-sonnet-5'") from exc


def _flush(cache: Any) -> None:
    """Empty LiteLLM's cache of clients: the SDK clients in it hold the sessions of before.

    Entry by entry through the cache's own removal, which hands the clients LiteLLM made itself to
    its closer (a plain ``flush_cache()`` would drop them with their connections open).
    """
    remove = getattr(cache, "delete_cache", None)
    if remove is None:
        cache.flush_cache()
        return
    for key in list(cache.cache_dict):
        remove(key)


def _litellm() -> Any:
    return import_sdk("litellm", extra="litellm", adapter="litellm")
