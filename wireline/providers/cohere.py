"""Cohere: ``cohere.ClientV2`` / ``cohere.AsyncClientV2`` sending through a stack.

- **Flavour:** httpx only (the SDK does not check: an httpx2 client fails at the first call).
- **Retries:** the SDK retries plain calls twice (408, 409, 429, 5xx; it honours ``retry-after``,
  ``retry-after-ms`` and ``x-ratelimit-reset``) but never streams. When the stack retries, the
  adapter passes ``max_retries=0`` and refuses any other value.
- **Timeout:** with a client it was given, the SDK uses that client's timeout as is, so the adapter
  builds it with the SDK's own default, 300 s; a ``timeout=`` you give the SDK wins.
- **Closing:** ``close()`` closes the client the SDK was given; the stack's pools stay open.
- **Tags:** ``wireline.provider = "cohere"``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wireline.providers._common import http_client, import_sdk, refuse, tags, with_sdk_retries_settled

if TYPE_CHECKING:
    import cohere

    from wireline.stack import Stack

__all__ = ["DEFAULT_TIMEOUT", "FLAVOR", "PROVIDER", "async_client", "client"]

#: The ``gen_ai.provider.name`` requests are tagged with.
PROVIDER = "cohere"
#: The HTTP flavour the SDK is given.
FLAVOR = "httpx"
#: Seconds: the SDK's own default, which it applies only to clients it builds itself.
DEFAULT_TIMEOUT = 300.0


def client(stack: Stack, **sdk_kwargs: Any) -> cohere.ClientV2:
    """A ``cohere.ClientV2`` whose requests go through ``stack``; ``sdk_kwargs`` go to the SDK."""
    return _build(stack, sdk_kwargs, asynchronous=False)  # type: ignore[no-any-return]


def async_client(stack: Stack, **sdk_kwargs: Any) -> cohere.AsyncClientV2:
    """A ``cohere.AsyncClientV2`` whose requests go through ``stack``; ``sdk_kwargs`` go to the SDK."""
    return _build(stack, sdk_kwargs, asynchronous=True)  # type: ignore[no-any-return]


def _build(stack: Stack, sdk_kwargs: dict[str, Any], *, asynchronous: bool) -> Any:
    sdk = import_sdk("cohere", extra="cohere", adapter="cohere")
    refuse(sdk_kwargs, "cohere", ["httpx_client"], "the adapter builds the HTTP client from the stack")
    kwargs = with_sdk_retries_settled(stack, sdk_kwargs, adapter="cohere", key="max_retries", off=0)
    built = http_client(
        stack,
        FLAVOR,
        asynchronous=asynchronous,
        extensions=tags(PROVIDER),
        timeout=DEFAULT_TIMEOUT,
        follow_redirects=True,
    )
    sdk_class = sdk.AsyncClientV2 if asynchronous else sdk.ClientV2
    return sdk_class(httpx_client=built, **kwargs)
