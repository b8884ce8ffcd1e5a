"""What ``Retry`` decides, with no I/O: settings, backoff, server-asked waits, verdicts, deadlines.

Everything here is a plain function of its arguments (the clock and the random draw are passed
in), so it is tested directly, with properties, and ``Retry``'s flow only strings it together.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, Final

from wireline.errors import ConfigError
from wireline.transports.tls import tls_refusal

__all__ = [
    "DEFAULT_STATUSES",
    "IDEMPOTENT_METHODS",
    "RetryPolicy",
    "attempt_timeouts",
    "backoff_wait",
    "body_timeouts",
    "error_verdict",
    "parse_duration",
    "rate_limit_reset",
    "response_verdict",
    "retry_after",
    "server_wait",
]

#: Statuses retried by default: those the provider SDKs retry (408 timeout, 409 lock, 429 rate
#: limit, 5xx, and Anthropic's 529 overloaded).
DEFAULT_STATUSES: Final = frozenset({408, 409, 429, 500, 502, 503, 504, 529})

#: Methods that may be sent twice without harm (RFC 9110 9.2.2).
IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})

#: 5xx statuses that count against a host's circuit breaker (a 429 is a rate limit, not an outage).
BREAKER_STATUSES: Final = frozenset({500, 502, 503, 504, 529})

_NO_TIMEOUTS: Mapping[str, Any] = {}
_SHORTEST_TIMEOUT = 0.001
_HTTP_STATUS_RANGE = range(100, 600)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``Retry``'s per-call settings, validated when made (see ``Retry`` for what each means)."""

    attempts: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    deadline: float | None = None
    timeout: float | None = None
    idle_timeout: float | None = None
    statuses: frozenset[int] = DEFAULT_STATUSES
    methods: frozenset[str] | None = None
    retry_after: bool = True
    max_wait: float = 60.0
    body_buffer: int = 1 << 20
    idempotency_header: str | None = None
    #: Whether any timeout is set (then each attempt's ``timeout`` extension is rewritten).
    timed: bool = field(init=False, repr=False, compare=False, default=False)

    def __post_init__(self) -> None:
        if not _whole(self.attempts) or self.attempts < 1:
            raise ConfigError("attempts", self.attempts, "a whole number of attempts >= 1 (1 = no retries)")
        for key in ("backoff", "max_backoff", "max_wait"):
            _check_seconds(key, getattr(self, key), optional=False)
        for key in ("deadline", "timeout", "idle_timeout"):
            _check_seconds(key, getattr(self, key), optional=True, positive=True)
        if not _whole(self.body_buffer) or self.body_buffer < 0:
            raise ConfigError("body_buffer", self.body_buffer, "a whole number of bytes >= 0")
        object.__setattr__(self, "statuses", _statuses(self.statuses))
        if self.methods is not None:
            object.__setattr__(self, "methods", _methods(self.methods))
        header = self.idempotency_header
        if header is not None and (not isinstance(header, str) or not header or not header.isascii() or " " in header):
            raise ConfigError("idempotency_header", header, "a header name such as 'Idempotency-Key', or None")
        if not isinstance(self.retry_after, bool):
            raise ConfigError("retry_after", self.retry_after, "true or false")
        timed = self.deadline is not None or self.timeout is not None or self.idle_timeout is not None
        object.__setattr__(self, "timed", timed)

    def merged(self, overrides: Mapping[str, Any], *, key: str) -> RetryPolicy:
        """This policy with some settings changed (a per-request override); errors name ``key``."""
        known = {f.name for f in fields(self) if f.init}
        for name in overrides:
            if name not in known:
                raise ConfigError(
                    f"{key}.{name}", overrides[name], f"one of the Retry settings {', '.join(sorted(known))}"
                )
        try:
            return replace(self, **overrides)
        except ConfigError as exc:
            raise exc.at(key) from None

    def describe(self) -> list[str]:
        """The policy in words, for ``wireline explain``."""
        if self.attempts == 1:
            lines = ["does not retry (attempts=1)"]
        else:
            statuses = ", ".join(map(str, sorted(self.statuses)))
            lines = [
                (
                    f"up to {self.attempts} attempts; full-jitter backoff from {self.backoff:g} s, doubling, "
                    f"capped at {self.max_backoff:g} s"
                ),
                (
                    "retries connect errors, timeouts before a response, a body that fails before any byte "
                    f"reached you, and statuses {statuses} (x-should-retry honoured)"
                ),
                "resends " + ("every method" if self.methods is None else ", ".join(sorted(self.methods))),
            ]
            if self.retry_after:
                lines.append(f"waits as the server asks (retry-after, rate-limit resets) up to {self.max_wait:g} s")
        if self.deadline is not None:
            lines.append(f"deadline {self.deadline:g} s for the call until the response, waits included")
        if self.timeout is not None:
            lines.append(f"each attempt: {self.timeout:g} s to connect, send and get the response headers")
        if self.idle_timeout is not None:
            lines.append(f"stream idle timeout: {self.idle_timeout:g} s between body chunks")
        if self.idempotency_header:
            lines.append(f"sets {self.idempotency_header} once per call, kept across attempts")
        return lines


