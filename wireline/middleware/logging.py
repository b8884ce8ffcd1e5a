"""``Logging``: one structlog event per call (or per attempt), written when the response body ends.

wireline never configures logging. Events go to ``structlog.get_logger("wireline")``, so they are
rendered by whatever the application set up: structlog's own processors, or the standard library's
``logging`` through ``structlog.stdlib``. An unconfigured structlog prints them to the console.

An event is written when the response body ends -- read to the end, closed early, failed, or
abandoned (never read nor closed; see ``abandon_after``) -- so a streamed answer is logged with its
real duration and size. A request that fails before any response is logged at once.

Event names: ``"http.call"`` (``per="call"``) or ``"http.attempt"`` (``per="attempt"``). Fields
(absent when unknown):

===================  ==========================================================================
``method``           the request method
``url``              the URL, credentials and secret query values redacted
``status``           the response status code
``duration_ms``      from the request entering this layer to the end of the body
``ttfb_ms``          to the response headers (time to first byte)
``first_chunk_ms``   to the first body chunk
``bytes``            body bytes received (as sent on the wire, before decompression)
``end``              how the body ended when not read to the end: ``closed``, ``failed``, ``abandoned``
``attempt``          the attempt number, 1-based (``Retry`` sets it; ``per="attempt"`` only)
``resend_count``     how many times this call was sent before (``per="attempt"``, resends only)
``attempts``         how many attempts the call took (``per="call"``, when ``Retry`` counted them)
``provider``         ``wireline.provider`` from the provider adapter, else guessed from the host
``request_id``       the provider's request id from the response headers
``route``            the route a routing layer chose (``ProxyRouter``)
``error``            the exception's qualified type, when the call failed
``error_message``    its message, redacted
``trace_id``         the attempt's trace and span ids, when ``Tracing`` is in the stack
``span_id``
``request_headers``  opt-in capture (``capture_headers``), secrets redacted
``response_headers``
``request_body``     opt-in capture (``capture_body``), capped at ``max_body_bytes``, redacted
``response_body``
===================  ==========================================================================

Placement decides what an event covers: listed before ``Retry`` a layer sees whole calls, after
it each attempt. ``per`` says which you want, and a stack where the two disagree is refused. For
both, use two layers: ``Stack(Logging(), Retry(), Logging(per="attempt"), ...)``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from time import perf_counter
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal

import structlog

from wireline._faults import report_once
from wireline.errors import ConfigError
from wireline.extensions import ATTEMPT, PROVIDER, RESEND_COUNT, ROUTE, SPAN
from wireline.genai.framing import Decoder, FramingError, decoder_for
from wireline.genai.hosts import provider_for_host
from wireline.middleware import _ends
from wireline.middleware._http import attempt_of, error_type, provider_request_id, route_name, url_facts
from wireline.middleware.base import Middleware
from wireline.redaction import default as redactor

if TYPE_CHECKING:
    from wireline.stack import Stack
    from wireline.typing import Flow, Request, Response

__all__ = ["Logging"]

# A lazy proxy: it reads structlog's configuration when it logs, so configuring structlog after
# importing wireline (or reconfiguring it later) is honoured.
_logger = structlog.get_logger("wireline")
# The bound logger's methods, once structlog caches the proxy's logger (``cache_logger_on_first_use``):
# from then on the proxy hands back that same logger for good, and calling its method directly saves
# the proxy's lookup on every event. Until then every event goes through the proxy.
_methods: dict[str, Any] = {}
_last_bound: list[Any] = [None]


def _method(level: str) -> Any:
    """The logger method for ``level``, through the proxy; cached once the proxy's logger is final."""
    bound = _logger.bind()
    if bound is _last_bound[0]:  # the same logger twice: structlog cached it (it never rebuilds it then)
        _methods[level] = method = getattr(bound, level)
        return method
    _last_bound[0] = bound
    return getattr(bound, level)


Level = Literal["debug", "info", "warning", "error", "critical"]
_LEVELS: Final = ("debug", "info", "warning", "error", "critical")
_COUNTER: Final = "wireline.logging.sent"


