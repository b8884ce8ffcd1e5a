"""Retry's decisions, without I/O: backoff, server-asked waits, verdicts, timeouts, budget, breaker."""

from __future__ import annotations

import itertools
import math
import ssl
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import httpx2
import pytest
from hypothesis import given, strategies as st

import wireline
from wireline import _clock
from wireline.middleware._retry_policy import (
    DEFAULT_STATUSES,
    RetryPolicy,
    attempt_timeouts,
    backoff_wait,
    error_verdict,
    parse_duration,
    rate_limit_reset,
    response_verdict,
    retry_after,
    server_wait,
)
from wireline.middleware.retry import CircuitBreaker, Retry, RetryBudget
from wireline.testing import no_sleep

NOW = 1_800_000_000.0  # a fixed wall-clock time for HTTP dates

seconds = st.floats(min_value=0.001, max_value=600, allow_nan=False)


# -- backoff ----------------------------------------------------------------------------------


@given(
    retry=st.integers(min_value=1, max_value=10_000),
    base=st.floats(min_value=0, max_value=100, allow_nan=False),
    cap=st.floats(min_value=0, max_value=1000, allow_nan=False),
    draw=st.floats(min_value=0, max_value=1, exclude_max=True),
)
def test_backoff_stays_within_its_ceiling(retry: int, base: float, cap: float, draw: float) -> None:
    """Full jitter: every wait is in [0, min(cap, base * 2**(retry-1))], finite, for any retry number."""
    wait = backoff_wait(retry, base, cap, draw)
    assert math.isfinite(wait)
    assert 0 <= wait <= cap
    assert wait <= base * 2 ** min(retry - 1, 64) + 1e-9


@given(base=st.floats(min_value=0.01, max_value=10), cap=st.floats(min_value=0.01, max_value=100))
def test_backoff_ceiling_doubles_until_the_cap(base: float, cap: float) -> None:
    """With the largest draw, the waits double from ``base`` and then stay at ``cap``."""
    almost_one = math.nextafter(1.0, 0.0)
    ceilings = [backoff_wait(retry, base, cap, almost_one) for retry in range(1, 30)]
    for previous, current in itertools.pairwise(ceilings):
        assert current >= previous
        assert current == pytest.approx(min(cap, previous * 2), rel=1e-9) or current == pytest.approx(cap)
    assert ceilings[-1] == pytest.approx(cap, rel=1e-6)


# -- waits the server asks for ------------------------------------------------------------------


def test_retry_after_in_seconds_milliseconds_and_dates() -> None:
    assert retry_after({"retry-after": "3"}, NOW) == 3.0
    assert retry_after({"retry-after": "1.5"}, NOW) == 1.5
    assert retry_after({"retry-after-ms": "250"}, NOW) == 0.25
    assert retry_after({"retry-after-ms": "250", "retry-after": "9"}, NOW) == 0.25  # ms wins, as in the SDKs
    date = format_datetime(datetime.fromtimestamp(NOW, UTC) + timedelta(seconds=20), usegmt=True)
    assert retry_after({"retry-after": date}, NOW) == pytest.approx(20)
    past = format_datetime(datetime.fromtimestamp(NOW, UTC) - timedelta(seconds=20), usegmt=True)
    assert retry_after({"retry-after": past}, NOW) == 0.0


@pytest.mark.parametrize("value", ["soon", "-3", "nan", "inf", "", "Wed, 99 Foo 2026 00:00:00"])
def test_unreadable_retry_after_is_ignored(value: str) -> None:
    assert retry_after({"retry-after": value}, NOW) is None
    assert retry_after({"retry-after-ms": value}, NOW) is None


@given(st.text(max_size=40))
def test_retry_after_never_raises(value: str) -> None:
    result = retry_after({"retry-after": value, "retry-after-ms": value}, NOW)
    assert result is None or (math.isfinite(result) and result >= 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1s", 1.0), ("6m0s", 360.0), ("20ms", 0.02), ("2m59.56s", 179.56), ("1h", 3600.0), ("12.5", 12.5), ("0s", 0.0)],
)
def test_rate_limit_durations(text: str, expected: float) -> None:
    assert parse_duration(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "s", "1x", "1s2", "ms", "-1s"])
def test_bad_durations(text: str) -> None:
    assert parse_duration(text) is None


