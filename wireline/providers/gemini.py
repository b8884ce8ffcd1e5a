"""Gemini (google-genai): ``genai.Client`` sending through a stack, sync and ``.aio`` both.

The adapter puts a sync *and* an async client built on the stack in ``http_options``
(``httpx_client``, ``httpx_async_client``): given only a sync one, the SDK sends async calls through
aiohttp when it is installed, around the stack. :func:`async_client` returns the client's ``.aio``.

- **Flavour:** httpx2 (the SDK's default) when installed, else httpx; it takes either.
- **Retries:** none by default (``http_options.retry_options`` turns them on; they ignore
  ``retry-after``). When the stack retries, ``retry_options`` is refused.
- **Timeout:** the SDK ignores the client's timeout and sends none (it would wait forever) unless
  ``http_options.timeout`` (milliseconds) is set. The adapter sets 600 000 ms (600 s, the OpenAI and
  Anthropic default) when you give none; yours is kept. The SDK also sends the timeout to the server
  as ``X-Server-Timeout``, as it does whenever one is set.
- **Closing:** the SDK does not close clients it was given; the stack owns the pools.
- **Other ``http_options``** (``base_url``, ``api_version``, ``headers``...) are yours, merged with the
  adapter's; ``client_args``, ``async_client_args`` and ``aiohttp_client`` are refused (they would
  build clients around the stack).
- **Tags:** ``wireline.provider = "gcp.gemini"``, or ``"gcp.vertex_ai"`` for a Vertex AI client
  (``vertexai=True``, ``enterprise=True`` or ``GOOGLE_GENAI_USE_ENTERPRISE`` /
  ``GOOGLE_GENAI_USE_VERTEXAI``).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from wireline.errors import ConfigError
from wireline.providers._common import (
    http_clients_for_both_modes,
    import_sdk,
    retry_owner,
    stack_retries_already,
    tags,
)

if TYPE_CHECKING:
    from google import genai

    from wireline.stack import Stack

__all__ = ["DEFAULT_TIMEOUT_MS", "PROVIDER", "VERTEX_PROVIDER", "async_client", "client", "flavor"]

#: The ``gen_ai.provider.name`` requests are tagged with (the Gemini Developer API).
PROVIDER = "gcp.gemini"
#: The same for a Vertex AI client.
VERTEX_PROVIDER = "gcp.vertex_ai"
#: The timeout the adapter sets when ``http_options`` has none, in milliseconds (the SDK's unit).
DEFAULT_TIMEOUT_MS = 600_000

# Options that build HTTP clients of their own: traffic through them would not reach the stack.
_CLIENT_OPTIONS = ("httpx_client", "httpx_async_client", "aiohttp_client", "client_args", "async_client_args")


def flavor() -> str:
    """The HTTP flavour the SDK is given: httpx2 when installed, else httpx."""
    return "httpx2" if importlib.util.find_spec("httpx2") is not None else "httpx"


def client(stack: Stack, **sdk_kwargs: Any) -> genai.Client:
    """A ``genai.Client`` whose sync and async (``.aio``) calls go through ``stack``.

    ``sdk_kwargs`` go to ``genai.Client``; the adapter's settings are merged into ``http_options``.
    """
    sdk = import_sdk("google.genai", extra="gemini", adapter="gemini")
    options = _http_options(sdk.types, sdk_kwargs.get("http_options"))
    for name in _CLIENT_OPTIONS:
        if getattr(options, name, None) is not None:
            raise ConfigError(
                f"gemini(http_options.{name}=...)",
                getattr(options, name),
                f"no {name} here: the adapter builds the SDK's clients from the stack",
            )
    owner = retry_owner(stack)
    if owner is not None and options.retry_options is not None:
        raise ConfigError(
            "gemini(http_options.retry_options=...)",
            options.retry_options,
            f"no retry_options: {stack_retries_already(owner)}",
        )
    extensions = tags(VERTEX_PROVIDER if _is_vertex(sdk_kwargs) else PROVIDER)
    sync, asynchronous = http_clients_for_both_modes(stack, flavor(), extensions=extensions)
    update: dict[str, Any] = {"httpx_client": sync, "httpx_async_client": asynchronous}
    if options.timeout is None:
        update["timeout"] = DEFAULT_TIMEOUT_MS
    kwargs = {**sdk_kwargs, "http_options": options.model_copy(update=update)}
    return sdk.Client(**kwargs)  # type: ignore[no-any-return]


def async_client(stack: Stack, **sdk_kwargs: Any) -> genai.client.AsyncClient:
    """The ``.aio`` of :func:`client`: the SDK's async client, sending through ``stack``."""
    return client(stack, **sdk_kwargs).aio


def _http_options(types: Any, given: Any) -> Any:
    if given is None:
        return types.HttpOptions()
    if isinstance(given, types.HttpOptions):
        return given
    if isinstance(given, Mapping):
        return types.HttpOptions.model_validate(dict(given))
    raise ConfigError("gemini(http_options=...)", given, "a google.genai.types.HttpOptions or a dict of its fields")


def _is_vertex(sdk_kwargs: Mapping[str, Any]) -> bool:
    """Whether the client talks to Vertex AI (the SDK's rule: the arguments, else the environment)."""
    for name in ("enterprise", "vertexai"):
        if sdk_kwargs.get(name) is not None:
            return bool(sdk_kwargs[name])
    for variable in ("GOOGLE_GENAI_USE_ENTERPRISE", "GOOGLE_GENAI_USE_VERTEXAI"):
        value = os.environ.get(variable)
        if value is not None:
            return value.lower() in {"true", "1"}
    return False
