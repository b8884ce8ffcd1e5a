"""What the SDKs do with an injected client, without the adapters: the facts of the matrix the adapters work around.

If one of these fails after an SDK upgrade, the matrix (and maybe an adapter) needs another look.
"""

from __future__ import annotations

from typing import Any

import pytest

import wireline
from tests.providers.sdks import MESSAGES, Recorder
from wireline.testing import ANSWER, LLMServer

pytestmark = pytest.mark.anyio


@pytest.fixture
def recorded() -> Any:
    recorder = Recorder()
    with wireline.Stack(recorder) as stack:
        yield stack, recorder


def test_flavours_each_sdk_accepts(recorded: Any, llm: LLMServer) -> None:
    """Anthropic refuses httpx clients, Groq refuses httpx2 ones, OpenAI takes both."""
    import anthropic
    import groq
    import openai

    stack, _ = recorded
    with pytest.raises(TypeError, match="this SDK uses `httpx2`"):
        anthropic.Anthropic(api_key="k", http_client=stack.client("httpx"))
    with pytest.raises(TypeError, match="Invalid `http_client` argument"):
        groq.Groq(api_key="k", http_client=stack.client("httpx2"))
    for flavor in ("httpx", "httpx2"):
        client = openai.OpenAI(api_key="k", base_url=f"{llm.url}/v1", http_client=stack.client(flavor))
        assert client.chat.completions.create(model="m", messages=MESSAGES).choices[0].message.content == ANSWER


def test_cohere_does_not_check_the_flavour(recorded: Any) -> None:
    """An httpx2 client is accepted, and fails at the first call (httpx's USE_CLIENT_DEFAULT reaches httpcore2)."""
    import cohere

    stack, _ = recorded
    client = cohere.ClientV2(api_key="k", httpx_client=stack.client("httpx2"))
    assert client._client_wrapper.httpx_client.httpx_client.__class__.__module__.startswith("httpx2")


def test_stainless_sdks_replace_only_the_exact_httpx_default_timeout(recorded: Any) -> None:
    import httpx2
    import openai

    stack, _ = recorded
    assert openai.OpenAI(api_key="k", http_client=stack.client("httpx2")).timeout == openai.DEFAULT_TIMEOUT
    assert openai.OpenAI(api_key="k", http_client=stack.client("httpx2", timeout=6)).timeout == httpx2.Timeout(6)


def test_cohere_uses_an_injected_clients_5_second_default(recorded: Any, llm: LLMServer) -> None:
    import cohere

    stack, recorder = recorded
    cohere.ClientV2(api_key="k", base_url=llm.url, httpx_client=stack.client("httpx")).chat(
        model="command", messages=MESSAGES
    )
    assert recorder.seen[0].timeout == {"connect": 5.0, "read": 5.0, "write": 5.0, "pool": 5.0}


def test_gemini_sends_no_timeout_and_mistral_its_own(recorded: Any, llm: LLMServer) -> None:
    """Both ignore the client's timeout: Gemini sends none, Mistral 300 s."""
    from google import genai
    from mistralai.client import Mistral

    stack, recorder = recorded
    options: Any = {"base_url": llm.url, "httpx_client": stack.client("httpx2", timeout=9)}
    genai.Client(api_key="k", http_options=options).models.generate_content(model="g", contents="hi")
    Mistral(api_key="k", server_url=llm.url, client=stack.client("httpx2", timeout=9)).chat.complete(
        model="m", messages=MESSAGES
    )
    assert [seen.timeout["read"] if seen.timeout else None for seen in recorder.seen] == [None, 300]


@pytest.mark.filterwarnings("ignore:Inheritance class AiohttpClientSession:DeprecationWarning")
async def test_gemini_given_only_a_sync_client_sends_async_calls_around_it(recorded: Any, llm: LLMServer) -> None:
    """With aiohttp installed, ``.aio`` calls skip the client given: why the adapter gives both."""
    from google import genai

    stack, recorder = recorded
    options: Any = {"base_url": llm.url, "httpx_client": stack.client("httpx2")}
    client = genai.Client(api_key="k", http_options=options)
    try:
        reply = await client.aio.models.generate_content_stream(model="g", contents="hi")
        assert "".join([chunk.text or "" async for chunk in reply]) == ANSWER
    finally:
        await client.aio.aclose()
    assert len(llm.received) == 1
    assert recorder.seen == []


@pytest.mark.parametrize("sdk", ["openai", "anthropic", "groq"])
async def test_closing_a_stainless_client_closes_the_client_it_was_given(
    sdk: str, recorded: Any, llm: LLMServer
) -> None:
    import importlib

    stack, _ = recorded
    module = importlib.import_module(sdk)
    flavor = "httpx" if sdk == "groq" else "httpx2"
    given = stack.client(flavor)
    client = getattr(module, {"openai": "OpenAI", "anthropic": "Anthropic", "groq": "Groq"}[sdk])(
        api_key="k", http_client=given
    )
    client.close()
    assert given.is_closed
    assert stack.client(flavor).post(f"{llm.url}/v1/chat/completions", json={}).status_code == 200