def test_rate_limit_resets_by_provider() -> None:
    """OpenAI/Groq durations, Anthropic RFC 3339 times, Cohere-style seconds; the exhausted limit decides."""
    openai = {
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "1s",
        "x-ratelimit-remaining-tokens": "5000",
        "x-ratelimit-reset-tokens": "6m0s",
    }
    assert rate_limit_reset(openai, NOW) == 1.0  # requests ran out; tokens did not
    at = datetime.fromtimestamp(NOW + 7, UTC).isoformat().replace("+00:00", "Z")
    anthropic = {"anthropic-ratelimit-tokens-remaining": "0", "anthropic-ratelimit-tokens-reset": at}
    assert rate_limit_reset(anthropic, NOW) == pytest.approx(7)
    assert rate_limit_reset({"x-ratelimit-reset": "4"}, NOW) == 4.0
    assert rate_limit_reset({"x-ratelimit-reset": str(NOW + 9)}, NOW) == pytest.approx(9)  # a Unix time
    # No "remaining" information: the soonest reset.
    assert rate_limit_reset({"x-ratelimit-reset-requests": "3s", "x-ratelimit-reset-tokens": "2s"}, NOW) == 2.0
    assert rate_limit_reset({}, NOW) is None
    # retry-after is what the server asks first.
    assert server_wait({"retry-after": "1", "x-ratelimit-reset": "30"}, NOW) == 1.0
    assert server_wait({"x-ratelimit-reset": "30"}, NOW) == 30.0


# -- verdicts -----------------------------------------------------------------------------------


def test_response_verdicts() -> None:
    assert response_verdict(503, {}, DEFAULT_STATUSES) == "status 503"
    assert response_verdict(529, {}, DEFAULT_STATUSES) == "status 529"
    assert response_verdict(400, {}, DEFAULT_STATUSES) is None
    assert response_verdict(400, {"x-should-retry": "true"}, DEFAULT_STATUSES) is not None
    assert response_verdict(503, {"x-should-retry": "false"}, DEFAULT_STATUSES) is None
    assert {408, 409, 429, 500, 502, 503, 504, 529} == DEFAULT_STATUSES


@pytest.mark.parametrize("http", [httpx, httpx2], ids=["httpx", "httpx2"])
def test_error_verdicts(http: Any) -> None:
    """Connect errors are safe for any method; errors after sending may have reached the server."""
    assert error_verdict(http.ConnectError("refused"), http) == ("ConnectError", False)
    assert error_verdict(http.PoolTimeout("busy"), http) == ("PoolTimeout", False)
    assert error_verdict(http.ReadTimeout("slow"), http) == ("ReadTimeout", True)
    assert error_verdict(http.RemoteProtocolError("closed"), http) == ("RemoteProtocolError", True)
    assert error_verdict(http.ReadError("reset"), http) == ("ReadError", True)
    assert error_verdict(http.ProxyError("407"), http) is None
    assert error_verdict(http.LocalProtocolError("bad"), http) is None
    assert error_verdict(ValueError("not ours"), http) is None
    refused = http.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED]")
    refused.__cause__ = ssl.SSLCertVerificationError("certificate verify failed")
    assert error_verdict(refused, http) is None  # a TLS refusal fails the same way every time
    dropped = http.ConnectError("EOF in handshake")
    dropped.__cause__ = ssl.SSLEOFError("EOF occurred")
    assert error_verdict(dropped, http) == ("ConnectError", False)


# -- timeouts -------------------------------------------------------------------------------------

timeouts = st.none() | st.floats(min_value=0.001, max_value=1000)


@given(
    client=st.fixed_dictionaries({"connect": timeouts, "read": timeouts, "write": timeouts, "pool": timeouts}),
    per_attempt=timeouts,
    remaining=st.none() | st.floats(min_value=-5, max_value=1000),
)
def test_attempt_timeouts_never_exceed_a_limit(
    client: dict[str, float | None], per_attempt: float | None, remaining: float | None
) -> None:
    """Each value is the smallest of the client's, the per-attempt timeout and what is left of the deadline."""
    result = attempt_timeouts(client, per_attempt, remaining)
    if per_attempt is None and remaining is None:
        assert result is client
        return
    for key in ("connect", "read", "write", "pool"):
        limits = [value for value in (client[key], per_attempt, remaining) if value is not None]
        assert result[key] == pytest.approx(max(min(limits), 0.001))
        assert result[key] > 0  # never 0, which some backends read as "no timeout"


