"""What the stacks under test are made of: pass-through layers, the built-ins, an in-memory base.

A pass-through layer is a real middleware whose hook (or flow) runs on every request and does
nothing: wireline compiles it into the chain like any other, so its figure is the cost of a layer
as such. The built-ins are looked up by name, so that cases using them start to run the moment
``wireline.middleware.Logging`` (and the others) exist, and say "not available" until then.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import wireline.middleware
from benchmarks.measure import Unavailable
from benchmarks.server import JSON_BODY, SSE_EVENT
from wireline.middleware import Middleware, observe
from wireline.transports import TransportSpec

if TYPE_CHECKING:
    from wireline._flavors import Flavor
    from wireline.typing import Flow

__all__ = [
    "BUILTINS",
    "CannedTransport",
    "ObserveChunks",
    "PassFlow",
    "PassHook",
    "PassHooks",
    "builtin",
    "full_default_stack",
    "full_stack_without_otel_sdk",
]


class PassHook(Middleware):
    """A request hook that lets every request through unchanged."""

    def on_request(self, request: Any) -> None:
        return None


class PassHooks(Middleware):
    """Both hooks, doing nothing: the general hook shell (request and response)."""

    def on_request(self, request: Any) -> None:
        return None

    def on_response(self, request: Any, response: Any) -> None:
        return None


class PassFlow(Middleware):
    """A flow that sends the request on and returns the response: the generator shell."""

    def handle(self, request: Any) -> Flow:
        return (yield request)  # type: ignore[no-any-return]


class ObserveChunks(Middleware):
    """Watches every response body, chunk by chunk, and does nothing with what it sees."""

    def on_response(self, request: Any, response: Any) -> None:
        observe(response, self)

    def on_chunk(self, chunk: bytes) -> None:
        return None

    def on_end(self, end: Any) -> None:
        return None


# -- the built-ins ------------------------------------------------------------------------------

#: Routes for ProxyRouter: one proxy route that the benchmark's URLs do not match, then direct.
#: The router does its real work (matching every request) and sends directly, as most requests do.
PROXY_ROUTES = {"https://*.openai.azure.com": "http://proxy.corp.example:3128", "*": None}

#: The built-ins of the full default stack, outermost first, with their benchmark settings.
BUILTINS: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "Logging": ((), {}),
    "Retry": ((), {}),
    "Tracing": ((), {}),
    "ProxyRouter": ((PROXY_ROUTES,), {}),
}


def builtin(name: str) -> Middleware:
    """A new ``wireline.middleware.<name>`` with its benchmark settings, or :class:`Unavailable`."""
    try:
        cls = getattr(wireline.middleware, name)
    except (AttributeError, ImportError) as exc:
        raise Unavailable("not available") from exc
    args, kwargs = BUILTINS[name]
    try:
        return cls(*args, **kwargs)  # type: ignore[no-any-return]
    except Exception as exc:
        msg = f"{name}{args!r} failed: {type(exc).__name__}: {exc}"
        raise Unavailable(msg) from exc


def full_default_stack() -> list[Middleware]:
    """Logging + Retry + Tracing + ProxyRouter, outermost first (Unavailable until all exist)."""
    layers, missing = [], []
    for name in BUILTINS:
        try:
            layers.append(builtin(name))
        except Unavailable as exc:
            missing.append(name if str(exc) == "not available" else str(exc))
    if missing:
        raise Unavailable(f"not available (missing: {', '.join(missing)})")
    return layers


def full_stack_without_otel_sdk() -> list[Middleware]:
    """The full default stack, its ``Tracing`` given OpenTelemetry's no-op tracer and meter providers.

    Every layer does all of its own work (Tracing still times the attempt, watches the body's end,
    counts the attempt in flight, injects trace context...), but starting, ending and recording
    are answered by the OpenTelemetry API without an SDK. Beside ``full`` it shows what the SDK
    itself costs per request, which no change in wireline can take away.
    """
    from opentelemetry.metrics import NoOpMeterProvider
    from opentelemetry.trace import NoOpTracerProvider

    tracing = wireline.middleware.Tracing
    args, kwargs = BUILTINS["Tracing"]
    no_sdk = {**kwargs, "tracer_provider": NoOpTracerProvider(), "meter_provider": NoOpMeterProvider()}
    return [tracing(*args, **no_sdk) if isinstance(layer, tracing) else layer for layer in full_default_stack()]


# -- an in-memory base transport: the chain's cost without I/O -----------------------------------


class CannedTransport(TransportSpec):
    """A base transport that answers at once from memory: the JSON answer, or ``events`` SSE events.

    ``reuse=True`` hands back one prebuilt response every time (for pass-through layers, which do
    not touch it): the chain's own cost is then all that varies.
    """

    name = "canned"

    def __init__(self, events: int = 0, reuse: bool = False, **route_settings: Any) -> None:
        self.events = events
        self.reuse = reuse
        self.route_settings = route_settings

    def replace(self, **changes: Any) -> CannedTransport:
        # A route (ProxyRouter's) changes settings such as the proxy; in memory they change nothing.
        return CannedTransport(self.events, self.reuse, **{**self.route_settings, **changes})

    def build(self, flavor: Flavor, *, asynchronous: bool) -> Any:
        return _canned_transport(flavor, self.events, reuse=self.reuse, asynchronous=asynchronous)


def _canned_transport(flavor: Flavor, events: int, *, reuse: bool, asynchronous: bool) -> Any:
    http = flavor.http
    stream_class = flavor.derived("BenchEvents", _events_stream_class)
    json_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(JSON_BODY)).encode())]
    sse_headers = [(b"content-type", b"text/event-stream"), (b"transfer-encoding", b"chunked")]

    def answer(request: Any) -> Any:
        if events:
            return http.Response(200, headers=sse_headers, stream=stream_class(events), request=request)
        return http.Response(200, headers=json_headers, stream=http.ByteStream(JSON_BODY), request=request)

    prebuilt = answer(http.Request("GET", "http://bench.invalid/")) if reuse else None

    if asynchronous:

        class AsyncCanned(http.AsyncBaseTransport):  # type: ignore[name-defined,misc]
            async def handle_async_request(self, request: Any) -> Any:
                return prebuilt if prebuilt is not None else answer(request)

        return AsyncCanned()

    class Canned(http.BaseTransport):  # type: ignore[name-defined,misc]
        def handle_request(self, request: Any) -> Any:
            return prebuilt if prebuilt is not None else answer(request)

    return Canned()


def _events_stream_class(flavor: Flavor) -> type:
    http = flavor.http

    class Events(http.SyncByteStream, http.AsyncByteStream):  # type: ignore[name-defined,misc]
        def __init__(self, events: int) -> None:
            self.events = events

        def __iter__(self) -> Iterator[bytes]:
            event = SSE_EVENT
            for _ in range(self.events):
                yield event
            yield b"data: [DONE]\n\n"

        async def __aiter__(self) -> Any:
            event = SSE_EVENT
            for _ in range(self.events):
                yield event
            yield b"data: [DONE]\n\n"

    return Events
