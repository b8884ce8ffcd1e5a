"""OpenAI: ``openai.OpenAI`` / ``openai.AsyncOpenAI`` sending through a stack.

- **Flavour:** httpx2, the SDK's own (it accepts httpx too).
- **Retries:** the SDK retries twice (408, 409, 429, 5xx, connection errors) unless the stack
  retries; then the adapter passes ``max_retries=0`` and refuses any other value.
- **Timeout:** the ``timeout=`` you give the SDK; else the SDK's default, 600 s (connect 5 s).
- **Closing:** ``close()`` closes the client the SDK was given; the stack's pools stay open.
- **Tags:** ``wireline.provider = "openai"`` on every request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wireline.providers._common import build_stainless, tags

if TYPE_CHECKING:
    import openai

    from wireline.stack import Stack

__all__ = ["FLAVOR", "PROVIDER", "async_client", "client"]

#: The ``gen_ai.provider.name`` requests are tagged with.
PROVIDER = "openai"
#: The HTTP flavour the SDK is given.
FLAVOR = "httpx2"


def client(stack: Stack, **sdk_kwargs: Any) -> openai.OpenAI:
    """An ``openai.OpenAI`` whose requests go through ``stack``; ``sdk_kwargs`` go to the SDK."""
    return _build(stack, sdk_kwargs, asynchronous=False)  # type: ignore[no-any-return]


def async_client(stack: Stack, **sdk_kwargs: Any) -> openai.AsyncOpenAI:
    """An ``openai.AsyncOpenAI`` whose requests go through ``stack``; ``sdk_kwargs`` go to the SDK."""
    return _build(stack, sdk_kwargs, asynchronous=True)  # type: ignore[no-any-return]


def _build(stack: Stack, sdk_kwargs: dict[str, Any], *, asynchronous: bool) -> Any:
    return build_stainless(
        stack,
        sdk_kwargs,
        sdk=("openai", "OpenAI", "AsyncOpenAI"),
        extra="openai",
        adapter="openai",
        flavor=FLAVOR,
        asynchronous=asynchronous,
        extensions=tags(PROVIDER),
    )
