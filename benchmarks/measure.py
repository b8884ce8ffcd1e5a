"""Measuring a group of variants side by side: interleaved rounds, medians, paired ratios.

Every variant of a group is built once, then measured round by round: in each round every variant
runs for the same wall-clock budget, in an order that rotates from round to round, so slow drift of
the machine (other people's tests, thermal changes) lands on all of them alike. Round 0 warms up
(connections, caches, lazy imports) and is thrown away.

A variant's figure for a round is wall time per unit of work (a request, an event, a chunk, a call),
with the client process's CPU time per unit and the connections the server accepted per unit beside
it. Its comparison with the group's baseline is made **per round** (the ratio and the difference of
the two figures of the same round), and the medians of those are reported, with the variant's own
min–max over the rounds.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

Metric = Literal["wall", "cpu"]

__all__ = ["Measured", "Metric", "Subject", "Unavailable", "VariantResult", "measure_async", "measure_sync"]


class Unavailable(Exception):  # noqa: N818 - it is a state, not an error: "not available (reason)"
    """A variant that cannot run here; the reason is printed in its row instead of figures."""


@dataclass
class Subject:
    """One variant, built: ``op()`` does ``units`` units of work (a coroutine function in async groups).

    Attributes:
        op: Does the work once.
        units: Units of work per call (requests, events, chunks...).
        closers: Called (awaited if they return awaitables) when the group is done, last first.
        info: Facts about the variant for the report (e.g. how many layers observe the stream).
        warm: Called once before the warm-up round, for one-off work the warm-up might not reach
            (opening the pool of every one of several clients, say).
    """

    op: Callable[[], Any]
    units: int = 1
    closers: list[Callable[[], Any]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    warm: Callable[[], Any] | None = None


@dataclass
class VariantResult:
    """A variant's figures over the measured rounds (warm-up excluded)."""

    key: str
    label: str
    unavailable: str | None = None
    wall_us: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)
    connections: list[float] = field(default_factory=list)
    units: list[int] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    ratio: list[float] = field(default_factory=list)
    delta_us: list[float] = field(default_factory=list)
    cpu_delta_us: list[float] = field(default_factory=list)
    cpu_ratio: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.wall_us)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu_us)

    @property
    def ratio_median(self) -> float:
        return statistics.median(self.ratio)

    @property
    def delta_median(self) -> float:
        return statistics.median(self.delta_us)

    @property
    def cpu_delta_median(self) -> float:
        return statistics.median(self.cpu_delta_us)

    def rounds(self, metric: Metric) -> list[float]:
        """Per-round figures: wall time or the client's CPU time per unit."""
        return self.wall_us if metric == "wall" else self.cpu_us

    def ratios(self, metric: Metric) -> list[float]:
        """Per-round ratios to the baseline of the same round."""
        return self.ratio if metric == "wall" else self.cpu_ratio

    def deltas(self, metric: Metric) -> list[float]:
        """Per-round differences from the baseline of the same round, µs."""
        return self.delta_us if metric == "wall" else self.cpu_delta_us

    @property
    def connections_median(self) -> float:
        return statistics.median(self.connections)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VariantResult:
        """The inverse of :meth:`to_json` (for re-printing or re-writing the docs from a saved run)."""
        result = cls(data["key"], data["label"], data.get("unavailable"))
        if result.unavailable is None:
            result.wall_us, result.cpu_us = data["rounds_us"], data["rounds_cpu_us"]
            rounds = len(result.wall_us)
            result.connections = data.get("rounds_connections_per_unit", [data["connections_per_unit"]] * rounds)
            result.units = data["rounds_units"]
            result.ratio, result.delta_us = data["rounds_ratio"], data["rounds_delta_us"]
            result.cpu_delta_us, result.cpu_ratio = data["rounds_cpu_delta_us"], data["rounds_cpu_ratio"]
            result.info = data["info"]
        return result

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"key": self.key, "label": self.label}
        if self.unavailable is not None:
            data["unavailable"] = self.unavailable
            return data
        data.update(
            median_us=self.median,
            min_us=min(self.wall_us),
            max_us=max(self.wall_us),
            cpu_median_us=self.cpu_median,
            ratio_median=self.ratio_median,
            delta_median_us=self.delta_median,
            cpu_delta_median_us=self.cpu_delta_median,
            cpu_ratio_median=statistics.median(self.cpu_ratio) if self.cpu_ratio else None,
            connections_per_unit=self.connections_median,
            rounds_us=self.wall_us,
            rounds_cpu_us=self.cpu_us,
            rounds_ratio=self.ratio,
            rounds_delta_us=self.delta_us,
            rounds_cpu_delta_us=self.cpu_delta_us,
            rounds_cpu_ratio=self.cpu_ratio,
            rounds_units=self.units,
            rounds_connections_per_unit=self.connections,
            info=self.info,
        )
        return data


@dataclass
class Measured:
    """What a group run produced: its variants, baseline first among them."""

    results: list[VariantResult]
    baseline: str


Counter = Callable[[], int]


