"""Mistral: ``mistralai.client.Mistral`` sending through a stack, sync and async.

One ``Mistral`` object serves both kinds of call (``chat.complete`` and ``chat.complete_async``),
so :func:`client` and :func:`async_client` both give it a sync *and* an async client built on the
stack: no call falls back to a client of the SDK's own.

- **Flavour:** httpx2, the SDK's own (its client protocol accepts httpx too).
- **Retries:** none by default (``retry_config=`` turns them on). When the stack retries, the
  adapter passes ``retry_config=None`` and refuses a ``RetryConfig``; a per-call ``retries=`` is
  yours to leave out.
- **Timeout:** the SDK ignores the client's timeout and sends 300 s per call unless you pass
  ``timeout_ms=`` (or per call), which is then in force.
- **Closing:** the SDK does not close a client it was given; the stack owns the pools.
- **Tracing:** once its telemetry is configured (``MISTRAL_SDK_TELEMETRY``, or
  ``mistralai.extra.observability.configure_telemetry``), the SDK's tracing hook makes a GenAI span
  per call and injects ``traceparent``. Requests it traces with a span that records carry
  ``wireline.sdk_traces = True`` (decided per request, since telemetry can be configured after the
  client is built), so wireline's tracing leaves the GenAI data to the SDK. The hook's
  ``traceparent`` cannot be turned off alone; a stack layer that injects replaces it, so the
  request still carries one.
- **Tags:** ``wireline.provider = "mistral_ai"``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wireline.providers._common import (
    http_clients_for_both_modes,
    import_sdk,
    refuse,
    sdk_traces_hooks,
    tags,
    with_sdk_retries_settled,
)

if TYPE_CHECKING:
    from mistralai.client import Mistral

    from wireline.stack import Stack

__all__ = ["FLAVOR", "PROVIDER", "async_client", "client"]

#: The ``gen_ai.provider.name`` requests are tagged with.
PROVIDER = "mistral_ai"
#: The HTTP flavour the SDK is given.
FLAVOR = "httpx2"

# Where the SDK's tracing hook keeps the span of the call a request belongs to.
_SDK_SPAN = "_tracing_span"


def client(stack: Stack, **sdk_kwargs: Any) -> Mistral:
    """A ``Mistral`` whose sync and async calls go through ``stack``; ``sdk_kwargs`` go to the SDK."""
    sdk = import_sdk("mistralai.client", extra="mistral", adapter="mistral")
    refuse(
        sdk_kwargs,
        "mistral",
        ["client", "async_client"],
        "the adapter builds both from the stack, so that sync and async calls both go through it",
    )
    kwargs = with_sdk_retries_settled(stack, sdk_kwargs, adapter="mistral", key="retry_config", off=None)
    sync_hooks, async_hooks = sdk_traces_hooks(_sdk_span_records)
    sync, asynchronous = http_clients_for_both_modes(
        stack,
        FLAVOR,
        extensions=tags(PROVIDER),
        follow_redirects=True,
        per_mode=({"event_hooks": sync_hooks}, {"event_hooks": async_hooks}),
    )
    return sdk.Mistral(client=sync, async_client=asynchronous, **kwargs)  # type: ignore[no-any-return]


def async_client(stack: Stack, **sdk_kwargs: Any) -> Mistral:
    """The same as :func:`client`: one ``Mistral`` object makes both kinds of call."""
    return client(stack, **sdk_kwargs)


def _sdk_span_records(request: Any) -> bool:
    """Whether the SDK's tracing hook made a span for ``request`` that records (not OpenTelemetry's no-op one)."""
    span = request.extensions.get(_SDK_SPAN)
    return span is not None and bool(getattr(span, "is_recording", lambda: True)())
