"""Memory: peak RSS over many requests, and RSS round by round, in a fresh process per variant.

Each variant runs in a process of its own (``python -m benchmarks.memory``), so one variant's
allocations never count against another's. The process builds the variant exactly as the timed
groups do (same catalogue, same telemetry set-up), sends a few requests to warm up, then
``requests`` more in ``rounds`` rounds, recording its resident set size after each round (after a
``gc.collect()``). A layer that kept something per request would show as RSS growing round after
round.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import json
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

from benchmarks import environment
from benchmarks.cases import Env, case
from benchmarks.measure import Unavailable

__all__ = ["VARIANTS", "MemoryResult", "measure_all"]

#: (case key, flavour, asynchronous): bare against the full stack, in the mode each flavour's SDKs use most.
VARIANTS: list[tuple[str, str, bool]] = [
    ("bare", "httpx", False),
    ("full", "httpx", False),
    ("bare", "httpx2", True),
    ("full", "httpx2", True),
]

_WARM_UP = 200


@dataclass
class MemoryResult:
    key: str
    label: str
    flavor: str
    asynchronous: bool
    requests: int
    unavailable: str | None = None
    placement: str = ""
    rss_kib: list[int] = field(default_factory=list)  # after warm-up, then after each round
    peak_kib: int = 0

    @property
    def growth_kib(self) -> int:
        """RSS after the last round minus RSS after the first (the first absorbs one-off allocations)."""
        return self.rss_kib[-1] - self.rss_kib[1] if len(self.rss_kib) > 2 else 0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MemoryResult:
        return cls(
            key=data["key"],
            label=data["label"],
            flavor=data["flavor"],
            asynchronous=data["asynchronous"],
            requests=data["requests"],
            unavailable=data["unavailable"],
            placement=data["placement"],
            rss_kib=data["rss_kib_per_round"],
            peak_kib=data["peak_rss_kib"],
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "flavor": self.flavor,
            "asynchronous": self.asynchronous,
            "requests": self.requests,
            "placement": self.placement,
            "unavailable": self.unavailable,
            "rss_kib_per_round": self.rss_kib,
            "peak_rss_kib": self.peak_kib,
            "growth_kib": self.growth_kib,
        }


def measure_all(url: str, requests: int, rounds: int, placement: str) -> list[MemoryResult]:
    """Each of :data:`VARIANTS` in a fresh process (which inherits this process's CPU placement)."""
    results = []
    for key, flavor, asynchronous in VARIANTS:
        spec = {"key": key, "flavor": flavor, "asynchronous": asynchronous, "url": url}
        spec |= {"requests": requests, "rounds": rounds}
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.memory", json.dumps(spec)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            msg = f"the memory run of {key} ({flavor}) failed:\n{done.stderr}"
            raise RuntimeError(msg)
        data = json.loads(done.stdout.strip().splitlines()[-1])
        result = MemoryResult(
            key=key,
            label=data["label"],
            flavor=flavor,
            asynchronous=asynchronous,
            requests=requests,
            unavailable=data.get("unavailable"),
            rss_kib=data.get("rss_kib", []),
            peak_kib=data.get("peak_kib", 0),
            placement=placement,
        )
        results.append(result)
    return results


def _child(spec: dict[str, Any]) -> dict[str, Any]:
    environment.configure_telemetry()
    environment.configure_logging()
    env = Env(flavor=spec["flavor"], asynchronous=spec["asynchronous"], url=spec["url"])
    chosen = case(spec["key"])
    label = f"{chosen.title(env)} ({'async' if env.asynchronous else 'sync'} {env.flavor})"
    rounds, per_round = spec["rounds"], max(1, spec["requests"] // spec["rounds"])
    try:
        if env.asynchronous:
            rss = asyncio.run(_async_rounds(chosen.make, env, rounds, per_round))
        else:
            rss = _sync_rounds(chosen.make, env, rounds, per_round)
    except Unavailable as exc:
        return {"label": label, "unavailable": str(exc)}
    environment.shutdown_telemetry()
    return {"label": label, "rss_kib": rss, "peak_kib": environment.peak_rss_kib()}


def _sync_rounds(make: Any, env: Env, rounds: int, per_round: int) -> list[int]:
    subject = make(env)
    try:
        for _ in range(_WARM_UP):
            subject.op()
        rss = [_settled_rss()]
        for _ in range(rounds):
            for _ in range(per_round):
                subject.op()
            rss.append(_settled_rss())
    finally:
        for closer in reversed(subject.closers):
            closer()
    return rss


async def _async_rounds(make: Any, env: Env, rounds: int, per_round: int) -> list[int]:
    subject = make(env)
    try:
        for _ in range(_WARM_UP):
            await subject.op()
        rss = [_settled_rss()]
        for _ in range(rounds):
            for _ in range(per_round):
                await subject.op()
            rss.append(_settled_rss())
    finally:
        for closer in reversed(subject.closers):
            done = closer()
            if inspect.isawaitable(done):
                await done
    return rss


def _settled_rss() -> int:
    gc.collect()
    return environment.rss_kib()


if __name__ == "__main__":
    print(json.dumps(_child(json.loads(sys.argv[1]))))