class Logging(Middleware):
    """Log every call (or attempt) through structlog (see the module docs for the fields).

    Args:
        per: ``"call"`` -- one event per call, listed before ``Retry`` (outside it); or
            ``"attempt"`` -- one event per attempt, listed after ``Retry``.
        level: The level of events for calls that succeeded.
        error_level: The level of events for failures and responses with status 400 or above.
        capture_headers: Log request and response headers: ``True`` for all, or a list of names.
            Secret headers show ``REDACTED``.
        capture_body: Log the start of the request and response bodies (decompressed, as text,
            redacted), up to ``max_body_bytes`` each.
        max_body_bytes: The cap of ``capture_body``.
        abandon_after: Log a response whose body has been idle (neither read nor closed) this many
            seconds as abandoned; ``None`` leaves only garbage collection to notice it.
    """

    unique: ClassVar[bool] = False

    def __init__(
        self,
        *,
        per: Literal["call", "attempt"] = "call",
        level: Level = "info",
        error_level: Level = "warning",
        capture_headers: bool | Sequence[str] = False,
        capture_body: bool = False,
        max_body_bytes: int = 4096,
        abandon_after: float | None = 900.0,
    ) -> None:
        if per not in ("call", "attempt"):
            raise ConfigError("per", per, "'call' (one event per call) or 'attempt' (one per attempt)")
        for key, value in (("level", level), ("error_level", error_level)):
            if value not in _LEVELS:
                raise ConfigError(key, value, f"one of {', '.join(map(repr, _LEVELS))}")
        if not isinstance(capture_headers, bool) and (
            isinstance(capture_headers, str) or not all(isinstance(name, str) for name in capture_headers)
        ):
            raise ConfigError("capture_headers", capture_headers, "true, false, or a list of header names")
        if not isinstance(capture_body, bool):
            raise ConfigError("capture_body", capture_body, "true or false")
        if not isinstance(max_body_bytes, int) or isinstance(max_body_bytes, bool) or max_body_bytes < 1:
            raise ConfigError("max_body_bytes", max_body_bytes, "a whole number of bytes >= 1")
        if abandon_after is not None and (
            not isinstance(abandon_after, (int, float)) or isinstance(abandon_after, bool) or abandon_after <= 0
        ):
            raise ConfigError("abandon_after", abandon_after, "a number of seconds > 0, or None")
        self.per = per
        self.level = level
        self.error_level = error_level
        self.capture_headers = capture_headers if isinstance(capture_headers, bool) else tuple(capture_headers)
        self.capture_body = capture_body
        self.max_body_bytes = max_body_bytes
        self.abandon_after = None if abandon_after is None else float(abandon_after)
        self._event = "http.call" if per == "call" else "http.attempt"
        self._header_names: tuple[str, ...] | None = (
            None if isinstance(capture_headers, bool) else tuple(name.lower() for name in capture_headers)
        )

    # -- the stack's questions --------------------------------------------------------------

    def check(self, stack: Stack, index: int) -> None:
        layers = stack.layers
        if self.per == "call":
            outer = next((layer for layer in layers[:index] if layer.owns_retries), None)
            if outer is not None:
                raise ConfigError(
                    f"middleware[{index}].per",
                    self.per,
                    f"'attempt' for a Logging listed after {type(outer).__name__} (it sees each attempt there), "
                    f"or list it before {type(outer).__name__} to log one event per call",
                )
        else:
            inner = next((layer for layer in layers[index + 1 :] if layer.owns_retries), None)
            if inner is not None:
                raise ConfigError(
                    f"middleware[{index}].per",
                    self.per,
                    f"'call' for a Logging listed before {type(inner).__name__} (it sees whole calls there), "
                    f"or list it after {type(inner).__name__} to log each attempt",
                )

    def explain(self, url: str) -> Iterator[str]:
        yield f"logs {self._event!r} through structlog logger 'wireline' when the response body ends"

    # -- the flow -----------------------------------------------------------------------------

    def handle(self, request: Request) -> Flow:
        started = perf_counter()
        _ends.tick(started)
        record = _Record(self, request, started)
        try:
            response = yield request
        except BaseException as exc:
            record.failed(exc)
            raise
        record.responded(response)
        return response  # type: ignore[no-any-return]

    def _emit(self, level: str, fields: dict[str, Any]) -> None:
        try:
            method = _methods.get(level)
            if method is None:
                method = _method(level)
            method(self._event, **fields)
        except Exception as exc:  # noqa: BLE001 - a raising processor must not break the request
            report_once("Logging: a structlog processor or logger", exc)