def _statuses(statuses: object) -> frozenset[int]:
    if isinstance(statuses, (str, bytes)) or not isinstance(statuses, Collection):
        raise ConfigError("statuses", statuses, "a list of HTTP status codes such as [429, 503]")
    if not all(_whole(code) and code in _HTTP_STATUS_RANGE for code in statuses):
        raise ConfigError("statuses", statuses, "HTTP status codes between 100 and 599")
    return frozenset(statuses)


def _methods(methods: object) -> frozenset[str]:
    if isinstance(methods, (str, bytes)) or not isinstance(methods, Collection):
        raise ConfigError("methods", methods, "a list of HTTP methods such as ['GET', 'PUT'], or None for all")
    if not all(isinstance(method, str) and method.isalpha() for method in methods):
        raise ConfigError("methods", methods, "HTTP method names such as 'GET'")
    return frozenset(method.upper() for method in methods)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_seconds(key: str, value: object, *, optional: bool, positive: bool = False) -> None:
    if value is None and optional:
        return
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (positive and value == 0):  # type: ignore[operator]
        bound = "> 0" if positive else ">= 0"
        raise ConfigError(key, value, f"a number of seconds {bound}" + (", or None" if optional else ""))


# -- backoff ------------------------------------------------------------------------------

_MAX_DOUBLINGS = 64  # past this, base * 2**n exceeds any cap; keeps floats finite


def backoff_wait(retry: int, base: float, cap: float, draw: float) -> float:
    """Full-jitter exponential backoff: a wait in ``[0, min(cap, base * 2**(retry - 1))]``.

    Args:
        retry: Which retry this is, 1-based (the wait before the second attempt is retry 1).
        base: The first ceiling, in seconds.
        cap: The largest ceiling.
        draw: A uniform random number in ``[0, 1)``.
    """
    ceiling = min(cap, math.ldexp(base, min(max(retry - 1, 0), _MAX_DOUBLINGS)))
    return ceiling * draw


# -- waits the server asks for ------------------------------------------------------------


def retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds the server asks to wait: ``retry-after-ms``, else ``retry-after`` (seconds or an HTTP date).

    ``now`` is the wall-clock time (``time.time()``) for HTTP dates; a date in the past means 0.
    Values that cannot be read are ignored (``None``).
    """
    millis = headers.get("retry-after-ms")
    if millis is not None:
        seconds = _number(millis)
        if seconds is not None:
            return seconds / 1000
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _number(value)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP date is GMT by definition
        return None
    return max(0.0, when.timestamp() - now)


def _number(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(h|ms|m|s|us|µs|ns)")
_DURATION_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def parse_duration(text: str) -> float | None:
    """Seconds in a rate-limit duration: ``"1s"``, ``"6m0s"``, ``"20ms"``, ``"2m59.56s"``, or ``"12.5"``."""
    text = text.strip()
    plain = _number(text)
    if plain is not None:
        return plain
    position, total = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            return None
        total += float(match[1]) * _DURATION_UNITS[match[2]]
        position = match.end()
    return total if position == len(text) and position else None


# (reset header, matching "remaining" header, how to read the reset)
_RESET_HEADERS = (
    ("x-ratelimit-reset-requests", "x-ratelimit-remaining-requests", "duration"),  # OpenAI, Groq
    ("x-ratelimit-reset-tokens", "x-ratelimit-remaining-tokens", "duration"),
    ("anthropic-ratelimit-requests-reset", "anthropic-ratelimit-requests-remaining", "timestamp"),
    ("anthropic-ratelimit-tokens-reset", "anthropic-ratelimit-tokens-remaining", "timestamp"),
    ("anthropic-ratelimit-input-tokens-reset", "anthropic-ratelimit-input-tokens-remaining", "timestamp"),
    ("anthropic-ratelimit-output-tokens-reset", "anthropic-ratelimit-output-tokens-remaining", "timestamp"),
    ("x-ratelimit-reset", "x-ratelimit-remaining", "seconds"),  # Cohere and others: seconds, or an epoch time
)
_EPOCH_THRESHOLD = 1e9  # a "seconds" reset this large is a Unix time, not a duration


def rate_limit_reset(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds until a provider's rate limit resets, from its reset headers (``None`` if none).

    Limits whose ``remaining`` header says 0 are the ones hit; the wait is the longest of their
    resets. Without that information, the soonest reset (something frees up then).
    """
    exhausted: list[float] = []
    others: list[float] = []
    for reset_name, remaining_name, kind in _RESET_HEADERS:
        value = headers.get(reset_name)
        if value is None:
            continue
        seconds = _reset_seconds(value, kind, now)
        if seconds is None:
            continue
        remaining = headers.get(remaining_name)
        (exhausted if remaining is not None and remaining.strip() == "0" else others).append(seconds)
    if exhausted:
        return max(exhausted)
    return min(others) if others else None


