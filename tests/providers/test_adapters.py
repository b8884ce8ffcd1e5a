"""The adapters' own rules: registration, missing SDKs, settings they refuse, settings they pass on."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import pytest

import wireline
from tests.providers.sdks import MESSAGES, ROWS, Recorder
from wireline import providers
from wireline.registry import registry
from wireline.testing import ANSWER, LLMServer
from wireline.transports import HTTPTransport

pytestmark = pytest.mark.anyio

StackFactory = Callable[..., wireline.Stack]

ADAPTERS = ["anthropic", "azure_openai", "cohere", "gemini", "groq", "mistral", "openai", "openai_compatible"]
SDK_CLASSES = {
    "anthropic": ("anthropic:Anthropic", "anthropic:AsyncAnthropic"),
    "azure_openai": ("openai:AzureOpenAI", "openai:AsyncAzureOpenAI"),
    "cohere": ("cohere:ClientV2", "cohere:AsyncClientV2"),
    "gemini": ("google.genai:Client", "google.genai.client:AsyncClient"),
    "groq": ("groq:Groq", "groq:AsyncGroq"),
    "mistral": ("mistralai.client:Mistral", "mistralai.client:Mistral"),
    "openai": ("openai:OpenAI", "openai:AsyncOpenAI"),
    "openai_compatible": ("openai:OpenAI", "openai:AsyncOpenAI"),
}
# The module each adapter imports, and the extra that installs it.
SDK_MODULES = {
    "anthropic": ("anthropic", "anthropic"),
    "azure_openai": ("openai", "azure-openai"),
    "cohere": ("cohere", "cohere"),
    "gemini": ("google.genai", "gemini"),
    "groq": ("groq", "groq"),
    "mistral": ("mistralai.client", "mistral"),
    "openai": ("openai", "openai"),
    "openai_compatible": ("openai", "openai-compatible"),
}


def test_every_adapter_is_registered_by_module() -> None:
    """Each adapter is an entry point of wireline.providers naming its module."""
    plugins = {plugin.name: plugin for plugin in registry.entries("providers")}
    assert set(ADAPTERS) <= set(plugins)
    for name in ADAPTERS:
        assert plugins[name].value == f"wireline.providers.{name}"
        assert plugins[name].distribution == "wireline"
        assert plugins[name].load() is getattr(providers, name)


@pytest.mark.parametrize("name", ADAPTERS)
@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_build_by_name_gives_the_sdks_client(name: str, asynchronous: bool, llm: LLMServer) -> None:
    """``providers.build(name, ...)`` gives the SDK's own client class, sync or async."""
    from wireline.registry import load_object

    with wireline.Stack() as stack:
        client = providers.build(name, stack, asynchronous=asynchronous, **ROWS[name].kwargs(llm))
    assert isinstance(client, load_object(SDK_CLASSES[name][asynchronous]))


@pytest.mark.parametrize("name", [*ADAPTERS, "litellm"])
def test_a_missing_sdk_names_the_extra_to_install(name: str, monkeypatch: pytest.MonkeyPatch, llm: LLMServer) -> None:
    module, extra = SDK_MODULES.get(name, ("litellm", "litellm"))
    monkeypatch.setitem(sys.modules, module, None)  # `import module` now fails as if it were not installed
    adapter = getattr(providers, name)
    build = adapter.install if name == "litellm" else lambda stack: adapter.client(stack, **ROWS[name].kwargs(llm))
    with pytest.raises(wireline.MissingDependencyError, match=rf"pip install 'wireline\[{extra}\]'") as caught:
        build(wireline.Stack())
    assert isinstance(caught.value, ImportError)
    assert f"wireline.providers.{name}" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "setting"),
    [
        ("openai", "http_client"),
        ("azure_openai", "http_client"),
        ("anthropic", "http_client"),
        ("groq", "http_client"),
        ("openai_compatible", "http_client"),
        ("cohere", "httpx_client"),
        ("mistral", "client"),
        ("mistral", "async_client"),
    ],
)
def test_a_client_of_the_users_own_is_refused(name: str, setting: str, llm: LLMServer) -> None:
    """The adapter builds the SDK's HTTP client; one given alongside would bypass the stack."""
    with pytest.raises(wireline.ConfigError, match=rf"{name}\({setting}=\.\.\.\): expected no {setting}= here"):
        ROWS[name].build(wireline.Stack(), llm, asynchronous=False, **{setting: object()})


