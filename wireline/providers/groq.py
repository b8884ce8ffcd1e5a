"""Groq: ``groq.Groq`` / ``groq.AsyncGroq`` sending through a stack.

- **Flavour:** httpx only (the SDK refuses httpx2 clients with a ``TypeError``).
- **Retries:** the SDK retries twice (Stainless rules; a ``retry-after`` above 60 s is ignored)
  unless the stack retries; then the adapter passes ``max_retries=0`` and refuses any other value.
- **Timeout:** the ``timeout=`` you give the SDK; else the SDK's default, 60 s (connect 5 s).
- **Closing:** ``close()`` closes the client the SDK was given; the stack's pools stay open.
- **Tags:** ``wireline.provider = "groq"``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wireline.providers._common import build_stainless, tags

if TYPE_CHECKING:
    import groq

    from wireline.stack import Stack

__all__ = ["FLAVOR", "PROVIDER", "async_client", "client"]

#: The ``gen_ai.provider.name`` requests are tagged with.
PROVIDER = "groq"
#: The HTTP flavour the SDK is given.
FLAVOR = "httpx"


def client(stack: Stack, **sdk_kwargs: Any) -> groq.Groq:
    """A ``groq.Groq`` whose requests go through ``stack``; ``sdk_kwargs`` go to the SDK."""
    return _build(stack, sdk_kwargs, asynchronous=False)  # type: ignore[no-any-return]


def async_client(stack: Stack, **sdk_kwargs: Any) -> groq.AsyncGroq:
    """A ``groq.AsyncGroq`` whose requests go through ``stack``; ``sdk_kwargs`` go to the SDK."""
    return _build(stack, sdk_kwargs, asynchronous=True)  # type: ignore[no-any-return]


def _build(stack: Stack, sdk_kwargs: dict[str, Any], *, asynchronous: bool) -> Any:
    return build_stainless(
        stack,
        sdk_kwargs,
        sdk=("groq", "Groq", "AsyncGroq"),
        extra="groq",
        adapter="groq",
        flavor=FLAVOR,
        asynchronous=asynchronous,
        extensions=tags(PROVIDER),
    )
