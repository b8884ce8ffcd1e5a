"""SDKs that trace themselves (Anthropic, mistralai) beside wireline's ``Tracing``: who records what.

The real OpenTelemetry SDK with in-memory exporters; the tracer providers are passed to the SDKs
and to ``Tracing`` explicitly, so no global state is touched. When the SDK records a span for the
call, wireline's attempt spans are its children, carry no GenAI data (nor do wireline's metrics),
and each attempt carries one ``traceparent``, its own. When the SDK's spans record nothing,
``Tracing`` records the GenAI data itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

import wireline
from tests.middleware.conftest import Otel
from tests.providers.sdks import ROWS, Case, Recorder, cases
from tests.providers.telemetry import (
    assert_genai_is_what_the_sdk_read,
    assert_genai_metrics,
    assert_no_genai_of_ours,
    assert_no_secret,
    attempt_spans,
    events,
    genai,
    ids,
    observing_layers,
    parent_ids,
    request_durations,
    resend_counts,
    spans_of,
    traceparent,
)
from wireline.middleware import Tracing
from wireline.middleware.retry import RetryEvent
from wireline.providers import anthropic as anthropic_adapter
from wireline.testing import ANSWER, LLMServer, no_sleep

pytestmark = pytest.mark.anyio

StackFactory = Callable[..., wireline.Stack]
ANTHROPIC_SCOPE = "com.anthropic.sdk.python"
MISTRAL_SCOPE = "mistralai"


def _sdk_span(otel: Otel, scope: str) -> Any:
    [span] = spans_of(otel, scope)
    return span


@pytest.mark.parametrize("case", cases(["anthropic"]))
async def test_anthropic_propagates_when_the_stack_does_not(
    case: Case, llm: LLMServer, sdk_stack: StackFactory, otel: Otel
) -> None:
    """Without a propagating layer the SDK's call span is the request's parent; the layers learn the SDK traces."""
    recorder = Recorder()
    client = case.build(sdk_stack(case.base, recorder), llm, open_telemetry={"tracer_provider": otel.tracer_provider})
    assert client.open_telemetry["propagation"] is True

    assert await case.call(client) == ANSWER

    [seen] = recorder.seen
    assert seen.sdk_traces is True
    assert traceparent(llm.received[0]) == ids(_sdk_span(otel, ANTHROPIC_SCOPE))


@pytest.mark.parametrize("case", cases(["anthropic"]))
async def test_anthropic_leaves_propagation_and_genai_to_the_sdk_beside_tracing(
    case: Case, llm: LLMServer, sdk_stack: StackFactory, otel: Otel, logs: list[dict[str, Any]]
) -> None:
    """The SDK's call span holds the GenAI data; Tracing's attempt spans are its children, one traceparent each.

    ``Tracing`` propagates, so the adapter turns the SDK's own propagation off; the stack's ``Retry``
    gives each attempt its span, and records its decision on the SDK's span (the current one).
    """
    retries: list[RetryEvent] = []
    stack = sdk_stack(case.base, *observing_layers(otel, retries))
    assert Tracing().propagates_trace_context is True
    assert stack.propagates_trace_context is True
    client = case.build(stack, llm, open_telemetry={"tracer_provider": otel.tracer_provider})
    assert client.open_telemetry["propagation"] is False
    llm.fail(503, times=1)

    with no_sleep():
        reply = await case.reply(client)

    assert reply.text == ANSWER
    sdk_span = _sdk_span(otel, ANTHROPIC_SCOPE)
    assert genai(sdk_span)["gen_ai.provider.name"] == "anthropic"
    assert genai(sdk_span)["gen_ai.response.id"] == reply.id
    assert "wireline.retry" in [event.name for event in sdk_span.events]
    attempts = attempt_spans(otel)
    assert len(attempts) == len(llm.received) == 2
    assert [traceparent(received) for received in llm.received] == [ids(span) for span in attempts]
    assert {parent_ids(span) for span in attempts} == {ids(sdk_span)}
    assert [span.name for span in attempts] == ["POST", "POST"]
    assert resend_counts(attempts) == [None, 1]
    assert [span.attributes.get("error.type") for span in attempts] == ["503", None]
    assert_no_genai_of_ours(otel)
    assert request_durations(otel) == 2
    [call] = events(logs, "http.call")
    assert (call["attempts"], call["status"], call["trace_id"]) == (2, 200, ids(sdk_span)[0])
    assert [(e.decision, e.attempt, e.status) for e in retries] == [("retry", 1, 503)]
    assert_no_secret(case.row, llm, otel, logs)


@pytest.mark.parametrize("case", cases(["anthropic"]))
async def test_anthropic_spans_with_nothing_to_record_them_leave_genai_to_tracing(
    case: Case, llm: LLMServer, sdk_stack: StackFactory, otel: Otel
) -> None:
    """The SDK's spans are on by default, but with no tracer provider (none given, no global one) they record nothing.

    Then requests do not say the SDK traces, and ``Tracing`` records the GenAI data itself.
    """
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)  # no global provider set
    recorder = Recorder()
    client = case.build(sdk_stack(case.base, recorder, Tracing(**otel.tracing_kwargs())), llm)
    assert client.open_telemetry["traces"]["enabled"] is True

    reply = await case.reply(client)

    assert [seen.sdk_traces for seen in recorder.seen] == [False]
    assert spans_of(otel, ANTHROPIC_SCOPE) == []
    [span] = attempt_spans(otel)
    assert traceparent(llm.received[0]) == ids(span)
    assert_genai_is_what_the_sdk_read(span, case.row, reply, stream=case.stream)
    assert_genai_metrics(otel, case.row, reply, stream=case.stream)


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
    stack = wireline.Stack(Tracing(tracer_provider=TracerProvider()))
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
    case: Case, llm: LLMServer, sdk_stack: StackFactory, otel: Otel
) -> None:
    """mistralai traces only once configured: before, Tracing records the GenAI data; after, the SDK does.

    Decided per request; either way the request carries one traceparent, the attempt span's, whose
    parent is the SDK's span once the SDK traces.
    """
    from mistralai.extra.observability import configure_telemetry

    recorder = Recorder()
    client = case.build(sdk_stack(case.base, recorder, Tracing(**otel.tracing_kwargs())), llm)

    reply = await case.reply(client)
    assert recorder.seen[-1].sdk_traces is False
    [before] = attempt_spans(otel)
    assert_genai_is_what_the_sdk_read(before, case.row, reply, stream=case.stream)
    assert_genai_metrics(otel, case.row, reply, stream=case.stream)
    otel.exporter.clear()

    configure_telemetry(client, provider=otel.tracer_provider)
    assert await case.call(client) == ANSWER
    assert recorder.seen[-1].sdk_traces is True
    sdk_span = _sdk_span(otel, MISTRAL_SCOPE)
    assert genai(sdk_span)["gen_ai.provider.name"] == "mistral_ai"
    [attempt] = attempt_spans(otel)
    assert (attempt.name, genai(attempt)) == ("POST", {})
    assert traceparent(llm.received[-1]) == ids(attempt)
    assert parent_ids(attempt) == ids(sdk_span)
    assert_genai_metrics(otel, case.row, reply, stream=case.stream)  # still the first call's only


@pytest.mark.parametrize("case", cases(["mistral"], streams=[False]))
async def test_mistral_spans_that_record_nothing_leave_genai_to_tracing(
    case: Case, llm: LLMServer, sdk_stack: StackFactory, otel: Otel
) -> None:
    """mistralai configured with a provider that records nothing (OpenTelemetry's no-op one) makes no-op spans."""
    from mistralai.extra.observability import configure_telemetry
    from opentelemetry.trace import NoOpTracerProvider

    recorder = Recorder()
    client = case.build(sdk_stack(case.base, recorder, Tracing(**otel.tracing_kwargs())), llm)
    configure_telemetry(client, provider=NoOpTracerProvider())

    reply = await case.reply(client)

    assert [seen.sdk_traces for seen in recorder.seen] == [False]
    [span] = attempt_spans(otel)
    assert_genai_is_what_the_sdk_read(span, case.row, reply, stream=case.stream)