def _reset_seconds(value: str, kind: str, now: float) -> float | None:
    if kind == "duration":
        return parse_duration(value)
    if kind == "timestamp":
        try:
            when = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        return None if when.tzinfo is None else max(0.0, when.timestamp() - now)
    seconds = _number(value)
    if seconds is not None and seconds > _EPOCH_THRESHOLD:
        return max(0.0, seconds - now)
    return seconds


def server_wait(headers: Mapping[str, str], now: float) -> float | None:
    """What the server asks: ``retry-after-ms`` / ``retry-after``, else a rate-limit reset."""
    asked = retry_after(headers, now)
    return asked if asked is not None else rate_limit_reset(headers, now)


# -- verdicts: retry or not, and why -------------------------------------------------------


def response_verdict(status: int, headers: Mapping[str, str], statuses: Collection[int]) -> str | None:
    """Why a response should be retried (``"status 503"``), or ``None`` to accept it.

    ``x-should-retry: true`` retries any status, ``x-should-retry: false`` none, as the SDKs do
    (they look at it on error statuses only; so does ``Retry``).
    """
    should = headers.get("x-should-retry")
    if should == "true":
        return f"status {status} with x-should-retry: true"
    if should == "false" or status not in statuses:
        return None
    return f"status {status}"


def error_verdict(error: BaseException, http: Any) -> tuple[str, bool] | None:
    """``(reason, may_have_been_sent)`` for a failure worth retrying, or ``None``.

    Retried: connect errors and timeouts, pool timeouts (nothing was sent: safe for any method),
    and read/write errors, read/write timeouts and a server that closed the connection before
    answering (the request may have reached the server). Not retried: a TLS verification or
    handshake failure (it fails the same way again), a proxy's refusal, a local protocol error.

    ``http`` is the flavour's package (``httpx`` or ``httpx2``).
    """
    name = type(error).__name__
    if isinstance(error, (http.ConnectError, http.ConnectTimeout, http.PoolTimeout)):
        if tls_refusal(error) is not None:
            return None
        return name, False
    if isinstance(error, http.ProxyError):
        return None
    if isinstance(error, (http.TimeoutException, http.NetworkError, http.RemoteProtocolError)):
        if tls_refusal(error) is not None:
            return None
        return name, True
    return None


# -- timeouts -----------------------------------------------------------------------------


def attempt_timeouts(client: Mapping[str, Any] | None, per_attempt: float | None, remaining: float | None) -> Any:
    """The ``timeout`` request extension for one attempt: the client's, bounded by both limits.

    httpcore (and every base transport) applies each value per operation: connect, each socket
    read and write, waiting for a pooled connection. Returns ``client`` itself when unbounded.
    """
    if remaining is None:
        if per_attempt is None:
            return client
        bound = per_attempt
    else:
        bound = remaining if per_attempt is None or remaining < per_attempt else per_attempt
        bound = max(bound, _SHORTEST_TIMEOUT)  # 0 would mean "no timeout" to some backends
    get = (client or _NO_TIMEOUTS).get
    # Written out: this runs on every attempt of a call with a deadline.
    connect, read, write, pool = get("connect"), get("read"), get("write"), get("pool")
    return {
        "connect": bound if connect is None or connect > bound else connect,
        "read": bound if read is None or read > bound else read,
        "write": bound if write is None or write > bound else write,
        "pool": bound if pool is None or pool > bound else pool,
    }


def body_timeouts(current: Mapping[str, Any] | None, client: Mapping[str, Any] | None, idle: float | None) -> Any:
    """The ``timeout`` extension once the headers are in: the read timeout becomes ``idle``.

    Without an idle timeout, the client's own read timeout applies to the body again (a
    per-attempt or deadline bound is for getting the answer, not for reading a long stream).
    """
    read = idle if idle is not None else (client or _NO_TIMEOUTS).get("read")
    return {**(current or _NO_TIMEOUTS), "read": read}
