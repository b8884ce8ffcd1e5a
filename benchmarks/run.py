"""Running a plan: the server, the placement of each group, the groups, the memory runs."""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import environment, memory
from benchmarks.cases import DEFAULT_BASE, Env, base_transports, case
from benchmarks.measure import Measured, Metric, Subject, VariantResult, measure_async, measure_sync, run_async
from benchmarks.plan import Group, Mode, plan
from benchmarks.server import ServerProcess

__all__ = ["GroupResult", "Options", "Run", "execute", "load"]


@dataclass(frozen=True)
class Options:
    """How to run: the mode and what the command line changed."""

    mode: Mode = "full"
    rounds: int = 5
    seconds: float = 0.3
    placement: environment.Placement = "auto"
    base: str = DEFAULT_BASE
    only: str | None = None
    cases: str | None = None
    judge_on: Metric = "cpu"
    memory_requests: int = 10_000
    memory_rounds: int = 10
    note: str = ""

    @classmethod
    def for_mode(cls, mode: Mode, **changes: Any) -> Options:
        defaults: dict[Mode, dict[str, Any]] = {
            "smoke": {"rounds": 2, "seconds": 0.004, "memory_requests": 40, "memory_rounds": 2},
            "quick": {"rounds": 5, "seconds": 0.065, "memory_requests": 2_000, "memory_rounds": 5},
            "full": {"rounds": 7, "seconds": 0.15, "memory_requests": 10_000, "memory_rounds": 10},
        }
        settings = {**defaults[mode], **{k: v for k, v in changes.items() if v is not None}}
        return cls(mode=mode, **settings)


@dataclass
class GroupResult:
    group: Group
    placement: str
    measured: Measured
    elapsed: float

    def get(self, key: str) -> VariantResult | None:
        return next((r for r in self.measured.results if r.key == key), None)

    def to_json(self) -> dict[str, Any]:
        group = self.group
        return {
            "key": group.key,
            "title": group.title,
            "section": group.section,
            "flavor": group.flavor,
            "asynchronous": group.asynchronous,
            "concurrency": group.concurrency,
            "unit": group.unit,
            "network": group.network,
            "seconds_factor": group.seconds,
            "placement": self.placement,
            "baseline": self.measured.baseline,
            "elapsed_s": round(self.elapsed, 2),
            "variants": [r.to_json() for r in self.measured.results],
        }


@dataclass
class Run:
    options: Options
    started: str
    machine: environment.Machine
    server_loop: str = ""
    load_before: tuple[float, float, float] | None = None
    load_after: tuple[float, float, float] | None = None
    groups: list[GroupResult] = field(default_factory=list)
    memory: list[memory.MemoryResult] = field(default_factory=list)
    elapsed: float = 0.0

    def group(self, key: str) -> GroupResult | None:
        """The result of the group called ``key`` (None when it was not run)."""
        return next((result for result in self.groups if result.group.key == key), None)

    def find(self, group: str, key: str) -> VariantResult | None:
        """The measured variant ``key`` of group ``group`` (None when not run or not available)."""
        found = self.variant(group, key)
        return found if found is not None and found.unavailable is None else None

    def variant(self, group: str, key: str) -> VariantResult | None:
        """As :meth:`find`, but an unavailable variant is returned too (to say why)."""
        result = self.group(group)
        return result.get(key) if result is not None else None

    def to_json(self) -> dict[str, Any]:
        options = self.options
        return {
            "started": self.started,
            "mode": options.mode,
            "rounds": options.rounds,
            "seconds_per_variant_round": options.seconds,
            "placement_policy": options.placement,
            "judged_on": options.judge_on,
            "base_transport": options.base,
            "base_transports_registered": sorted(base_transports()),
            "note": options.note,
            "machine": self.machine.__dict__,
            "server_loop": self.server_loop,
            "load_average_before": self.load_before,
            "load_average_after": self.load_after,
            "elapsed_s": round(self.elapsed, 1),
            "groups": [g.to_json() for g in self.groups],
            "memory": [m.to_json() for m in self.memory],
        }


