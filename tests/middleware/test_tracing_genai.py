"""Tracing's GenAI layer, end to end: real clients, a local server answering with each provider's
samples (JSON, SSE, a streamed JSON array, gzip), the real SDK recording spans and metrics."""

from __future__ import annotations

import gc
import json
from typing import Any

import pytest

import wireline
from tests.conftest import Driver
from tests.middleware.conftest import Otel
from tests.middleware.test_tracing import TwoTries
from wireline.extensions import PROVIDER, SDK_TRACES
from wireline.middleware import Middleware, Tracing

pytestmark = pytest.mark.anyio

MESSAGES = [{"role": "user", "content": "Say hello"}]

CASES = [
    # path, body, span name, expected attributes (a subset), (input, output) tokens
    (
        "/v1/chat/completions",
        {"model": "gpt-4.1", "messages": MESSAGES, "max_tokens": 50},
        "chat gpt-4.1",
        {
            "gen_ai.provider.name": "openai",
            "gen_ai.operation.name": "chat",
            "gen_ai.request.max_tokens": 50,
            "gen_ai.response.id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
            "gen_ai.response.model": "gpt-4.1-2025-04-14",
            "gen_ai.response.finish_reasons": ("stop",),
        },
        (19, 10),
    ),
    (
        "/v1/chat/completions?gzip=1",
        {"model": "gpt-4.1", "messages": MESSAGES},
        "chat gpt-4.1",
        {"gen_ai.response.id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"},
        (19, 10),
    ),
    (
        "/v1/chat/completions",
        {"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True, "stream_options": {"include_usage": True}},
        "chat gpt-4o-mini",
        {
            "gen_ai.request.stream": True,
            "gen_ai.response.id": "chatcmpl-123",
            "gen_ai.response.finish_reasons": ("stop",),
        },
        (11, 9),
    ),
    (
        "/v1/responses",
        {"model": "gpt-4.1", "input": "Hi", "stream": True},
        "chat gpt-4.1",
        {"gen_ai.response.id": "resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654"},
        (37, 11),
    ),
    (
        "/v1/messages",
        {"model": "claude-sonnet-4-5", "max_tokens": 1024, "messages": MESSAGES, "stream": True},
        "chat claude-sonnet-4-5",
        {
            "gen_ai.provider.name": "anthropic",
            "gen_ai.response.model": "claude-sonnet-4-5-20250929",
            "gen_ai.response.finish_reasons": ("tool_use",),
            "gen_ai.usage.cache_read.input_tokens": 100,
        },
        (125, 15),
    ),
    (
        "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
        {"contents": [{"role": "user", "parts": [{"text": "Story"}]}]},
        "generate_content gemini-2.0-flash",
        {
            "gen_ai.provider.name": "gcp.gen_ai",
            "gen_ai.operation.name": "generate_content",
            "gen_ai.request.stream": True,
        },
        (7, 20),
    ),
    (
        "/v1beta/models/gemini-1.5-pro:streamGenerateContent",
        {"contents": [{"role": "user", "parts": [{"text": "Fox"}]}]},
        "generate_content gemini-1.5-pro",
        {"gen_ai.response.finish_reasons": ("MAX_TOKENS",)},
        (5, 12),
    ),
    (
        "/v2/chat",
        {"model": "command-a-03-2025", "messages": MESSAGES, "stream": True},
        "chat command-a-03-2025",
        {"gen_ai.provider.name": "cohere", "gen_ai.response.finish_reasons": ("COMPLETE",)},
        (3, 2),
    ),
]


def genai(span: Any) -> dict[str, Any]:
    return {k: v for k, v in (span.attributes or {}).items() if k.startswith("gen_ai.")}


@pytest.mark.parametrize(("path", "body", "name", "expected", "tokens"), CASES, ids=[c[0] for c in CASES])
async def test_llm_calls_get_genai_attributes_and_metrics(  # noqa: PLR0917
    driver: Driver,
    make_stack,
    llm_url: str,
    otel: Otel,
    path: str,
    body: dict[str, Any],
    name: str,
    expected: dict[str, Any],
    tokens: tuple[int, int],
) -> None:
    client = driver.client(make_stack(Tracing(**otel.tracing_kwargs())))
    async with client.stream("POST", f"{llm_url}{path}", json=body) as stream:
        await stream.rest()
    await client.aclose()
    span = otel.span()
    assert span.name == name
    attributes = genai(span)
    assert expected.items() <= attributes.items()
    assert (attributes["gen_ai.usage.input_tokens"], attributes["gen_ai.usage.output_tokens"]) == tokens
    assert "gen_ai.input.messages" not in attributes  # content is opt-in
    assert "gen_ai.output.messages" not in attributes
    streamed = attributes.get("gen_ai.request.stream") is True
    assert ("gen_ai.response.time_to_first_chunk" in attributes) is streamed

    usage = {p.attributes["gen_ai.token.type"]: p for p in otel.points("gen_ai.client.token.usage")}
    assert (usage["input"].sum, usage["output"].sum) == tokens
    assert usage["input"].attributes["gen_ai.operation.name"] == attributes["gen_ai.operation.name"]
    assert usage["input"].attributes["gen_ai.request.model"] == attributes["gen_ai.request.model"]
    assert usage["input"].attributes["server.address"] == "127.0.0.1"
    assert list(usage["input"].explicit_bounds)[:3] == [1, 4, 16]
    [duration] = otel.points("gen_ai.client.operation.duration")
    assert duration.count == 1
    assert "error.type" not in duration.attributes
    assert len(otel.points("gen_ai.client.operation.time_to_first_chunk")) == (1 if streamed else 0)


async def test_the_provider_adapters_hint_names_the_provider(
    driver: Driver, make_stack, llm_url: str, otel: Otel
) -> None:
    client = driver.client(make_stack(Tracing(**otel.tracing_kwargs())), extensions={PROVIDER: "groq"})
    body = {"model": "llama-3.3-70b-versatile", "messages": MESSAGES, "stream": True}
    async with client.stream("POST", f"{llm_url}/openai/v1/chat/completions", json=body) as stream:
        await stream.rest()
    await client.aclose()
    attributes = genai(otel.span())
    assert attributes["gen_ai.provider.name"] == "groq"
    assert (attributes["gen_ai.usage.input_tokens"], attributes["gen_ai.usage.output_tokens"]) == (40, 4)


async def test_a_stream_closed_at_its_end_marker_keeps_its_genai_data(
    driver: Driver, make_stack, llm_url: str, otel: Otel
) -> None:
    """The OpenAI and Mistral SDKs close a stream at ``data: [DONE]``, before the body's last (empty) chunk."""
    client = driver.client(make_stack(Tracing(**otel.tracing_kwargs())))
    body = {"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True, "stream_options": {"include_usage": True}}
    async with client.stream("POST", f"{llm_url}/v1/chat/completions", json=body) as stream:
        received = b""
        while b"[DONE]" not in received:
            received += await stream.next()
        await stream.close()
    await client.aclose()
    span = otel.span()
    assert span.attributes["wireline.response.end"] == "closed"
    attributes = genai(span)
    assert attributes["gen_ai.response.id"] == "chatcmpl-123"
    assert attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert (attributes["gen_ai.usage.input_tokens"], attributes["gen_ai.usage.output_tokens"]) == (11, 9)
    assert "gen_ai.response.time_to_first_chunk" in attributes
    usage = {p.attributes["gen_ai.token.type"]: p.sum for p in otel.points("gen_ai.client.token.usage")}
    assert usage == {"input": 11, "output": 9}


async def test_message_content_only_when_captured(driver: Driver, make_stack, llm_url: str, otel: Otel) -> None:
    client = driver.client(make_stack(Tracing(capture_content=True, **otel.tracing_kwargs())))
    body = {"model": "claude-sonnet-4-5", "max_tokens": 10, "system": "Be terse.", "messages": MESSAGES, "stream": True}
    async with client.stream("POST", f"{llm_url}/v1/messages", json=body) as stream:
        await stream.rest()
    await client.aclose()
    attributes = genai(otel.span())
    assert json.loads(attributes["gen_ai.system_instructions"]) == [{"type": "text", "content": "Be terse."}]
    assert json.loads(attributes["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Say hello"}]}
    ]
    [output] = json.loads(attributes["gen_ai.output.messages"])
    assert output["parts"][0] == {"type": "text", "content": "Hello!"}
    assert output["finish_reason"] == "tool_use"


