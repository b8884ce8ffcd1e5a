"""``Retry``: resend failed requests, within a deadline, a budget and what the server asks.

The layer is a flow (see :mod:`wireline.middleware.base`): it decides, the sync or async shell
sends and sleeps. The decisions themselves — classification, backoff, server-asked waits,
deadline arithmetic — are plain functions in :mod:`wireline.middleware._retry_policy`, and the
state shared between calls (budget, circuit breaker) lives in :mod:`wireline.middleware._retry_state`.

What one call goes through:

1. The call starts: the deadline clock starts, the budget earns its share, an idempotency key is
   set if configured, a streaming request body is made replayable (:mod:`wireline.middleware._replay`).
2. Each attempt: ``wireline.attempt`` / ``wireline.resend_count`` are set on the request's
   extensions (for Logging and Tracing inside), the attempt's timeouts are bounded by the
   per-attempt timeout and what is left of the deadline, the host's circuit is checked.
3. A failure (an error, a retryable status) is classified; if a retry is allowed (attempts,
   method, body, deadline, budget) the layer waits — full-jitter backoff, or what the server
   asked — and sends again; otherwise it stops with an error that says why.
4. The answer is delivered with the flow still attached to its body
   (:class:`~wireline.middleware.Deliver`): a failure while the body is read is retried only if no
   byte has reached the caller, otherwise :class:`~wireline.errors.ResponseInterruptedError` says how
   many bytes did. The read timeout becomes the stream idle timeout for the body.
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

from wireline import _clock
from wireline._flavors import flavor_of
from wireline.errors import (
    CircuitOpenError,
    ConfigError,
    DeadlineExceededError,
    ResponseInterruptedError,
    RetryError,
    retyped,
)
from wireline.extensions import ATTEMPT, RESEND_COUNT, RETRY
from wireline.middleware._replay import body_of
from wireline.middleware._retry_policy import (
    BREAKER_STATUSES,
    DEFAULT_STATUSES,
    IDEMPOTENT_METHODS,
    RetryPolicy,
    attempt_timeouts,
    backoff_wait,
    body_timeouts,
    error_verdict,
    response_verdict,
    server_wait,
)
from wireline.middleware._retry_state import CircuitBreaker, RetryBudget
from wireline.middleware.base import Close, Deliver, Middleware, Read, Sleep
from wireline.redaction import redact_url

if TYPE_CHECKING:
    from wireline.typing import Flow, Request

__all__ = [
    "DEFAULT_STATUSES",
    "IDEMPOTENT_METHODS",
    "CircuitBreaker",
    "Retry",
    "RetryBudget",
    "RetryEvent",
]

_log = logging.getLogger("wireline")

#: Settings a per-request override (``request.extensions["wireline.retry"]``) may change.
OVERRIDABLE: Final = (
    "attempts",
    "backoff",
    "max_backoff",
    "deadline",
    "timeout",
    "idle_timeout",
    "statuses",
    "methods",
    "retry_after",
    "max_wait",
    "body_buffer",
    "idempotency_header",
)
_STAINLESS_RETRY_COUNT = "x-stainless-retry-count"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_OVERRIDE_CACHE_SIZE = 64


@dataclass(frozen=True, slots=True)
class RetryEvent:
    """One retry decision, as told to ``on_retry``, to the ``wireline`` structlog logger and to the current span.

    Attributes:
        decision: ``"retry"`` (a wait, then another attempt) or ``"give_up"``.
        attempt: The attempt that failed, 1-based.
        reason: What failed, in words: ``"status 503"``, ``"ConnectError"``, ``"body failed (ReadError)
            before any byte reached the caller"``.
        wait: Seconds until the next attempt (``"retry"``), else ``None``.
        stop: Why there is no retry (``"give_up"``): ``"attempts"``, ``"deadline"``, ``"method"``,
            ``"body"``, ``"budget"``, ``"max_wait"``, ``"circuit_open"``, ``"interrupted"``.
        detail: The stop reason in words, for people.
        method: The request method.
        url: The request URL, with secrets redacted.
        status: The response status, when the failure was a response.
        error: The exception's class name, when the failure was an exception.
        server_wait: What the server asked for (retry-after, rate-limit reset), in seconds.
        elapsed: Seconds since the call started.
    """

    decision: Literal["retry", "give_up"]
    attempt: int
    reason: str
    wait: float | None
    stop: str | None
    detail: str | None
    method: str
    url: str
    status: int | None
    error: str | None
    server_wait: float | None
    elapsed: float


class Retry(Middleware):
    """Resend requests that failed in a way worth retrying. Put it outside per-attempt layers.

    Args:
        attempts: Attempts in all, the first included (``1`` = never resend).
        backoff: The first backoff ceiling in seconds; each wait is drawn uniformly from
            ``[0, min(max_backoff, backoff * 2**(retry - 1))]`` (full jitter).
        max_backoff: The largest backoff ceiling.
        deadline: Seconds for the whole call until the response headers, waits included. A wait
            that would pass it fails at once with :class:`~wireline.errors.DeadlineExceededError`
            (carrying the last response). A body that keeps flowing is not cut by it.
        timeout: Seconds each attempt may take to connect, send and get the response headers
            (applied through the ``timeout`` request extension, per operation).
        idle_timeout: The longest gap allowed between two chunks of the response body (the read
            timeout while the body is read): fits long LLM streams that a total timeout would kill.
        statuses: Statuses retried. ``x-should-retry: true`` retries any status, ``false`` none.
        methods: Methods resent after the request may have reached the server (a read error, a
            timeout, a retryable status). ``None`` (the default) resends every method, as the LLM
            SDKs do; ``IDEMPOTENT_METHODS`` for the strict rule. Failures before anything was sent
            (connect errors) are retried for every method.
        retry_after: Wait as the server asks (``retry-after-ms``, ``retry-after`` in seconds or as
            an HTTP date, providers' rate-limit reset headers) instead of the backoff.
        max_wait: The longest server-asked wait accepted; above it, the response is returned as is.
        body_buffer: Bytes of a streaming request body kept so that it can be resent. Bytes bodies
            are always resent; a stream larger than this needs a body factory
            (``request.extensions["wireline.body_factory"]``) or is not resent (the error says so).
        idempotency_header: A header (``"Idempotency-Key"``) set once per call on non-GET requests
            that lack it, with a random key kept across attempts, for providers that deduplicate
            with one. A key the SDK set is always kept across attempts.
        budget: The retry budget (:class:`RetryBudget`): ``True`` for a default one shared by
            every request through this layer, a ``RetryBudget`` (or its settings) to choose, a
            budget object to share it with other stacks, ``False`` for none.
        breaker: A per-host :class:`CircuitBreaker` (or its settings), ``True`` for a default one,
            ``False`` (the default) for none.
        on_retry: Called with a :class:`RetryEvent` for each decision taken after a failure.
        log: Also log each decision through ``structlog.get_logger("wireline")``.

    Per request: ``extensions={"wireline.retry": False}`` turns retries off for that request;
    a mapping changes settings for it (``{"attempts": 5, "deadline": 30}``).
    """

    unique = True

    def __init__(
        self,
        attempts: int = 3,
        *,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        deadline: float | None = None,
        timeout: float | None = None,
        idle_timeout: float | None = None,
        statuses: Collection[int] = DEFAULT_STATUSES,
        methods: Collection[str] | None = None,
        retry_after: bool = True,
        max_wait: float = 60.0,
        body_buffer: int = 1 << 20,
        idempotency_header: str | None = None,
        budget: RetryBudget | Mapping[str, float] | bool = True,
        breaker: CircuitBreaker | Mapping[str, float] | bool = False,
        on_retry: Callable[[RetryEvent], object] | None = None,
        log: bool = True,
    ) -> None:
        self.policy = RetryPolicy(
            attempts=attempts,
            backoff=backoff,
            max_backoff=max_backoff,
            deadline=deadline,
            timeout=timeout,
            idle_timeout=idle_timeout,
            statuses=statuses,  # type: ignore[arg-type] # validated and frozen by the policy
            methods=methods,  # type: ignore[arg-type]
            retry_after=retry_after,
            max_wait=max_wait,
            body_buffer=body_buffer,
            idempotency_header=idempotency_header,
        )
        self.budget = _optional(budget, RetryBudget, "budget")
        self.breaker = _optional(breaker, CircuitBreaker, "breaker")
        if on_retry is not None and not callable(on_retry):
            raise ConfigError("on_retry", on_retry, "a function that takes a RetryEvent, or None")
        if not isinstance(log, bool):
            raise ConfigError("log", log, "true or false")
        self.on_retry = on_retry
        self.log = log
        self._overrides: dict[Any, RetryPolicy] = {}
        # With one attempt and nothing else to do, a request passes with its attempt number only.
        self._plain = _is_plain(self.policy) and self.breaker is None
        # A breaker or a key is work before the first attempt: then each call keeps a record from the start.
        self._careful = self.policy.idempotency_header is not None or self.breaker is not None

    # -- what the stack asks ----------------------------------------------------------------

    @property
    def owns_retries(self) -> bool:
        return self.policy.attempts > 1

    def settings(self) -> dict[str, Any]:
        defaults = RetryPolicy()
        shown: dict[str, Any] = {}
        for name in OVERRIDABLE:
            value = getattr(self.policy, name)
            if value != getattr(defaults, name):
                shown[name] = sorted(value) if isinstance(value, frozenset) else value
        if self.budget is None:
            shown["budget"] = False
        elif not self.budget.is_default():
            shown["budget"] = self.budget
        if self.breaker is not None:
            shown["breaker"] = self.breaker
        if self.on_retry is not None:
            shown["on_retry"] = getattr(self.on_retry, "__qualname__", self.on_retry)
        if not self.log:
            shown["log"] = False
        return shown

    def explain(self, url: str) -> Iterator[str]:
        yield from self.policy.describe()
        if self.budget is not None:
            yield (
                f"retry budget: {self.budget.ratio:g} retries per call + {self.budget.min_per_second:g}/s, "
                f"burst {self.budget.burst:g}"
            )
        if self.breaker is not None:
            yield (
                f"circuit breaker per host: opens after {self.breaker.failures} failures in a row, "
                f"probes after {self.breaker.reset_after:g} s"
            )

    # -- the flow ---------------------------------------------------------------------------

    def handle(self, request: Request) -> Flow:  # noqa: C901, PLR0912 - the hot path, written out on purpose
        extensions = request.extensions
        override = extensions.get(RETRY)
        if override is None:
            policy = None if self._plain else self.policy
            careful = self._careful
        else:
            policy, careful = self._policy_for(override)
        if policy is None:  # nothing to do but number the one attempt
            extensions[ATTEMPT] = 1
            extensions[RESEND_COUNT] = 0
            response = yield request
            return response  # type: ignore[no-any-return]
        if careful or not isinstance(request.stream, flavor_of(request).http.ByteStream):
            response = yield from self._attempts(_Call(self, policy, request), None)
            return response
        # The common case — a bytes body, no breaker, no key — without the per-call record until
        # something fails: this path runs on every request.
        started = _clock.monotonic()
        if self.budget is not None:
            self.budget.called()
        extensions[ATTEMPT] = 1
        extensions[RESEND_COUNT] = 0
        client_timeout = extensions.get("timeout")
        if policy.timed:
            extensions["timeout"] = attempt_timeouts(client_timeout, policy.timeout, policy.deadline)
        try:
            response = yield request
        except Exception as exc:  # noqa: BLE001 - classified by the careful path
            outcome: _Outcome = (_ERROR, exc, 0)
        else:
            status = response.status_code
            if status >= _FIRST_ERROR_STATUS or status in policy.statuses:
                outcome = (_ANSWER, response, 0)
            else:
                if policy.timed:  # the answer is in: the read timeout becomes the idle timeout
                    timeouts = extensions["timeout"]
                    if timeouts is not client_timeout and policy.idle_timeout is not None:
                        timeouts["read"] = policy.idle_timeout  # our own dict, made for this attempt
                    else:
                        extensions["timeout"] = body_timeouts(timeouts, client_timeout, policy.idle_timeout)
                if policy.attempts == 1 or (policy.methods is not None and request.method not in policy.methods):
                    return response  # type: ignore[no-any-return] # a failing body could not be resent
                deliver = Deliver(response)
                try:
                    yield deliver
                except Exception as exc:  # noqa: BLE001 - as above
                    outcome = (_BODY_ERROR, exc, deliver.bytes_delivered)
                else:
                    return response  # type: ignore[no-any-return] # not reached: closed at the body's end
        call = _Call(self, policy, request, started=started, attempt=1, client_timeout=client_timeout)
        if outcome[0] is _BODY_ERROR:
            call.expected_status = response.status_code
        response = yield from self._attempts(call, outcome)
        return response

    def _policy_for(self, override: object) -> tuple[RetryPolicy | None, bool]:
        """``(policy, careful)`` for a request that carries ``extensions["wireline.retry"]``."""
        policy = self._override(override)
        if policy is None or (_is_plain(policy) and self.breaker is None):
            return None, False
        return policy, policy.idempotency_header is not None or self._careful

    def _attempts(self, call: _Call, outcome: _Outcome | None) -> Flow:
        """Attempt after attempt until an answer is delivered, or Retry stops (``outcome``: attempt 1's)."""
        request = call.request
        response: Any
        while True:
            if outcome is None:
                call.begin()
                try:
                    response = yield request
                except Exception as exc:  # noqa: BLE001 - classified below
                    outcome = (_ERROR, exc, 0)
                else:
                    outcome = (_ANSWER, response, 0)
            kind, value, delivered = outcome
            outcome = None
            if kind is not _ANSWER:
                yield Sleep(call.after_failure(kind, value, delivered))
                continue
            response = value
            step = call.after_response(response)
            if step is _RETRY:
                yield Close(response)
                yield Sleep(call.wait)
                continue
            if step is _STOP:
                yield Read(response)  # a small error payload: the error carries the response, readable
                raise call.stopped_with(response)
            if not call.stays_with_body(response):
                return response  # type: ignore[no-any-return]
            deliver = Deliver(response)
            try:
                yield deliver
            except Exception as exc:  # noqa: BLE001 - classified at the top of the loop
                outcome = (_BODY_ERROR, exc, deliver.bytes_delivered)
                continue
            return response  # type: ignore[no-any-return] # not reached: the shell closes the flow at the body's end

    def _override(self, override: object) -> RetryPolicy | None:
        """The policy for a request that carries ``extensions["wireline.retry"]``."""
        if override is False:
            return None
        if not isinstance(override, Mapping):
            raise ConfigError(
                f"request.extensions[{RETRY!r}]", override, "False (no retries) or a mapping of Retry settings"
            )
        try:
            key: Any = tuple(sorted(override.items()))
            hash(key)
        except TypeError:  # unhashable values (a list of statuses): build it each time
            key = None
        policy = None if key is None else self._overrides.get(key)
        if policy is None:
            unknown = [name for name in override if name not in OVERRIDABLE]
            if unknown:
                raise ConfigError(
                    f"request.extensions[{RETRY!r}].{unknown[0]}",
                    override[unknown[0]],
                    f"a per-request Retry setting ({', '.join(OVERRIDABLE)})",
                )
            policy = self.policy.merged(override, key=f"request.extensions[{RETRY!r}]")
            if key is not None:
                if len(self._overrides) >= _OVERRIDE_CACHE_SIZE:
                    self._overrides.clear()
                self._overrides[key] = policy
        return policy

    # -- telling -----------------------------------------------------------------------------

    def _tell(self, event: RetryEvent) -> None:
        """Report a decision: the hook, the structlog logger, the current span. Never raises."""
        if self.on_retry is not None:
            try:
                self.on_retry(event)
            except Exception:  # noqa: BLE001 - a hook must not break the call it reports on
                _log.exception("wireline: the on_retry hook %r raised; the call goes on", self.on_retry)
        if self.log:
            _structlog_event(event)
        _span_event(event)


def _is_plain(policy: RetryPolicy) -> bool:
    return (
        policy.attempts == 1
        and policy.deadline is None
        and policy.timeout is None
        and policy.idle_timeout is None
        and policy.idempotency_header is None
    )


def _optional(value: Any, cls: Any, key: str) -> Any:
    if value is False or value is None:
        return None
    if value is True:
        return cls()
    if isinstance(value, cls):
        return value
    if isinstance(value, Mapping):
        try:
            return cls.coerce(value)
        except ConfigError as exc:
            raise exc.at(key) from None
    raise ConfigError(key, value, f"true, false, a {cls.__name__} or a table of its settings")


def _structlog_event(event: RetryEvent) -> None:
    import structlog

    fields = {name: getattr(event, name) for name in RetryEvent.__slots__ if getattr(event, name) is not None}
    logger = structlog.get_logger("wireline")
    if event.decision == "retry":
        logger.info("wireline.retry", **fields)
    else:
        logger.warning("wireline.retry", **fields)


def _span_event(event: RetryEvent) -> None:
    from opentelemetry import trace

    span = trace.get_current_span()
    if not span.is_recording():
        return
    attributes: dict[str, Any] = {
        "wireline.retry.decision": event.decision,
        "wireline.retry.attempt": event.attempt,
        "wireline.retry.reason": event.reason,
    }
    for name, value in (
        ("wait", event.wait),
        ("stop", event.stop),
        ("status", event.status),
        ("error", event.error),
        ("server_wait", event.server_wait),
    ):
        if value is not None:
            attributes[f"wireline.retry.{name}"] = value
    span.add_event("wireline.retry", attributes)


# -- one call ----------------------------------------------------------------------------------

_RETRY: Final = object()
_STOP: Final = object()
_ACCEPT: Final = object()
# How an attempt ended, for the loop: (_ERROR, exception, 0), (_ANSWER, response, 0) or
# (_BODY_ERROR, exception, bytes delivered).
_ERROR: Final = object()
_ANSWER: Final = object()
_BODY_ERROR: Final = object()
_Outcome = tuple[object, Any, int]
_FIRST_ERROR_STATUS = 400


class _Call:
    """The state of one call through ``Retry``: its attempts, its clock, its body. No I/O."""

    __slots__ = (
        "attempt",
        "body",
        "breaker",
        "client_timeout",
        "deadline_at",
        "expected_status",
        "flavor",
        "host",
        "last_error",
        "layer",
        "policy",
        "request",
        "started",
        "stop",
        "wait",
    )

    def __init__(
        self,
        layer: Retry,
        policy: RetryPolicy,
        request: Any,
        *,
        started: float | None = None,
        attempt: int = 0,
        client_timeout: Any = None,
    ) -> None:
        """``started``, ``attempt`` and ``client_timeout`` come from the fast path, when attempt 1 went that way."""
        self.layer = layer
        self.policy = policy
        self.request = request
        self.flavor = flavor_of(request)
        self.attempt = attempt
        self.wait = 0.0
        self.stop: tuple[str, str] | None = None
        self.last_error: BaseException | None = None
        self.expected_status: int | None = None
        self.started = now = _clock.monotonic() if started is None else started
        self.deadline_at = None if policy.deadline is None else now + policy.deadline
        self.client_timeout = request.extensions.get("timeout") if started is None else client_timeout
        self.body = body_of(request, self.flavor, policy.body_buffer) if policy.attempts > 1 else None
        if layer.budget is not None and started is None:
            layer.budget.called()
        header = policy.idempotency_header
        if header is not None and request.method not in _SAFE_METHODS and header not in request.headers:
            request.headers[header] = f"wireline-{os.urandom(16).hex()}"
        self.breaker = breaker = layer.breaker
        if breaker is None:
            self.host = None
        else:
            url = request.url
            self.host = (url.scheme, url.host, url.port)

    # -- each attempt --------------------------------------------------------------------

    def begin(self) -> None:
        """Ready the request for the next attempt (or raise: deadline passed, circuit open)."""
        self.attempt = attempt = self.attempt + 1
        request = self.request
        extensions = request.extensions
        extensions[ATTEMPT] = attempt
        extensions[RESEND_COUNT] = attempt - 1
        if attempt > 1:
            if _STAINLESS_RETRY_COUNT in request.headers:
                request.headers[_STAINLESS_RETRY_COUNT] = str(attempt - 1)
            if self.body is not None:
                self.body.rewind(request)
        if self.policy.timed:
            remaining = self.remaining()
            if remaining is not None and remaining <= 0:
                self.stop = ("deadline", f"the deadline of {self.policy.deadline:g} s passed before attempt {attempt}")
                raise self._error(DeadlineExceededError, self.flavor.http.TimeoutException, self.last_error)
            if self.policy.timeout is not None or remaining is not None:
                extensions["timeout"] = attempt_timeouts(self.client_timeout, self.policy.timeout, remaining)
        breaker = self.breaker
        if breaker is not None and self.host is not None:
            wait = breaker.blocked(self.host)
            if wait is not None:
                self.stop = (
                    "circuit_open",
                    (
                        f"the circuit breaker for {_host_text(self.host)} is open after {breaker.failures} "
                        f"failures in a row; the next probe in {wait:.3g} s"
                    ),
                )
                self._tell("circuit open", give_up=True)
                raise self._error(CircuitOpenError, self.flavor.http.ConnectError, self.last_error)

    def remaining(self) -> float | None:
        return None if self.deadline_at is None else self.deadline_at - _clock.monotonic()

    def _body_timeouts(self) -> None:
        """The answer is in: the read timeout becomes the stream idle timeout (or the client's again)."""
        extensions = self.request.extensions
        extensions["timeout"] = body_timeouts(extensions.get("timeout"), self.client_timeout, self.policy.idle_timeout)

    def stays_with_body(self, response: Any) -> bool:
        """Whether to deliver with the flow attached (a body failure could still be retried)."""
        if self.expected_status is not None:
            return True  # delivering already: a resend goes on with the caller's body
        policy = self.policy
        stays = (
            self.attempt < policy.attempts
            and (policy.methods is None or self.request.method in policy.methods)
            and (self.body is None or self.body.refusal(policy.body_buffer) is None)
        )
        if stays:
            self.expected_status = response.status_code
        return stays

    # -- verdicts --------------------------------------------------------------------------

    def after_failure(self, kind: object, error: Exception, delivered: int) -> float:
        """The wait before the next attempt after an error (``kind``: ``_ERROR`` or ``_BODY_ERROR``).

        Raises the error to stop with: Retry's own, or ``error`` itself when it is not Retry's to handle.
        """
        wait = self.after_error(error) if kind is _ERROR else self.after_body_error(error, delivered)
        if wait is None:
            raise error
        return wait

    def after_error(self, error: Exception) -> float | None:
        """A wait before the next attempt, ``None`` if ``error`` is not Retry's to handle; raises to stop."""
        self.last_error = error
        verdict = error_verdict(error, self.flavor.http)
        if verdict is None:
            return None
        reason, sent = verdict
        self._breaker_failed()
        remaining = self.remaining()
        if remaining is not None and remaining <= 0:
            self.stop = (
                "deadline",
                f"the deadline of {self.policy.deadline:g} s passed during attempt {self.attempt} ({reason})",
            )
            self._tell(reason, error=error, give_up=True)
            raise self._error(DeadlineExceededError, self.flavor.http.TimeoutException, error) from error
        return self._wait_or_raise(reason, error, sent=sent)

    def after_response(self, response: Any) -> object:
        """``_ACCEPT`` (this is the answer), ``_RETRY`` (after ``self.wait``) or ``_STOP`` (raise, with it)."""
        status = response.status_code
        statuses = self.policy.statuses
        if status < _FIRST_ERROR_STATUS and self.host is None and status not in statuses:
            return self._accepted(status)
        if self.breaker is not None and self.host is not None:
            if status in BREAKER_STATUSES:
                self.breaker.failed(self.host)
            else:
                self.breaker.succeeded(self.host)
        headers = response.headers
        reason = response_verdict(status, headers, statuses)
        if reason is None:
            return self._accepted(status)
        asked = server_wait(headers, _clock.wall()) if self.policy.retry_after else None
        if self._plan(reason, sent=True, asked=asked, status=status):
            return _RETRY
        return _STOP if self.stop is not None and self.stop[0] == "deadline" else self._accepted(status)

    def _accepted(self, status: int) -> object:
        """This response is the answer (or, delivering already, must stand in for the first one)."""
        if self.expected_status is not None and status != self.expected_status:
            return _STOP
        if self.policy.timed:
            self._body_timeouts()
        return _ACCEPT

    def after_body_error(self, error: Exception, delivered: int) -> float | None:
        """As :meth:`after_error`, for a failure while the caller read the body."""
        self.last_error = error
        verdict = error_verdict(error, self.flavor.http)
        if verdict is None:
            return None
        self._breaker_failed()
        reason = f"body failed ({verdict[0]})"
        if delivered:
            self.stop = (
                "interrupted",
                f"{delivered} bytes of the body had reached the caller; a resend cannot resume a body midway",
            )
            self._tell(reason, error=error, give_up=True)
            raise self._error(ResponseInterruptedError, type(error), error, delivered=delivered) from error
        return self._wait_or_raise(f"{reason} before any byte reached the caller", error, sent=True)

    def _wait_or_raise(self, reason: str, error: Exception, *, sent: bool) -> float:
        if self._plan(reason, sent=sent, asked=None, error=error):
            return self.wait
        if self.stop is not None and self.stop[0] == "deadline":
            raise self._error(DeadlineExceededError, self.flavor.http.TimeoutException, error) from error
        raise self._error(RetryError, type(error), error) from error

    def stopped_with(self, response: Any) -> BaseException:
        """The error for giving up with ``response`` in hand (a deadline, or a resend that differs)."""
        http = self.flavor.http
        if self.stop is None or self.stop[0] != "deadline":
            self.stop = (
                "resend_differs",
                (
                    f"the resend answered {response.status_code} where the first answer, whose body was being "
                    f"read, was {self.expected_status}"
                ),
            )
            self._tell(f"status {response.status_code}", status=response.status_code, give_up=True)
            cause = self.last_error
            flavor_error: type[Exception] = http.RemoteProtocolError if cause is None else type(cause)  # type: ignore[assignment]
            return self._error(RetryError, flavor_error, cause, response)  # type: ignore[no-any-return]
        return self._error(DeadlineExceededError, http.TimeoutException, self.last_error, response)  # type: ignore[no-any-return]

    # -- planning --------------------------------------------------------------------------

    def _plan(
        self,
        reason: str,
        *,
        sent: bool,
        asked: float | None,
        status: int | None = None,
        error: BaseException | None = None,
    ) -> bool:
        """Decide on a retry after a failure: sets ``self.wait`` (``True``) or ``self.stop`` (``False``)."""
        policy = self.policy
        attempt = self.attempt
        stop: tuple[str, str] | None = None
        wait = 0.0
        if attempt >= policy.attempts:
            stop = ("attempts", f"gave up after {attempt} attempt{'s' if attempt > 1 else ''}")
        elif sent and policy.methods is not None and self.request.method not in policy.methods:
            stop = (
                "method",
                (
                    f"{self.request.method} may have reached the server and is not among the methods resent "
                    f"({', '.join(sorted(policy.methods))})"
                ),
            )
        elif self.body is not None and (refusal := self.body.refusal(policy.body_buffer)) is not None:
            stop = ("body", refusal)
        else:
            if asked is not None:
                if asked > policy.max_wait:
                    stop = (
                        "max_wait",
                        f"the server asked to wait {asked:g} s, more than max_wait={policy.max_wait:g} s",
                    )
                wait = asked
            else:
                wait = backoff_wait(attempt, policy.backoff, policy.max_backoff, random.random())  # noqa: S311
            remaining = self.remaining()
            if stop is None and remaining is not None and wait >= remaining:
                stop = (
                    "deadline",
                    (
                        f"waiting {wait:.3g} s would pass the deadline of {policy.deadline:g} s "
                        f"({max(remaining, 0):.3g} s left after attempt {attempt})"
                    ),
                )
            if stop is None and self.layer.budget is not None and not self.layer.budget.spend():
                stop = ("budget", "the retry budget is spent: too many retries lately across this stack")
        self.stop = stop
        self.wait = wait
        self._tell(reason, status=status, error=error, server=asked, give_up=stop is not None)
        return stop is None

    def _breaker_failed(self) -> None:
        if self.breaker is not None and self.host is not None:
            self.breaker.failed(self.host)

    # -- telling and failing ----------------------------------------------------------------

    def _tell(
        self,
        reason: str,
        *,
        status: int | None = None,
        error: BaseException | None = None,
        server: float | None = None,
        give_up: bool = False,
    ) -> None:
        stop = self.stop if give_up else None
        self.layer._tell(  # noqa: SLF001 - the layer owns the hooks
            RetryEvent(
                decision="give_up" if give_up else "retry",
                attempt=self.attempt,
                reason=reason,
                wait=None if give_up else self.wait,
                stop=None if stop is None else stop[0],
                detail=None if stop is None else stop[1],
                method=self.request.method,
                url=redact_url(self.request.url),
                status=status,
                error=None if error is None else type(error).__name__,
                server_wait=server,
                elapsed=_clock.monotonic() - self.started,
            )
        )

    def _error(
        self,
        kind: type[RetryError],
        flavor_error: type[Exception],
        cause: BaseException | None,
        response: Any = None,
        *,
        delivered: int = 0,
    ) -> Any:
        reason, detail = self.stop or ("attempts", "gave up")
        what = None if cause is None else f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__
        if response is not None:
            what = f"status {response.status_code}" + (f" (after {what})" if what else "")
        elapsed = _clock.monotonic() - self.started
        message = (
            f"{self.request.method} {redact_url(self.request.url)}: {what or 'not sent'} — "
            f"Retry stopped: {detail} (attempt {self.attempt}, {elapsed:.2f} s into the call)"
        )
        error = retyped(
            kind,
            flavor_error,
            message,
            request=self.request,
            reason=reason,
            attempts=self.attempt,
            response=response,
            bytes_delivered=delivered,
        )
        if cause is not None and error.__cause__ is None:
            error.__cause__ = cause
        return error


def _host_text(host: tuple[str, str, int | None]) -> str:
    scheme, name, port = host
    return f"{scheme}://{name}" + (f":{port}" if port else "")