@pytest.mark.parametrize("setting", ["httpx_client", "httpx_async_client", "aiohttp_client", "client_args"])
async def test_gemini_refuses_http_options_that_build_clients(setting: str, llm: LLMServer) -> None:
    """Clients (or client arguments) of the user's own in ``http_options`` would bypass the stack."""
    import aiohttp
    import httpx2

    values: dict[str, Any] = {
        "httpx_client": httpx2.Client,
        "httpx_async_client": httpx2.AsyncClient,
        "aiohttp_client": aiohttp.ClientSession,
        "client_args": dict,
    }
    value = values[setting]()
    try:
        with pytest.raises(wireline.ConfigError, match=rf"gemini\(http_options.{setting}=\.\.\.\)"):
            providers.gemini.client(wireline.Stack(), api_key="k", http_options={"base_url": llm.url, setting: value})
    finally:
        closing = getattr(value, "aclose", None) or getattr(value, "close", None)
        if closing is not None:
            result = closing()
            if result is not None:
                await result


def test_gemini_refuses_http_options_of_the_wrong_kind() -> None:
    with pytest.raises(wireline.ConfigError, match=r"gemini\(http_options=\.\.\.\): expected a google.genai.types"):
        providers.gemini.client(wireline.Stack(), api_key="k", http_options="fast")


async def test_gemini_merges_its_settings_into_the_users_http_options(llm: LLMServer, sdk_stack: StackFactory) -> None:
    """An ``HttpOptions`` object keeps the user's settings, gains the stack's clients, and is not changed."""
    from google.genai import types

    recorder = Recorder()
    options = types.HttpOptions(base_url=llm.url, headers={"x-team": "search"}, api_version="v1beta")
    client = providers.gemini.client(sdk_stack("http", recorder), api_key="k", http_options=options)
    assert options.httpx_client is None
    assert options.timeout is None

    assert client.models.generate_content(model="gemini-x", contents="hi").text == ANSWER
    assert (await client.aio.models.generate_content(model="gemini-x", contents="hi")).text == ANSWER

    assert [r.route for r in llm.received] == ["/v1beta/models/gemini-x:generateContent"] * 2
    assert {r.header("x-team") for r in llm.received} == {"search"}
    assert [(seen.asynchronous, seen.provider) for seen in recorder.seen] == [
        (False, "gcp.gemini"),
        (True, "gcp.gemini"),
    ]


