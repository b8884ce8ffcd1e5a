"""The measuring process: CPU placement, telemetry set-up, and a description of the machine.

Placement. On these VMs a wake-up across CPUs costs tens to hundreds of microseconds per round
trip (see docs/performance.md), far more than any client's own work, so where the client runs
relative to the server changes what a figure means:

- ``shared``: client and server on the same CPU. A sequential round trip then costs the client's
  CPU work plus the server's (a few µs); this is the figure that shows what a layer costs.
- ``split``: the server on one CPU, the client on the other. Concurrent load runs in parallel, as
  against a remote server, but an idle client pays the cross-CPU wake-up on every answer.

``auto`` (the default) uses ``shared`` for sequential groups and ``split`` for concurrent ones.
Every group's table states the placement it ran with.
"""

from __future__ import annotations

import contextlib
import os
import platform
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

__all__ = ["Placement", "configure_logging", "configure_telemetry", "describe_machine", "pin_client"]

Placement = Literal["auto", "split", "shared", "none"]

#: The CPU the server runs on; the client runs here too (shared) or on the next one (split).
SERVER_CPU = 0


def available_cpus() -> list[int]:
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


_ALL_CPUS = available_cpus()


def server_cpu(placement: Placement) -> int | None:
    """The CPU the server is pinned to, or ``None`` when pinning is off or impossible."""
    if placement == "none" or not hasattr(os, "sched_setaffinity"):
        return None
    return _ALL_CPUS[0]


def pin_client(placement: Literal["split", "shared", "none"]) -> str:
    """Move every thread of this process to the client's CPU(s); return the placement in words."""
    if placement == "none" or not hasattr(os, "sched_setaffinity"):
        return "unpinned"
    server = _ALL_CPUS[0]
    if placement == "split" and len(_ALL_CPUS) > 1:
        cpus = {_ALL_CPUS[1]}
        words = f"split: server on CPU {server}, client on CPU {_ALL_CPUS[1]}"
    else:
        cpus = {server}
        words = f"shared: server and client on CPU {server}"
    # sched_setaffinity(0) moves only the calling thread; move the others (exporter threads) too.
    for task in _threads():
        with contextlib.suppress(OSError):
            os.sched_setaffinity(task, cpus)
    return words


def _threads() -> list[int]:
    try:
        return [int(path.name) for path in Path("/proc/self/task").iterdir()]
    except OSError:
        return [0]


def resolve(placement: Placement, *, concurrent: bool) -> Literal["split", "shared", "none"]:
    if placement == "auto":
        return "split" if concurrent and len(_ALL_CPUS) > 1 else "shared"
    return placement


# -- telemetry: what "the OTel SDK with a no-op exporter" and "a null processor chain" mean -----

_telemetry: dict[str, Any] = {}


def configure_telemetry() -> None:
    """Install the OpenTelemetry SDK globally, exporting spans to nowhere, metrics to an unread reader.

    Spans go through a ``BatchSpanProcessor`` (what applications use) to an exporter that drops
    them, so the cost measured is that of making and ending spans, not of shipping them.
    Both wireline's ``Tracing`` and the contrib instrumentation use these global providers.
    """
    if _telemetry:
        return
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    class DropSpans(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(DropSpans()))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    _telemetry.update(tracer_provider=tracer_provider, meter_provider=meter_provider)


def shutdown_telemetry() -> None:
    provider = _telemetry.get("tracer_provider")
    if provider is not None:
        provider.shutdown()


def configure_logging() -> None:
    """structlog with a null processor chain: events are built, then dropped (no rendering, no I/O)."""
    import structlog

    structlog.configure(
        processors=[],
        logger_factory=structlog.ReturnLoggerFactory(),
        cache_logger_on_first_use=True,
    )


# -- the machine ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Machine:
    cpu: str
    cpus: int
    python: str
    platform: str
    packages: dict[str, str]

    def lines(self) -> list[str]:
        versions = ", ".join(f"{name} {version}" for name, version in self.packages.items())
        return [
            f"machine: {self.cpu}, {self.cpus} CPUs, {self.platform}",
            f"python {self.python}; {versions}",
        ]


_PACKAGES = [
    "wireline",
    "httpx",
    "httpcore",
    "httpx2",
    "httpcore2",
    "aiohttp",
    "uvloop",
    "opentelemetry-sdk",
    "opentelemetry-instrumentation-httpx",
    "httpx-retries",
    "structlog",
]


def describe_machine() -> Machine:
    packages = {}
    for name in _PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            packages[name] = metadata.version(name)
    return Machine(
        cpu=_cpu_model(),
        cpus=len(_ALL_CPUS),
        python=platform.python_version(),
        platform=f"{platform.system()} {platform.release()}",
        packages=packages,
    )


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def load_average() -> tuple[float, float, float] | None:
    with contextlib.suppress(OSError, AttributeError):
        return os.getloadavg()
    return None


def rss_kib() -> int:
    """This process's resident set size now, in KiB (Linux; 0 where unknown)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def peak_rss_kib() -> int:
    """This process's peak resident set size so far, in KiB (Linux's VmHWM; 0 where unknown).

    Not ``getrusage``'s ``ru_maxrss``: on Linux that carries the parent's high-water mark across
    ``fork`` + ``exec``, so a small child would report its parent's peak.
    """
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0
