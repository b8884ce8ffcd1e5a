"""The SDK rows of the matrix (reference/sdk-matrix.md) as data, and the test layers the provider tests use.

A :class:`Row` knows how to build its SDK's client through its wireline adapter against the local
``llm_server``, how to make a plain and a streamed call with it (sync or async) and get the text
back, and what the request must look like on the wire (path, auth header). :func:`cases` crosses the
rows with sync/async, plain/streamed and every base transport that can serve the SDK's flavour in
that mode (a backend that cannot is left out, not skipped), like the ``driver`` fixture does.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest
from opentelemetry import propagate, trace

from tests.conftest import BASE_TRANSPORTS
from wireline import extensions
from wireline._flavors import flavor_of
from wireline.middleware import Middleware, StreamEnd, observe
from wireline.middleware.retry import Retry, RetryEvent
from wireline.registry import load_object
from wireline.testing import LLMServer

MESSAGES: Any = [{"role": "user", "content": "hi"}]


# -- the layers the tests put in stacks ------------------------------------------------------------


@dataclass
class Seen:
    """One request as a layer of the stack saw it."""

    flavor: str
    asynchronous: bool
    method: str
    path: str
    provider: str | None
    sdk_traces: bool
    timeout: dict[str, float | None] | None
    headers: dict[str, str]
    attempt: int | None


class Recorder(Middleware):
    """Notes every request that passes, and how each response body ended."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.ends: list[StreamEnd] = []

    def on_request(self, request: Any) -> None:
        self.seen.append(
            Seen(
                flavor=flavor_of(request).name,
                asynchronous=extensions.is_async(request),
                method=request.method,
                path=request.url.path,
                provider=request.extensions.get(extensions.PROVIDER),
                sdk_traces=bool(request.extensions.get(extensions.SDK_TRACES)),
                timeout=request.extensions.get("timeout"),
                headers=dict(request.headers),
                attempt=request.extensions.get(extensions.ATTEMPT),
            )
        )

    def on_response(self, request: Any, response: Any) -> None:
        observe(response, self)

    def on_end(self, end: StreamEnd) -> None:
        self.ends.append(end)


def retrying(events: list[RetryEvent] | None = None, *, attempts: int = 3) -> Retry:
    """wireline's ``Retry`` as the tests use it: its decisions noted in ``events``, no log lines."""
    return Retry(attempts=attempts, on_retry=None if events is None else events.append, log=False)


class TraceForTests(Middleware):
    """A span per attempt, whose context it injects (``traceparent``): a stand-in for wireline's ``Tracing``."""

    def __init__(self, tracer_provider: Any) -> None:
        self.tracer = tracer_provider.get_tracer("wireline-tests")
        self.spans: list[Any] = []

    @property
    def propagates_trace_context(self) -> bool:
        return True

    def handle(self, request: Any) -> Any:
        span = self.tracer.start_span("POST", kind=trace.SpanKind.CLIENT)
        self.spans.append(span)
        propagate.inject(request.headers, context=trace.set_span_in_context(span))
        try:
            return (yield request)
        finally:
            span.end()


# -- the rows ------------------------------------------------------------------------------------


def _joined(pieces: Iterable[str | None]) -> str:
    return "".join(piece or "" for piece in pieces)