@pytest.mark.parametrize(
    ("kwargs", "environment", "vertex"),
    [
        ({}, {}, False),
        ({"vertexai": True}, {}, True),
        ({"enterprise": True}, {}, True),
        ({}, {"GOOGLE_GENAI_USE_VERTEXAI": "true"}, True),
        ({}, {"GOOGLE_GENAI_USE_ENTERPRISE": "1"}, True),
        ({"vertexai": False}, {"GOOGLE_GENAI_USE_VERTEXAI": "true"}, False),
    ],
)
def test_a_vertex_ai_client_is_tagged_as_vertex_ai(
    kwargs: dict[str, Any], environment: dict[str, str], vertex: bool, llm: LLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``gcp.vertex_ai`` when the SDK talks to Vertex AI, by the SDK's own rule (checked against the SDK)."""
    for variable in ("GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_GENAI_USE_ENTERPRISE"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    recorder = Recorder()
    with wireline.Stack(recorder) as stack:
        client = providers.gemini.client(stack, api_key="k", http_options={"base_url": llm.url}, **kwargs)
        assert bool(client._api_client.vertexai) is vertex
        client.models.generate_content(model="gemini-x", contents="hi")
    assert recorder.seen[0].provider == ("gcp.vertex_ai" if vertex else "gcp.gemini")


def test_a_mistral_client_built_for_sync_calls_also_sends_async_calls_through_the_stack(llm: LLMServer) -> None:
    """One Mistral object makes both kinds of call; both go through the stack (Gemini's ``.aio`` likewise)."""
    import asyncio

    recorder = Recorder()
    with wireline.Stack(recorder) as stack:
        mistral = providers.mistral.client(stack, api_key="k", server_url=llm.url)
        gemini = providers.gemini.client(stack, api_key="k", http_options={"base_url": llm.url})

        async def both() -> None:
            await mistral.chat.complete_async(model="m", messages=MESSAGES)
            await gemini.aio.models.generate_content(model="gemini-x", contents="hi")

        asyncio.run(both())
    assert [(seen.asynchronous, seen.provider) for seen in recorder.seen] == [
        (True, "mistral_ai"),
        (True, "gcp.gemini"),
    ]
    assert len(llm.received) == 2


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("base_url", r"openai_compatible\(base_url=\.\.\.\): expected the server's base URL"),
        ("api_key", r"openai_compatible\(api_key=\.\.\.\): expected the server's API key .* OPENAI_API_KEY"),
    ],
)
def test_an_openai_compatible_client_needs_its_base_url_and_key(
    missing: str, message: str, llm: LLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without its own key, the OpenAI SDK would send OPENAI_API_KEY to another vendor's server: refused."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-the-real-openai-key")
    kwargs = {"api_key": "k", "base_url": f"{llm.url}/v1"}
    del kwargs[missing]
    with pytest.raises(wireline.ConfigError, match=message) as caught:
        providers.openai_compatible.client(wireline.Stack(), **kwargs)
    assert "sk-the-real-openai-key" not in str(caught.value)


def test_an_openai_compatible_client_is_tagged_with_the_vendor_given(llm: LLMServer) -> None:
    recorder = Recorder()
    with wireline.Stack(recorder) as stack:
        for name in ("x_ai", None):
            extra = {} if name is None else {"provider_name": name}
            client = providers.openai_compatible.client(stack, api_key="k", base_url=f"{llm.url}/v1", **extra)
            client.chat.completions.create(model="m", messages=MESSAGES)
        with pytest.raises(wireline.ConfigError, match=r"provider_name=\.\.\.\): expected a gen_ai.provider.name"):
            providers.openai_compatible.client(stack, api_key="k", base_url=f"{llm.url}/v1", provider_name="")
    assert [seen.provider for seen in recorder.seen] == ["x_ai", "openai_compatible"]


@pytest.mark.parametrize(
    ("name", "kwargs", "header", "value"),
    [
        ("openai", {"default_headers": {"x-team": "search"}, "organization": "org-1"}, "openai-organization", "org-1"),
        ("azure_openai", {"default_headers": {"x-team": "search"}}, "x-team", "search"),
        ("anthropic", {"default_headers": {"x-team": "search"}}, "x-team", "search"),
        ("groq", {"default_headers": {"x-team": "search"}}, "x-team", "search"),
        ("cohere", {"client_name": "search"}, "x-client-name", "search"),
    ],
)
def test_sdk_settings_reach_the_sdk_unchanged(
    name: str, kwargs: dict[str, Any], header: str, value: str, llm: LLMServer
) -> None:
    row = ROWS[name]
    with wireline.Stack() as stack:
        client = row.build(stack, llm, asynchronous=False, **kwargs)
        row.sync_call(client, False)
    assert llm.received[0].header(header) == value


def test_the_default_timeouts_are_the_sdks_own(llm: LLMServer) -> None:
    """What each SDK client reports as its timeout is the SDK's own default (Cohere: its documented 300 s)."""
    import anthropic
    import groq
    import openai

    with wireline.Stack() as stack:
        assert providers.openai.client(stack, api_key="k").timeout == openai.DEFAULT_TIMEOUT
        assert providers.anthropic.client(stack, api_key="k").timeout == anthropic.DEFAULT_TIMEOUT
        assert providers.groq.client(stack, api_key="k").timeout == groq.DEFAULT_TIMEOUT
        assert providers.openai.client(stack, api_key="k", timeout=9).timeout == 9
        cohere_client = providers.cohere.client(stack, api_key="k")
        assert cohere_client._client_wrapper.httpx_client.httpx_client.timeout.read == 300


class AsyncOnly(HTTPTransport):
    """A base transport that serves async clients only (as an aiohttp backend would)."""

    def unsupported(self, flavor: str, *, asynchronous: bool) -> str | None:
        return None if asynchronous else "this backend serves async clients only"


@pytest.mark.parametrize("name", ["gemini", "mistral"])
async def test_sdks_given_both_clients_fail_loudly_in_a_mode_the_base_cannot_serve(name: str, llm: LLMServer) -> None:
    """Over an async-only base, async calls go through the stack; sync calls raise the stack's reason.

    They never fall back to a client of the SDK's own, around the stack.
    """
    row = ROWS[name]
    recorder = Recorder()
    stack = wireline.Stack(recorder, transport=AsyncOnly())
    try:
        client = row.build(stack, llm, asynchronous=False)
        async_side = client.aio if name == "gemini" else client
        assert (await row.async_call(async_side, False)).text == ANSWER
        with pytest.raises(wireline.ConfigError, match="this backend serves async clients only"):
            row.sync_call(client, False)
    finally:
        await stack.aclose()
    assert len(llm.received) == len(recorder.seen) == 1
