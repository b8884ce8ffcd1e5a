"""Tracing beside SDKs that trace themselves: the Anthropic SDK 2.x and mistralai's tracing hook.

The real SDKs send through a stack with Tracing to the local server. Each SDK makes its GenAI span
per API call; Tracing adds one HTTP attempt span under it, with no GenAI attributes of its own (it
sees the SDK's span and stands back), and no second span from contrib's instrumentor.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.middleware.conftest import Otel
from wireline.middleware import Tracing

pytestmark = pytest.mark.anyio

MODES = ["sync", "async"]


def genai(span: Any) -> dict[str, Any]:
    return {k: v for k, v in (span.attributes or {}).items() if k.startswith("gen_ai.")}


def by_scope(otel: Otel) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for span in otel.spans():
        found.setdefault(span.instrumentation_scope.name, []).append(span)
    return found


@pytest.fixture
def contrib_instrumentor(otel: Otel) -> Iterator[None]:
    from opentelemetry.instrumentation.httpx import HTTPX2ClientInstrumentor

    instrumentor = HTTPX2ClientInstrumentor()
    instrumentor.instrument(tracer_provider=otel.tracer_provider)
    yield
    instrumentor.uninstrument()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
async def test_anthropic_sdk_spans_own_the_genai_layer(  # noqa: PLR0917
    make_stack, llm_url: str, otel: Otel, contrib_instrumentor: None, mode: str, stream: bool
) -> None:
    import anthropic

    stack = make_stack(Tracing(**otel.tracing_kwargs()))
    options: dict[str, Any] = {
        "api_key": "sk-ant-test",
        "base_url": llm_url,
        "max_retries": 0,
        "open_telemetry": {"tracer_provider": otel.tracer_provider},
    }
    call: dict[str, Any] = {
        "model": "claude-test-model",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "hi"}],
    }
    if mode == "sync":
        client = anthropic.Anthropic(http_client=stack.client("httpx2"), **options)
        if stream:
            with client.messages.stream(**call) as events:
                for _ in events:
                    pass
        else:
            client.messages.create(**call)
        client.close()
    else:
        async_client = anthropic.AsyncAnthropic(http_client=stack.async_client("httpx2"), **options)
        if stream:
            async with async_client.messages.stream(**call) as async_events:
                async for _ in async_events:
                    pass
        else:
            await async_client.messages.create(**call)
        await async_client.close()

    scopes = by_scope(otel)
    [sdk_span] = scopes["com.anthropic.sdk.python"]
    [attempt] = scopes["wireline"]
    assert "opentelemetry.instrumentation.httpx" not in scopes  # suppressed under Tracing
    assert attempt.parent.span_id == sdk_span.context.span_id
    assert attempt.name == "POST"
    assert genai(attempt) == {}  # the SDK's span has them; Tracing adds none
    assert genai(sdk_span)["gen_ai.provider.name"] == "anthropic"
    assert otel.points("gen_ai.client.token.usage") == []
    assert otel.points("http.client.request.duration")


@pytest.mark.parametrize("mode", MODES)
async def test_mistralai_tracing_hook_owns_the_genai_layer(
    make_stack, llm_url: str, global_otel: Otel, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    from mistralai.client import Mistral

    # mistralai traces only when told to; "global" sends its spans to the global provider.
    monkeypatch.setenv("MISTRAL_SDK_TELEMETRY", "global")
    stack = make_stack(Tracing())
    messages: Any = [{"role": "user", "content": "hi"}]
    if mode == "sync":
        client = Mistral(api_key="test", server_url=llm_url, client=stack.client("httpx2"))
        client.chat.complete(model="mistral-large-latest", messages=messages)
    else:
        client = Mistral(api_key="test", server_url=llm_url, async_client=stack.async_client("httpx2"))
        await client.chat.complete_async(model="mistral-large-latest", messages=messages)

    scopes = by_scope(global_otel)
    [sdk_span] = scopes["mistralai_sdk_tracer"]
    [attempt] = scopes["wireline"]
    assert attempt.parent.span_id == sdk_span.context.span_id
    assert genai(attempt) == {}
    assert genai(sdk_span)["gen_ai.provider.name"] == "mistral_ai"