@dataclass(frozen=True)
class Row:
    """One SDK of the matrix, driven through its wireline adapter."""

    name: str
    adapter: str
    flavor: str
    provider: str
    auth_header: str
    auth_value: str
    #: The path the server must see, plain and streamed.
    paths: tuple[str, str]
    #: The SDK's constructor arguments for the local server.
    kwargs: Callable[[LLMServer], dict[str, Any]]
    #: (client, stream) -> text, for the sync and the async client.
    sync_call: Callable[[Any, bool], str]
    async_call: Callable[[Any, bool], Any]
    #: Whether the SDK retries a 429 by default, for plain and streamed calls.
    retries_by_default: tuple[bool, bool] = (True, True)
    #: The read timeout in force when the user gives none.
    default_read_timeout: float = 600
    #: The SDK's own timeout option set to 7 seconds (constructor arguments, for the local server).
    seven_seconds: Callable[[LLMServer], dict[str, Any]] = lambda _server: {"timeout": 7}
    #: Whether closing the SDK client closes the client it was given.
    closes_its_client: bool = True
    #: Headers that differ from what the SDK sends with a client of its own, and why.
    header_differences: dict[str, str] = field(default_factory=dict)
    #: The SDK's sync client class, ``"module:Class"``.
    sdk_class: str = "openai:OpenAI"

    def module(self) -> Any:
        return importlib.import_module(f"wireline.providers.{self.adapter}")

    def build(self, stack: Any, server: LLMServer, *, asynchronous: bool, **extra: Any) -> Any:
        adapter = self.module()
        factory = adapter.async_client if asynchronous else adapter.client
        return factory(stack, **{**self.kwargs(server), **extra})

    def own_client(self, server: LLMServer) -> Any:
        """The SDK's sync client, with the HTTP client the SDK makes itself (no wireline)."""
        kwargs = self.kwargs(server)
        kwargs.pop("provider_name", None)  # the adapter's, not the SDK's
        return load_object(self.sdk_class)(**kwargs)

    async def call(self, client: Any, *, asynchronous: bool, stream: bool) -> str:
        if asynchronous:
            return str(await self.async_call(client, stream))
        return self.sync_call(client, stream)

    def __str__(self) -> str:
        return self.name


# OpenAI chat completions, shared by OpenAI, Azure, OpenAI-compatible servers and Groq.
def _chat_sync(client: Any, stream: bool) -> str:
    if stream:
        chunks = client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        return _joined(chunk.choices[0].delta.content for chunk in chunks if chunk.choices)
    return str(client.chat.completions.create(model="m", messages=MESSAGES).choices[0].message.content)


async def _chat_async(client: Any, stream: bool) -> str:
    if stream:
        chunks = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        return _joined([chunk.choices[0].delta.content async for chunk in chunks if chunk.choices])
    reply = await client.chat.completions.create(model="m", messages=MESSAGES)
    return str(reply.choices[0].message.content)


def _responses_sync(client: Any, stream: bool) -> str:
    if stream:
        events = client.responses.create(model="m", input="hi", stream=True)
        return _joined(event.delta for event in events if event.type == "response.output_text.delta")
    return str(client.responses.create(model="m", input="hi").output_text)


async def _responses_async(client: Any, stream: bool) -> str:
    if stream:
        events = await client.responses.create(model="m", input="hi", stream=True)
        return _joined([event.delta async for event in events if event.type == "response.output_text.delta"])
    return str((await client.responses.create(model="m", input="hi")).output_text)


def _anthropic_sync(client: Any, stream: bool) -> str:
    if stream:
        events = client.messages.create(model="claude", max_tokens=64, messages=MESSAGES, stream=True)
        return _joined(event.delta.text for event in events if event.type == "content_block_delta")
    return str(client.messages.create(model="claude", max_tokens=64, messages=MESSAGES).content[0].text)


async def _anthropic_async(client: Any, stream: bool) -> str:
    if stream:
        events = await client.messages.create(model="claude", max_tokens=64, messages=MESSAGES, stream=True)
        return _joined([event.delta.text async for event in events if event.type == "content_block_delta"])
    reply = await client.messages.create(model="claude", max_tokens=64, messages=MESSAGES)
    return str(reply.content[0].text)


def _gemini_sync(client: Any, stream: bool) -> str:
    if stream:
        return _joined(chunk.text for chunk in client.models.generate_content_stream(model="gemini-x", contents="hi"))
    return str(client.models.generate_content(model="gemini-x", contents="hi").text)


async def _gemini_async(client: Any, stream: bool) -> str:
    if stream:
        chunks = await client.models.generate_content_stream(model="gemini-x", contents="hi")
        return _joined([chunk.text async for chunk in chunks])
    return str((await client.models.generate_content(model="gemini-x", contents="hi")).text)


def _mistral_sync(client: Any, stream: bool) -> str:
    if stream:
        return _joined(
            event.data.choices[0].delta.content for event in client.chat.stream(model="m", messages=MESSAGES)
        )
    return str(client.chat.complete(model="m", messages=MESSAGES).choices[0].message.content)


