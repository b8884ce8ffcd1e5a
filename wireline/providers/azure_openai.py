"""Azure OpenAI: ``openai.AzureOpenAI`` / ``openai.AsyncAzureOpenAI`` sending through a stack.

Same rules as :mod:`wireline.providers.openai` (flavour httpx2, retries, timeouts, closing); the
SDK sends ``api-key:`` (or ``Authorization: Bearer`` with an Azure AD token) to
``/openai/deployments/{deployment}/…?api-version=…``, untouched.
Tags: ``wireline.provider = "azure.ai.openai"``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wireline.providers._common import build_stainless, tags

if TYPE_CHECKING:
    import openai

    from wireline.stack import Stack

__all__ = ["FLAVOR", "PROVIDER", "async_client", "client"]

#: The ``gen_ai.provider.name`` requests are tagged with.
PROVIDER = "azure.ai.openai"
#: The HTTP flavour the SDK is given.
FLAVOR = "httpx2"


def client(stack: Stack, **sdk_kwargs: Any) -> openai.AzureOpenAI:
    """An ``openai.AzureOpenAI`` whose requests go through ``stack``; ``sdk_kwargs`` go to the SDK."""
    return _build(stack, sdk_kwargs, asynchronous=False)  # type: ignore[no-any-return]


def async_client(stack: Stack, **sdk_kwargs: Any) -> openai.AsyncAzureOpenAI:
    """An ``openai.AsyncAzureOpenAI`` whose requests go through ``stack``; ``sdk_kwargs`` go to the SDK."""
    return _build(stack, sdk_kwargs, asynchronous=True)  # type: ignore[no-any-return]


def _build(stack: Stack, sdk_kwargs: dict[str, Any], *, asynchronous: bool) -> Any:
    return build_stainless(
        stack,
        sdk_kwargs,
        sdk=("openai", "AzureOpenAI", "AsyncAzureOpenAI"),
        extra="azure-openai",
        adapter="azure_openai",
        flavor=FLAVOR,
        asynchronous=asynchronous,
        extensions=tags(PROVIDER),
    )