def load(path: Path) -> Run:
    """A run saved as JSON by :func:`benchmarks.report.write_json`, to print or write docs from again."""
    data = json.loads(path.read_text())
    options = Options(
        mode=data["mode"],
        rounds=data["rounds"],
        seconds=data["seconds_per_variant_round"],
        placement=data["placement_policy"],
        base=data["base_transport"],
        judge_on=data["judged_on"],
        note=data["note"],
    )
    run = Run(
        options,
        started=data["started"],
        machine=environment.Machine(**data["machine"]),
        server_loop=data["server_loop"],
        load_before=data["load_average_before"],
        load_after=data["load_average_after"],
        elapsed=data["elapsed_s"],
    )
    for saved in data["groups"]:
        variants = [VariantResult.from_json(v) for v in saved["variants"]]
        group = Group(
            key=saved["key"],
            title=saved["title"],
            section=saved["section"],
            flavor=saved["flavor"],
            asynchronous=saved["asynchronous"],
            cases=tuple(v.key for v in variants),
            baseline=saved["baseline"],
            unit=saved["unit"],
            concurrency=saved["concurrency"],
            network=saved["network"],
            seconds=saved.get("seconds_factor", 1.0 if saved["network"] else 0.6),
        )
        run.groups.append(
            GroupResult(group, saved["placement"], Measured(variants, saved["baseline"]), saved["elapsed_s"])
        )
    run.memory = [memory.MemoryResult.from_json(m) for m in data["memory"]]
    return run


def execute(options: Options, *, progress: Callable[[str], None] | None = None) -> Run:
    """Run ``options.mode``'s plan and return everything measured."""
    say = progress or (lambda _: None)
    environment.configure_telemetry()
    environment.configure_logging()
    groups = plan(options.mode)
    if options.only:
        pattern = re.compile(options.only)
        groups = [g for g in groups if pattern.search(g.key)]
    started = time.perf_counter()
    run = Run(
        options,
        started=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        machine=environment.describe_machine(),
        load_before=environment.load_average(),
    )
    with ServerProcess(cpu=environment.server_cpu(options.placement)) as server:
        run.server_loop = server.loop
        for index, group in enumerate(groups, 1):
            policy = group.placement if group.placement and options.placement == "auto" else options.placement
            placement = environment.pin_client(environment.resolve(policy, concurrent=group.concurrent))
            say(f"[{index}/{len(groups)}] {group.key} ({placement})")
            t0 = time.perf_counter()
            measured = _measure(group, options, server)
            run.groups.append(GroupResult(group, placement, measured, round(time.perf_counter() - t0, 2)))
        if not options.only or re.search(options.only, "memory"):
            placement = environment.pin_client(environment.resolve(options.placement, concurrent=False))
            say(f"memory: {options.memory_requests} requests per variant ({placement})")
            run.memory = memory.measure_all(server.url, options.memory_requests, options.memory_rounds, placement)
    run.load_after = environment.load_average()
    # Rounded here as the JSON keeps it, so a saved run prints the same "(N s)" as the live one did
    # (rounding 13.46 to 13.5 on saving, then to 14 on printing, made the two differ).
    run.elapsed = round(time.perf_counter() - started, 1)
    environment.shutdown_telemetry()
    return run


def _measure(group: Group, options: Options, server: ServerProcess) -> Measured:
    env = Env(
        flavor=group.flavor,
        asynchronous=group.asynchronous,
        kind=group.kind,  # type: ignore[arg-type]
        url=server.url if group.network else None,
        base=options.base,
        events=group.events,
        iterate=group.iterate,
        calls=100 if options.mode == "smoke" else 1000,
    )
    variants: list[tuple[str, str, Callable[[], Subject]]] = []
    keep = re.compile(options.cases) if options.cases else None
    for key in group.cases:
        if keep is not None and key != group.baseline and not keep.search(key):
            continue
        chosen = case(key)
        if chosen.applies(env):
            variants.append((key, chosen.title(env), functools.partial(chosen.make, env)))
    seconds = options.seconds * group.seconds
    counter = (lambda: server.connections) if group.network else (lambda: 0)
    if group.asynchronous:
        return run_async(
            measure_async(
                variants,  # type: ignore[arg-type]
                group.baseline,
                rounds=options.rounds,
                seconds=seconds,
                concurrency=group.concurrency,
                connections=counter,
            )
        )
    return measure_sync(variants, group.baseline, rounds=options.rounds, seconds=seconds, connections=counter)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