async def test_content_capture_from_the_environment(
    driver: Driver, make_stack, llm_url: str, otel: Otel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    client = driver.client(make_stack(Tracing(**otel.tracing_kwargs())))
    await client.post(f"{llm_url}/v1/chat/completions", json={"model": "gpt-4.1", "messages": MESSAGES})
    await client.aclose()
    assert "gen_ai.output.messages" in genai(otel.span())


class GenAIParent(Middleware):
    """Stands for an SDK that opens a GenAI span around its HTTP call (as anthropic 2.x does)."""

    def __init__(self, otel: Otel) -> None:
        self.tracer = otel.tracer_provider.get_tracer("some.sdk")

    def handle(self, request: Any) -> Any:
        with self.tracer.start_as_current_span(
            "anthropic.messages.create", attributes={"gen_ai.operation.name": "chat"}
        ):
            return (yield request)


@pytest.mark.parametrize("how", ["genai=False", "sdk_traces", "genai parent span"])
async def test_only_the_http_attempt_when_genai_is_someone_elses(
    driver: Driver, make_stack, llm_url: str, otel: Otel, how: str
) -> None:
    layers: list[Any] = [Tracing(genai=how != "genai=False", **otel.tracing_kwargs())]
    if how == "genai parent span":
        layers.insert(0, GenAIParent(otel))
    extensions = {SDK_TRACES: True} if how == "sdk_traces" else None
    client = driver.client(make_stack(*layers), extensions=extensions)
    await client.post(f"{llm_url}/v1/chat/completions", json={"model": "gpt-4.1", "messages": MESSAGES})
    await client.aclose()
    [span] = [s for s in otel.spans() if s.instrumentation_scope.name == "wireline"]
    assert span.name == "POST"
    assert genai(span) == {}
    assert otel.points("gen_ai.client.token.usage") == []
    assert otel.points("gen_ai.client.operation.duration") == []
    assert otel.points("http.client.request.duration")


class FailFirst(Middleware):
    """Answers the first attempt of each call with a 503 itself (below Tracing, as a server would)."""

    def on_request(self, request: Any) -> Any:
        sent = request.extensions.setdefault("test.sent", [0])
        sent[0] += 1
        if sent[0] == 1 or request.extensions.get("test.always"):
            return wireline.respond(request, status_code=503, json={"error": "overloaded"})
        return None


async def test_a_retried_failure_is_not_a_failed_operation(
    driver: Driver, make_stack, llm_url: str, otel: Otel
) -> None:
    client = driver.client(make_stack(TwoTries(), Tracing(**otel.tracing_kwargs()), FailFirst()))
    response = await client.post(f"{llm_url}/v1/chat/completions", json={"model": "gpt-4.1", "messages": MESSAGES})
    assert response.status_code == 200
    del response
    gc.collect()
    await client.aclose()
    failed, succeeded = otel.spans()
    assert failed.attributes["error.type"] == "503"
    assert succeeded.attributes["http.request.resend_count"] == 1
    [operation] = otel.points("gen_ai.client.operation.duration")  # one operation, and it succeeded
    assert operation.count == 1
    assert "error.type" not in operation.attributes
    # the operation lasted from the first attempt's start to the end of the last body
    assert operation.sum >= (succeeded.end_time - failed.start_time) / 1e9 - 1e-6
    assert len(otel.points("http.client.request.duration")) == 2  # the HTTP metric counts attempts


async def test_a_call_that_fails_in_the_end_is_a_failed_operation(
    driver: Driver, make_stack, llm_url: str, otel: Otel
) -> None:
    client = driver.client(
        make_stack(TwoTries(), Tracing(**otel.tracing_kwargs()), FailFirst()), extensions={"test.always": True}
    )
    response = await client.post(f"{llm_url}/v1/chat/completions", json={"model": "gpt-4.1", "messages": MESSAGES})
    assert response.status_code == 503
    await client.aclose()
    del response
    gc.collect()  # the call is over when its request is gone; its failure is then recorded
    [operation] = otel.points("gen_ai.client.operation.duration")
    assert operation.count == 1
    assert operation.attributes["error.type"] == "503"