def _pair_with_baseline(results: list[VariantResult], baseline: str) -> None:
    base = next((r for r in results if r.key == baseline and r.unavailable is None), None)
    for result in results:
        if result.unavailable is not None or base is None:
            continue
        result.ratio = [v / b for v, b in zip(result.wall_us, base.wall_us, strict=True)]
        result.delta_us = [v - b for v, b in zip(result.wall_us, base.wall_us, strict=True)]
        result.cpu_delta_us = [v - b for v, b in zip(result.cpu_us, base.cpu_us, strict=True)]
        result.cpu_ratio = [v / b for v, b in zip(result.cpu_us, base.cpu_us, strict=True)]


def _record(result: VariantResult, units: int, wall: float, cpu: float, connections: int) -> None:
    result.wall_us.append(wall / units * 1e6)
    result.cpu_us.append(cpu / units * 1e6)
    result.connections.append(connections / units)
    result.units.append(units)


def _order(count: int, round_index: int) -> list[int]:
    start = round_index % count if count else 0
    return [*range(start, count), *range(start)]


def _runs(
    results: list[VariantResult], subjects: list[Subject | None], rounds: int, seconds: float
) -> Iterator[tuple[bool, float, VariantResult, Subject]]:
    """(measured?, budget, result, subject) for every run: a warm-up round at half budget, then the rounds."""
    live = [(r, s) for r, s in zip(results, subjects, strict=True) if s is not None]
    for round_index in range(rounds + 1):
        budget = seconds / 2 if round_index == 0 else seconds
        for index in _order(len(live), round_index):
            result, subject = live[index]
            gc.collect()
            yield round_index > 0, budget, result, subject


def _built(result: VariantResult, subject: Subject | None, reason: Unavailable | None) -> Subject | None:
    if reason is not None:
        result.unavailable = str(reason)
        return None
    assert subject is not None
    result.info = subject.info
    return subject


def measure_sync(
    variants: list[tuple[str, str, Callable[[], Subject]]],
    baseline: str,
    *,
    rounds: int,
    seconds: float,
    connections: Counter,
) -> Measured:
    """Build each ``(key, label, make)`` variant, then run the interleaved rounds (sync ops)."""
    results = [VariantResult(key, label) for key, label, _ in variants]
    subjects: list[Subject | None] = []
    try:
        for result, (_, _, make) in zip(results, variants, strict=True):
            try:
                subjects.append(_built(result, make(), None))
            except Unavailable as exc:
                subjects.append(_built(result, None, exc))
        for subject in subjects:
            if subject is not None and subject.warm is not None:
                subject.warm()
        for measured, budget, result, subject in _runs(results, subjects, rounds, seconds):
            count, wall, cpu, opened = _run_sync(subject.op, budget, connections)
            if measured:
                _record(result, count * subject.units, wall, cpu, opened)
    finally:
        for subject in reversed(subjects):
            for closer in reversed(subject.closers if subject is not None else []):
                closer()
    _pair_with_baseline(results, baseline)
    return Measured(results, baseline)


def _run_sync(op: Callable[[], Any], seconds: float, connections: Counter) -> tuple[int, float, float, int]:
    perf, cpu_clock = time.perf_counter, time.process_time
    opened = connections()
    count = 0
    cpu0 = cpu_clock()
    start = perf()
    deadline = start + seconds
    while True:
        op()
        count += 1
        if perf() >= deadline:
            break
    wall = perf() - start
    return count, wall, cpu_clock() - cpu0, connections() - opened


async def measure_async(
    variants: list[tuple[str, str, Callable[[], Subject | Awaitable[Subject]]]],
    baseline: str,
    *,
    rounds: int,
    seconds: float,
    concurrency: int,
    connections: Counter,
) -> Measured:
    """As :func:`measure_sync`, with ``concurrency`` tasks running each variant's coroutine op."""
    results = [VariantResult(key, label) for key, label, _ in variants]
    subjects: list[Subject | None] = []
    try:
        for result, (_, _, make) in zip(results, variants, strict=True):
            try:
                made = make()
                subjects.append(_built(result, await made if inspect.isawaitable(made) else made, None))
            except Unavailable as exc:
                subjects.append(_built(result, None, exc))
        for subject in subjects:
            if subject is not None and subject.warm is not None:
                await subject.warm()
        for measured, budget, result, subject in _runs(results, subjects, rounds, seconds):
            count, wall, cpu, opened = await _run_async(subject.op, budget, concurrency, connections)
            if measured:
                _record(result, count * subject.units, wall, cpu, opened)
    finally:
        for subject in reversed(subjects):
            for closer in reversed(subject.closers if subject is not None else []):
                done = closer()
                if inspect.isawaitable(done):
                    await done
    _pair_with_baseline(results, baseline)
    return Measured(results, baseline)


async def _run_async(
    op: Callable[[], Awaitable[Any]], seconds: float, concurrency: int, connections: Counter
) -> tuple[int, float, float, int]:
    perf = time.perf_counter
    count = 0
    deadline = 0.0

    async def worker() -> None:
        nonlocal count
        while True:
            await op()
            count += 1
            if perf() >= deadline:
                return

    opened = connections()
    cpu0 = time.process_time()
    start = perf()
    deadline = start + seconds
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = perf() - start
    return count, wall, time.process_time() - cpu0, connections() - opened


def run_async(coroutine: Awaitable[Measured]) -> Measured:
    """Run one async group on a fresh event loop (asyncio's own, as most applications use)."""
    return asyncio.run(coroutine)  # type: ignore[arg-type]
