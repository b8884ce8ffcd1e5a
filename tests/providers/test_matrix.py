"""Every row of the SDK matrix: the real SDK, through its adapter and the stack, to a server that speaks its API.

Sync and async, plain and streamed, over every base transport that serves the SDK's flavour: the
SDK gets its answer, the server sees the SDK's own path and authentication, and the stack's layers
see the request (of the right flavour, tagged with the provider) and the end of its body --
wireline's Logging, Retry and Tracing included, which record what the SDK itself read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry.trace import SpanKind, StatusCode

import wireline
from tests.middleware.conftest import Otel
from tests.providers.sdks import ROWS, Case, Recorder, Row, bases_for, cases, close_sdk
from tests.providers.telemetry import (
    assert_genai_is_what_the_sdk_read,
    assert_genai_metrics,
    assert_no_secret,
    attempt_spans,
    events,
    ids,
    observing_layers,
    request_durations,
    traceparent,
)
from wireline.middleware.retry import RetryEvent
from wireline.testing import ANSWER, LLMServer

pytestmark = pytest.mark.anyio

StackFactory = Callable[..., wireline.Stack]


@pytest.mark.parametrize("case", cases())
async def test_a_call_goes_through_the_stack_and_every_layer_sees_it(
    case: Case, llm: LLMServer, sdk_stack: StackFactory, otel: Otel, logs: list[dict[str, Any]]
) -> None:
    """The SDK's call reaches the server once, through the stack, and the SDK returns the answer.

    The stack is wireline's own telemetry -- ``Logging`` per call, ``Retry``, ``Logging`` per
    attempt, ``Tracing`` on the real OpenTelemetry SDK -- under a recording layer: each layer sees
    the call once; Tracing's GenAI data is what the SDK itself read from the same bytes; one
    ``traceparent`` goes out, the attempt span's; no API key reaches a log event, span or metric.
    """
    recorder = Recorder()
    retries: list[RetryEvent] = []
    client = case.build(sdk_stack(case.base, recorder, *observing_layers(otel, retries)), llm)

    reply = await case.reply(client)

    row = case.row
    assert reply.text == ANSWER
    [received] = llm.received
    assert received.route == case.path
    assert received.header(row.auth_header) == row.auth_value
    [seen] = recorder.seen
    assert (seen.flavor, seen.asynchronous, seen.path) == (row.flavor, case.asynchronous, case.path)
    assert seen.provider == row.provider
    # The body went through the layer; an SDK that stops at its end marker (OpenAI's `data: [DONE]`)
    # closes the response before the final empty chunk, so "closed" is as good as "exhausted" here.
    [end] = recorder.ends
    assert end.reason in {"exhausted", "closed"}
    assert end.bytes > len(ANSWER)
    # Tracing: one CLIENT span, the server's parent, with the GenAI data the SDK read from the answer.
    [span] = attempt_spans(otel)
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert traceparent(received) == ids(span)
    assert "http.request.resend_count" not in span.attributes
    assert (span.attributes["http.response.status_code"], span.attributes["http.response.body.size"]) == (
        200,
        end.bytes,
    )
    assert_genai_is_what_the_sdk_read(span, row, reply, stream=case.stream)
    assert_genai_metrics(otel, row, reply, stream=case.stream)
    assert request_durations(otel) == 1
    # Logging: one event for the call, one for its attempt, both about this span.
    [call] = events(logs, "http.call")
    [attempt] = events(logs, "http.attempt")
    for event in (call, attempt):
        assert (event["provider"], event["status"], event["bytes"]) == (row.provider, 200, end.bytes)
        assert (event["trace_id"], event["span_id"]) == ids(span)
        assert event["log_level"] == "info"
        assert "error" not in event
    assert call["attempts"] == 1
    assert attempt["attempt"] == 1
    assert "resend_count" not in attempt
    # Retry: nothing to decide.
    assert retries == []
    assert events(logs, "wireline.retry") == []
    assert_no_secret(row, llm, otel, logs)


@pytest.mark.parametrize("case", cases(streams=[False]))
async def test_the_sdks_default_timeout_is_in_force(case: Case, llm: LLMServer, sdk_stack: StackFactory) -> None:
    """With no timeout given, requests carry the SDK's own default (Gemini, which has none: 600 s)."""
    recorder = Recorder()
    client = case.build(sdk_stack(case.base, recorder), llm)
    await case.call(client)
    [seen] = recorder.seen
    assert seen.timeout is not None
    assert seen.timeout["read"] == case.row.default_read_timeout


@pytest.mark.parametrize("case", cases(streams=[False]))
async def test_the_users_timeout_is_in_force(case: Case, llm: LLMServer, sdk_stack: StackFactory) -> None:
    """The SDK's own timeout option, set to 7 s, is what every request carries."""
    recorder = Recorder()
    client = case.build(sdk_stack(case.base, recorder), llm, **case.row.seven_seconds(llm))
    await case.call(client)
    [seen] = recorder.seen
    assert seen.timeout is not None
    assert seen.timeout["read"] == 7


@pytest.mark.parametrize("case", cases(streams=[False]))
async def test_a_stalled_server_times_out_at_the_users_timeout(
    case: Case, llm: LLMServer, sdk_stack: StackFactory
) -> None:
    """A server that answers after 30 s makes the call fail at the user's 0.3 s, not at a default."""
    row = case.row
    extra = {key: _scaled(value) for key, value in row.seven_seconds(llm).items()}
    no_retries = _no_sdk_retries(row)
    client = case.build(sdk_stack(case.base), llm, **extra, **no_retries)
    llm.stall(30)
    with pytest.raises(Exception) as caught:
        await case.call(client)
    assert "timeout" in type(caught.value).__name__.lower() or "timed out" in str(caught.value).lower()
    assert len(llm.received) == 1


def _scaled(value: Any) -> Any:
    """The 7-second setting, turned into 0.3 s."""
    if isinstance(value, dict):
        return {key: _scaled(item) if key == "timeout" else item for key, item in value.items()}
    return 300 if value == 7000 else 0.3


def _no_sdk_retries(row: Row) -> dict[str, Any]:
    """Arguments that stop the SDK retrying a timeout (so one attempt is made)."""
    return {"max_retries": 0} if row.retries_by_default[0] else {}


@pytest.mark.parametrize("name", sorted(ROWS))
async def test_the_sdk_sends_what_it_sends_with_its_own_client(
    name: str, llm: LLMServer, sdk_stack: StackFactory
) -> None:
    """Headers and authentication reach the server exactly as the SDK sends them with a client of its own.

    The only differences are the ones the adapter makes on purpose (listed per row, with the reason).
    """
    row = ROWS[name]
    base = bases_for(row.flavor, asynchronous=False)[0]
    own = row.own_client(llm)
    try:
        await row.call(own, asynchronous=False, stream=False)
    finally:
        await close_sdk(own, asynchronous=False)
    wired = row.build(sdk_stack(base), llm, asynchronous=False)
    await row.call(wired, asynchronous=False, stream=False)
    first, second = llm.received
    assert first.route == second.route
    assert first.body == second.body
    differences = {
        key
        for key in {k.lower() for k in first.headers} | {k.lower() for k in second.headers}
        if first.header(key) != second.header(key)
    }
    assert differences == {key.lower() for key in row.header_differences}