# -- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"attempts": 0}, "attempts: expected a whole number of attempts >= 1"),
        ({"attempts": True}, "attempts: expected a whole number"),
        ({"backoff": -1}, "backoff: expected a number of seconds >= 0"),
        ({"deadline": 0}, "deadline: expected a number of seconds > 0, or None"),
        ({"idle_timeout": "30"}, "idle_timeout: expected a number of seconds > 0, or None"),
        ({"statuses": [700]}, "statuses: expected HTTP status codes between 100 and 599"),
        ({"statuses": "503"}, "statuses: expected a list of HTTP status codes"),
        ({"methods": "GET"}, "methods: expected a list of HTTP methods"),
        ({"body_buffer": -1}, "body_buffer: expected a whole number of bytes >= 0"),
        ({"idempotency_header": "Idempotency Key"}, "idempotency_header: expected a header name"),
        ({"budget": {"ratio": -1}}, "budget.ratio: expected a number >= 0"),
        ({"budget": {"rate": 1}}, "budget.rate: expected one of the keys ratio, min_per_second, burst"),
        ({"breaker": {"failures": 0}}, "breaker.failures: expected a whole number of failures in a row >= 1"),
        ({"breaker": "yes"}, "breaker: expected true, false, a CircuitBreaker or a table of its settings"),
        ({"on_retry": 3}, "on_retry: expected a function that takes a RetryEvent, or None"),
    ],
)
def test_bad_settings_are_refused(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(wireline.ConfigError) as caught:
        Retry(**settings)
    assert str(caught.value).startswith(message)


def test_settings_from_config_and_repr() -> None:
    """Config tables become budgets and breakers; repr shows what differs from the defaults."""
    stack = wireline.Stack.from_config(
        {
            "middleware": [
                {
                    "use": "retry",
                    "attempts": 5,
                    "deadline": 30,
                    "statuses": [429, 503],
                    "budget": {"ratio": 0.1},
                    "breaker": {"failures": 3},
                }
            ]
        }
    )
    layer = stack.layers[0]
    assert isinstance(layer, Retry)
    assert layer.policy.attempts == 5
    assert layer.policy.statuses == {429, 503}
    assert layer.budget is not None
    assert layer.budget.ratio == 0.1
    assert layer.breaker is not None
    assert layer.breaker.failures == 3
    assert repr(layer) == (
        "Retry(attempts=5, deadline=30.0, statuses=[429, 503], "
        "budget=RetryBudget(ratio=0.1, min_per_second=1, burst=10), breaker=CircuitBreaker(failures=3, reset_after=30))"
    )
    assert repr(Retry()) == "Retry()"
    assert stack.owns_retries
    assert not wireline.Stack(Retry(1)).owns_retries
    with pytest.raises(wireline.ConfigError, match=r"middleware\[0\]\.attempts: expected a whole number"):
        wireline.Stack.from_config({"middleware": [{"use": "retry", "attempts": "many"}]})


def test_policy_overrides_name_the_extension() -> None:
    policy = RetryPolicy()
    assert policy.merged({"attempts": 5}, key="x").attempts == 5
    with pytest.raises(wireline.ConfigError, match=r"^x\.attempts: expected a whole number of attempts"):
        policy.merged({"attempts": -1}, key="x")
    with pytest.raises(wireline.ConfigError, match=r"^x\.retries: expected one of the Retry settings"):
        policy.merged({"retries": 2}, key="x")


# -- budget and breaker ---------------------------------------------------------------------------


def advance(seconds: float) -> None:
    """Move wireline's clock on (under no_sleep, a skipped sleep counts as time passed)."""
    _clock.sleep(seconds)


def test_budget_spends_and_refills() -> None:
    with no_sleep():
        budget = RetryBudget(ratio=0.5, min_per_second=1, burst=3)
        assert [budget.spend() for _ in range(4)] == [True, True, True, False]
        budget.called()
        budget.called()  # two calls earn one retry
        assert budget.spend()
        assert not budget.spend()
        advance(2.0)  # two seconds earn two more
        assert budget.spend()
        assert budget.spend()
        assert not budget.spend()
        advance(100)
        assert budget.tokens <= 3  # never more than the burst
        assert [budget.spend() for _ in range(4)] == [True, True, True, False]


@given(
    ratio=st.floats(min_value=0, max_value=1),
    burst=st.floats(min_value=1, max_value=50),
    calls=st.integers(min_value=0, max_value=500),
)
def test_budget_caps_retries_as_a_share_of_calls(ratio: float, burst: float, calls: int) -> None:
    """Without time passing, retries granted <= burst + ratio * calls."""
    with no_sleep():
        budget = RetryBudget(ratio=ratio, min_per_second=0, burst=burst)
        granted = 0
        for _ in range(calls):
            budget.called()
            granted += budget.spend()
        while budget.spend():
            granted += 1
        assert granted <= burst + ratio * calls + 1e-6


def test_breaker_opens_probes_and_closes() -> None:
    host = ("https", "api.example.com", None)
    with no_sleep():
        breaker = CircuitBreaker(failures=2, reset_after=10)
        assert breaker.blocked(host) is None
        assert not breaker.failed(host)
        assert breaker.failed(host)  # the second failure in a row opens it
        assert breaker.state(host) == "open"
        assert breaker.blocked(host) == pytest.approx(10, abs=0.1)
        advance(10)
        assert breaker.blocked(host) is None  # one probe may go...
        assert breaker.blocked(host) is not None  # ...and only one
        assert breaker.failed(host)  # the probe failed: open again
        assert breaker.state(host) == "open"
        advance(10)
        assert breaker.blocked(host) is None
        breaker.succeeded(host)  # the probe succeeded: closed
        assert breaker.state(host) == "closed"
        assert breaker.blocked(host) is None
        assert not breaker.failed(host)  # counting starts again