class _Record(_ends.Pending):
    """One event in the making: what the request showed, then what the response and its end did."""

    __slots__ = (
        "body",
        "layer",
        "request",
        "resend",
        "response_body",
        "response_headers",
        "started",
        "status",
        "ttfb",
    )

    def __init__(self, layer: Logging, request: Request, started: float) -> None:
        self.layer = layer
        self.request = request
        self.started = started
        self.status: int | None = None
        self.ttfb: float | None = None
        self.response_headers: Any = None
        self.response_body: _BodyCapture | None = None
        self.resend = attempt_of(request.extensions, _COUNTER) if layer.per == "attempt" else 0

    def responded(self, response: Response) -> None:
        now = perf_counter()
        self.status = response.status_code
        self.ttfb = now - self.started
        self.response_headers = response.headers
        try:
            if self.layer.capture_body:
                self.response_body = _BodyCapture(self.layer.max_body_bytes, response.headers.get("content-encoding"))
                from wireline.streams import observe

                observe(response, self.response_body)
            self.watch(response, self.layer.abandon_after, now)
        except Exception as exc:  # noqa: BLE001 - the response is the caller's; telemetry is ours
            report_once("Logging: watching a response", exc)

    def failed(self, exc: BaseException) -> None:
        try:
            fields = self._fields(perf_counter(), None, None)
            if isinstance(exc, Exception):
                fields["error"] = error_type(exc)
                fields["error_message"] = redactor.text(str(exc))
                level = self.layer.error_level
            else:  # cancelled (CancelledError, KeyboardInterrupt...): the caller's intent, not a failure
                fields["end"] = "cancelled"
                level = self.layer.level
            self.layer._emit(level, fields)  # noqa: SLF001 - the layer's own record
        except Exception as report:  # noqa: BLE001
            report_once("Logging: building an event", report)
        finally:
            self.request = None  # type: ignore[assignment] # do not keep the request alive

    def finish(self, ended: _ends.End) -> None:
        fields = self._fields(ended.ended_at, ended.bytes, ended.first_chunk_at)
        if ended.reason != "exhausted":
            fields["end"] = ended.reason
        level = self.layer.level
        if ended.reason == "failed" and ended.error is not None:
            fields["error"] = error_type(ended.error)
            fields["error_message"] = redactor.text(str(ended.error))
            level = self.layer.error_level
        elif self.status is not None and self.status >= 400:  # noqa: PLR2004
            level = self.layer.error_level
        self.request = None  # type: ignore[assignment]
        self.layer._emit(level, fields)  # noqa: SLF001

    def _fields(self, ended_at: float, size: int | None, first_chunk_at: float | None) -> dict[str, Any]:  # noqa: C901 - once per event, written out on purpose
        request = self.request
        layer = self.layer
        extensions = request.extensions
        url = url_facts(request.url)
        started = self.started
        fields: dict[str, Any] = {"method": request.method, "url": url.text}
        if self.status is not None:
            fields["status"] = self.status
        # Milliseconds to the microsecond, written out (round() costs twice as much).
        fields["duration_ms"] = int((ended_at - started) * 1_000_000 + 0.5) / 1000
        if self.ttfb is not None:
            fields["ttfb_ms"] = int(self.ttfb * 1_000_000 + 0.5) / 1000
        if first_chunk_at is not None:
            fields["first_chunk_ms"] = int((first_chunk_at - started) * 1_000_000 + 0.5) / 1000
        if size is not None:
            fields["bytes"] = size
        attempt = extensions.get(ATTEMPT)
        if layer.per == "call":
            if attempt is not None:
                fields["attempts"] = attempt
        else:
            self._attempt(fields, attempt, extensions.get(RESEND_COUNT))
        provider = extensions.get(PROVIDER) or provider_for_host(url.host)
        if provider is not None:
            fields["provider"] = provider
        if self.response_headers is not None:
            found = provider_request_id(self.response_headers)
            if found is not None:
                fields["request_id"] = found[1]
        if ROUTE in extensions or SPAN in extensions:
            _context(fields, extensions)
        if layer.capture_headers or layer.capture_body:
            self._captures(fields, request)
        return fields

    def _captures(self, fields: dict[str, Any], request: Request) -> None:
        layer = self.layer
        if layer.capture_headers:
            self._headers(fields, request)
        if layer.capture_body:
            fields["request_body"] = _request_body(request, layer.max_body_bytes)
            if self.response_body is not None:
                fields["response_body"] = self.response_body.text()

    def _attempt(self, fields: dict[str, Any], attempt: int | None, resend: int | None) -> None:
        """``attempt`` and ``resend_count`` of a ``per="attempt"`` event (Retry's, else this layer's count)."""
        fields["attempt"] = attempt if attempt is not None else self.resend + 1
        resend = self.resend if resend is None else resend
        if resend:
            fields["resend_count"] = resend

    def _headers(self, fields: dict[str, Any], request: Request) -> None:
        names = self.layer._header_names  # noqa: SLF001
        fields["request_headers"] = _header_dict(request.headers, names)
        if self.response_headers is not None:
            fields["response_headers"] = _header_dict(self.response_headers, names)


