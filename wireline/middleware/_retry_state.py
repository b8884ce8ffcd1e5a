"""State ``Retry`` shares between calls: the retry budget and the per-host circuit breaker.

Both are thread-safe, cost nothing measurable on the success path (a lock-free check for
healthy hosts, one addition per call for the budget) and read time from ``wireline._clock``, so
``wireline.testing.no_sleep()`` moves them along with the waits it skips.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wireline import _clock
from wireline.errors import ConfigError

__all__ = ["CircuitBreaker", "RetryBudget"]


def _positive(key: str, value: object, *, allow_zero: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):  # type: ignore[operator]
        raise ConfigError(key, value, "a number >= 0" if allow_zero else "a number > 0")
    return float(value)  # type: ignore[arg-type]


def _from_mapping(cls: type, value: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    unknown = set(value) - set(keys)
    if unknown:
        key = min(unknown)
        raise ConfigError(key, value[key], f"one of the keys {', '.join(keys)}")
    return cls(**value)


class RetryBudget:
    """Caps retries as a share of calls, so a storm of failures cannot multiply the load.

    A token bucket: every call adds ``ratio`` tokens, every retry takes one, and the bucket
    refills by ``min_per_second`` tokens a second on its own (so a quiet client can still retry);
    it holds at most ``burst``. When it is empty, failures are not retried (the event and the
    error say ``budget``). With the defaults, a client whose every call fails retries about one
    call in five, plus one retry a second, after an initial burst of ten.

    One budget serves every request through the ``Retry`` that holds it (all clients of a
    stack); pass the same object to several ``Retry`` layers to share it between stacks.

    Args:
        ratio: Tokens each call earns (the share of calls that may be retried).
        min_per_second: Tokens earned per second regardless of traffic.
        burst: The most tokens kept, and the number at the start.
    """

    def __init__(self, *, ratio: float = 0.2, min_per_second: float = 1.0, burst: float = 10.0) -> None:
        self.ratio = _positive("ratio", ratio, allow_zero=True)
        self.min_per_second = _positive("min_per_second", min_per_second, allow_zero=True)
        self.burst = _positive("burst", burst)
        if self.burst < 1:
            raise ConfigError("burst", burst, "at least 1 token (one retry)")
        self._tokens = self.burst
        self._refilled_at = _clock.monotonic()
        self._lock = threading.Lock()

    @classmethod
    def coerce(cls, value: RetryBudget | Mapping[str, Any]) -> RetryBudget:
        """A budget from itself or a mapping of its settings (config files)."""
        if isinstance(value, RetryBudget):
            return value
        return _from_mapping(cls, value, ("ratio", "min_per_second", "burst"))  # type: ignore[no-any-return]

    def called(self) -> None:
        """A call started: it earns ``ratio`` tokens.

        Not under the lock: it runs on every call, and a deposit lost to a race between threads
        only makes the budget a little stricter for a moment.
        """
        tokens = self._tokens + self.ratio
        self._tokens = min(self.burst, tokens)

    def spend(self) -> bool:
        """Take a token for a retry; ``False`` when there is none (then do not retry)."""
        with self._lock:
            now = _clock.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._refilled_at) * self.min_per_second)
            self._refilled_at = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True

    def is_default(self) -> bool:
        """Whether the settings are the defaults (``repr`` of ``Retry`` leaves it out then)."""
        return (self.ratio, self.min_per_second, self.burst) == (0.2, 1.0, 10.0)

    @property
    def tokens(self) -> float:
        """Tokens in the bucket now (without the refill since the last retry)."""
        return self._tokens

    def __repr__(self) -> str:
        return f"RetryBudget(ratio={self.ratio:g}, min_per_second={self.min_per_second:g}, burst={self.burst:g})"


@dataclass(slots=True)
class _HostState:
    failures: int = 0
    opened_at: float | None = None
    probing_since: float | None = None


class CircuitBreaker:
    """Stops sending to a host that keeps failing, and tries it again after a pause.

    After ``failures`` failures in a row from one host (scheme, host and port) — connect errors,
    timeouts, 5xx answers; not 4xx, not 429 — the circuit opens: requests to that host fail at
    once with :class:`~wireline.errors.CircuitOpenError` (a ``ConnectError`` of the flavour) for
    ``reset_after`` seconds. Then one request goes through as a probe: if it succeeds the circuit
    closes, if it fails it opens again.

    Args:
        failures: Failures in a row that open the circuit.
        reset_after: Seconds the circuit stays open before a probe.
    """

    def __init__(self, *, failures: int = 5, reset_after: float = 30.0) -> None:
        if not isinstance(failures, int) or isinstance(failures, bool) or failures < 1:
            raise ConfigError("failures", failures, "a whole number of failures in a row >= 1")
        self.failures = failures
        self.reset_after = _positive("reset_after", reset_after)
        self._hosts: dict[tuple[str, str, int | None], _HostState] = {}
        self._lock = threading.Lock()

    @classmethod
    def coerce(cls, value: CircuitBreaker | Mapping[str, Any]) -> CircuitBreaker:
        """A breaker from itself or a mapping of its settings (config files)."""
        if isinstance(value, CircuitBreaker):
            return value
        return _from_mapping(cls, value, ("failures", "reset_after"))  # type: ignore[no-any-return]

    def blocked(self, host: tuple[str, str, int | None]) -> float | None:
        """``None`` if a request to ``host`` may go; else seconds until the next probe may."""
        state = self._hosts.get(host)
        if state is None or state.opened_at is None:
            return None
        with self._lock:
            now = _clock.monotonic()
            opened_at = state.opened_at
            if opened_at is None:
                return None
            reopen = opened_at + self.reset_after
            if now < reopen:
                return reopen - now
            if state.probing_since is not None and now < state.probing_since + self.reset_after:
                return state.probing_since + self.reset_after - now  # a probe is out: wait for its verdict
            state.probing_since = now
            return None

    def succeeded(self, host: tuple[str, str, int | None]) -> None:
        """A request to ``host`` got an answer that is not a failure: the circuit closes."""
        if host in self._hosts:
            with self._lock:
                self._hosts.pop(host, None)

    def failed(self, host: tuple[str, str, int | None]) -> bool:
        """A request to ``host`` failed; ``True`` if the circuit is (now) open."""
        with self._lock:
            state = self._hosts.get(host)
            if state is None:
                state = self._hosts[host] = _HostState()
            state.failures += 1
            if state.probing_since is not None or state.failures >= self.failures:
                state.opened_at = _clock.monotonic()
                state.probing_since = None
                return True
            return False

    def state(self, host: tuple[str, str, int | None]) -> str:
        """``"closed"``, ``"open"`` or ``"half-open"`` (a probe may go, or is out), for tests and explain."""
        state = self._hosts.get(host)
        if state is None or state.opened_at is None:
            return "closed"
        if state.probing_since is not None or _clock.monotonic() >= state.opened_at + self.reset_after:
            return "half-open"
        return "open"

    def __repr__(self) -> str:
        return f"CircuitBreaker(failures={self.failures}, reset_after={self.reset_after:g})"
