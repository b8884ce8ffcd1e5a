"""One traced attempt: its span, from the first request byte to the end of the response body.

Created by ``Tracing`` for each request that reaches it; everything it calls into OpenTelemetry
(span processors, exporters via ``SimpleSpanProcessor``, metric views, propagators) is contained:
a failure there is reported once and the request goes on.
"""

from __future__ import annotations

import atexit
import traceback
import weakref
from collections import deque
from time import perf_counter
from typing import TYPE_CHECKING, Any, Final

from opentelemetry.trace import Status, StatusCode

from wireline import _semconv as sc
from wireline._faults import report_once
from wireline.extensions import ROUTE
from wireline.genai.reading import ResponseParser
from wireline.middleware._ends import End, Pending
from wireline.middleware._http import capture_headers, error_type, protocol_version, provider_request_id, route_name
from wireline.redaction import default as redactor
from wireline.streams import observe

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from wireline.genai import Endpoint, GenAIResponse
    from wireline.middleware._http import UrlFacts
    from wireline.middleware._instruments import Instruments
    from wireline.typing import Response

__all__ = ["Attempt", "Call", "Target", "flush_deferred"]

#: Attributes wireline adds where the conventions have none.
TIME_TO_FIRST_BYTE: Final = "wireline.time_to_first_byte"
TIME_TO_FIRST_CHUNK: Final = "wireline.time_to_first_chunk"
RESPONSE_END: Final = "wireline.response.end"
CONNECTION_REUSED: Final = "wireline.connection.reused"
ROUTE_NAME: Final = "wireline.route"
DURATION: Final = "wireline.duration"

_ERROR_STATUS: Final = Status(StatusCode.ERROR)


class Call:
    """What the attempts of one call share (kept in the request's extensions).

    A failed attempt's ``gen_ai.client.operation.duration`` point waits here: if another attempt
    follows, the failure was retried and is dropped (the operation is not over); if none does, it
    is recorded when the call is done with -- when the request is garbage-collected (queued, and
    recorded at the next request, metric collection or exit).
    """

    __slots__ = ("attempts", "pending", "started")

    def __init__(self, started: float) -> None:
        self.started = started
        self.attempts = 0
        self.pending: tuple[Instruments, float, dict[str, Any]] | None = None

    def __del__(self) -> None:
        if self.pending is not None:
            _deferred.append(self.pending)

    def defer(self, point: tuple[Instruments, float, dict[str, Any]]) -> None:
        """Hold a failed attempt's operation-duration point until the call is known to be over."""
        self.pending = point
        if not _exit_registered:
            _register_exit_hook()


_deferred: deque[tuple[Instruments, float, dict[str, Any]]] = deque()
_exit_registered = False


def _register_exit_hook() -> None:
    # Lazily, for the reason given in wireline.middleware._ends: before the SDK's own exit hook.
    global _exit_registered  # noqa: PLW0603 - once per process
    _exit_registered = True
    atexit.register(flush_deferred)


def flush_deferred() -> None:
    """Record the failure points of calls that are over (see :class:`Call`)."""
    while _deferred:
        try:
            instruments, duration, attributes = _deferred.popleft()
        except IndexError:
            return
        try:
            instruments.operation_duration.record(duration, attributes)
        except Exception as exc:  # noqa: BLE001 - telemetry must not fail the request path
            report_once("Tracing: gen_ai.client.operation.duration", exc)


class GenAIAttempt:
    """The GenAI side of an attempt at an LLM endpoint."""

    __slots__ = ("capture", "endpoint", "metric_attributes", "parser", "stream")

    def __init__(self, endpoint: Endpoint, metric_attributes: dict[str, Any], *, stream: bool, capture: bool) -> None:
        self.endpoint = endpoint
        self.metric_attributes = metric_attributes
        self.stream = stream
        self.capture = capture
        self.parser: ResponseParser | None = None