async def _mistral_async(client: Any, stream: bool) -> str:
    if stream:
        events = await client.chat.stream_async(model="m", messages=MESSAGES)
        return _joined([event.data.choices[0].delta.content async for event in events])
    return str((await client.chat.complete_async(model="m", messages=MESSAGES)).choices[0].message.content)


def _cohere_text(event: Any) -> str | None:
    return event.delta.message.content.text if event.type == "content-delta" else None


def _cohere_sync(client: Any, stream: bool) -> str:
    if stream:
        return _joined(_cohere_text(event) for event in client.chat_stream(model="command", messages=MESSAGES))
    return str(client.chat(model="command", messages=MESSAGES).message.content[0].text)


async def _cohere_async(client: Any, stream: bool) -> str:
    if stream:
        return _joined([_cohere_text(event) async for event in client.chat_stream(model="command", messages=MESSAGES)])
    return str((await client.chat(model="command", messages=MESSAGES)).message.content[0].text)


GEMINI_TIMEOUT = {"X-Server-Timeout": "the adapter's 600 s default timeout, which the SDK also sends to the server"}

ROWS: dict[str, Row] = {
    row.name: row
    for row in [
        Row(
            name="openai",
            adapter="openai",
            flavor="httpx2",
            provider="openai",
            auth_header="authorization",
            auth_value="Bearer sk-openai",
            paths=("/v1/chat/completions", "/v1/chat/completions"),
            kwargs=lambda s: {"api_key": "sk-openai", "base_url": f"{s.url}/v1"},
            sync_call=_chat_sync,
            async_call=_chat_async,
        ),
        Row(
            name="openai-responses",
            adapter="openai",
            flavor="httpx2",
            provider="openai",
            auth_header="authorization",
            auth_value="Bearer sk-openai",
            paths=("/v1/responses", "/v1/responses"),
            kwargs=lambda s: {"api_key": "sk-openai", "base_url": f"{s.url}/v1"},
            sync_call=_responses_sync,
            async_call=_responses_async,
        ),
        Row(
            name="azure_openai",
            sdk_class="openai:AzureOpenAI",
            adapter="azure_openai",
            flavor="httpx2",
            provider="azure.ai.openai",
            auth_header="api-key",
            auth_value="azure-key",
            paths=("/openai/deployments/m/chat/completions",) * 2,
            kwargs=lambda s: {"api_key": "azure-key", "azure_endpoint": s.url, "api_version": "2024-10-21"},
            sync_call=_chat_sync,
            async_call=_chat_async,
        ),
        Row(
            name="openai_compatible",
            adapter="openai_compatible",
            flavor="httpx2",
            provider="deepseek",
            auth_header="authorization",
            auth_value="Bearer sk-compatible",
            paths=("/v1/chat/completions", "/v1/chat/completions"),
            kwargs=lambda s: {"api_key": "sk-compatible", "base_url": f"{s.url}/v1", "provider_name": "deepseek"},
            sync_call=_chat_sync,
            async_call=_chat_async,
        ),
        Row(
            name="anthropic",
            sdk_class="anthropic:Anthropic",
            adapter="anthropic",
            flavor="httpx2",
            provider="anthropic",
            auth_header="authorization",
            auth_value="Bearer sk-ant",
            paths=("/v1/messages", "/v1/messages"),
            kwargs=lambda s: {"api_key": "sk-ant", "base_url": s.url},
            sync_call=_anthropic_sync,
            async_call=_anthropic_async,
        ),
        Row(
            name="gemini",
            sdk_class="google.genai:Client",
            adapter="gemini",
            flavor="httpx2",
            provider="gcp.gemini",
            auth_header="x-goog-api-key",
            auth_value="gemini-key",
            paths=("/v1/models/gemini-x:generateContent", "/v1/models/gemini-x:streamGenerateContent"),
            kwargs=lambda s: {"api_key": "gemini-key", "http_options": {"base_url": s.url}},
            sync_call=_gemini_sync,
            async_call=_gemini_async,
            retries_by_default=(False, False),
            seven_seconds=lambda s: {"http_options": {"base_url": s.url, "timeout": 7000}},
            closes_its_client=False,
            header_differences=GEMINI_TIMEOUT,
        ),
        Row(
            name="mistral",
            sdk_class="mistralai.client:Mistral",
            adapter="mistral",
            flavor="httpx2",
            provider="mistral_ai",
            auth_header="authorization",
            auth_value="Bearer mistral-key",
            paths=("/v1/chat/completions", "/v1/chat/completions"),
            kwargs=lambda s: {"api_key": "mistral-key", "server_url": s.url},
            sync_call=_mistral_sync,
            async_call=_mistral_async,
            retries_by_default=(False, False),
            default_read_timeout=300,
            seven_seconds=lambda _server: {"timeout_ms": 7000},
            closes_its_client=False,
        ),
        Row(
            name="cohere",
            sdk_class="cohere:ClientV2",
            adapter="cohere",
            flavor="httpx",
            provider="cohere",
            auth_header="authorization",
            auth_value="Bearer cohere-key",
            paths=("/v2/chat", "/v2/chat"),
            kwargs=lambda s: {"api_key": "cohere-key", "base_url": s.url},
            sync_call=_cohere_sync,
            async_call=_cohere_async,
            retries_by_default=(True, False),
            default_read_timeout=300,
        ),
        Row(
            name="groq",
            sdk_class="groq:Groq",
            adapter="groq",
            flavor="httpx",
            provider="groq",
            auth_header="authorization",
            auth_value="Bearer gsk-groq",
            paths=("/openai/v1/chat/completions", "/openai/v1/chat/completions"),
            kwargs=lambda s: {"api_key": "gsk-groq", "base_url": s.url},
            sync_call=_chat_sync,
            async_call=_chat_async,
            default_read_timeout=60,
        ),
    ]
}


