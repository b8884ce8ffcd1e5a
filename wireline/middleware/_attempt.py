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
from wireline.middleware._ends import Ended, Pending
from wireline.middleware._http import capture_headers, error_type, protocol_version, provider_request_id
from wireline.redaction import default as redactor

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from wireline.genai import Endpoint, GenAIResponse
    from wireline.middleware._instruments import Instruments
    from wireline.typing import Response

__all__ = ["Attempt", "Call", "flush_deferred"]

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


class Attempt(Pending):
    """The span of one attempt and what its end needs (see the module docs)."""

    __slots__ = (
        "active_key",
        "call",
        "capture",
        "connect_started",
        "endpoint",
        "error_type",
        "genai_metric_attributes",
        "header_names",
        "instruments",
        "metric_attributes",
        "new_connection",
        "parser",
        "previous_trace",
        "reused",
        "span",
        "started",
        "started_ns",
        "status",
        "stream_requested",
        "tls_started",
        "ttfb_at",
    )

    def __init__(
        self,
        span: Span,
        *,
        started: float,
        started_ns: int,
        instruments: Instruments,
        metric_attributes: dict[str, Any],
        active_key: tuple[str, int, str],
    ) -> None:
        self.span = span
        self.started = started
        self.started_ns = started_ns
        self.instruments = instruments
        self.metric_attributes = metric_attributes
        self.active_key = active_key
        self.error_type: str | None = None
        self.status: int | None = None
        self.ttfb_at: float | None = None
        self.previous_trace: Any = None
        self.connect_started: float | None = None
        self.tls_started: float | None = None
        self.new_connection = False
        self.reused: bool | None = None
        self.endpoint: Endpoint | None = None
        self.call: Call | None = None
        self.parser: ResponseParser | None = None
        self.genai_metric_attributes: dict[str, Any] | None = None
        self.stream_requested = False
        self.capture = False
        self.header_names: tuple[str, ...] = ()

    # -- the response ------------------------------------------------------------------------

    def responded(self, response: Response, request_extensions: Any, abandon_after: float | None) -> None:
        """The headers are in: note them, and finish when the body ends."""
        now = perf_counter()
        if self.ttfb_at is None:
            self.ttfb_at = now
        try:
            self._note_response(response, request_extensions)
        except Exception as exc:  # noqa: BLE001 - a broken span processor must not break the response
            report_once("Tracing: recording the response", exc)
        self.watch(response, abandon_after, now)

    def _note_response(self, response: Response, request_extensions: Any) -> None:
        status = self.status = response.status_code
        attributes: dict[str, Any] = {sc.HTTP_RESPONSE_STATUS_CODE: status}
        version = protocol_version(response)
        if version is not None:
            attributes[sc.NETWORK_PROTOCOL_VERSION] = version
        found = provider_request_id(response.headers)
        if found is not None:
            attributes[sc.HTTP_RESPONSE_HEADER_PREFIX + found[0]] = [found[1]]
        if self.header_names:
            capture_headers(attributes, sc.HTTP_RESPONSE_HEADER_PREFIX, response.headers, self.header_names)
        if self.reused is not None:
            attributes[CONNECTION_REUSED] = self.reused
            peer = _peer(response.extensions.get("network_stream"))
            if peer is not None:
                attributes[sc.NETWORK_PEER_ADDRESS], attributes[sc.NETWORK_PEER_PORT] = peer
        route = request_extensions.get(ROUTE)
        if route is not None:
            attributes[ROUTE_NAME] = redactor.text(str(getattr(route, "name", route)))
        if status >= 400:  # noqa: PLR2004 - the conventions' rule: 4xx and 5xx are errors on a client span
            self.error_type = str(status)
        self.span.set_attributes(attributes)
        metric_attributes = self.metric_attributes
        metric_attributes[sc.HTTP_RESPONSE_STATUS_CODE] = status
        if version is not None:
            metric_attributes[sc.NETWORK_PROTOCOL_VERSION] = version
        endpoint = self.endpoint
        if endpoint is not None and status < 400:  # noqa: PLR2004
            headers = response.headers
            self.parser = ResponseParser(
                endpoint,
                content_type=headers.get("content-type"),
                content_encoding=headers.get("content-encoding"),
                stream_requested=self.stream_requested,
                capture=self.capture,
            )
            # Registered before this record, so the parser is done when finish() reads it.
            from wireline.streams import observe

            observe(response, self.parser)

    # -- the end ----------------------------------------------------------------------------

    def failed(self, exc: BaseException) -> None:
        """The rest of the chain raised before any response."""
        ended_at = perf_counter()
        if not isinstance(exc, Exception):
            # Cancellation (CancelledError, KeyboardInterrupt...) is the caller's intent, not an
            # error of the request: the span ends without error status, and no duration is recorded.
            self._end(ended_at, {RESPONSE_END: "cancelled"}, record=False)
            return
        self.error_type = error_type(exc)
        self._exception_event(exc, ended_at)
        self._end(ended_at, {}, record=True)

    def finish(self, ended: Ended) -> None:
        """The body ended: exhausted, closed, failed or abandoned."""
        attributes: dict[str, Any] = {}
        if ended.bytes is not None:
            attributes[sc.HTTP_RESPONSE_BODY_SIZE] = ended.bytes
        if ended.first_chunk_at is not None:
            attributes[TIME_TO_FIRST_CHUNK] = ended.first_chunk_at - self.started
        if ended.reason != "exhausted":
            attributes[RESPONSE_END] = ended.reason
        if ended.reason == "failed" and ended.error is not None:
            if self.error_type is None:
                self.error_type = error_type(ended.error)
            self._exception_event(ended.error, ended.ended_at)
        genai = None
        if self.parser is not None and ended.reason == "exhausted":
            genai = self.parser.result()
            if genai is not None:
                attributes.update(genai.attributes())
                if self.stream_requested and ended.first_chunk_at is not None:
                    attributes[sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = ended.first_chunk_at - self.started
        self._end(ended.ended_at, attributes, record=True, genai=genai, first_chunk_at=ended.first_chunk_at)

    def _end(
        self,
        ended_at: float,
        attributes: dict[str, Any],
        *,
        record: bool,
        genai: GenAIResponse | None = None,
        first_chunk_at: float | None = None,
    ) -> None:
        duration = ended_at - self.started
        instruments = self.instruments
        try:
            instruments.finished(self.active_key)
            span = self.span
            if self.ttfb_at is not None:
                attributes[TIME_TO_FIRST_BYTE] = self.ttfb_at - self.started
            error = self.error_type
            if error is not None:
                attributes[sc.ERROR_TYPE] = error
            span.set_attributes(attributes)
            if error is not None:
                span.set_status(_ERROR_STATUS)
            span.end(end_time=self.started_ns + int(duration * 1e9))
        except Exception as exc:  # noqa: BLE001 - a raising span processor stays contained
            report_once("Tracing: ending a span", exc)
        if not record:
            return
        try:
            metric_attributes = self.metric_attributes
            if self.error_type is not None:
                metric_attributes[sc.ERROR_TYPE] = self.error_type
            instruments.request_duration.record(duration, metric_attributes)
            if self.genai_metric_attributes is not None:
                self._genai_metrics(ended_at, genai, first_chunk_at)
        except Exception as exc:  # noqa: BLE001 - nor a raising metric reader or view
            report_once("Tracing: recording metrics", exc)

    def _genai_metrics(self, ended_at: float, genai: GenAIResponse | None, first_chunk_at: float | None) -> None:
        instruments = self.instruments
        attributes = dict(self.genai_metric_attributes or {})
        if genai is not None and genai.model is not None:
            attributes[sc.GEN_AI_RESPONSE_MODEL] = genai.model
        call = self.call
        started = call.started if call is not None else self.started
        if self.error_type is not None:
            attributes[sc.ERROR_TYPE] = self.error_type
            if call is not None:
                call.defer((instruments, ended_at - started, attributes))
            else:
                instruments.operation_duration.record(ended_at - started, attributes)
            return
        instruments.operation_duration.record(ended_at - started, attributes)
        if self.stream_requested and first_chunk_at is not None:
            instruments.time_to_first_chunk.record(first_chunk_at - started, attributes)
        if genai is None:
            return
        for token_type, count in (("input", genai.input_tokens), ("output", genai.output_tokens)):
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
        self.on_trace(name, info)
        if self.previous_trace is not None:
            self.previous_trace(name, info)

    async def async_trace(self, name: str, info: dict[str, Any]) -> None:
        self.on_trace(name, info)
        if self.previous_trace is not None:
            await self.previous_trace(name, info)

    def on_trace(self, name: str, info: dict[str, Any]) -> None:
        """One event of the connection pool, named ``<component>.<step>.<started|complete|failed>``."""
        handler = _TRACE_HANDLERS.get(name[name.find(".") + 1 :])
        if handler is not None:
            try:
                handler(self, info)
            except Exception as exc:  # noqa: BLE001 - an exception here would break the request itself
                report_once("Tracing: a connection event", exc)

    def _connect_started(self, info: dict[str, Any]) -> None:
        self.connect_started = perf_counter()
        self.new_connection = True

    def _connect_complete(self, info: dict[str, Any]) -> None:
        started = self.connect_started or perf_counter()
        attributes: dict[str, Any] = {DURATION: perf_counter() - started}
        peer = _peer(info.get("return_value"))
        if peer is not None:
            attributes[sc.NETWORK_PEER_ADDRESS], attributes[sc.NETWORK_PEER_PORT] = peer
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
            version = ssl_object.version()  # "TLSv1.3"
            if version:
                attributes[sc.TLS_PROTOCOL_VERSION] = version.removeprefix("TLSv")
            cipher = ssl_object.cipher()
            if cipher:
                attributes[sc.TLS_CIPHER] = cipher[0]
            protocol = ssl_object.selected_alpn_protocol()
            if protocol:
                attributes[sc.TLS_NEXT_PROTOCOL] = protocol
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
            self.reused = not self.new_connection

    def _headers_received(self, info: dict[str, Any]) -> None:
        self.ttfb_at = perf_counter()

    def _retrying_connect(self, info: dict[str, Any]) -> None:
        self.span.add_event("connect retry", {}, timestamp=self._ns(perf_counter()))


_TRACE_HANDLERS: Final = {
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

# A connection's network stream -> (peer address, peer port), read once per connection.
_peers: weakref.WeakKeyDictionary[Any, tuple[str, int] | None] = weakref.WeakKeyDictionary()


def _peer(stream: Any) -> tuple[str, int] | None:
    """``network.peer.address`` and ``.port``: the socket's peer (the proxy, when there is one)."""
    if stream is None:
        return None
    try:
        return _peers[stream]
    except KeyError:
        pass
    except TypeError:  # not weak-referenceable: read it every time
        return _read_peer(stream)
    peer = _peers[stream] = _read_peer(stream)
    return peer


def _read_peer(stream: Any) -> tuple[str, int] | None:
    try:
        address = stream.get_extra_info("server_addr")
    except Exception:  # noqa: BLE001 - a stream that cannot say has no peer for us
        return None
    if isinstance(address, tuple) and len(address) >= 2 and isinstance(address[0], str):  # noqa: PLR2004
        return address[0], int(address[1])
    return None
