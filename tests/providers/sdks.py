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


# -- the rows ------------------------------------------------------------------------------------


@dataclass
class Reply:
    """What an SDK call returned, as the SDK itself read it from the response.

    Besides the text: the id, model, finish reason and token counts the SDK parsed, for comparing
    with the GenAI data ``Tracing`` read from the same bytes (``None``: the SDK gives none).
    """

    text: str = ""
    id: str | None = None
    model: str | None = None
    finish_reason: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None

    def see(
        self,
        *,
        text: str | None = None,
        id: str | None = None,  # noqa: A002 - the field's name
        model: str | None = None,
        finish_reason: Any = None,
        input_tokens: float | None = None,
        output_tokens: float | None = None,
    ) -> None:
        """Add what one event (or the whole answer) shows: the first id and model, the last of the rest."""
        self.text += text or ""
        self.id = self.id or id
        self.model = self.model or model
        if finish_reason is not None:  # some SDKs give enums of strings
            self.finish_reason = str(getattr(finish_reason, "value", finish_reason))
        if input_tokens is not None:
            self.input_tokens = int(input_tokens)
        if output_tokens is not None:
            self.output_tokens = int(output_tokens)


def _usage(usage: Any, input_name: str, output_name: str) -> dict[str, Any]:
    if usage is None:
        return {}
    return {"input_tokens": getattr(usage, input_name), "output_tokens": getattr(usage, output_name)}


# OpenAI chat completions, shared by OpenAI, Azure, OpenAI-compatible servers, Groq and Mistral.
def _chat_reply(answers: Iterable[Any], *, stream: bool) -> Reply:
    reply = Reply()
    for answer in answers:
        for choice in answer.choices or ():
            text = choice.delta.content if stream else choice.message.content
            reply.see(text=text, finish_reason=choice.finish_reason)
        reply.see(id=answer.id, model=answer.model, **_usage(answer.usage, "prompt_tokens", "completion_tokens"))
    return reply


def _chat_sync(client: Any, stream: bool) -> Reply:
    answer = client.chat.completions.create(model="m", messages=MESSAGES, stream=stream)
    return _chat_reply(list(answer) if stream else [answer], stream=stream)


async def _chat_async(client: Any, stream: bool) -> Reply:
    answer = await client.chat.completions.create(model="m", messages=MESSAGES, stream=stream)
    return _chat_reply([chunk async for chunk in answer] if stream else [answer], stream=stream)


def _responses_reply(events: Iterable[Any]) -> Reply:
    reply = Reply()
    for event in events:
        if event.type == "response.output_text.delta":
            reply.see(text=event.delta)
        elif event.type == "response.completed":
            done = event.response
            usage = _usage(done.usage, "input_tokens", "output_tokens")
            reply.see(id=done.id, model=done.model, finish_reason=done.status, **usage)
    return reply


def _responses_whole(answer: Any) -> Reply:
    usage = _usage(answer.usage, "input_tokens", "output_tokens")
    reply = Reply()
    reply.see(text=answer.output_text, id=answer.id, model=answer.model, finish_reason=answer.status, **usage)
    return reply


def _responses_sync(client: Any, stream: bool) -> Reply:
    answer = client.responses.create(model="m", input="hi", stream=stream)
    return _responses_reply(answer) if stream else _responses_whole(answer)


async def _responses_async(client: Any, stream: bool) -> Reply:
    answer = await client.responses.create(model="m", input="hi", stream=stream)
    return _responses_reply([event async for event in answer]) if stream else _responses_whole(answer)


def _anthropic_reply(events: Iterable[Any]) -> Reply:
    reply = Reply()
    for event in events:
        if event.type == "message":  # the whole answer
            usage = _usage(event.usage, "input_tokens", "output_tokens")
            reply.see(text=event.content[0].text, id=event.id, model=event.model, finish_reason=event.stop_reason)
            reply.see(**usage)
        elif event.type == "message_start":
            message = event.message
            reply.see(id=message.id, model=message.model, input_tokens=message.usage.input_tokens)
        elif event.type == "content_block_delta":
            reply.see(text=event.delta.text)
        elif event.type == "message_delta":
            reply.see(finish_reason=event.delta.stop_reason, output_tokens=event.usage.output_tokens)
    return reply


def _anthropic_sync(client: Any, stream: bool) -> Reply:
    answer = client.messages.create(model="claude", max_tokens=64, messages=MESSAGES, stream=stream)
    return _anthropic_reply(answer if stream else [answer])


