"""The benchmark harness keeps working: ``python -m benchmarks --smoke`` runs every kind of group.

Nothing here looks at a figure's size: speed targets are the benchmarks' business (printed as
PASS / MISS by a real run), never a test's. What is checked is that every group and every case ran
(or says why it could not), that the JSON is complete, and that the docs generator works.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from benchmarks.measure import Subject, measure_sync
from benchmarks.plan import plan

ROOT = Path(__file__).parent.parent

#: Why a variant may not run in a smoke run: a built-in not written yet, or a case that does not apply.
ACCEPTED_REASONS = ("not available", "n/a")


def run_benchmarks(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m benchmarks ARGS``, with warnings (leaked sockets too) as errors in every process."""
    env = {**os.environ, "PYTHONWARNINGS": "error", "PYTHONDEVMODE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return done


@pytest.mark.slow
def test_smoke_run_covers_every_group_and_case(tmp_path: Path) -> None:
    """A smoke run (a few seconds) measures everything, prints the tables, writes JSON and docs."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "performance.md").write_text("# Performance\n\nhand-written method\n")
    env = {**os.environ, "PYTHONWARNINGS": "error", "PYTHONDEVMODE": "1"}  # leaks and warnings fail, in every process
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--smoke",
            "--out",
            str(tmp_path),
            "--write-docs",
            "--docs-dir",
            str(docs),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]

    data = json.loads((tmp_path / "latest-smoke.json").read_text())
    assert [group["key"] for group in data["groups"]] == [group.key for group in plan("smoke")]
    measured = 0
    for group in data["groups"]:
        assert group["placement"]
        for variant in group["variants"]:
            if "unavailable" in variant:
                assert variant["unavailable"].startswith(ACCEPTED_REASONS), (group["key"], variant)
                continue
            assert len(variant["rounds_us"]) == data["rounds"]
            assert all(value > 0 for value in variant["rounds_us"])
            assert len(variant["rounds_ratio"]) == data["rounds"]
            measured += 1
    # The peers, the raw clients and aiohttp must really have run, not just said "not available".
    ran = {v["key"] for g in data["groups"] for v in g["variants"] if "unavailable" not in v}
    assert {"raw", "raw-pipelined", "aiohttp", "bare", "otel-contrib", "httpx-retries", "hook-20", "flow-20"} <= ran
    assert {"calls-flow-20", "observe-5", "per-call-stack", "sdk-one-stack", "client-per-request"} <= ran
    assert {"client@aiohttp", "client@httpcore2", "stack-0@aiohttp", "full@aiohttp", "full@httpcore2"} <= ran
    assert {"full-no-sdk@aiohttp", "full-no-sdk@httpcore2"} <= ran
    assert measured > 60
    assert [m["key"] for m in data["memory"]] == ["bare", "full", "bare", "full"]
    assert all(m["rss_kib_per_round"] for m in data["memory"] if not m["unavailable"])

    out = done.stdout
    assert "placement:" in out
    assert "== Memory" in out
    assert "PASS" not in out
    assert "MISS" not in out  # a smoke run judges nothing

    page = (docs / "performance.md").read_text()
    assert page.startswith("# Performance\n\nhand-written method\n")
    assert "## Targets" in page
    assert "| variant |" in page
    assert (docs / "performance-layers.png").stat().st_size > 1000

    # The saved run reads back: the same tables print without measuring anything.
    again = run_benchmarks("--from-json", str(tmp_path / "latest-smoke.json"))
    assert again.stdout.split("\n== ")[1:] == out.split("\n== ")[1:]


def test_rounds_are_interleaved_and_paired_with_the_baseline() -> None:
    """Each round runs every variant once, starting one further along; ratios pair figures of one round."""
    calls: list[str] = []

    def variant(name: str) -> tuple[str, str, object]:
        return (name, name, lambda: Subject(lambda: calls.append(name)))

    measured = measure_sync(
        [variant("a"), variant("b"), variant("c")],  # type: ignore[list-item]
        "a",
        rounds=5,
        seconds=0.0,
        connections=lambda: 0,
    )
    # A zero budget runs each op once: one warm-up round and five measured ones, the order rotating.
    assert calls == ["a", "b", "c", "b", "c", "a", "c", "a", "b", "a", "b", "c", "b", "c", "a", "c", "a", "b"]
    by_key = {result.key: result for result in measured.results}
    assert all(len(result.wall_us) == 5 for result in by_key.values())
    assert by_key["a"].ratio == [1.0] * 5
    assert by_key["b"].ratio == [b / a for a, b in zip(by_key["a"].wall_us, by_key["b"].wall_us, strict=True)]


def test_an_unavailable_variant_says_why_and_the_rest_run() -> None:
    from benchmarks.measure import Unavailable

    def missing() -> Subject:
        raise Unavailable("not available")

    measured = measure_sync(
        [("a", "a", lambda: Subject(lambda: None)), ("m", "missing", missing)],
        "a",
        rounds=5,
        seconds=0.0,
        connections=lambda: 0,
    )
    a, m = measured.results
    assert len(a.wall_us) == 5
    assert m.unavailable == "not available"
    assert m.wall_us == []


@pytest.mark.parametrize("base", ["http", "httpcore2", "aiohttp"])
def test_a_case_over_a_named_base_goes_over_the_network_through_it(base: str) -> None:
    """``full@NAME`` measures NAME's pool on the network, not the in-memory stand-in."""
    from benchmarks.cases import Env, stack_client

    closers: list[Any] = []
    built = stack_client(list, base=base)(Env("httpx", asynchronous=True, url="http://127.0.0.1:9"), closers)
    try:
        assert built.info["base"] == base
    finally:
        for close in closers:
            asyncio.run(close())


@pytest.mark.parametrize("base", ["http", "httpcore2", "aiohttp"])
def test_a_client_over_a_named_base_has_no_stack_between(base: str) -> None:
    """``client@NAME`` measures the client straight over NAME's pool, no stack transport between."""
    from benchmarks.cases import Env, base_client
    from benchmarks.measure import Unavailable
    from wireline.transports._built import AsyncStackTransport

    built = base_client(base)(Env("httpx", asynchronous=True, url="http://127.0.0.1:9"), [])
    try:
        assert built.info["base"] == base
        transport = built.client._transport  # what the client sends through
        assert not isinstance(transport, AsyncStackTransport)
        assert isinstance(transport, httpx.AsyncBaseTransport)
    finally:
        asyncio.run(built.client.aclose())
    with pytest.raises(Unavailable, match="n/a in memory"):
        base_client(base)(Env("httpx", asynchronous=True), [])


def test_the_stack_without_the_otel_sdk_keeps_every_layer_and_its_work() -> None:
    """``full-no-sdk@NAME`` differs from ``full@NAME`` only where OpenTelemetry's SDK would work.

    Same layers in the same order, Tracing's given the API's no-op providers: it still runs for
    every request (it hands the chain its span), but that span records nothing.
    """
    from opentelemetry.metrics import NoOpMeterProvider
    from opentelemetry.trace import NoOpTracerProvider

    import wireline
    from benchmarks.layers import CannedTransport, full_default_stack, full_stack_without_otel_sdk
    from wireline.extensions import SPAN
    from wireline.middleware import Middleware, Tracing

    layers = full_stack_without_otel_sdk()
    assert [type(layer) for layer in layers] == [type(layer) for layer in full_default_stack()]
    tracing = next(layer for layer in layers if isinstance(layer, Tracing))
    assert isinstance(tracing.tracer_provider, NoOpTracerProvider)
    assert isinstance(tracing.meter_provider, NoOpMeterProvider)

    spans: list[Any] = []

    class SeeSpan(Middleware):
        def on_request(self, request: Any) -> None:
            spans.append(request.extensions.get(SPAN))

    with wireline.Stack(*layers, SeeSpan(), transport=CannedTransport()).client("httpx") as client:
        assert client.get("http://127.0.0.1:9/json").status_code == 200
    assert len(spans) == 1
    assert spans[0] is not None
    assert not spans[0].is_recording()


def test_a_table_with_no_rows_prints_its_header() -> None:
    """A run of a few groups may have no summary rows: the table is its header, not a crash."""
    from benchmarks.report import text_table

    assert text_table(["what", "adds, µs"], []) == "what  adds, µs"
