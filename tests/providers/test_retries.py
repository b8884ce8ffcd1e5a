"""One layer owns retries: the SDK when the stack does not retry, wireline's ``Retry`` (and only it) when it does.

Attempts are counted where they land, on the server, with failures injected there (429 and 503
with retry headers), for every SDK, sync and async, plain and streamed; and as the stack's own
telemetry saw them: ``Logging`` outside ``Retry`` sees each call the SDK sends, ``Logging`` inside
it and ``Tracing`` each attempt, ``Retry`` tells its decisions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

import wireline
from tests.middleware.conftest import Otel
from tests.providers.sdks import ROWS, Case, Recorder, cases, retrying
from tests.providers.telemetry import (
    assert_genai_is_what_the_sdk_read,
    assert_genai_metrics,
    assert_no_secret,
    attempt_spans,
    events,
    ids,
    observing_layers,
    request_durations,
    resend_counts,
    traceparent,
)
from wireline.middleware import Logging, Tracing
from wireline.middleware.retry import RetryEvent
from wireline.testing import ANSWER, LLMServer, no_sleep

pytestmark = pytest.mark.anyio

StackFactory = Callable[..., wireline.Stack]
RATE_LIMITED = r"429|overloaded|RESOURCE_EXHAUSTED|Too Many"  # each SDK words it its own way
STAINLESS = {"openai", "openai-responses", "azure_openai", "openai_compatible", "anthropic", "groq"}


@pytest.mark.parametrize("case", cases())
async def test_without_a_retrying_layer_the_sdk_keeps_its_own_retries(
    case: Case, llm: LLMServer, sdk_stack: StackFactory, otel: Otel, logs: list[dict[str, Any]]
) -> None:
    """The SDK retries a 429 as it always does (or does not), and every attempt goes through the stack.

    Each SDK attempt is a request of its own to the stack: a call for ``Logging``, a span for
    ``Tracing``, which counts it as a resend when the SDK numbers its retries (the Stainless SDKs'
    ``x-stainless-retry-count``; Cohere, Gemini and Mistral send no such number).
    """
    client = case.build(sdk_stack(case.base, Logging(), Tracing(**otel.tracing_kwargs())), llm)
    llm.fail(429, times=1, retry_after_ms="1")

    if case.row.retries_by_default[case.stream]:
        assert await case.call(client) == ANSWER
        assert len(llm.received) == 2
        if case.row.name in STAINLESS:
            assert [r.header("x-stainless-retry-count") for r in llm.received] == ["0", "1"]
    else:
        with pytest.raises(Exception, match=RATE_LIMITED):
            await case.call(client)
        assert len(llm.received) == 1
    spans = attempt_spans(otel)
    assert [traceparent(received) for received in llm.received] == [ids(span) for span in spans]
    numbered = case.row.name in STAINLESS
    assert resend_counts(spans) == [None, 1 if numbered else None][: len(spans)]
    assert [span.attributes["http.response.status_code"] for span in spans] == [429, 200][: len(spans)]
    calls = events(logs, "http.call")
    assert [(urlsplit(call["url"]).path, call["status"]) for call in calls] == [
        (received.route, status) for received, status in zip(llm.received, [429, 200], strict=False)
    ]


@pytest.mark.parametrize("case", cases())
async def test_a_retrying_stack_is_the_only_retry_owner(
    case: Case, llm: LLMServer, sdk_stack: StackFactory, otel: Otel, logs: list[dict[str, Any]]
) -> None:
    """``Retry`` retries a 503 as the server asks; the SDK sends once (its retries are off).

    The stack's telemetry agrees: one call logged with its 2 attempts, each attempt logged and
    traced (the resend numbered), one retry decision, the GenAI data and metrics of one operation.
    """
    retries: list[RetryEvent] = []
    client = case.build(sdk_stack(case.base, *observing_layers(otel, retries)), llm)
    llm.fail(503, times=1, retry_after="0")

    with no_sleep() as waits:
        reply = await case.reply(client)

    assert reply.text == ANSWER
    assert len(llm.received) == 2  # the failure, and the stack's retry
    if case.row.name in STAINLESS:  # Retry numbers its resends as the SDK would
        assert [r.header("x-stainless-retry-count") for r in llm.received] == ["0", "1"]
    assert [(e.decision, e.attempt, e.status, e.server_wait) for e in retries] == [("retry", 1, 503, 0.0)]
    assert waits == [0.0]
    [told] = events(logs, "wireline.retry")
    assert (told["decision"], told["attempt"], told["status"], told["log_level"]) == ("retry", 1, 503, "info")
    [call] = events(logs, "http.call")  # the SDK sent once
    assert (call["attempts"], call["status"], call["provider"]) == (2, 200, case.row.provider)
    attempts = events(logs, "http.attempt")
    assert [(a["attempt"], a.get("resend_count"), a["status"], a["log_level"]) for a in attempts] == [
        (1, None, 503, "warning"),
        (2, 1, 200, "info"),
    ]
    assert {a["provider"] for a in attempts} == {case.row.provider}
    spans = attempt_spans(otel)
    assert attempts[1]["bytes"] == call["bytes"] == spans[1].attributes["http.response.body.size"] > len(ANSWER)
    assert [traceparent(received) for received in llm.received] == [ids(span) for span in spans]
    assert [(a["trace_id"], a["span_id"]) for a in attempts] == [ids(span) for span in spans]
    assert resend_counts(spans) == [None, 1]
    assert [span.attributes.get("error.type") for span in spans] == ["503", None]
    assert request_durations(otel) == 2
    assert_genai_is_what_the_sdk_read(spans[1], case.row, reply, stream=case.stream)
    assert_genai_metrics(otel, case.row, reply, stream=case.stream)  # one operation, and it succeeded
    assert_no_secret(case.row, llm, otel, logs)


@pytest.mark.parametrize("case", cases())
async def test_attempts_do_not_multiply(
    case: Case, llm: LLMServer, sdk_stack: StackFactory, otel: Otel, logs: list[dict[str, Any]]
) -> None:
    """A server that keeps answering 429 sees exactly the stack's 3 attempts, not 3 x the SDK's 3."""
    retries: list[RetryEvent] = []
    client = case.build(sdk_stack(case.base, *observing_layers(otel, retries)), llm)
    llm.fail(429, times=20, retry_after_ms="1")

    with no_sleep() as waits, pytest.raises(Exception, match=RATE_LIMITED):
        await case.call(client)
    assert len(llm.received) == 3
    assert [(e.decision, e.stop) for e in retries] == [("retry", None), ("retry", None), ("give_up", "attempts")]
    assert waits == [0.001, 0.001]  # what the server asked (retry-after-ms)
    assert [(e["decision"], e["log_level"]) for e in events(logs, "wireline.retry")] == [
        ("retry", "info"),
        ("retry", "info"),
        ("give_up", "warning"),
    ]
    [call] = events(logs, "http.call")  # the SDK sent once
    assert (call["attempts"], call["status"], call["log_level"]) == (3, 429, "warning")
    assert [(a["attempt"], a["status"]) for a in events(logs, "http.attempt")] == [(1, 429), (2, 429), (3, 429)]
    spans = attempt_spans(otel)
    assert resend_counts(spans) == [None, 1, 2]
    assert [span.attributes.get("error.type") for span in spans] == ["429"] * 3
    assert [traceparent(received) for received in llm.received] == [ids(span) for span in spans]
    # No successful operation, no tokens (the failed one is recorded once the call's request is garbage).
    assert [point.attributes.get("error.type") for point in otel.points("gen_ai.client.operation.duration")] in (
        [],
        ["429"],
    )
    assert otel.points("gen_ai.client.token.usage") == []
    assert_no_secret(case.row, llm, otel, logs)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("openai", {"max_retries": 2}),
        ("azure_openai", {"max_retries": 1}),
        ("openai_compatible", {"max_retries": 5}),
        ("anthropic", {"max_retries": 2}),
        ("groq", {"max_retries": 2}),
        ("cohere", {"max_retries": 2}),
    ],
)
def test_an_sdk_retry_setting_over_a_retrying_stack_is_refused(
    name: str, kwargs: dict[str, Any], llm: LLMServer
) -> None:
    """Asking the SDK to retry when the stack retries too is refused, naming the setting and the layer."""
    stack = wireline.Stack(retrying())
    with pytest.raises(wireline.ConfigError, match=r"max_retries=\.\.\.\): expected 0 or nothing: the stack retries"):
        ROWS[name].build(stack, llm, asynchronous=False, **kwargs)
    client = ROWS[name].build(stack, llm, asynchronous=False, max_retries=0)  # saying "off" is fine
    assert client is not None


def test_gemini_and_mistral_retry_settings_over_a_retrying_stack_are_refused(llm: LLMServer) -> None:
    """Gemini's ``retry_options`` and Mistral's ``retry_config`` are retry settings too."""
    from google.genai import types
    from mistralai.client.utils.retries import BackoffStrategy, RetryConfig

    stack = wireline.Stack(retrying())
    options = {"base_url": llm.url, "retry_options": types.HttpRetryOptions(attempts=3)}
    with pytest.raises(wireline.ConfigError, match=r"http_options.retry_options=\.\.\.\): expected no retry_options"):
        wireline.providers.gemini.client(stack, api_key="k", http_options=options)
    config = RetryConfig("backoff", BackoffStrategy(1, 1, 1.0, 100), retry_connection_errors=False)
    with pytest.raises(wireline.ConfigError, match=r"mistral\(retry_config=\.\.\.\)"):
        wireline.providers.mistral.client(stack, api_key="k", retry_config=config)


@pytest.mark.parametrize("case", cases(["gemini", "mistral"]))
async def test_sdks_that_retry_only_when_asked_retry_when_asked(
    case: Case, llm: LLMServer, sdk_stack: StackFactory
) -> None:
    """Gemini's ``retry_options`` and Mistral's ``retry_config`` work through a stack that does not retry."""
    from google.genai import types
    from mistralai.client.utils.retries import BackoffStrategy, RetryConfig

    if case.row.name == "gemini":
        retry = types.HttpRetryOptions(attempts=2, initial_delay=0.001, max_delay=0.001, jitter=0)
        extra: dict[str, Any] = {"http_options": {"base_url": llm.url, "retry_options": retry}}
    else:
        extra = {
            "retry_config": RetryConfig("backoff", BackoffStrategy(1, 1, 1.0, 1000), retry_connection_errors=False)
        }
    recorder = Recorder()
    client = case.build(sdk_stack(case.base, recorder), llm, **extra)
    llm.fail(429, times=1, retry_after_ms="1")

    assert await case.call(client) == ANSWER
    assert len(llm.received) == len(recorder.seen) == 2
