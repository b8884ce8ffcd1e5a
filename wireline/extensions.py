"""Keys wireline uses in ``request.extensions``: the side channel between layers.

Per-request data that one layer leaves for another lives in ``request.extensions`` under a
``wireline.`` prefix, never in the middleware object (one middleware object serves every request,
on every thread and event loop). Third-party middleware should use a prefix of its own.

httpx copies ``extensions`` shallowly for each redirect hop, so a mutable value put there (a list,
a dict, an object) is shared by the hops of one call; SDK retries build a new request each time.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

__all__ = [
    "ASYNC",
    "ATTEMPT",
    "BODY_FACTORY",
    "CALL",
    "PROVIDER",
    "RESEND_COUNT",
    "RETRY",
    "ROUTE",
    "SDK_TRACES",
    "SPAN",
    "is_async",
]

#: ``True`` when the request travels through an async chain. Set by the stack on every request,
#: for layers that hand a callback to the I/O below them (the ``trace`` extension of httpcore
#: must be a coroutine function in async mode and a plain function in sync mode).
ASYNC = "wireline.async"

#: The attempt number of this request within its call, 1-based. Set by ``Retry``.
ATTEMPT = "wireline.attempt"

#: How many times this call was sent before this attempt (``http.request.resend_count``).
RESEND_COUNT = "wireline.resend_count"

#: A per-call record shared by the attempts of one call (set by the outermost layer that needs one).
CALL = "wireline.call"

#: The name of the provider the request is for (``"openai"``, ``"anthropic"``...), set by the
#: provider adapters on every request their clients send.
PROVIDER = "wireline.provider"

#: ``True`` when the SDK that sent this request records GenAI telemetry itself (the Anthropic SDK's
#: spans, mistralai's tracing hook). Set by provider adapters, per request, when the SDK's span for
#: it records (over a no-op tracer provider an SDK's spans record nothing); ``Tracing`` then records
#: the HTTP attempt but no GenAI attributes or metrics of its own, so nothing is counted twice.
SDK_TRACES = "wireline.sdk_traces"

#: The OpenTelemetry span of the current attempt, set by ``Tracing`` before it sends the request on
#: (it stays there afterwards). ``Logging`` reads it to put ``trace_id`` and ``span_id`` in its events.
SPAN = "wireline.span"

#: Per-request retry override: ``False`` (no retries), or a mapping of ``Retry`` settings.
RETRY = "wireline.retry"

#: A function that returns the request body afresh (an iterable of bytes, or an async iterable
#: in async clients), set by the caller for a streaming body. ``Retry`` calls it for each resend,
#: so a body too large to keep in memory can still be sent again.
BODY_FACTORY = "wireline.body_factory"

#: A :class:`wireline.transports.Route` for this request (set by ``ProxyRouter``): base-transport
#: settings to change, such as a proxy. The stack keeps one pool per distinct route.
ROUTE = "wireline.route"


def is_async(request: Any) -> bool:
    """Whether ``request`` is travelling through an async chain (see :data:`ASYNC`)."""
    extensions: MutableMapping[str, Any] = request.extensions
    return bool(extensions.get(ASYNC, False))