class Target:
    """What every attempt with one method at one URL shares, worked out once and never changed.

    The span's name and start attributes (handed to the SDK as they are: it copies them), the
    metric attributes for each outcome, and the set of attempts in flight for
    ``http.client.active_requests``. ``Tracing`` keeps one per (URL, method) it sees.
    """

    __slots__ = ("_metrics", "active", "attributes", "header_names", "host", "instruments", "method", "name", "port")

    def __init__(self, instruments: Instruments, facts: UrlFacts, method: str, header_names: tuple[str, ...]) -> None:
        known = method if method in sc.KNOWN_METHODS else sc.ERROR_TYPE_OTHER
        self.method = known
        self.host = facts.host
        self.port = facts.port
        self.name = "HTTP" if known is sc.ERROR_TYPE_OTHER else method
        self.attributes: dict[str, Any] = {
            sc.HTTP_REQUEST_METHOD: known,
            sc.SERVER_ADDRESS: facts.host,
            sc.SERVER_PORT: facts.port,
            sc.URL_FULL: facts.text,
        }
        if known is sc.ERROR_TYPE_OTHER:
            self.attributes[sc.HTTP_REQUEST_METHOD_ORIGINAL] = method
        self.instruments = instruments
        self.header_names = header_names
        self.active = instruments.active((facts.host, facts.port, known))
        # (status, protocol version, error.type) -> the duration metric's attributes
        self._metrics: dict[tuple[int | None, str | None, str | None], dict[str, Any]] = {}

    def metric_attributes(self, status: int | None, version: str | None, error: str | None) -> dict[str, Any]:
        """``http.client.request.duration``'s attributes for an outcome (shared: the SDK copies them)."""
        key = (status, version, error)
        found = self._metrics.get(key)
        if found is None:
            found = {sc.HTTP_REQUEST_METHOD: self.method, sc.SERVER_ADDRESS: self.host, sc.SERVER_PORT: self.port}
            if status is not None:
                found[sc.HTTP_RESPONSE_STATUS_CODE] = status
            if version is not None:
                found[sc.NETWORK_PROTOCOL_VERSION] = version
            if error is not None:
                found[sc.ERROR_TYPE] = error
            if len(self._metrics) < _OUTCOMES_KEPT:
                self._metrics[key] = found
        return found


#: Outcomes (status, version, error type) remembered per target; errors with odd types are few.
_OUTCOMES_KEPT: Final = 64


