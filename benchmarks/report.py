"""Tables: each group as text (for the terminal) or Markdown (for docs/performance.md), and JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from benchmarks.measure import VariantResult
    from benchmarks.memory import MemoryResult
    from benchmarks.run import GroupResult, Run

__all__ = ["group_rows", "header_lines", "markdown_table", "memory_rows", "text_table", "write_json"]


def us(value: float) -> str:
    """Microseconds with as many decimals as the size deserves."""
    size = abs(value)
    if size < 1:
        return f"{value:.3f}"
    if size < 10:
        return f"{value:.2f}"
    if size < 10_000:
        return f"{value:.1f}"
    return f"{value:,.0f}"


def signed(value: float) -> str:
    return ("+" if value >= 0 else "") + us(value)


def group_columns(result: GroupResult) -> list[str]:
    unit = result.group.unit
    columns = ["variant", f"µs/{unit} median", "min–max", "× base (time)", "Δ µs", "client CPU µs", "CPU Δ µs"]
    if _shows_rate(result):
        columns.insert(3, f"{unit}s/s")
    if result.group.network:
        columns.append("new conns/round")
    return columns


def _row(result: GroupResult, variant: VariantResult) -> list[str]:
    group = result.group
    if variant.unavailable is not None:
        return [variant.label, variant.unavailable] + [""] * (len(group_columns(result)) - 2)
    is_base = variant.key == result.measured.baseline
    cells = [
        variant.label + (" (baseline)" if is_base else ""),
        us(variant.median),
        f"{us(min(variant.wall_us))}–{us(max(variant.wall_us))}",
        "1.00" if is_base else (f"{variant.ratio_median:.2f}" if variant.ratio else "n/a"),
        "—" if is_base else (signed(variant.delta_median) if variant.delta_us else "n/a"),
        us(variant.cpu_median),
        "—" if is_base else (signed(variant.cpu_delta_median) if variant.cpu_delta_us else "n/a"),
    ]
    if _shows_rate(result):
        cells.insert(3, f"{1e6 / variant.median:,.0f}")
    if group.network:
        per_round = sorted(c * u for c, u in zip(variant.connections, variant.units, strict=True))
        cells.append(f"{per_round[len(per_round) // 2]:,.0f}")
    return cells


def _shows_rate(result: GroupResult) -> bool:
    """Throughput is shown where it is the question: concurrent requests, and streamed events."""
    return result.group.concurrent or result.group.unit == "event"


def group_rows(result: GroupResult) -> list[list[str]]:
    return [_row(result, variant) for variant in result.measured.results]


def group_caption(result: GroupResult, rounds: int, seconds: float) -> str:
    group = result.group
    budget = seconds * group.seconds
    base = next((r.label for r in result.measured.results if r.key == result.measured.baseline), "?")
    return f"placement: {result.placement} · {rounds} rounds × {budget:.2f} s per variant · baseline: {base}"


def _spanning(row: list[str]) -> bool:
    """A row whose second cell (a reason: "not available...") spans the figure columns."""
    return len(row) > 2 and all(not cell for cell in row[2:]) and bool(row[1]) and not row[1][0].isdigit()


def text_table(columns: list[str], rows: list[list[str]]) -> str:
    sized = [columns, *(row for row in rows if not _spanning(row))]
    widths = [max(len(row[i]) for row in sized) for i in range(len(columns))]
    widths[0] = max([widths[0], *(len(row[0]) for row in rows)])  # rows may be empty: a run of a few groups
    lines = []
    for row in [columns, *rows]:
        if _spanning(row):
            lines.append(f"{row[0]:<{widths[0]}}  {row[1]}")
            continue
        cells = [f"{cell:<{widths[0]}}" if i == 0 else f"{cell:>{widths[i]}}" for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def markdown_table(columns: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|---" + "|---:" * (len(columns) - 1) + "|"]
    lines.extend("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows)
    return "\n".join(lines)


MEMORY_COLUMNS = ["variant", "peak RSS MiB", "RSS after warm-up, then per round (MiB)", "growth first→last round"]


def memory_rows(results: list[MemoryResult]) -> list[list[str]]:
    rows = []
    for result in results:
        if result.unavailable is not None:
            rows.append([result.label, result.unavailable, "", ""])
            continue
        rounds = " ".join(f"{kib / 1024:.1f}" for kib in result.rss_kib)
        rows.append([result.label, f"{result.peak_kib / 1024:.1f}", rounds, f"{result.growth_kib:+,d} KiB"])
    return rows


def header_lines(run: Run) -> list[str]:
    options = run.options
    lines = [f"wireline benchmarks, {options.mode} mode, {run.started}"]
    lines += run.machine.lines()
    lines.append(
        f"server: benchmarks/server.py on {run.server_loop}, its own process; "
        f"placement policy {options.placement!r} (each table states its placement)"
    )
    if run.load_before is not None:
        after = f"{run.load_after[0]:.2f}" if run.load_after else "?"
        lines.append(f"load average (1 min) before: {run.load_before[0]:.2f}, after: {after}")
    if options.base != "http":
        lines.append(f"stacks built over the base transport {options.base!r}")
    lines.append(f"targets judged on: {'client CPU time' if options.judge_on == 'cpu' else 'wall time'}")
    if options.note:
        lines.append(f"note: {options.note}")
    return lines


def write_json(run: Run, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = run.started.replace(":", "").replace("-", "").replace("+0000", "Z")
    path = directory / f"{stamp}-{run.options.mode}.json"
    text = json.dumps(run.to_json(), indent=1)
    path.write_text(text)
    (directory / f"latest-{run.options.mode}.json").write_text(text)
    return path
