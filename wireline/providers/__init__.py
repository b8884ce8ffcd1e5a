"""Provider adapters: stack-built clients injected into LLM SDKs.

Each adapter module (``openai``, ``azure_openai``, ``openai_compatible``, ``anthropic``, ``gemini``,
``mistral``, ``cohere``, ``groq``) offers ``client(stack, **sdk_kwargs)`` and
``async_client(stack, **sdk_kwargs)``; keyword arguments go to the SDK constructor unchanged.
Adapters are registered in the ``wireline.providers`` entry-point group, so :func:`build` finds
third-party ones by name like wireline's own. ``wireline.providers.litellm`` wires LiteLLM
(``install(stack)``, ``completion_kwargs(stack, model)``). Importing this package imports no SDK.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from wireline.errors import ConfigError
from wireline.registry import registry

if TYPE_CHECKING:
    from wireline.stack import Stack

__all__ = ["build"]


def build(name: str, stack: Stack, *, asynchronous: bool = False, **sdk_kwargs: Any) -> Any:
    """The SDK client of the provider registered as ``name``, built on ``stack``.

    Args:
        name: A name in the ``wireline.providers`` group (``wireline plugins`` lists them), or
            ``"package.module:attribute"`` naming an adapter module.
        stack: The stack whose pool and layers the client sends through.
        asynchronous: Build the SDK's async client.
        **sdk_kwargs: Passed to the SDK constructor unchanged.

    Raises:
        PluginError: ``name`` is unknown (the known names are listed) or registered twice.
        MissingDependencyError: the SDK is not installed (the extra to install is named).
    """
    adapter = registry.load("providers", name, key="provider")
    factory = getattr(adapter, "async_client" if asynchronous else "client", None)
    if not callable(factory):
        expected = "an adapter with client(stack, **kwargs) and async_client(stack, **kwargs)"
        raise ConfigError("provider", name, expected)
    return factory(stack, **sdk_kwargs)


def __getattr__(name: str) -> Any:
    # ``providers.openai`` works without importing every adapter (and SDK) up front.
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{__name__}.{name}":
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
        raise