@dataclass(frozen=True)
class Case:
    """One row, in one mode, plain or streamed, over one base transport."""

    row: Row
    asynchronous: bool
    stream: bool
    base: str

    @property
    def path(self) -> str:
        return self.row.paths[self.stream]

    def build(self, stack: Any, server: LLMServer, **extra: Any) -> Any:
        return self.row.build(stack, server, asynchronous=self.asynchronous, **extra)

    async def call(self, client: Any) -> str:
        return await self.row.call(client, asynchronous=self.asynchronous, stream=self.stream)

    def __str__(self) -> str:
        mode = "async" if self.asynchronous else "sync"
        return f"{self.row.name}-{mode}-{'stream' if self.stream else 'plain'}-{self.base}"


def cases(rows: Iterable[str] | None = None, *, streams: Iterable[bool] = (False, True)) -> list[Any]:
    """``pytest.param`` s of every :class:`Case` of ``rows`` a base transport can serve."""
    params = []
    for name in rows if rows is not None else ROWS:
        row = ROWS[name]
        for asynchronous in (False, True):
            for stream in streams:
                for base in bases_for(row.flavor, asynchronous=asynchronous):
                    case = Case(row, asynchronous, stream, base)
                    params.append(pytest.param(case, id=str(case)))
    return params


def bases_for(flavor: str, *, asynchronous: bool) -> list[str]:
    """The base transports under test that serve clients of ``flavor`` in that mode."""
    return [
        name
        for name in sorted(BASE_TRANSPORTS)
        if BASE_TRANSPORTS[name]().unsupported(flavor, asynchronous=asynchronous) is None
    ]


async def close_sdk(client: Any, *, asynchronous: bool) -> None:
    """Close an SDK client as its users do: leave its ``with`` / ``async with`` block.

    (Every SDK here has one; Cohere's clients have no ``close()`` at all.)
    """
    if asynchronous:
        await client.__aexit__(None, None, None)
    else:
        client.__exit__(None, None, None)


def given_http_client(client: Any, *, asynchronous: bool) -> Any:
    """The HTTP client an SDK client was given (each SDK keeps it somewhere of its own)."""
    if hasattr(client, "_client_wrapper"):  # Cohere
        return client._client_wrapper.httpx_client.httpx_client
    if hasattr(client, "sdk_configuration"):  # Mistral
        config = client.sdk_configuration
        return config.async_client if asynchronous else config.client
    if hasattr(client, "_api_client"):  # Gemini (.aio too)
        api = client._api_client
        return api._async_httpx_client if asynchronous else api._httpx_client
    return client._client  # the Stainless SDKs
