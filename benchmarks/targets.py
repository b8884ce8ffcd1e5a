"""The performance targets, judged on one run's figures: PASS, MISS, or NOT MEASURED (and why).

Targets are printed, never asserted in tests: a shared or slow machine must not fail a build.

Verdicts are judged on the client's **CPU time** by default (``--judge-on cpu``): on a machine
shared with other jobs, wall time also counts the moments another process held the CPU, while the
client's CPU time counts only its own work. On a quiet machine the two agree (wall time adds the
server's few µs per request). Both are printed; ``--judge-on wall`` judges on wall time.

Each verdict names the figure it was judged on; context follows on indented lines. Targets of
other issues (a new base transport's, say) are added to :data:`TARGETS` as one more function.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from benchmarks.cases import DEFAULT_BASE
from benchmarks.report import signed, us

if TYPE_CHECKING:
    from benchmarks.measure import Metric, VariantResult
    from benchmarks.run import Run

__all__ = ["SUMMARY_COLUMNS", "TARGETS", "Verdict", "judge", "summary_rows"]


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


@dataclass(frozen=True)
class Judge:
    """Reads figures of one run in the judged metric, and words them with the other beside."""

    run: Run
    metric: Metric

    @property
    def other(self) -> Metric:
        return "wall" if self.metric == "cpu" else "cpu"

    def find(self, group: str, key: str) -> VariantResult | None:
        return self.run.find(group, key)

    def delta(self, variant: VariantResult, per: float = 1) -> float:
        return statistics.median(variant.deltas(self.metric)) / per

    def over_bare_stack(self, group: str, variant: VariantResult) -> float | None:
        """``variant``'s cost over the stack with no layers of ``group`` (None when that was not measured).

        A layer's own cost: a stack's client can be cheaper than a bare one (its responses carry
        their header encoding), and that saving must not pass for the layer being cheap.
        """
        stack = self.find(group, "stack-0")
        return None if stack is None else self.delta(variant) - self.delta(stack)

    def ratio(self, variant: VariantResult) -> float:
        return statistics.median(variant.ratios(self.metric))

    def words(self, variant: VariantResult, per: float = 1, unit: str = "") -> str:
        """``+3.1 µs (rounds +2.9 … +3.4) [CPU]; wall +3.5 µs``, per ``per`` (layers, say)."""
        rounds = variant.deltas(self.metric)
        spread = f"rounds {signed(min(rounds) / per)} … {signed(max(rounds) / per)}"
        text = f"{signed(self.delta(variant, per))} µs{unit} ({spread})"
        other = variant.deltas(self.other)
        if other:
            text += f"; {self.other} {signed(statistics.median(other) / per)} µs"
        return text

    def ratio_words(self, variant: VariantResult) -> str:
        text = f"{self.ratio(variant):.3f}×"
        other = variant.ratios(self.other)
        if other:
            text += f" ({self.other}: {statistics.median(other):.3f}×)"
        return text

    def why_missing(self, group: str, *keys: str) -> str:
        for key in keys:
            variant = self.run.variant(group, key)
            if variant is None:
                ran = self.run.group(group) is not None
                return f"{key} not in {group}" if ran else f"{group} was not run in this mode"
            if variant.unavailable is not None:
                return f"{variant.label}: {variant.unavailable}"
        return "not measured"


def _verdict(judge: Judge, target: str, ok: bool, figure: str, context: list[str] | None = None) -> Verdict:
    return Verdict(target, "PASS" if ok else "MISS", f"{figure} [{judge.metric}]", context or [])


def _not_measured(target: str, why: str) -> Verdict:
    return Verdict(target, "NOT MEASURED", f"({why})")


def pass_through(judge: Judge) -> Iterator[Verdict]:
    """A pass-through layer costs ≤ 0.1 µs (sync, in memory), hook and flow forms; round trip shown."""
    for form, words in (("hook", "hook form"), ("flow", "flow form")):
        target = f"a pass-through layer ≤ 0.1 µs (sync, in memory, {words})"
        variant = judge.find("layers/sync/httpx", f"calls-{form}-20")
        if variant is None:
            yield _not_measured(target, judge.why_missing("layers/sync/httpx", f"calls-{form}-20"))
            continue
        cost = judge.delta(variant, 20)
        context = [f"20 layers vs none, sync httpx: {judge.words(variant, 20)} per layer per call"]
        for group in ("layers/sync/httpx2", "layers/async/httpx", "layers/async/httpx2"):
            other = judge.find(group, f"calls-{form}-20")
            if other is not None:
                context.append(f"{group}: {us(judge.delta(other, 20))} µs per layer")
        trip = judge.find("requests/sync/httpx", f"{form}-20")
        if trip is not None:
            context.append(f"round trip (requests/sync/httpx, 20 layers vs bare): {judge.words(trip, 20)} per layer")
        yield _verdict(judge, target, cost <= 0.1, f"{us(cost)} µs per layer", context)


def full_stack_sequential(judge: Judge) -> Iterator[Verdict]:
    for flavor in ("httpx", "httpx2"):
        group = f"requests/sync/{flavor}"
        target = f"full default stack ≤ 1.10× bare {flavor} per request (sync, sequential, keep-alive)"
        full = judge.find(group, "full")
        if full is None:
            yield _not_measured(target, judge.why_missing(group, "full"))
            continue
        context = [f"cost: {judge.words(full)} per request"]
        stack0 = judge.find(group, "stack-0")
        if stack0 is not None:
            context.append(f"of which the stack with no layers: {judge.words(stack0)}")
        yield _verdict(judge, target, judge.ratio(full) <= 1.10, f"{judge.ratio_words(full)} bare", context)


def _wall_rates(judge: Judge, group: str, variant: VariantResult, flavor: str) -> str:
    """``wall: LABEL N req/s, bare FLAVOR M req/s``: the requests per second a reader compares."""
    text = f"wall: {variant.label} {1e6 / variant.median:,.0f} req/s"
    bare = judge.find(group, "bare")
    if bare is not None:
        text += f", bare {flavor} {1e6 / bare.median:,.0f} req/s"
    return text


def full_stack_throughput(judge: Judge) -> Iterator[Verdict]:
    for flavor in ("httpx", "httpx2"):
        group = f"requests/async/{flavor}/c64"
        target = f"full default stack ≥ 0.90× bare {flavor}'s throughput at concurrency 64"
        full = judge.find(group, "full")
        if full is None:
            yield _not_measured(target, judge.why_missing(group, "full"))
            continue
        throughput = 1 / judge.ratio(full)
        context = [_wall_rates(judge, group, full, flavor)]
        same_pool = judge.find(group, "bare-wl-limits")
        if same_pool is not None:
            share = statistics.median(same_pool.rounds(judge.metric)) / statistics.median(full.rounds(judge.metric))
            context.append(
                f"against bare {flavor} with the stack's pool limits (1000/100): {share:.2f}× its throughput "
                "(the layers' share; the rest is the pool's, see docs/performance.md)"
            )
        yield _verdict(judge, target, throughput >= 0.90, f"{throughput:.2f}× bare throughput", context)


def tracing_vs_contrib(judge: Judge) -> Iterator[Verdict]:
    target = "Tracing ≤ ⅓ of opentelemetry-instrumentation-httpx's cost per request"
    group = "requests/sync/httpx"
    tracing, contrib = judge.find(group, "tracing"), judge.find(group, "otel-contrib")
    if tracing is None or contrib is None:
        yield _not_measured(target, judge.why_missing(group, "tracing", "otel-contrib"))
        return
    contrib_cost = judge.delta(contrib)
    # Tracing's own cost is over the stack with no layers; the contrib instruments a bare client,
    # so its cost is over bare httpx.
    own = judge.over_bare_stack(group, tracing)
    if own is None:
        own = judge.delta(tracing)
    share = own / contrib_cost if contrib_cost > 0 else float("inf")
    context = [
        f"sync httpx round trip: Tracing {signed(own)} µs over the bare stack, contrib {judge.words(contrib)}",
        f"(Tracing over bare httpx: {judge.words(tracing)})",
    ]
    for other in ("requests/async/httpx/c1", "memory-requests/sync/httpx", "memory-requests/async/httpx"):
        t, c = judge.find(other, "tracing"), judge.find(other, "otel-contrib")
        if t is not None and c is not None:
            context.append(f"{other}: Tracing {signed(judge.delta(t))} µs, contrib {signed(judge.delta(c))} µs")
    yield _verdict(judge, target, share <= 1 / 3, f"{share:.2f} of the contrib's cost", context)


def chunk_cost(judge: Judge) -> Iterator[Verdict]:
    for mode in ("sync", "async"):
        group = f"chunks/{mode}/httpx"
        target = f"≤ 1 µs per chunk per stream-observing layer ({mode}, in memory)"
        one, five = judge.find(group, "observe-1"), judge.find(group, "observe-5")
        if one is None:
            yield _not_measured(target, judge.why_missing(group, "observe-1"))
            continue
        worst = judge.delta(one)
        context = [f"1 observing layer: {judge.words(one)} per chunk (includes wrapping the body once)"]
        if five is not None:
            worst = max(worst, judge.delta(five, 5))
            context.append(f"5 observing layers: {judge.words(five, 5)} per chunk per layer")
        full = judge.find(group, "full")
        observers = full.info.get("stream_observers", 0) if full is not None else 0
        if full is not None and observers > 0:
            worst = max(worst, judge.delta(full, observers))
            context.append(
                f"full default stack ({observers} observing layers): {judge.words(full, observers)} per chunk per layer"
            )
        stream = judge.find(f"stream/{mode}/httpx", "full")
        if stream is not None:
            context.append(f"round trip (SSE, iter_lines): full stack {judge.words(stream)} per event")
        yield _verdict(judge, target, worst <= 1.0, f"worst {us(worst)} µs per chunk per layer", context)


def builtin_costs(judge: Judge) -> Iterator[Verdict]:
    group = "requests/sync/httpx"
    for key, name, limit, words in (
        ("logging", "Logging", 10.0, "with a null processor chain"),
        ("retry", "Retry", 5.0, "on the success path"),
        ("proxyrouter", "ProxyRouter", 5.0, "on the success path"),
    ):
        target = f"{name} ≤ {limit:g} µs per request {words} (its own cost over the bare stack, sync httpx)"
        variant, stack = judge.find(group, key), judge.find(group, "stack-0")
        cost = judge.over_bare_stack(group, variant) if variant is not None else None
        if variant is None or stack is None or cost is None:
            yield _not_measured(target, judge.why_missing(group, key, "stack-0"))
            continue
        context = [f"round trip vs bare httpx: {judge.words(variant)}; the stack with no layers: {judge.words(stack)}"]
        in_memory = judge.find("memory-requests/sync/httpx", key)
        own = judge.over_bare_stack("memory-requests/sync/httpx", in_memory) if in_memory is not None else None
        if own is not None:
            context.append(f"in memory (no I/O), over the bare stack: {signed(own)} µs")
        if key == "retry":
            peer = judge.find(group, "httpx-retries")
            if peer is not None:
                context.append(f"httpx-retries RetryTransport: {judge.words(peer)}")
        yield _verdict(judge, target, cost <= limit, f"{signed(cost)} µs", context)


def _fastest_full_stack(judge: Judge, group: str) -> VariantResult | None:
    """The full default stack over the fastest base transport measured in ``group`` (not the default base)."""
    result = judge.run.group(group)
    if result is None:
        return None
    over_bases = [
        r
        for r in result.measured.results
        if r.key.startswith("full@") and r.key != f"full@{DEFAULT_BASE}" and r.unavailable is None
    ]
    return min(over_bases, key=lambda r: statistics.median(r.rounds(judge.metric)), default=None)


def _floor(judge: Judge, group: str, full: VariantResult) -> VariantResult | None:
    """The cheaper of the two ways with no layer over the base of ``full`` (a ``full@NAME`` result).

    ``client@NAME`` (the client straight over the transport) or ``stack-0@NAME`` (a stack with no
    layers, whose httpx client skips cookie extraction for responses without cookies): printed
    beside the fast-base targets, it is what the client API and that base cost before any layer.
    """
    name = full.key.partition("@")[2]
    found = [v for v in (judge.find(group, f"client@{name}"), judge.find(group, f"stack-0@{name}")) if v is not None]
    return min(found, key=lambda v: statistics.median(v.rounds(judge.metric)), default=None)


def _without_sdk(judge: Judge, group: str, full: VariantResult) -> VariantResult | None:
    """``full-no-sdk@NAME`` beside a ``full@NAME`` result: every layer's own work, no OpenTelemetry SDK.

    Printed beside the fast-base targets: the gap to ``full@NAME`` is what the SDK costs to start,
    end and record, which no layer of wireline's can take away.
    """
    return judge.find(group, f"full-no-sdk@{full.key.partition('@')[2]}")


def fast_base_throughput(judge: Judge) -> Iterator[Verdict]:
    """Issue 7: the full stack over the fastest base transport out-runs bare httpx and httpx2 clients."""
    for concurrency, limits in ((16, {"httpx": 4.0, "httpx2": 1.5}), (64, {"httpx": 5.0, "httpx2": 2.0})):
        for flavor, limit in limits.items():
            group = f"requests/async/{flavor}/c{concurrency}"
            target = (
                f"full default stack over the fastest base ≥ {limit:g}× bare {flavor}'s requests/s "
                f"at concurrency {concurrency}"
            )
            fastest = _fastest_full_stack(judge, group)
            if fastest is None:
                yield _not_measured(target, judge.why_missing(group, "full@aiohttp"))
                continue
            times = 1 / judge.ratio(fastest)
            context = [_wall_rates(judge, group, fastest, flavor)]
            floor = _floor(judge, group, fastest)
            if floor is not None:
                context.append(f"before any layer, {floor.label}: {1 / judge.ratio(floor):.2f}× bare {flavor}'s")
            no_sdk = _without_sdk(judge, group, fastest)
            if no_sdk is not None:
                context.append(
                    f"with OpenTelemetry's no-op providers for the SDK: {1 / judge.ratio(no_sdk):.2f}× bare {flavor}'s"
                )
            yield _verdict(judge, target, times >= limit, f"{times:.2f}× bare {flavor}'s requests/s", context)


def fast_base_vs_aiohttp(judge: Judge) -> Iterator[Verdict]:
    """Issue 7: the full stack over the fastest base costs ≤ 2.5× a bare aiohttp session per request."""
    for concurrency in (1, 16, 64):
        target = f"full default stack over the fastest base ≤ 2.5× bare aiohttp's cost per request (c={concurrency})"
        ratios: list[tuple[float, str]] = []
        missing = ""
        for flavor in ("httpx", "httpx2"):
            group = f"requests/async/{flavor}/c{concurrency}"
            fastest, aiohttp = _fastest_full_stack(judge, group), judge.find(group, "aiohttp")
            if fastest is None or aiohttp is None:
                missing = missing or judge.why_missing(group, "full@aiohttp", "aiohttp")
                continue
            full_cost = statistics.median(fastest.rounds(judge.metric))
            aiohttp_cost = statistics.median(aiohttp.rounds(judge.metric))
            ratio = full_cost / aiohttp_cost
            words = f"{flavor}: {fastest.label} {us(full_cost)} µs ({ratio:.2f}×), aiohttp {us(aiohttp_cost)} µs"
            floor = _floor(judge, group, fastest)
            if floor is not None:
                floor_cost = statistics.median(floor.rounds(judge.metric))
                words += f"; before any layer, {floor.label}: {us(floor_cost)} µs ({floor_cost / aiohttp_cost:.2f}×)"
            no_sdk = _without_sdk(judge, group, fastest)
            if no_sdk is not None:
                no_sdk_cost = statistics.median(no_sdk.rounds(judge.metric))
                no_sdk_ratio = no_sdk_cost / aiohttp_cost
                words += (
                    f"; with OpenTelemetry's no-op providers for the SDK: {us(no_sdk_cost)} µs ({no_sdk_ratio:.2f}×)"
                )
            ratios.append((ratio, words))
        if not ratios:
            yield _not_measured(target, missing)
            continue
        worst = max(ratio for ratio, _ in ratios)
        context = [words for _, words in ratios]
        yield _verdict(judge, target, worst <= 2.5, f"worst {worst:.2f}× aiohttp's", context)


def memory_growth(judge: Judge) -> Iterator[Verdict]:
    target = "no memory growth from round to round, full stack (≤ 256 KiB from first to last round)"
    measured = [m for m in judge.run.memory if m.unavailable is None and m.key == "full"]
    if not measured:
        why = next((m.unavailable for m in judge.run.memory if m.key == "full"), None) or "memory was not run"
        yield _not_measured(target, why)
        return
    worst = max(measured, key=lambda m: m.growth_kib)
    context = [f"{m.label}: {m.growth_kib:+,d} KiB, peak {m.peak_kib / 1024:.1f} MiB" for m in judge.run.memory]
    yield Verdict(target, "PASS" if worst.growth_kib <= 256 else "MISS", f"worst {worst.growth_kib:+,d} KiB", context)


TARGETS: list[Callable[[Judge], Iterator[Verdict]]] = [
    pass_through,
    full_stack_sequential,
    full_stack_throughput,
    tracing_vs_contrib,
    chunk_cost,
    builtin_costs,
    memory_growth,
    fast_base_throughput,
    fast_base_vs_aiohttp,
]


# -- the summary table: one line per question a reader asks --------------------------------------

#: (what, group, case, per, baseline words); ``per`` divides the difference (layers, observers).
_SUMMARY: list[tuple[str, str, str, int, str]] = [
    ("a pass-through layer, hook form (in memory)", "layers/sync/httpx", "calls-hook-20", 20, "no layers"),
    ("a pass-through layer, flow form (in memory)", "layers/sync/httpx", "calls-flow-20", 20, "no layers"),
    ("a stream-observing layer, per chunk (in memory)", "chunks/sync/httpx", "observe-5", 5, "bare httpx"),
    ("the stack itself, no layers", "requests/sync/httpx", "stack-0", 1, "bare httpx"),
    ("Logging", "requests/sync/httpx", "logging", 1, "bare httpx"),
    ("Retry", "requests/sync/httpx", "retry", 1, "bare httpx"),
    ("Tracing", "requests/sync/httpx", "tracing", 1, "bare httpx"),
    ("ProxyRouter", "requests/sync/httpx", "proxyrouter", 1, "bare httpx"),
    ("full default stack, httpx", "requests/sync/httpx", "full", 1, "bare httpx"),
    ("full default stack, httpx2", "requests/sync/httpx2", "full", 1, "bare httpx2"),
    ("opentelemetry-instrumentation-httpx", "requests/sync/httpx", "otel-contrib", 1, "bare httpx"),
    ("httpx-retries RetryTransport", "requests/sync/httpx", "httpx-retries", 1, "bare httpx"),
    ("full default stack, OpenAI SDK call", "sdk/sync/openai", "openai-full", 1, "the SDK's own client"),
    ("full default stack, per SSE event", "stream/sync/httpx", "full", 1, "bare httpx"),
    ("full default stack, async httpx, 64 in flight", "requests/async/httpx/c64", "full", 1, "bare httpx"),
    ("full default stack, async httpx2, 64 in flight", "requests/async/httpx2/c64", "full", 1, "bare httpx2"),
    ("… over aiohttp, async httpx, 64 in flight", "requests/async/httpx/c64", "full@aiohttp", 1, "bare httpx"),
    ("… over aiohttp, async httpx2, 64 in flight", "requests/async/httpx2/c64", "full@aiohttp", 1, "bare httpx2"),
    ("… over httpcore2, async httpx, 64 in flight", "requests/async/httpx/c64", "full@httpcore2", 1, "bare httpx"),
]

SUMMARY_COLUMNS = ["what (sync, sequential unless said)", "adds, µs", "× baseline", "baseline"]


def summary_rows(run: Run) -> list[list[str]]:
    """The headline figures of ``run``, in the judged metric (rows for what was not run are left out)."""
    judged = Judge(run, run.options.judge_on)
    rows = []
    for what, group, key, per, baseline in _SUMMARY:
        variant = judged.find(group, key)
        if variant is None:
            continue
        ratio = "" if per > 1 else f"{judged.ratio(variant):.2f}"
        rows.append([what, signed(judged.delta(variant, per)), ratio, baseline])
    return rows


def judge(run: Run) -> list[Verdict]:
    """Every target's verdict on ``run``, judged on the metric the run was told to use."""
    judged = Judge(run, run.options.judge_on)
    return [verdict for target in TARGETS for verdict in target(judged)]
