"""The OpenTelemetry instruments Tracing records to, one set per meter provider.

Two Tracing layers on one meter provider share one set: the SDK hands back an existing instrument
for a second registration, but ignores a second observable instrument's callbacks, so the
observable ones read registries shared by every layer of that provider.

- ``http.client.request.duration`` -- a histogram recorded once per attempt, at its end.
- ``http.client.active_requests`` -- observed from in-process sets of the attempts in flight, one
  per (server address, port, method), so a request costs a set ``add`` and ``discard`` (atomic, no
  lock) instead of two synchronous up-down-counter calls (several microseconds each with the SDK);
  the value exported is the same.
- ``http.client.open_connections`` -- observed from the pools of the stacks the layers belong to
  (``Stack.connections()``): nothing is spent per request.
- ``gen_ai.client.token.usage``, ``gen_ai.client.operation.duration`` and
  ``gen_ai.client.operation.time_to_first_chunk`` -- histograms, for LLM calls.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from opentelemetry import metrics

from wireline import _semconv as sc
from wireline._faults import report_once
from wireline.middleware import _ends
from wireline.middleware._attempt import flush_deferred

if TYPE_CHECKING:
    from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation

    from wireline.stack import Stack

__all__ = ["Instruments", "instruments_for"]

SCHEMA_URL = "https://opentelemetry.io/schemas/1.44.0"


class Instruments:
    """Instruments of one meter provider, and the registries its observable instruments read."""

    def __init__(self, meter_provider: MeterProvider | None, version: str) -> None:
        from opentelemetry.metrics import Observation

        self._observation = Observation
        meter = metrics.get_meter("wireline", version, meter_provider, schema_url=SCHEMA_URL)
        # name, unit, description, the conventions' bucket advice
        histograms = [
            (sc.HTTP_CLIENT_REQUEST_DURATION, "s", "Duration of HTTP client requests.", sc.HTTP_DURATION_BUCKETS),
            (
                sc.GEN_AI_CLIENT_TOKEN_USAGE,
                "{token}",
                "Number of input and output tokens used.",
                sc.GEN_AI_TOKEN_BUCKETS,
            ),
            (sc.GEN_AI_CLIENT_OPERATION_DURATION, "s", "GenAI operation duration.", sc.GEN_AI_DURATION_BUCKETS),
            (
                sc.GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
                "s",
                "Time to receive the first chunk of a streamed GenAI response.",
                sc.GEN_AI_DURATION_BUCKETS,
            ),
        ]
        self.request_duration, self.token_usage, self.operation_duration, self.time_to_first_chunk = (
            meter.create_histogram(name, unit=unit, description=text, explicit_bucket_boundaries_advisory=list(bounds))
            for name, unit, text, bounds in histograms
        )
        self._lock = threading.Lock()
        # (server.address, server.port, http.request.method) -> the attempts in flight
        self._active: dict[tuple[str, int, str], set[Any]] = {}
        self._stacks: weakref.WeakSet[Stack] = weakref.WeakSet()
        self._reported_connections: set[tuple[str, int, str, str | None]] = set()
        meter.create_observable_up_down_counter(
            sc.HTTP_CLIENT_ACTIVE_REQUESTS,
            callbacks=[self._observe_active],
            unit="{request}",
            description="Number of active HTTP requests.",
        )
        meter.create_observable_up_down_counter(
            sc.HTTP_CLIENT_OPEN_CONNECTIONS,
            callbacks=[self._observe_connections],
            unit="{connection}",
            description="Number of outbound HTTP connections that are currently active or idle on the client.",
        )

    # -- per request ------------------------------------------------------------------------

    def active(self, key: tuple[str, int, str]) -> set[Any]:
        """The set of attempts in flight for ``key`` (address, port, method): add an attempt, then discard it."""
        found = self._active.get(key)
        if found is None:
            with self._lock:
                found = self._active.setdefault(key, set())
        return found

    def watch_stack(self, stack: Stack) -> None:
        """Count ``stack``'s open connections in ``http.client.open_connections`` (held weakly)."""
        self._stacks.add(stack)

    # -- observable callbacks (run by the metric reader, on its thread) ---------------------

    def _observe_active(self, options: CallbackOptions) -> Iterable[Observation]:
        try:
            # A quiet application still gets its abandoned responses ended and its finished calls' failures counted.
            _ends.sweep()
            flush_deferred()
            with self._lock:
                counts = [(key, len(attempts)) for key, attempts in list(self._active.items())]
            Observation = self._observation  # noqa: N806 - a class
            return [
                Observation(
                    count,
                    {sc.SERVER_ADDRESS: host, sc.SERVER_PORT: port, sc.HTTP_REQUEST_METHOD: method},
                )
                for (host, port, method), count in counts
            ]
        except Exception as exc:  # noqa: BLE001 - a metrics callback must not fail the collection
            report_once("Tracing: http.client.active_requests", exc)
            return []

    def _observe_connections(self, options: CallbackOptions) -> Iterable[Observation]:
        try:
            return list(self._connection_observations())
        except Exception as exc:  # noqa: BLE001 - as above
            report_once("Tracing: http.client.open_connections", exc)
            return []

    def _connection_observations(self) -> Iterator[Observation]:
        counts: dict[tuple[str, int, str, str | None], int] = {}
        key: tuple[str, int, str, str | None]
        for stack in list(self._stacks):
            for connection in stack.connections():
                key = (connection.host, connection.port, connection.state, connection.http_version)
                counts[key] = counts.get(key, 0) + 1
        # A connection that closed since the last collection is reported as 0 once, so its
        # series drops to zero instead of staying at its last value.
        for key in self._reported_connections - counts.keys():
            counts[key] = 0
        self._reported_connections = {key for key, count in counts.items() if count}
        Observation = self._observation  # noqa: N806 - a class
        for (host, port, state, version), count in counts.items():
            attributes: dict[str, Any] = {
                sc.SERVER_ADDRESS: host,
                sc.SERVER_PORT: port,
                sc.HTTP_CONNECTION_STATE: state,
            }
            if version is not None:
                attributes[sc.NETWORK_PROTOCOL_VERSION] = version
            yield Observation(count, attributes)


_by_provider: weakref.WeakKeyDictionary[Any, Instruments] = weakref.WeakKeyDictionary()
_global: Instruments | None = None
_lock = threading.Lock()


def instruments_for(meter_provider: MeterProvider | None, version: str) -> Instruments:
    """The shared instruments of ``meter_provider`` (``None``: the global one, looked up lazily)."""
    global _global  # noqa: PLW0603 - one set for the global provider
    with _lock:
        if meter_provider is None:
            if _global is None:
                _global = Instruments(None, version)
            return _global
        found = _by_provider.get(meter_provider)
        if found is None:
            found = _by_provider[meter_provider] = Instruments(meter_provider, version)
        return found