class Attempt(Pending):
    """The span of one attempt and what its end needs (see the module docs).

    Attributes learned after the start are gathered in ``attributes`` and given to the span once,
    at its end: every ``set_attributes`` call costs the SDK a lock and a validation pass.
    """

    __slots__ = (
        "attributes",
        "call",
        "connect_started",
        "error_type",
        "genai",
        "previous_trace",
        "reused",
        "span",
        "started",
        "started_ns",
        "target",
        "tls_started",
        "ttfb_at",
    )

    def __init__(self, span: Span, target: Target, call: Call, started: float, started_ns: int) -> None:
        self.span = span
        self.target = target
        self.call = call
        self.started = started
        self.started_ns = started_ns
        # Attributes learned after the start (the start's are the target's), given to the span at its end.
        self.attributes: dict[str, Any] = {}
        self.error_type: str | None = None
        self.ttfb_at: float | None = None
        self.genai: GenAIAttempt | None = None
        self.reused: bool | None = None
        self.previous_trace: Any = None
        self.connect_started: float | None = None
        self.tls_started: float | None = None

    # -- the response ------------------------------------------------------------------------

    def responded(self, response: Response, request_extensions: Any, abandon_after: float | None) -> None:
        """The headers are in: note them, and finish when the body ends."""
        now = perf_counter()
        if self.ttfb_at is None:
            self.ttfb_at = now
        try:
            self._note_response(response, request_extensions)
        except Exception as exc:  # noqa: BLE001 - nothing here may break the response
            report_once("Tracing: recording the response", exc)
        self.watch(response, abandon_after, now)

    def _note_response(self, response: Response, request_extensions: Any) -> None:
        status = response.status_code
        attributes = self.attributes
        attributes[sc.HTTP_RESPONSE_STATUS_CODE] = status
        version = protocol_version(response)
        if version is not None:
            attributes[sc.NETWORK_PROTOCOL_VERSION] = version
        found = provider_request_id(response.headers)
        if found is not None:
            attributes[sc.HTTP_RESPONSE_HEADER_PREFIX + found[0]] = [found[1]]
        header_names = self.target.header_names
        if header_names:
            capture_headers(attributes, sc.HTTP_RESPONSE_HEADER_PREFIX, response.headers, header_names)
        stream = response.extensions.get("network_stream")
        if stream is not None:
            _note_connection(attributes, stream, self.reused)
        elif self.reused is not None:
            attributes[CONNECTION_REUSED] = self.reused
        route = request_extensions.get(ROUTE)
        if route is not None:
            attributes[ROUTE_NAME] = route_name(route)
        if status >= 400:  # noqa: PLR2004 - the conventions' rule: 4xx and 5xx are errors on a client span
            self.error_type = str(status)
        elif self.genai is not None:
            genai = self.genai
            headers = response.headers
            genai.parser = ResponseParser(
                genai.endpoint,
                content_type=headers.get("content-type"),
                content_encoding=headers.get("content-encoding"),
                stream_requested=genai.stream,
                capture=genai.capture,
            )
            # Registered before this record, so the parser is done when finish() reads it.
            observe(response, genai.parser)

    # -- the end ----------------------------------------------------------------------------

    def failed(self, exc: BaseException) -> None:
        """The rest of the chain raised before any response."""
        ended_at = perf_counter()
        if not isinstance(exc, Exception):
            # Cancellation (CancelledError, KeyboardInterrupt...) is the caller's intent, not an
            # error of the request: the span ends without error status, and no duration is recorded.
            self.attributes[RESPONSE_END] = "cancelled"
            self._end(ended_at, record=False)
            return
        self.error_type = error_type(exc)
        self._exception_event(exc, ended_at)
        self._end(ended_at, record=True)

    def finish(self, ended: End) -> None:
        """The body ended: exhausted, closed, failed or abandoned."""
        attributes = self.attributes
        if ended.bytes is not None:
            attributes[sc.HTTP_RESPONSE_BODY_SIZE] = ended.bytes
        first_chunk_at = ended.first_chunk_at
        if first_chunk_at is not None and (ended.chunks or 0) > 1:
            attributes[TIME_TO_FIRST_CHUNK] = first_chunk_at - self.started
        reason = ended.reason
        if reason != "exhausted":
            attributes[RESPONSE_END] = reason
            if reason == "failed" and ended.error is not None:
                if self.error_type is None:
                    self.error_type = error_type(ended.error)
                self._exception_event(ended.error, ended.ended_at)
        genai_response = None
        genai = self.genai
        # A closed body counts too: the OpenAI and Mistral SDKs close a stream at its end marker
        # (``data: [DONE]``), before its last, empty chunk; a stream closed early tells what it got.
        if genai is not None and genai.parser is not None and reason in ("exhausted", "closed"):
            genai_response = genai.parser.result()
            if genai_response is not None:
                attributes.update(genai_response.attributes())
                if genai.stream and first_chunk_at is not None:
                    attributes[sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = first_chunk_at - self.started
        self._end(ended.ended_at, record=True, genai_response=genai_response, first_chunk_at=first_chunk_at)

    def _end(
        self,
        ended_at: float,
        *,
        record: bool,
        genai_response: GenAIResponse | None = None,
        first_chunk_at: float | None = None,
    ) -> None:
        duration = ended_at - self.started
        target = self.target
        error = self.error_type
        attributes = self.attributes
        try:
            target.active.discard(self)
            if self.ttfb_at is not None:
                attributes[TIME_TO_FIRST_BYTE] = self.ttfb_at - self.started
            if error is not None:
                attributes[sc.ERROR_TYPE] = error
            span = self.span
            span.set_attributes(attributes)
            if error is not None:
                span.set_status(_ERROR_STATUS)
            span.end(end_time=self.started_ns + int(duration * 1e9))
        except Exception as exc:  # noqa: BLE001 - a raising span processor stays contained
            report_once("Tracing: ending a span", exc)
        if not record:
            return
        try:
            metric_attributes = target.metric_attributes(
                attributes.get(sc.HTTP_RESPONSE_STATUS_CODE), attributes.get(sc.NETWORK_PROTOCOL_VERSION), error
            )
            target.instruments.request_duration.record(duration, metric_attributes)
            if self.genai is not None:
                self._genai_metrics(self.genai, ended_at, genai_response, first_chunk_at)
        except Exception as exc:  # noqa: BLE001 - nor a raising metric reader or view
            report_once("Tracing: recording metrics", exc)

    def _genai_metrics(
        self, genai: GenAIAttempt, ended_at: float, response: GenAIResponse | None, first_chunk_at: float | None
    ) -> None:
        instruments = self.target.instruments
        attributes = dict(genai.metric_attributes)
        if response is not None and response.model is not None:
            attributes[sc.GEN_AI_RESPONSE_MODEL] = response.model
        started = self.call.started
        if self.error_type is not None:
            attributes[sc.ERROR_TYPE] = self.error_type
            self.call.defer((instruments, ended_at - started, attributes))
            return
        instruments.operation_duration.record(ended_at - started, attributes)
        if genai.stream and first_chunk_at is not None:
            instruments.time_to_first_chunk.record(first_chunk_at - started, attributes)
        if response is None:
            return
        for token_type, count in (("input", response.input_tokens), ("output", response.output_tokens)):
            if count is not None:
                instruments.token_usage.record(count, {**attributes, sc.GEN_AI_TOKEN_TYPE: token_type})

    def _exception_event(self, exc: BaseException, at: float) -> None:
        try:
            self.span.add_event(
                "exception",
                {
                    sc.EXCEPTION_TYPE: error_type(exc),
                    sc.EXCEPTION_MESSAGE: redactor.text(str(exc)),
                    sc.EXCEPTION_STACKTRACE: redactor.text("".join(traceback.format_exception(exc))),
                },
                timestamp=self._ns(at),
            )
        except Exception as report:  # noqa: BLE001
            report_once("Tracing: recording an exception", report)

    def _ns(self, at: float) -> int:
        return self.started_ns + int((at - self.started) * 1e9)

    # -- connection events (the ``trace`` extension of httpcore / httpcore2) -----------------

    def sync_trace(self, name: str, info: dict[str, Any]) -> None:
        handler = _TRACE_HANDLERS.get(name)
        if handler is not None:
            self._handle(handler, info)
        if self.previous_trace is not None:
            self.previous_trace(name, info)

    async def async_trace(self, name: str, info: dict[str, Any]) -> None:
        handler = _TRACE_HANDLERS.get(name)
        if handler is not None:
            self._handle(handler, info)
        if self.previous_trace is not None:
            await self.previous_trace(name, info)

    def _handle(self, handler: Any, info: dict[str, Any]) -> None:
        try:
            handler(self, info)
        except Exception as exc:  # noqa: BLE001 - an exception here would break the request itself
            report_once("Tracing: a connection event", exc)

    def _connect_started(self, info: dict[str, Any]) -> None:
        self.connect_started = perf_counter()
        self.reused = False

    def _connect_complete(self, info: dict[str, Any]) -> None:
        started = self.connect_started or perf_counter()
        attributes: dict[str, Any] = {DURATION: perf_counter() - started}
        peer = _read_peer(info.get("return_value"))
        if peer is not None:
            # The socket's peer (a proxy, when there is one): on the span too, for this attempt opened it.
            attributes[sc.NETWORK_PEER_ADDRESS], attributes[sc.NETWORK_PEER_PORT] = peer
            self.attributes[sc.NETWORK_PEER_ADDRESS], self.attributes[sc.NETWORK_PEER_PORT] = peer
        self.span.add_event("connect", attributes, timestamp=self._ns(started))

    def _connect_failed(self, info: dict[str, Any]) -> None:
        self._failed_event("connect failed", self.connect_started, info)

    def _tls_started(self, info: dict[str, Any]) -> None:
        self.tls_started = perf_counter()

    def _tls_complete(self, info: dict[str, Any]) -> None:
        started = self.tls_started or perf_counter()
        attributes: dict[str, Any] = {DURATION: perf_counter() - started}
        stream = info.get("return_value")
        ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
        if ssl_object is not None:
            _tls_attributes(attributes, ssl_object)
        self.span.add_event("tls handshake", attributes, timestamp=self._ns(started))

    def _tls_failed(self, info: dict[str, Any]) -> None:
        self._failed_event("tls handshake failed", self.tls_started, info)

    def _failed_event(self, name: str, started: float | None, info: dict[str, Any]) -> None:
        attributes: dict[str, Any] = {}
        exc = info.get("exception")
        if isinstance(exc, BaseException):
            attributes[sc.ERROR_TYPE] = error_type(exc)
            attributes[sc.EXCEPTION_MESSAGE] = redactor.text(str(exc))
        if started is not None:
            attributes[DURATION] = perf_counter() - started
        self.span.add_event(name, attributes, timestamp=self._ns(started or perf_counter()))

    def _sending(self, info: dict[str, Any]) -> None:
        if self.reused is None:
            self.reused = True

    def _headers_received(self, info: dict[str, Any]) -> None:
        self.ttfb_at = perf_counter()

    def _retrying_connect(self, info: dict[str, Any]) -> None:
        self.span.add_event("connect retry", {}, timestamp=self._ns(perf_counter()))


_STEPS: Final = {
    "connect_tcp.started": Attempt._connect_started,  # noqa: SLF001 - the class's own table
    "connect_unix_socket.started": Attempt._connect_started,  # noqa: SLF001
    "connect_tcp.complete": Attempt._connect_complete,  # noqa: SLF001
    "connect_unix_socket.complete": Attempt._connect_complete,  # noqa: SLF001
    "connect_tcp.failed": Attempt._connect_failed,  # noqa: SLF001
    "connect_unix_socket.failed": Attempt._connect_failed,  # noqa: SLF001
    "start_tls.started": Attempt._tls_started,  # noqa: SLF001
    "start_tls.complete": Attempt._tls_complete,  # noqa: SLF001
    "start_tls.failed": Attempt._tls_failed,  # noqa: SLF001
    "send_request_headers.started": Attempt._sending,  # noqa: SLF001
    "receive_response_headers.complete": Attempt._headers_received,  # noqa: SLF001
    "retry.started": Attempt._retrying_connect,  # noqa: SLF001
}
# Event names are "<component>.<step>.<started|complete|failed>", the component being the pool
# module that sent it; keyed by the full name, an event costs one dict lookup.
_COMPONENTS: Final = ("connection", "http11", "http2", "http_proxy", "socks_proxy")
_TRACE_HANDLERS: Final = {
    f"{component}.{step}": handler for component in _COMPONENTS for step, handler in _STEPS.items()
}


# The network streams (one per connection) seen by a response already: a response on one of them
# reused its connection. Held weakly, so a closed connection's stream goes away with it.
_seen_streams: weakref.WeakSet[Any] = weakref.WeakSet()


def _note_connection(attributes: dict[str, Any], stream: Any, reused: bool | None) -> None:
    """``wireline.connection.reused``; and for a connection this attempt opened, its peer and TLS."""
    try:
        seen = stream in _seen_streams
        if not seen:
            _seen_streams.add(stream)
    except TypeError:  # a stream that cannot be weakly referenced: say only what the trace events said
        if reused is not None:
            attributes[CONNECTION_REUSED] = reused
        return
    attributes[CONNECTION_REUSED] = seen if reused is None else reused
    if seen:
        return
    if sc.NETWORK_PEER_ADDRESS not in attributes:
        peer = _read_peer(stream)
        if peer is not None:
            attributes[sc.NETWORK_PEER_ADDRESS], attributes[sc.NETWORK_PEER_PORT] = peer
    ssl_object = stream.get_extra_info("ssl_object")
    if ssl_object is not None:
        _tls_attributes(attributes, ssl_object)


def _tls_attributes(attributes: dict[str, Any], ssl_object: Any) -> None:
    version = ssl_object.version()  # "TLSv1.3"
    if version:
        attributes[sc.TLS_PROTOCOL_VERSION] = version.removeprefix("TLSv")
    cipher = ssl_object.cipher()
    if cipher:
        attributes[sc.TLS_CIPHER] = cipher[0]
    protocol = ssl_object.selected_alpn_protocol()
    if protocol:
        attributes[sc.TLS_NEXT_PROTOCOL] = protocol


def _read_peer(stream: Any) -> tuple[str, int] | None:
    try:
        address = stream.get_extra_info("server_addr")
    except Exception:  # noqa: BLE001 - a stream that cannot say has no peer for us
        return None
    if isinstance(address, tuple) and len(address) >= 2 and isinstance(address[0], str):  # noqa: PLR2004
        return address[0], int(address[1])
    return None
