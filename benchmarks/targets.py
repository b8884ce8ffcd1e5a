"""The performance targets, judged on one run's figures: PASS, MISS, or NOT MEASURED (and why).

Targets are printed, never asserted in tests: a shared or slow machine must not fail a build.
Each verdict names the figure it was judged on; context figures follow on indented lines.
Issue-specific targets (a new base transport's, say) are added to :func:`targets` as one more
function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from benchmarks.report import signed, us

if TYPE_CHECKING:
    from benchmarks.measure import VariantResult
    from benchmarks.run import Run

__all__ = ["Verdict", "judge"]


@dataclass
class Verdict:
    target: str
    status: str  # PASS, MISS, NOT MEASURED
    figure: str = ""
    context: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        head = f"{self.status:<12} {self.target}"
        if self.figure:
            head += f": {self.figure}"
        return [head, *(f"{'':<12}   {line}" for line in self.context)]

    def to_json(self) -> dict[str, object]:
        return {"target": self.target, "status": self.status, "figure": self.figure, "context": self.context}


def _verdict(target: str, ok: bool, figure: str, context: list[str] | None = None) -> Verdict:
    return Verdict(target, "PASS" if ok else "MISS", figure, context or [])


def _not_measured(target: str, why: str) -> Verdict:
    return Verdict(target, "NOT MEASURED", f"({why})")


def _why_missing(run: Run, group: str, *keys: str) -> str:
    for key in keys:
        variant = run.variant(group, key)
        if variant is None:
            return f"{group} was not run in this mode" if run.variant(group, "bare") is None else f"{key} not run"
        if variant.unavailable is not None:
            return f"{variant.label}: {variant.unavailable}"
    return "not measured"


def _delta(variant: VariantResult) -> str:
    lo, hi = min(variant.delta_us), max(variant.delta_us)
    text = f"{signed(variant.delta_median)} µs (rounds {signed(lo)} … {signed(hi)})"
    if variant.cpu_delta_us:
        text += f", client CPU {signed(variant.cpu_delta_median)} µs"
    return text


def _per_layer(run: Run, group: str, form: str, layers: int = 20) -> VariantResult | None:
    return run.find(group, f"calls-{form}-{layers}") or run.find(group, f"{form}-{layers}")


def pass_through(run: Run) -> Iterator[Verdict]:
    """A pass-through layer costs ≤ 0.1 µs (sync, in memory), hook and flow forms; round trip shown."""
    for form, words in (("hook", "hook form"), ("flow", "flow form")):
        target = f"a pass-through layer ≤ 0.1 µs (sync, in memory, {words})"
        variant = _per_layer(run, "layers/sync/httpx", form)
        if variant is None:
            yield _not_measured(target, _why_missing(run, "layers/sync/httpx", f"calls-{form}-20"))
            continue
        cost = variant.delta_median / 20
        context = [f"20 layers vs none, sync httpx: {_delta(variant)} per call"]
        for group in ("layers/sync/httpx2", "layers/async/httpx", "layers/async/httpx2"):
            other = _per_layer(run, group, form)
            if other is not None:
                context.append(f"{group}: {us(other.delta_median / 20)} µs per layer")
        trip = run.find("requests/sync/httpx", f"{form}-20")
        if trip is not None:
            context.append(
                f"round trip (requests/sync/httpx, 20 layers vs bare): {us(trip.delta_median / 20)} µs per layer "
                f"(rounds {us(min(trip.delta_us) / 20)} … {us(max(trip.delta_us) / 20)})"
            )
        yield _verdict(target, cost <= 0.1, f"{us(cost)} µs per layer", context)


def full_stack_sequential(run: Run) -> Iterator[Verdict]:
    for flavor in ("httpx", "httpx2"):
        group = f"requests/sync/{flavor}"
        target = f"full default stack ≤ 1.10× bare {flavor} per request (sync, sequential, keep-alive)"
        full = run.find(group, "full")
        if full is None:
            yield _not_measured(target, _why_missing(run, group, "full"))
            continue
        context = [f"cost: {_delta(full)} per request"]
        stack0 = run.find(group, "stack-0")
        if stack0 is not None:
            context.append(f"of which the stack with no layers: {_delta(stack0)}")
        yield _verdict(target, full.ratio_median <= 1.10, f"{full.ratio_median:.3f}× bare", context)


def full_stack_throughput(run: Run) -> Iterator[Verdict]:
    for flavor in ("httpx", "httpx2"):
        group = f"requests/async/{flavor}/c64"
        target = f"full default stack ≥ 0.90× bare {flavor}'s throughput at concurrency 64"
        full = run.find(group, "full")
        if full is None:
            yield _not_measured(target, _why_missing(run, group, "full"))
            continue
        throughput = 1 / full.ratio_median
        context = [f"full stack {1e6 / full.median:,.0f} req/s"]
        bare = run.find(group, "bare")
        if bare is not None:
            context[0] += f", bare {1e6 / bare.median:,.0f} req/s"
        same_pool = run.find(group, "bare-wl-limits")
        stack0 = run.find(group, "stack-0")
        if same_pool is not None and stack0 is not None:
            context.append(
                f"with the same pool limits as the stack (1000/100): bare {1e6 / same_pool.median:,.0f} req/s, "
                f"stack with no layers {1e6 / stack0.median:,.0f} req/s, full stack vs that: "
                f"{stack0.median / full.median:.2f}× throughput"
            )
        yield _verdict(target, throughput >= 0.90, f"{throughput:.2f}× bare throughput", context)


def tracing_vs_contrib(run: Run) -> Iterator[Verdict]:
    target = "Tracing ≤ ⅓ of opentelemetry-instrumentation-httpx's cost per request"
    group = "requests/sync/httpx"
    tracing, contrib = run.find(group, "tracing"), run.find(group, "otel-contrib")
    if tracing is None or contrib is None:
        yield _not_measured(target, _why_missing(run, group, "tracing", "otel-contrib"))
        return
    share = tracing.delta_median / contrib.delta_median if contrib.delta_median > 0 else float("inf")
    context = [f"sync httpx round trip: Tracing {_delta(tracing)}, contrib {_delta(contrib)}"]
    for other in ("requests/async/httpx/c1", "memory-requests/sync/httpx", "memory-requests/async/httpx"):
        t, c = run.find(other, "tracing"), run.find(other, "otel-contrib")
        if t is not None and c is not None:
            context.append(f"{other}: Tracing {signed(t.delta_median)} µs, contrib {signed(c.delta_median)} µs")
    yield _verdict(target, share <= 1 / 3, f"{share:.2f} of the contrib's cost", context)


def chunk_cost(run: Run) -> Iterator[Verdict]:
    for mode in ("sync", "async"):
        group = f"chunks/{mode}/httpx"
        target = f"≤ 1 µs per chunk per stream-observing layer ({mode}, in memory)"
        one, five = run.find(group, "observe-1"), run.find(group, "observe-5")
        if one is None:
            yield _not_measured(target, _why_missing(run, group, "observe-1"))
            continue
        worst = one.delta_median
        context = [f"1 observing layer: {_delta(one)} per chunk (includes wrapping the body)"]
        if five is not None:
            worst = max(worst, five.delta_median / 5)
            context.append(f"5 observing layers: {us(five.delta_median / 5)} µs per chunk per layer")
        full = run.find(group, "full")
        if full is not None and full.info.get("stream_observers", 0) > 0:
            observers = full.info["stream_observers"]
            per = full.delta_median / observers
            worst = max(worst, per)
            context.append(f"full default stack ({observers} observing layers): {us(per)} µs per chunk per layer")
        stream = run.find(f"stream/{mode}/httpx", "full")
        if stream is not None and stream.info.get("stream_observers", 0) > 0:
            context.append(
                f"round trip (SSE, iter_lines): full stack {_delta(stream)} per event, "
                f"{stream.info['stream_observers']} observing layers"
            )
        yield _verdict(target, worst <= 1.0, f"worst {us(worst)} µs per chunk per layer", context)


def builtin_costs(run: Run) -> Iterator[Verdict]:
    group = "requests/sync/httpx"
    for key, name, limit, words in (
        ("logging", "Logging", 10.0, "with a null processor chain"),
        ("retry", "Retry", 5.0, "on the success path"),
        ("proxyrouter", "ProxyRouter", 5.0, "on the success path"),
    ):
        target = f"{name} ≤ {limit:g} µs per request {words} (vs bare httpx, sync)"
        variant = run.find(group, key)
        if variant is None:
            yield _not_measured(target, _why_missing(run, group, key))
            continue
        context = []
        in_memory = run.find("memory-requests/sync/httpx", key)
        if in_memory is not None:
            context.append(f"in memory (no I/O): {_delta(in_memory)}")
        if key == "retry":
            peer = run.find(group, "httpx-retries")
            if peer is not None:
                context.append(f"httpx-retries RetryTransport: {_delta(peer)}")
        yield _verdict(target, variant.delta_median <= limit, f"{signed(variant.delta_median)} µs", context)


def memory_growth(run: Run) -> Iterator[Verdict]:
    target = "no memory growth from round to round, full stack (≤ 256 KiB from first to last round)"
    measured = [m for m in run.memory if m.unavailable is None and m.key == "full"]
    if not measured:
        why = next((m.unavailable for m in run.memory if m.key == "full"), None) or "memory was not run"
        yield _not_measured(target, why)
        return
    worst = max(measured, key=lambda m: m.growth_kib)
    context = [f"{m.label}: {m.growth_kib:+,d} KiB, peak {m.peak_kib / 1024:.1f} MiB" for m in run.memory]
    yield _verdict(target, worst.growth_kib <= 256, f"worst {worst.growth_kib:+,d} KiB", context)


TARGETS: list[Callable[[Run], Iterator[Verdict]]] = [
    pass_through,
    full_stack_sequential,
    full_stack_throughput,
    tracing_vs_contrib,
    chunk_cost,
    builtin_costs,
    memory_growth,
]


def judge(run: Run) -> list[Verdict]:
    return [verdict for target in TARGETS for verdict in target(run)]
