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
from wireline.middleware._attempt import Attempt, Call, GenAIAttempt, Target, _deferred, flush_deferred
from wireline.middleware._http import UrlFacts, capture_headers, url_facts
from wireline.middleware._instruments import SCHEMA_URL, instruments_for
from wireline.middleware._propagation import inject
from wireline.middleware.base import Middleware

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
_TARGETS_KEPT = 1024
# The context key of the current span: read from a context the API made, so it is the API's own.
_SPAN_KEY: str = next(iter(trace.set_span_in_context(trace.INVALID_SPAN, otel_context.Context())))


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
        # (URL facts, method) -> what every attempt there shares.
        self._targets: dict[tuple[UrlFacts, str], Target] = {}

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
        if current and (  # the root context is empty: nothing to look up in it
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
        token = otel_context.attach(inner_context)
        try:
            response = yield request
        except BaseException as exc:
            otel_context.detach(token)
            if self.connection_events:
                _restore_trace(attempt, request.extensions)
            attempt.failed(exc)
            raise
        otel_context.detach(token)
        if self.connection_events:
            _restore_trace(attempt, request.extensions)
        attempt.responded(response, request.extensions, self.abandon_after)
        return response  # type: ignore[no-any-return]

    def _start(self, request: Request, current: Any, now: float, started_ns: int) -> tuple[Attempt, Any]:
        extensions = request.extensions
        facts = url_facts(request.url)
        method = request.method
        target = self._targets.get((facts, method))
        if target is None:
            target = self._target(facts, method)
        call, resend = _count_attempt(extensions, now)

        endpoint = _llm_endpoint(facts, extensions, current) if method == "POST" and self.genai else None
        if (endpoint is not None or PROVIDER in extensions) and not extensions.get(RESEND_COUNT):
            # The Stainless SDKs (openai, anthropic, groq) number their own retries, each a new request.
            # Not on Retry's resends: Retry rewrites that header to what the SDK would send, and its
            # own count is in ``resend`` already.
            sdk_retry = request.headers.get("x-stainless-retry-count")
            if sdk_retry is not None and sdk_retry.isdigit():
                resend += int(sdk_retry)
        attributes = target.attributes  # shared, and handed to the SDK as it is (it copies them)...
        name = target.name
        if resend or endpoint is not None or self._header_names:
            attributes = dict(attributes)  # ...unless this attempt has more to say
            if resend:
                attributes[sc.HTTP_REQUEST_RESEND_COUNT] = resend
            if self._header_names:
                capture_headers(attributes, sc.HTTP_REQUEST_HEADER_PREFIX, request.headers, self._header_names)
            if endpoint is not None:
                name = self._genai_start(endpoint, request, attributes)

        span = self._tracer.start_span(
            name, context=current, kind=SpanKind.CLIENT, attributes=attributes, start_time=started_ns
        )
        attempt = Attempt(span, target, call, now, started_ns)
        if endpoint is not None:
            attempt.genai = self._genai_attempt(endpoint, target, attributes)
        inner_context = self._propagate(request, attempt, span, current)
        target.active.add(attempt)  # last: from here on the attempt is sure to end
        return attempt, inner_context

    def _target(self, facts: UrlFacts, method: str) -> Target:
        """The :class:`Target` for ``method`` at the URL of ``facts``, made and kept."""
        if len(self._targets) >= _TARGETS_KEPT:  # an application calls few URLs; ids in paths start over
            self._targets.clear()
        target = self._targets[facts, method] = Target(self._instruments, facts, method, self._header_names)
        return target

    def _propagate(self, request: Request, attempt: Attempt, span: Any, current: Any) -> Any:
        """Inject the attempt's context, hand connection events to it; the context to run the rest in."""
        extensions = request.extensions
        # The attempt's span, and HTTP instrumentation suppressed below: one copy of the context.
        inner_context = otel_context.Context(current, **{_SPAN_KEY: span, _SUPPRESS_HTTP_INSTRUMENTATION_KEY: True})
        try:
            inject(request.headers, span, inner_context)
        except Exception as exc:  # noqa: BLE001 - a broken propagator must not stop the request
            report_once("Tracing: injecting trace context", exc)
        extensions[SPAN] = span
        if self.connection_events:
            attempt.previous_trace = extensions.get("trace")
            extensions["trace"] = attempt.async_trace if is_async(request) else attempt.sync_trace
        return inner_context

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

    def _genai_attempt(self, endpoint: Endpoint, target: Target, attributes: dict[str, Any]) -> GenAIAttempt:
        genai_attributes = {
            sc.GEN_AI_OPERATION_NAME: endpoint.operation,
            sc.GEN_AI_PROVIDER_NAME: endpoint.provider,
            sc.SERVER_ADDRESS: target.host,
            sc.SERVER_PORT: target.port,
        }
        model = attributes.get(sc.GEN_AI_REQUEST_MODEL)
        if model is not None:
            genai_attributes[sc.GEN_AI_REQUEST_MODEL] = model
        stream = attributes.get(sc.GEN_AI_REQUEST_STREAM) is True
        return GenAIAttempt(endpoint, genai_attributes, stream=stream, capture=self._capture)


def _llm_endpoint(facts: UrlFacts, extensions: Any, current: Any) -> Endpoint | None:
    """The LLM endpoint a POST goes to, unless the SDK that sent it records GenAI telemetry itself."""
    endpoint = match_endpoint(facts.host, facts.path, extensions.get(PROVIDER))
    if endpoint is not None and (extensions.get(SDK_TRACES) or _genai_span_above(current)):
        return None
    return endpoint


def _count_attempt(extensions: Any, now: float) -> tuple[Call, int]:
    """The call's shared record, and how many times the call was sent before this attempt.

    Counted: earlier attempts through this layer (retries re-send the request; redirect hops share
    its extensions) and the retry layer's own count.
    """
    call: Call | None = extensions.get(_CALL)
    if call is None:
        call = extensions[_CALL] = Call(now)
    else:
        call.pending = None  # the attempt before failed and is being retried: not the call's end
    sent_before = call.attempts
    call.attempts = sent_before + 1
    resend = extensions.get(RESEND_COUNT) or 0
    return call, max(resend, sent_before)


def _restore_trace(attempt: Attempt, extensions: Any) -> None:
    # The next attempt (a retry re-sends the same request) must not chain onto this one's callback.
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
