"""SDKs that trace themselves (Anthropic, mistralai): one traceparent per attempt, and the GenAI layer left to them.

Uses the real OpenTelemetry SDK with an in-memory exporter. The tracer providers are passed to the
SDKs explicitly, so no global state is touched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import wireline
from tests.providers.sdks import ROWS, Case, Recorder, TraceForTests, cases, retrying
from wireline.providers import anthropic as anthropic_adapter
from wireline.testing import ANSWER, LLMServer, Received, no_sleep

pytestmark = pytest.mark.anyio

StackFactory = Callable[..., wireline.Stack]
ANTHROPIC_SCOPE = "com.anthropic.sdk.python"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracer_provider(exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider
    provider.shutdown()


def _traceparent(received: Received) -> tuple[str, str]:
    """(trace id, parent span id) of the one traceparent a request carried."""
    [value] = received.header_values("traceparent")
    _version, trace_id, span_id, _flags = value.split("-")
    return trace_id, span_id


def _hex(span: Any) -> tuple[str, str]:
    context = span.get_span_context()
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"


def _scope(span: ReadableSpan) -> str:
    return span.instrumentation_scope.name if span.instrumentation_scope else ""


def _sdk_span(exporter: InMemorySpanExporter, scope: str) -> ReadableSpan:
    [span] = [
        s
        for s in exporter.get_finished_spans()
        if s.instrumentation_scope and s.instrumentation_scope.name.startswith(scope)
    ]
    return span


@pytest.mark.parametrize("case", cases(["anthropic"]))
async def test_anthropic_propagates_when_the_stack_does_not(
    case: Case, llm: LLMServer, sdk_stack: StackFactory, tracer_provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    """Without a propagating layer the SDK's call span is the request's parent; the layers learn the SDK traces."""
    recorder = Recorder()
    client = case.build(sdk_stack(case.base, recorder), llm, open_telemetry={"tracer_provider": tracer_provider})
    assert client.open_telemetry["propagation"] is True

    assert await case.call(client) == ANSWER

    [seen] = recorder.seen
    assert seen.sdk_traces is True
    assert _traceparent(llm.received[0]) == _hex(_sdk_span(exporter, ANTHROPIC_SCOPE))


@pytest.mark.parametrize("case", cases(["anthropic"]))
async def test_anthropic_leaves_propagation_to_a_propagating_stack(
    case: Case, llm: LLMServer, sdk_stack: StackFactory, tracer_provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    """With a layer that injects per attempt, the SDK stops injecting: one traceparent per attempt, the layer's.

    Each attempt's span is a child of the SDK's call span, and the stack's retry gives each its own.
    """
    tracing = TraceForTests(tracer_provider)
    stack = sdk_stack(case.base, retrying(), tracing)
    client = case.build(stack, llm, open_telemetry={"tracer_provider": tracer_provider})
    assert client.open_telemetry["propagation"] is False
    llm.fail(503, times=1)

    with no_sleep():
        assert await case.call(client) == ANSWER

    sdk_span = _sdk_span(exporter, ANTHROPIC_SCOPE)
    attempts = [span for span in exporter.get_finished_spans() if _scope(span) == "wireline-tests"]
    assert len(attempts) == len(llm.received) == 2
    assert [_traceparent(received) for received in llm.received] == [_hex(span) for span in attempts]
    assert {f"{span.parent.span_id:016x}" if span.parent else None for span in attempts} == {_hex(sdk_span)[1]}


@pytest.mark.parametrize(
    ("option", "traces"),
    [
        (None, True),
        ({}, True),
        (False, False),
        ({"traces": False}, False),
        ({"traces": {"enabled": False}}, False),
        ({"traces": True}, True),
        ({"traces": {"content_mode": "content"}}, True),
        ({"propagation": False}, True),
    ],
)
@pytest.mark.parametrize("environment", [None, "false"])
def test_the_adapter_reads_the_option_as_the_sdk_does(
    option: Any, traces: bool, environment: str | None, llm: LLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether requests say "the SDK traces" follows the SDK's own resolution of its option and environment."""
    if environment is None:
        monkeypatch.delenv("ANTHROPIC_OPEN_TELEMETRY", raising=False)
    else:
        monkeypatch.setenv("ANTHROPIC_OPEN_TELEMETRY", environment)
    expected = traces if option is not None or environment is None else False
    client = ROWS["anthropic"].build(wireline.Stack(), llm, asynchronous=False, open_telemetry=option)
    assert client.open_telemetry["traces"]["enabled"] is expected
    assert anthropic_adapter.traces_enabled(option) is expected


def test_what_the_user_said_about_propagation_is_kept(llm: LLMServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """An explicit ``propagation`` wins; with no option, the environment's settings survive the adapter's."""
    stack = wireline.Stack(TraceForTests(TracerProvider()))
    kept = ROWS["anthropic"].build(stack, llm, asynchronous=False, open_telemetry={"propagation": True})
    assert kept.open_telemetry["propagation"] is True
    off = ROWS["anthropic"].build(stack, llm, asynchronous=False, open_telemetry=False)
    assert off.open_telemetry["traces"]["enabled"] is False

    monkeypatch.setenv("ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE", "content")
    from_environment = ROWS["anthropic"].build(stack, llm, asynchronous=False)
    assert from_environment.open_telemetry["propagation"] is False
    assert from_environment.open_telemetry["traces"]["content_mode"] == "content"


def test_without_sdk_spans_requests_do_not_say_the_sdk_traces(llm: LLMServer) -> None:
    recorder = Recorder()
    with wireline.Stack(recorder) as stack:
        client = ROWS["anthropic"].build(stack, llm, asynchronous=False, open_telemetry=False)
        client.messages.create(model="claude", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
    assert [seen.sdk_traces for seen in recorder.seen] == [False]
    assert llm.received[0].header_values("traceparent") == []


@pytest.mark.parametrize("case", cases(["mistral"]))
async def test_mistral_requests_say_the_sdk_traces_once_its_telemetry_is_on(
    case: Case, llm: LLMServer, sdk_stack: StackFactory, tracer_provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    """mistralai traces only once configured; requests say so per request, and still carry one traceparent."""
    from mistralai.extra.observability import configure_telemetry

    recorder = Recorder()
    tracing = TraceForTests(tracer_provider)
    client = case.build(sdk_stack(case.base, recorder, tracing), llm)

    assert await case.call(client) == ANSWER
    assert recorder.seen[-1].sdk_traces is False

    configure_telemetry(client, provider=tracer_provider)
    assert await case.call(client) == ANSWER
    assert recorder.seen[-1].sdk_traces is True
    sdk_spans = [span for span in exporter.get_finished_spans() if _scope(span) != "wireline-tests"]
    assert sdk_spans
    attempt = tracing.spans[-1]
    assert _traceparent(llm.received[-1]) == _hex(attempt)
    assert attempt.parent is not None
    assert f"{attempt.parent.span_id:016x}" in {_hex(span)[1] for span in sdk_spans}