def _header_dict(headers: Any, names: tuple[str, ...] | None) -> dict[str, str]:
    shown = redactor.headers(headers)
    if names is not None:
        shown = [(name, value) for name, value in shown if name.lower() in names]
    return dict(shown)


def _context(fields: dict[str, Any], extensions: Any) -> None:
    """The route a routing layer chose, and the attempt's trace and span ids (from ``Tracing``)."""
    route = extensions.get(ROUTE)
    if route is not None:
        fields["route"] = route_name(route)
    span = extensions.get(SPAN)
    if span is not None:
        context = span.get_span_context()
        if context.is_valid:
            fields["trace_id"] = f"{context.trace_id:032x}"
            fields["span_id"] = f"{context.span_id:016x}"


#: Bytes read past a capture's cap, so that a secret the cap cuts through is still seen whole and redacted.
_MARGIN: Final = 512


def _request_body(request: Request, cap: int) -> str:
    try:
        body = request.content
    except Exception:  # noqa: BLE001 - a streamed body is not read here
        return "<streamed body, not captured>"
    return _text(body[: cap + _MARGIN], cap, more=len(body) > cap + _MARGIN)


def _text(data: bytes, cap: int, *, more: bool) -> str:
    """Decoded, redacted, then cut to ``cap`` characters (redacting first: a cut must not hide a secret's shape)."""
    text = redactor.text(data.decode("utf-8", "replace"))
    if more or len(text) > cap:
        return f"{text[:cap]}... (truncated)"
    return text


class _BodyCapture:
    """Keeps the start of a response body (decompressed) for the log event; costs nothing past the cap."""

    __slots__ = ("_cap", "_decoder", "_pieces", "_size", "_truncated", "_undecodable", "_wanted")

    def __init__(self, cap: int, content_encoding: str | None) -> None:
        self._wanted = cap
        self._cap = cap + _MARGIN
        self._pieces: list[bytes] = []
        self._size = 0
        self._truncated = False
        self._undecodable = False
        self._decoder: Decoder | None = None
        try:
            self._decoder = decoder_for(content_encoding)
        except FramingError:
            self._undecodable = True

    def on_chunk(self, chunk: bytes) -> None:
        if self._size >= self._cap or self._undecodable:
            if chunk:
                self._truncated = True
            return
        try:
            data = self._decoder.decode(chunk) if self._decoder is not None else chunk
        except Exception:  # noqa: BLE001 - a body we cannot decode is shown as such
            self._undecodable = True
            return
        self._pieces.append(data[: self._cap - self._size])
        self._size += len(data)

    def text(self) -> str:
        if self._undecodable:
            return "<compressed body, not captured>"
        return _text(b"".join(self._pieces), self._wanted, more=self._truncated or self._size > self._cap)