async def _anthropic_async(client: Any, stream: bool) -> Reply:
    answer = await client.messages.create(model="claude", max_tokens=64, messages=MESSAGES, stream=stream)
    return _anthropic_reply([event async for event in answer] if stream else [answer])


def _gemini_reply(answers: Iterable[Any]) -> Reply:
    reply = Reply()
    for answer in answers:
        usage = _usage(answer.usage_metadata, "prompt_token_count", "candidates_token_count")
        reply.see(text=answer.text, id=answer.response_id, model=answer.model_version, **usage)
        for candidate in answer.candidates or ():
            reply.see(finish_reason=candidate.finish_reason)
    return reply


def _gemini_sync(client: Any, stream: bool) -> Reply:
    if stream:
        return _gemini_reply(client.models.generate_content_stream(model="gemini-x", contents="hi"))
    return _gemini_reply([client.models.generate_content(model="gemini-x", contents="hi")])


async def _gemini_async(client: Any, stream: bool) -> Reply:
    if stream:
        chunks = await client.models.generate_content_stream(model="gemini-x", contents="hi")
        return _gemini_reply([chunk async for chunk in chunks])
    return _gemini_reply([await client.models.generate_content(model="gemini-x", contents="hi")])


def _mistral_sync(client: Any, stream: bool) -> Reply:
    if stream:
        return _chat_reply([event.data for event in client.chat.stream(model="m", messages=MESSAGES)], stream=True)
    return _chat_reply([client.chat.complete(model="m", messages=MESSAGES)], stream=False)


async def _mistral_async(client: Any, stream: bool) -> Reply:
    if stream:
        events = await client.chat.stream_async(model="m", messages=MESSAGES)
        return _chat_reply([event.data async for event in events], stream=True)
    return _chat_reply([await client.chat.complete_async(model="m", messages=MESSAGES)], stream=False)


def _cohere_reply(events: Iterable[Any]) -> Reply:
    reply = Reply()
    for event in events:
        kind = getattr(event, "type", None)
        if kind is None:  # the whole answer
            usage = _usage(event.usage.billed_units, "input_tokens", "output_tokens")
            reply.see(text=event.message.content[0].text, id=event.id, finish_reason=event.finish_reason, **usage)
        elif kind == "message-start":
            reply.see(id=event.id)
        elif kind == "content-delta":
            reply.see(text=event.delta.message.content.text)
        elif kind == "message-end":
            usage = _usage(event.delta.usage.billed_units, "input_tokens", "output_tokens")
            reply.see(finish_reason=event.delta.finish_reason, **usage)
    return reply


def _cohere_sync(client: Any, stream: bool) -> Reply:
    if stream:
        return _cohere_reply(client.chat_stream(model="command", messages=MESSAGES))
    return _cohere_reply([client.chat(model="command", messages=MESSAGES)])


async def _cohere_async(client: Any, stream: bool) -> Reply:
    if stream:
        return _cohere_reply([event async for event in client.chat_stream(model="command", messages=MESSAGES)])
    return _cohere_reply([await client.chat(model="command", messages=MESSAGES)])


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
    #: The model the row's calls ask for, and the ``gen_ai.operation.name`` of the call.
    model: str
    #: The SDK's constructor arguments for the local server.
    kwargs: Callable[[LLMServer], dict[str, Any]]
    #: (client, stream) -> :class:`Reply`, for the sync and the async client.
    sync_call: Callable[[Any, bool], Reply]
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
    operation: str = "chat"

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

    @property
    def api_key(self) -> str:
        """The API key the row's client is given (a secret no telemetry may show)."""
        return self.auth_value.removeprefix("Bearer ")

    async def call(self, client: Any, *, asynchronous: bool, stream: bool) -> str:
        """Make the row's call; the answer's text."""
        return (await self.reply(client, asynchronous=asynchronous, stream=stream)).text

    async def reply(self, client: Any, *, asynchronous: bool, stream: bool) -> Reply:
        """Make the row's call; what the SDK returned."""
        if asynchronous:
            reply: Reply = await self.async_call(client, stream)
            return reply
        return self.sync_call(client, stream)

    def __str__(self) -> str:
        return self.name


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
            model="m",
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
            model="m",
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
            model="m",
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
            model="m",
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
            model="claude",
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
            model="gemini-x",
            operation="generate_content",
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
            model="m",
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
            model="command",
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
            model="m",
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

    async def reply(self, client: Any) -> Reply:
        return await self.row.reply(client, asynchronous=self.asynchronous, stream=self.stream)

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
