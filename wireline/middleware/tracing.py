"""``Tracing``: an OpenTelemetry CLIENT span per attempt, HTTP and GenAI metrics, trace context out.

What one request through ``Tracing`` records (stable HTTP client conventions, schema 1.44):

- **A span per attempt**, kind CLIENT, named after the method (``POST``) -- or, for an LLM call,
  ``{gen_ai.operation.name} {gen_ai.request.model}`` (``chat gpt-4o``). Attributes at start (so
  samplers see them): ``http.request.method`` (``_OTHER`` + ``http.request.method_original`` for
  unknown methods), ``server.address``, ``server.port`` (443/80 included), redacted ``url.full``,
  ``http.request.resend_count`` on resends; at the headers: ``http.response.status_code``,
  ``network.protocol.version``, the provider's request id as ``http.response.header.<name>``; at
  the end: ``http.response.body.size``, ``wireline.time_to_first_byte`` and
  ``wireline.time_to_first_chunk`` (seconds), ``error.type``. 4xx and 5xx set ERROR status with
  ``error.type`` = the code; an exception sets its qualified class name and an ``exception`` event
  (message and stack trace redacted). A cancelled request is not an error.
- **The span ends when the body ends** -- exhausted, closed or failed -- not at the headers, so a
  streamed answer is timed whole. A body never read nor closed ends as abandoned (see
  ``abandon_after`` and docs/observability.md).
- **Trace context** (W3C ``traceparent``, and whatever propagators are configured) is injected
  into the outgoing request from the attempt span, so the server's parent is this attempt.
- **Connections**: ``wireline.connection.reused`` on every span; for an attempt that opened its
  connection, ``network.peer.address``/``.port`` and ``tls.protocol.version``/``tls.cipher``/
  ``tls.next_protocol``. With ``connection_events=True``, also ``connect`` and ``tls handshake``
  span events with their durations, from the ``trace`` request extension of httpcore/httpcore2
  (a callback already there is chained; in async chains it is a coroutine function).
- **Metrics**: ``http.client.request.duration`` (same ``error.type`` as the span, recorded at the
  end of the body and for failures), ``http.client.active_requests``,
  ``http.client.open_connections`` (the stack's pools).
- **GenAI**, for LLM calls of a known provider (see :mod:`wireline.genai`): ``gen_ai.*`` request
  and response attributes, ``gen_ai.client.token.usage``, ``gen_ai.client.operation.duration``
  and, for streams, ``gen_ai.client.operation.time_to_first_chunk``. Message content only with
  ``capture_content``. Skipped when the SDK traces GenAI itself (``wireline.sdk_traces``, or a
  current span that carries ``gen_ai.*`` attributes): then only the HTTP attempt is recorded.

Instrumentation suppression is honoured (``suppress_instrumentation`` and
``suppress_http_instrumentation`` context keys: no span, no metrics, no injection), and the rest
of the chain runs under ``suppress_http_instrumentation``, so ``opentelemetry-instrumentation-httpx``
makes no second span for the same request.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from time import perf_counter, time_ns
from typing import TYPE_CHECKING, Any, ClassVar

from opentelemetry import context as otel_context, trace
from opentelemetry.context import _SUPPRESS_HTTP_INSTRUMENTATION_KEY, _SUPPRESS_INSTRUMENTATION_KEY
from opentelemetry.trace import SpanKind

from wireline import _semconv as sc
from wireline._faults import report_once
from wireline.errors import ConfigError
from wireline.extensions import PROVIDER, RESEND_COUNT, SDK_TRACES, SPAN, is_async
from wireline.genai import match_endpoint, read_request
from wireline.genai.endpoints import Endpoint
from wireline.middleware import _ends
from wireline.middleware._attempt import Attempt, Call, GenAIAttempt, _deferred, flush_deferred
from wireline.middleware._http import DEFAULT_PORTS, capture_headers
from wireline.middleware._instruments import SCHEMA_URL, instruments_for
from wireline.middleware._propagation import inject
from wireline.middleware.base import Middleware
from wireline.redaction import default as redactor

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider

    from wireline.stack import Stack
    from wireline.typing import Flow, Request

__all__ = ["Tracing"]

# contrib instrumentations also honour this older plain-string key.
_SUPPRESS_PLAIN = "suppress_instrumentation"
_CALL = "wireline.tracing.call"
_CAPTURE_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
_ORIGINS_KEPT = 1024


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("wireline")
    except PackageNotFoundError:
        return "0+unknown"


class Tracing(Middleware):
    """OpenTelemetry spans and metrics for every attempt (see the module docs for what is recorded).

    List it *after* ``Retry`` (inside it), so that each attempt gets its own span; a stack that
    lists it before a retrying layer is refused.

    Args:
        tracer_provider: Where spans go; the global provider by default.
        meter_provider: Where metrics go; the global provider by default.
        genai: Add GenAI attributes and metrics to LLM calls (``False``: plain HTTP spans only).
        capture_content: Record message content (``gen_ai.input.messages``,
            ``gen_ai.output.messages``, ``gen_ai.system_instructions``). Off by default: prompts
            and answers are often sensitive. ``None`` reads the environment variable
            ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` (``true`` to turn it on).
        connection_events: Also time each connection's setup: ``connect`` and ``tls handshake`` span
            events with their durations, from the ``trace`` extension of httpcore/httpcore2. Off by
            default: httpcore calls that extension about ten times per request, which costs more
            than the rest of the span. Without it a span still says whether its connection was
            reused, and a new connection's peer address and TLS version, read from the connection.
        abandon_after: End the span of a response whose body has been idle (not read, not
            closed) this many seconds, as abandoned; ``None`` leaves only garbage collection to
            notice an abandoned body. Longer than any gap a stream may legitimately have.
        capture_headers: Request and response header names to record as
            ``http.request.header.<name>`` / ``http.response.header.<name>`` (values redacted).
    """

    unique: ClassVar[bool] = True
    traces_http: ClassVar[bool] = True

    def __init__(
        self,
        *,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        genai: bool = True,
        capture_content: bool | None = None,
        connection_events: bool = False,
        abandon_after: float | None = 900.0,
        capture_headers: Sequence[str] = (),
    ) -> None:
        for key, value in (("genai", genai), ("connection_events", connection_events)):
            if not isinstance(value, bool):
                raise ConfigError(key, value, "true or false")
        if capture_content is not None and not isinstance(capture_content, bool):
            raise ConfigError("capture_content", capture_content, "true, false, or None (read the environment)")
        if abandon_after is not None and (
            not isinstance(abandon_after, (int, float)) or isinstance(abandon_after, bool) or abandon_after <= 0
        ):
            raise ConfigError("abandon_after", abandon_after, "a number of seconds > 0, or None")
        if isinstance(capture_headers, str) or not all(isinstance(name, str) for name in capture_headers):
            raise ConfigError("capture_headers", capture_headers, "a list of header names")
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider
        self.genai = genai
        self.capture_content = capture_content
        self.connection_events = connection_events
        self.abandon_after = None if abandon_after is None else float(abandon_after)
        self.capture_headers = tuple(capture_headers)
        self._capture = (
            capture_content
            if capture_content is not None
            else os.environ.get(_CAPTURE_ENV, "").strip().lower() in ("true", "1", "yes")
        )
        self._header_names = tuple(name.lower() for name in capture_headers)
        version = _version()
        self._tracer = trace.get_tracer("wireline", version, tracer_provider, schema_url=SCHEMA_URL)
        self._instruments = instruments_for(meter_provider, version)
        # (scheme, host, port) -> (host, port): one tuple per origin, reused by every request.
        self._origins: dict[tuple[str, str, int | None], tuple[str, int]] = {}

    # -- the stack's questions --------------------------------------------------------------

    @property
    def propagates_trace_context(self) -> bool:
        """Yes: each attempt's context goes out in its headers (SDKs' own propagation can stand down)."""
        return True

    def check(self, stack: Stack, index: int) -> None:
        for later in stack.layers[index + 1 :]:
            if later.owns_retries:
                raise ConfigError(
                    f"middleware[{index}]",
                    self,
                    f"Tracing listed after {type(later).__name__} (inside it), so that each attempt gets its own "
                    f"span; listed before it, it would see whole calls and hide the retries",
                )
        self._instruments.watch_stack(stack)

    def explain(self, url: str) -> Iterator[str]:
        yield "one OpenTelemetry CLIENT span per attempt, ended when the body ends; traceparent injected"
        if not self.genai:
            return
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        endpoint = match_endpoint(parts.hostname or "", parts.path)
        if endpoint is not None:
            content = " with message content" if self._capture else ""
            yield (
                f"LLM call: gen_ai.provider.name={endpoint.provider} gen_ai.operation.name={endpoint.operation} "
                f"({endpoint.wire_format.name}){content}"
            )

    # -- the flow -----------------------------------------------------------------------------

    def handle(self, request: Request) -> Flow:
        now, now_ns = perf_counter(), time_ns()  # one instant on both clocks: spans and metrics agree
        _ends.tick(now)
        if _deferred:
            flush_deferred()
        current = otel_context.get_current()
        if (
            current.get(_SUPPRESS_INSTRUMENTATION_KEY)
            or current.get(_SUPPRESS_HTTP_INSTRUMENTATION_KEY)
            or current.get(_SUPPRESS_PLAIN)
        ):
            return (yield request)  # type: ignore[no-any-return]
        try:
            attempt, inner_context = self._start(request, current, now, now_ns)
        except Exception as exc:  # noqa: BLE001 - no span then, but the request goes on
            report_once("Tracing: starting a span", exc)
            return (yield request)  # type: ignore[no-any-return]
        extensions = request.extensions
        token = otel_context.attach(inner_context)
        try:
            response = yield request
        except BaseException as exc:
            otel_context.detach(token)
            self._restore_trace(attempt, extensions)
            attempt.failed(exc)
            raise
        otel_context.detach(token)
        self._restore_trace(attempt, extensions)
        attempt.responded(response, extensions, self.abandon_after)
        return response  # type: ignore[no-any-return]

    def _start(self, request: Request, current: Any, now: float, started_ns: int) -> tuple[Attempt, Any]:
        extensions = request.extensions
        url = request.url
        host, port = self._origin(url)
        method = request.method
        if method not in sc.KNOWN_METHODS:
            method = sc.ERROR_TYPE_OTHER
        attributes: dict[str, Any] = {
            sc.HTTP_REQUEST_METHOD: method,
            sc.SERVER_ADDRESS: host,
            sc.SERVER_PORT: port,
            sc.URL_FULL: redactor.url(url),
        }
        if method is sc.ERROR_TYPE_OTHER:
            attributes[sc.HTTP_REQUEST_METHOD_ORIGINAL] = request.method
        if self._header_names:
            capture_headers(attributes, sc.HTTP_REQUEST_HEADER_PREFIX, request.headers, self._header_names)

        endpoint = None
        if method == "POST" and self.genai:
            endpoint = match_endpoint(host, url.path, extensions.get(PROVIDER))
            if endpoint is not None and (extensions.get(SDK_TRACES) or _genai_span_above(current)):
                endpoint = None
        call = self._count_attempt(request, attributes, now, sdk=endpoint is not None or PROVIDER in extensions)
        name = "HTTP" if method is sc.ERROR_TYPE_OTHER else method
        if endpoint is not None:
            name = self._genai_start(endpoint, request, attributes)

        span = self._tracer.start_span(
            name, context=current, kind=SpanKind.CLIENT, attributes=attributes, start_time=started_ns
        )
        attempt = Attempt(
            span,
            started=now,
            started_ns=started_ns,
            instruments=self._instruments,
            metric_attributes={sc.HTTP_REQUEST_METHOD: method, sc.SERVER_ADDRESS: host, sc.SERVER_PORT: port},
            active_key=(host, port, method),
            call=call,
        )
        self._instruments.started(attempt.active_key)
        attempt.header_names = self._header_names
        if endpoint is not None:
            genai_attributes = {
                sc.GEN_AI_OPERATION_NAME: endpoint.operation,
                sc.GEN_AI_PROVIDER_NAME: endpoint.provider,
                sc.SERVER_ADDRESS: host,
                sc.SERVER_PORT: port,
            }
            model = attributes.get(sc.GEN_AI_REQUEST_MODEL)
            if model is not None:
                genai_attributes[sc.GEN_AI_REQUEST_MODEL] = model
            stream = attributes.get(sc.GEN_AI_REQUEST_STREAM) is True
            attempt.genai = GenAIAttempt(endpoint, genai_attributes, stream=stream, capture=self._capture)
        return attempt, self._propagate(request, attempt, span, current)

    def _origin(self, url: Any) -> tuple[str, int]:
        """``(server.address, server.port)``, the port filled in for 80 and 443; one tuple per origin."""
        key = (url.scheme, url.host, url.port)
        origin = self._origins.get(key)
        if origin is None:
            if len(self._origins) >= _ORIGINS_KEPT:  # an application talks to few hosts; a flood starts over
                self._origins.clear()
            origin = self._origins[key] = (key[1], key[2] or DEFAULT_PORTS.get(key[0], 0))
        return origin

    @staticmethod
    def _count_attempt(request: Request, attributes: dict[str, Any], now: float, *, sdk: bool) -> Call:
        """The call's shared record; sets ``http.request.resend_count`` on a resend.

        Resends counted: earlier attempts through this layer (retries re-send the request; redirect
        hops share its extensions), the retry layer's own count, and -- for SDK requests -- the
        Stainless SDKs' retries (openai, anthropic, groq send ``x-stainless-retry-count``; each of
        their retries is a new request).
        """
        extensions = request.extensions
        call: Call | None = extensions.get(_CALL)
        if call is None:
            call = extensions[_CALL] = Call(now)
        else:
            call.pending = None  # the attempt before failed and is being retried: not the call's end
        sent_before = call.attempts
        call.attempts = sent_before + 1
        numbered = extensions.get(RESEND_COUNT) or 0
        resend = max(numbered, sent_before)
        # On its resends Retry also rewrites the SDK's x-stainless-retry-count (the server sees
        # the count the SDK would send): that one is counted already, in ``numbered``.
        if sdk and not numbered:
            sdk_retry = request.headers.get("x-stainless-retry-count")
            if sdk_retry is not None and sdk_retry.isdigit():
                resend += int(sdk_retry)
        if resend:
            attributes[sc.HTTP_REQUEST_RESEND_COUNT] = resend
        return call

    def _propagate(self, request: Request, attempt: Attempt, span: Any, current: Any) -> Any:
        """Inject the attempt's context, hand connection events to it; the context to run the rest in."""
        extensions = request.extensions
        span_context = trace.set_span_in_context(span, current)
        try:
            inject(request.headers, span, span_context)
        except Exception as exc:  # noqa: BLE001 - a broken propagator must not stop the request
            report_once("Tracing: injecting trace context", exc)
        extensions[SPAN] = span
        if self.connection_events:
            attempt.previous_trace = extensions.get("trace")
            extensions["trace"] = attempt.async_trace if is_async(request) else attempt.sync_trace
        return otel_context.set_value(_SUPPRESS_HTTP_INSTRUMENTATION_KEY, True, span_context)  # noqa: FBT003

    def _genai_start(self, endpoint: Endpoint, request: Request, attributes: dict[str, Any]) -> str:
        try:
            body: bytes | None = request.content
        except Exception:  # noqa: BLE001 - a streamed body (RequestNotRead): nothing to read it from
            body = None
        request_attributes, content = read_request(endpoint, body, capture=self._capture)
        attributes[sc.GEN_AI_OPERATION_NAME] = endpoint.operation
        attributes[sc.GEN_AI_PROVIDER_NAME] = endpoint.provider
        attributes.update(request_attributes)
        attributes.update(content)
        model = request_attributes.get(sc.GEN_AI_REQUEST_MODEL)
        return f"{endpoint.operation} {model}" if model else endpoint.operation

    def _restore_trace(self, attempt: Attempt, extensions: Any) -> None:
        # The next attempt (a retry re-sends the same request) must not chain onto this one's callback.
        if self.connection_events:
            previous = attempt.previous_trace
            if previous is None:
                extensions.pop("trace", None)
            else:
                extensions["trace"] = previous


def _genai_span_above(current: Any) -> bool:
    """Whether the current span is a GenAI span of another instrumentation (an SDK's own)."""
    span = trace.get_current_span(current)
    attributes = getattr(span, "attributes", None)
    if attributes and (
        sc.GEN_AI_OPERATION_NAME in attributes
        or sc.GEN_AI_PROVIDER_NAME in attributes
        or sc.GEN_AI_SYSTEM in attributes
    ):
        return True
    scope = getattr(span, "instrumentation_scope", None)
    return scope is not None and str(getattr(scope, "name", "")).startswith("com.anthropic.sdk")
