"""Fixtures for the telemetry tests: the real OpenTelemetry SDK with in-memory exporters, structlog
capture, and a local server answering like the LLM providers.

Providers are passed to ``Tracing`` explicitly (no globals); the few tests that need the global
providers use ``global_otel``, which resets them afterwards (reference/otel.md section 6).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import structlog
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.middleware.llm_app import make_llm_app
from tests.servers import run_server
from wireline import _faults


@dataclass
class Otel:
    """An SDK tracer provider and meter provider that keep everything in memory."""

    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader

    def spans(self) -> list[Any]:  # ReadableSpan; Any so tests read attributes without narrowing
        return list(self.exporter.get_finished_spans())

    def span(self) -> Any:
        spans = self.spans()
        assert len(spans) == 1, [s.name for s in spans]
        return spans[0]

    def points(self, name: str) -> list[Any]:
        """The data points of metric ``name`` (empty when it was never recorded)."""
        data = self.reader.get_metrics_data()
        if data is None:
            return []
        return [
            point
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
            if metric.name == name
            for point in metric.data.data_points
        ]

    def tracing_kwargs(self) -> dict[str, Any]:
        return {"tracer_provider": self.tracer_provider, "meter_provider": self.meter_provider}


def make_otel() -> Otel:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
    return Otel(tracer_provider, meter_provider, exporter, reader)


@pytest.fixture
def otel() -> Iterator[Otel]:
    made = make_otel()
    yield made
    made.tracer_provider.shutdown()
    made.meter_provider.shutdown()


def reset_otel_globals() -> None:
    from opentelemetry.metrics import _internal as metrics_internal
    from opentelemetry.util._once import Once

    trace._TRACER_PROVIDER_SET_ONCE = Once()
    trace._TRACER_PROVIDER = None
    trace._PROXY_TRACER_PROVIDER = trace.ProxyTracerProvider()
    metrics_internal._METER_PROVIDER_SET_ONCE = Once()
    metrics_internal._METER_PROVIDER = None
    metrics_internal._PROXY_METER_PROVIDER = metrics_internal._ProxyMeterProvider()


@pytest.fixture
def global_otel(otel: Otel) -> Iterator[Otel]:
    """``otel``, installed as the global tracer and meter providers for the test."""
    from wireline.middleware import _instruments

    reset_otel_globals()
    _instruments._global = None
    trace.set_tracer_provider(otel.tracer_provider)
    metrics.set_meter_provider(otel.meter_provider)
    yield otel
    reset_otel_globals()
    _instruments._global = None


@pytest.fixture
def logs() -> Iterator[list[Any]]:
    """Every structlog event, as the event dict the processors would get."""
    with structlog.testing.capture_logs() as captured:
        yield captured


@pytest.fixture(autouse=True)
def _fresh_fault_reports() -> Iterator[None]:
    _faults.reset_reports()
    yield
    _faults.reset_reports()


@pytest.fixture(scope="session")
def llm_url() -> Iterator[str]:
    """The base URL of a local server that answers like the LLM providers (see llm_app.py)."""
    with run_server(make_llm_app()) as (host, port):
        yield f"http://{host}:{port}"
