"""Anthropic: ``anthropic.Anthropic`` / ``anthropic.AsyncAnthropic`` sending through a stack.

- **Flavour:** httpx2 only (the SDK refuses httpx objects with a ``TypeError``).
- **Retries:** the SDK retries twice (408, 409, 429, 5xx, 529; it honours ``retry-after`` without a
  cap) unless the stack retries; then the adapter passes ``max_retries=0`` and refuses any other value.
- **Timeout:** the ``timeout=`` you give the SDK; else the SDK's default, 600 s (connect 5 s).
- **Closing:** ``close()`` closes the client the SDK was given; the stack's pools stay open.
- **Tracing:** the SDK makes an OpenTelemetry span per API call by default (``open_telemetry``
  option, ``ANTHROPIC_OPEN_TELEMETRY*`` variables) and injects ``traceparent``. Requests sent under
  a span of the SDK that records carry ``wireline.sdk_traces = True``, so wireline's tracing records
  the HTTP attempts (children of the SDK's span) and leaves the GenAI data to the SDK; with no
  tracer provider to record them (no ``tracer_provider`` option, no global provider set), the SDK's
  spans are no-ops and wireline's tracing records the GenAI data itself. When the stack injects
  trace context itself (``stack.propagates_trace_context``), the adapter adds ``"propagation": False``
  to the option (keeping what the environment variables say), so the context is injected once, per
  attempt, by the layer closest to the wire; a ``propagation`` you set yourself is kept.
- **Tags:** ``wireline.provider = "anthropic"``.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from wireline.providers._common import build_stainless, sdk_traces_hooks, tags

if TYPE_CHECKING:
    import anthropic

    from wireline.stack import Stack

__all__ = ["FLAVOR", "PROVIDER", "async_client", "client"]

#: The ``gen_ai.provider.name`` requests are tagged with.
PROVIDER = "anthropic"
#: The HTTP flavour the SDK is given.
FLAVOR = "httpx2"

# The instrumentation scope of the SDK's spans (``….vertex``, ``….bedrock``... for its platform clients).
_SDK_SCOPE = "com.anthropic.sdk.python"


def client(stack: Stack, **sdk_kwargs: Any) -> anthropic.Anthropic:
    """An ``anthropic.Anthropic`` whose requests go through ``stack``; ``sdk_kwargs`` go to the SDK."""
    return _build(stack, sdk_kwargs, asynchronous=False)  # type: ignore[no-any-return]


def async_client(stack: Stack, **sdk_kwargs: Any) -> anthropic.AsyncAnthropic:
    """An ``anthropic.AsyncAnthropic`` whose requests go through ``stack``; ``sdk_kwargs`` go to the SDK."""
    return _build(stack, sdk_kwargs, asynchronous=True)  # type: ignore[no-any-return]


def _build(stack: Stack, sdk_kwargs: dict[str, Any], *, asynchronous: bool) -> Any:
    option = sdk_kwargs.get("open_telemetry")
    sdk_traces = traces_enabled(option)
    kwargs = dict(sdk_kwargs)
    if sdk_traces and stack.propagates_trace_context:
        kwargs["open_telemetry"] = without_propagation(option)
    return build_stainless(
        stack,
        kwargs,
        sdk=("anthropic", "Anthropic", "AsyncAnthropic"),
        extra="anthropic",
        adapter="anthropic",
        flavor=FLAVOR,
        asynchronous=asynchronous,
        extensions=tags(PROVIDER),
        event_hooks=sdk_traces_hooks(_under_sdk_span) if sdk_traces else None,
    )


def _under_sdk_span(_request: Any) -> bool:
    """Whether a request is sent under a recording span of the SDK (current while it sends)."""
    from opentelemetry import trace

    span = trace.get_current_span()
    scope = getattr(span, "instrumentation_scope", None)
    return span.is_recording() and str(getattr(scope, "name", "")).startswith(_SDK_SCOPE)


def traces_enabled(option: Any) -> bool:
    """Whether a client given the ``open_telemetry`` option ``option`` makes spans (the SDK's rules).

    ``None`` defers to ``ANTHROPIC_OPEN_TELEMETRY`` (on unless ``false``); ``False`` is off; a
    mapping is on unless its ``traces`` is ``False`` or has ``enabled: False``.
    """
    if option is None:
        return os.environ.get("ANTHROPIC_OPEN_TELEMETRY", "").lower() != "false"
    if not isinstance(option, Mapping):
        return bool(option)
    traces = option.get("traces")
    if isinstance(traces, bool):
        return traces
    return not isinstance(traces, Mapping) or traces.get("enabled") is not False


def without_propagation(option: Any) -> Any:
    """``option`` with ``"propagation": False`` added, unless it says something about propagation.

    A client given an option ignores the ``ANTHROPIC_OPEN_TELEMETRY*`` variables, so when the user
    gave none the SDK's own reading of the environment is the starting point.
    """
    if option is None:
        option = _environment_option()
    if isinstance(option, Mapping) and "propagation" not in option:
        return {**option, "propagation": False}
    return option


def _environment_option() -> dict[str, Any]:
    # The SDK's own reader (private; if it moves, start from nothing: the defaults).
    try:
        reader = importlib.import_module("anthropic._tracing").env_open_telemetry
    except (ImportError, AttributeError):
        return {}
    return dict(reader())
