"""``wireline demo``: wireline's main job, end to end, against an embedded local server.

It starts a server on 127.0.0.1 that imitates the LLM providers' APIs, builds one stack of the
built-in layers (Logging, Retry, Tracing, ProxyRouter), sends sync, async and streamed requests
through it with httpx and httpx2 clients and with every provider SDK that is installed, swaps the
base transport for a faster pool in one word (the same layers over aiohttp's), and prints what each
layer did: the log events, the spans, the retries, the shared connections. It
needs no network and no API key, and exits 0 when every check passed (1 otherwise).

The demo is an application, so unlike the library it configures structlog (to collect the
``wireline`` events and print them compactly) and OpenTelemetry (in-memory exporters, passed to
``Tracing`` explicitly).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import structlog

import wireline
from wireline import providers
from wireline.middleware import Logging, ProxyRouter, Retry, Tracing
from wireline.testing import llm_server, no_sleep
from wireline.testing.llm_server import LLMServer

__all__ = ["main"]

CHAT = "/v1/chat/completions"
OK = 200
RETRIED_TWICE = 3  # attempts the server sees when it fails twice
PLAIN_AND_STREAMED = 2  # requests an SDK makes for one plain and one streamed call
ONE_RETRY = 2  # attempts the server sees when one layer retries a 429 once
SECRET = "sk-demo-secret-0123456789"  # noqa: S105 - a made-up key, to show it is never logged


@dataclass
class Telemetry:
    """What the layers reported: structlog events and finished spans."""

    events: list[dict[str, Any]] = field(default_factory=list)
    exporter: Any = None  # an InMemorySpanExporter when the OpenTelemetry SDK is installed
    tracer_provider: Any = None
    meter_provider: Any = None

    def collect(self, _logger: Any, _name: str, event: MutableMapping[str, Any]) -> Mapping[str, Any]:
        self.events.append(dict(event))
        raise structlog.DropEvent

    def spans(self) -> list[Any]:
        return list(self.exporter.get_finished_spans()) if self.exporter is not None else []

    def clear(self) -> None:
        self.events.clear()
        if self.exporter is not None:
            self.exporter.clear()


def _telemetry() -> Telemetry:
    telemetry = Telemetry()
    structlog.configure(processors=[structlog.contextvars.merge_contextvars, telemetry.collect])
    if importlib.util.find_spec("opentelemetry.sdk") is not None:
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        telemetry.exporter = InMemorySpanExporter()
        telemetry.tracer_provider = TracerProvider()
        telemetry.tracer_provider.add_span_processor(SimpleSpanProcessor(telemetry.exporter))
        telemetry.meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()], shutdown_on_exit=False)
    return telemetry


@dataclass
class Scene:
    """What a scene needs, and where it notes failed checks."""

    stack: wireline.Stack
    server: LLMServer
    telemetry: Telemetry
    failures: list[str]

    def check(self, *, ok: bool, what: str) -> None:
        print(f"   {'ok ' if ok else 'FAIL'} {what}")
        if not ok:
            self.failures.append(what)

    def show_events(self) -> None:
        for event in self.telemetry.events:
            print(f"   log  {_event_line(event)}")

    def show_spans(self) -> None:
        for span in self.telemetry.spans():
            print(f"   span {_span_line(span)}")


_EVENT_FIELDS = ("method", "url", "status", "attempts", "provider", "bytes", "end", "duration_ms", "first_chunk_ms")


def _event_line(event: dict[str, Any]) -> str:
    shown = " ".join(f"{key}={event[key]}" for key in _EVENT_FIELDS if event.get(key) is not None)
    if event.get("event") == "wireline.retry":
        shown = " ".join(f"{key}={event[key]}" for key in ("reason", "attempt", "wait") if key in event)
    return f"{event.get('event')}: {shown}"


_SPAN_FIELDS = (
    "http.response.status_code",
    "http.request.resend_count",
    "gen_ai.provider.name",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.response.finish_reasons",
    "error.type",
)


def _span_line(span: Any) -> str:
    attributes = span.attributes or {}
    shown = " ".join(f"{key.split('.')[-1]}={_plain(attributes[key])}" for key in _SPAN_FIELDS if key in attributes)
    return f"{span.name!r} {shown}"


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _say(title: str) -> None:
    print(f"\n== {title}")


@contextmanager
def _fresh(scene: Scene) -> Iterator[None]:
    scene.telemetry.clear()
    scene.server.clear()
    yield


# -- scenes ---------------------------------------------------------------------------------


def scene_json(scene: Scene) -> None:
    _say("a JSON call, httpx client (sync)")
    with (
        _fresh(scene),
        scene.stack.client(base_url=scene.server.url, headers={"authorization": f"Bearer {SECRET}"}) as c,
    ):
        reply = c.post(CHAT, json={"model": "demo-model", "messages": [{"role": "user", "content": "hi"}]})
        print(f"   answer: {reply.json()['choices'][0]['message']['content']!r}")
        scene.show_events()
        scene.show_spans()
        scene.check(ok=reply.status_code == OK, what="the call succeeded")
        scene.check(ok=len(scene.telemetry.events) == 1, what="Logging wrote one event for the call")
        _check_spans(scene, 1)
        sent = scene.server.received[-1].header("traceparent")
        scene.check(ok=bool(sent) or scene.telemetry.exporter is None, what="Tracing put a traceparent on the wire")


def scene_stream(scene: Scene) -> None:
    flavor = "httpx2" if importlib.util.find_spec("httpx2") else "httpx"
    _say(f"a streamed call, {flavor} client (async): logged and traced when the stream ends")

    async def stream() -> str:
        words: list[str] = []
        async with scene.stack.async_client(flavor, base_url=scene.server.url) as c:  # type: ignore[call-overload]
            body = {"model": "demo-model", "stream": True, "messages": []}
            async with c.stream("POST", CHAT, json=body) as response:
                words.extend(
                    [
                        json.loads(line[6:])["choices"][0]["delta"].get("content") or ""
                        async for line in response.aiter_lines()
                        if line.startswith("data: {")
                    ]
                )
        return "".join(words)

    with _fresh(scene):
        text = asyncio.run(stream())
        print(f"   streamed: {text!r}")
        scene.show_events()
        scene.show_spans()
        [event] = scene.telemetry.events or [{}]
        # "end" is left out for a stream read to its end; the duration runs past the first chunk.
        at_end = "end" not in event and event.get("duration_ms", 0) > event.get("first_chunk_ms", 0)
        scene.check(ok=at_end, what="the log event came when the stream was read to its end")
        _check_spans(scene, 1)


def scene_retry(scene: Scene) -> None:
    _say("retries: the server answers 503 twice, then succeeds")
    with _fresh(scene), no_sleep() as waits, scene.stack.client(base_url=scene.server.url) as c:
        scene.server.fail(503, times=2, retry_after="1")
        reply = c.post(CHAT, json={"model": "demo-model", "messages": []})
        scene.show_events()
        scene.show_spans()
        print(f"   waits asked for (skipped by no_sleep): {waits}")
        scene.check(ok=reply.status_code == OK, what="the call succeeded on the third attempt")
        scene.check(ok=len(scene.server.received) == RETRIED_TWICE, what="the server saw 3 attempts")
        _check_spans(scene, RETRIED_TWICE)


def scene_pool(scene: Scene) -> None:
    _say("one pool: two clients, then one is closed (as SDKs do)")
    with _fresh(scene):
        first = scene.stack.client(base_url=scene.server.url)
        second = scene.stack.client(base_url=scene.server.url)
        first.post(CHAT, json={"messages": []})
        second.post(CHAT, json={"messages": []})
        ports = [r.client_port for r in scene.server.received]
        first.close()
        still = second.post(CHAT, json={"messages": []}).status_code
        second.close()
        print(f"   client ports the server saw: {ports}")
        scene.check(ok=ports[0] == ports[1], what="both clients used the same pooled connection")
        scene.check(ok=still == OK, what="closing one client left the pool working for the other")


FAN_OUT = 32  # concurrent calls in the fast-pool scene


def scene_fast_pool(scene: Scene) -> None:
    """The same layers over aiohttp's pool, chosen in one word; httpcore2's when aiohttp is missing."""
    name = "aiohttp" if importlib.util.find_spec("aiohttp") else "httpcore2"
    if name == "httpcore2" and not importlib.util.find_spec("httpcore2"):
        _say("a faster pool, in one word")
        print("   (install wireline[aiohttp] or wireline[httpx2] to see a faster base transport)")
        return
    _say(f"a faster pool, in one word: the same layers over {name!r}, {FAN_OUT} calls at once (async)")
    fast = scene.stack.with_transport(wireline.Stack.from_config({"transport": {"use": name}}).base)

    async def fan_out() -> list[int]:
        async with fast, fast.async_client(base_url=scene.server.url) as c:
            replies = await asyncio.gather(*(c.post(CHAT, json={"messages": []}) for _ in range(FAN_OUT)))
        return [reply.status_code for reply in replies]

    with _fresh(scene):
        statuses = asyncio.run(fan_out())
        print(f"   base: {fast.base!r}")
        ports = {r.client_port for r in scene.server.received}
        print(f"   {statuses.count(OK)} of {FAN_OUT} answered 200 over {len(ports)} pooled connection(s)")
        scene.check(ok=statuses == [OK] * FAN_OUT, what=f"every call over {name!r} succeeded")
        scene.check(ok=len(scene.telemetry.events) == FAN_OUT, what="Logging wrote one event per call, as before")
        _check_spans(scene, FAN_OUT)


@dataclass(frozen=True)
class SDKCall:
    """How to call one SDK against the imitation server: build kwargs, a plain and a streamed call."""

    name: str
    module: str
    kwargs: Callable[[str], dict[str, Any]]
    plain: Callable[[Any], str]
    stream: Callable[[Any], str]


MESSAGES = [{"role": "user", "content": "hi"}]


def _sdk_calls() -> list[SDKCall]:
    return [
        SDKCall(
            "openai",
            "openai",
            lambda url: {"api_key": SECRET, "base_url": f"{url}/v1"},
            lambda c: c.chat.completions.create(model="gpt-4o", messages=MESSAGES).choices[0].message.content,
            lambda c: "".join(
                chunk.choices[0].delta.content or ""
                for chunk in c.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
                if chunk.choices
            ),
        ),
        SDKCall(
            "anthropic",
            "anthropic",
            lambda url: {"api_key": SECRET, "base_url": url},
            lambda c: c.messages.create(model="claude-sonnet-5", max_tokens=64, messages=MESSAGES).content[0].text,
            _anthropic_stream,
        ),
        SDKCall(
            "gemini",
            "google.genai",
            lambda url: {"api_key": SECRET, "http_options": {"base_url": url}},
            lambda c: c.models.generate_content(model="gemini-2.5-flash", contents="hi").text,
            lambda c: "".join(
                chunk.text or "" for chunk in c.models.generate_content_stream(model="gemini-2.5-flash", contents="hi")
            ),
        ),
        SDKCall(
            "mistral",
            "mistralai",
            lambda url: {"api_key": SECRET, "server_url": url},
            lambda c: c.chat.complete(model="mistral-small-latest", messages=MESSAGES).choices[0].message.content,
            lambda c: "".join(
                event.data.choices[0].delta.content or ""
                for event in c.chat.stream(model="mistral-small-latest", messages=MESSAGES)
            ),
        ),
        SDKCall(
            "cohere",
            "cohere",
            lambda url: {"api_key": SECRET, "base_url": url},
            lambda c: c.chat(model="command-a-03-2025", messages=MESSAGES).message.content[0].text,
            lambda c: "".join(
                event.delta.message.content.text
                for event in c.chat_stream(model="command-a-03-2025", messages=MESSAGES)
                if event.type == "content-delta"
            ),
        ),
        SDKCall(
            "groq",
            "groq",
            lambda url: {"api_key": SECRET, "base_url": url},
            lambda c: (
                c.chat.completions.create(model="llama-3.3-70b-versatile", messages=MESSAGES).choices[0].message.content
            ),
            lambda c: "".join(
                chunk.choices[0].delta.content or ""
                for chunk in c.chat.completions.create(model="llama-3.3-70b-versatile", messages=MESSAGES, stream=True)
                if chunk.choices
            ),
        ),
    ]


def _anthropic_stream(client: Any) -> str:
    with client.messages.stream(model="claude-sonnet-5", max_tokens=64, messages=MESSAGES) as stream:
        return "".join(stream.text_stream)


def scene_sdks(scene: Scene) -> None:
    _say("the provider SDKs that are installed, each on the same stack and pool")
    calls = _sdk_calls()
    installed = [call for call in calls if importlib.util.find_spec(call.module.partition(".")[0])]
    missing = [call.name for call in calls if call not in installed]
    if missing:
        print(f"   not installed (pip install 'wireline[providers]'): {', '.join(missing)}")
    for call in installed:
        with _fresh(scene):
            client = providers.build(call.name, scene.stack, **call.kwargs(scene.server.url))
            plain, streamed = call.plain(client), call.stream(client)
            received = scene.server.received
            tags = sorted({str(e["provider"]) for e in scene.telemetry.events if e.get("provider")})
            print(f"   {call.name:<9} {received[0].path.split('?')[0]:<48} provider={','.join(tags)}")
            print(f"             plain: {plain[:40]!r}  streamed: {streamed[:40]!r}")
            scene.check(ok=bool(plain) and bool(streamed), what=f"{call.name}: a plain and a streamed call answered")
            scene.check(ok=len(received) == PLAIN_AND_STREAMED, what=f"{call.name}: the server saw exactly 2 requests")
            close = getattr(client, "close", None)
            if callable(close):
                close()  # the SDK closes the client it was given; the stack's pool stays open
    _sdk_retry(scene, installed)


def _sdk_retry(scene: Scene, installed: list[SDKCall]) -> None:
    call = next((c for c in installed if c.name == "anthropic"), None) or next(iter(installed), None)
    if call is None:
        return
    print(f"   one retry owner: {call.name} gets a 429 with retry-after: 0")
    with _fresh(scene), no_sleep():
        client = providers.build(call.name, scene.stack, **call.kwargs(scene.server.url))
        scene.server.fail(429, times=1, retry_after="0")
        call.plain(client)
        attempts = len(scene.server.received)
        retries = [e for e in scene.telemetry.events if e.get("event") == "wireline.retry"]
        print(f"   server saw {attempts} attempts; wireline's Retry decided {len(retries)} retry; SDK retries are off")
        scene.check(
            ok=attempts == PLAIN_AND_STREAMED, what=f"{call.name}: exactly one layer retried (2 attempts, not 3 x 3)"
        )


def scene_secrets(scene: Scene) -> None:
    _say("secrets: the API key went on the wire and nowhere else")
    with _fresh(scene), scene.stack.client(base_url=scene.server.url) as c:
        c.post(f"{CHAT}?key={SECRET}", headers={"x-api-key": SECRET}, json={"messages": []})
        on_wire = SECRET in (scene.server.received[-1].header("x-api-key") or "")
        shown = json.dumps(scene.telemetry.events, default=str) + "".join(
            json.dumps(dict(s.attributes or {}), default=str) for s in scene.telemetry.spans()
        )
        print(f"   logged url: {scene.telemetry.events[-1].get('url') if scene.telemetry.events else None}")
        scene.check(ok=on_wire, what="the server received the key")
        scene.check(ok=SECRET not in shown and SECRET not in repr(scene.stack), what="no log, span or repr holds it")


def scene_explain(scene: Scene) -> None:
    _say("wireline explain: what the stack would do to an Azure OpenAI request")
    url = "https://acme.openai.azure.com/openai/deployments/gpt-4o/chat/completions"
    routed = scene.stack.replace(
        ProxyRouter, ProxyRouter({"https://*.openai.azure.com": "http://alice:s3cret@proxy.corp:3128", "*": None})
    )
    lines = routed.explain(url)
    for line in lines:
        print(f"   {line}")
    scene.check(ok="s3cret" not in "\n".join(lines), what="the proxy password is not shown")


SCENES: list[Callable[[Scene], None]] = [
    scene_json,
    scene_stream,
    scene_retry,
    scene_pool,
    scene_fast_pool,
    scene_sdks,
    scene_secrets,
    scene_explain,
]


def _check_spans(scene: Scene, count: int) -> None:
    if scene.telemetry.exporter is None:
        print("   (install wireline[otel] to see spans)")
        return
    scene.check(ok=len(scene.telemetry.spans()) == count, what=f"Tracing made {count} span(s), one per attempt")


def main() -> int:
    """Run every scene; 0 if every check passed."""
    telemetry = _telemetry()
    failures: list[str] = []
    stack = wireline.Stack(
        Logging(),  # outermost: one event per call
        Retry(attempts=4, backoff=0.2),
        Tracing(tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider),
        ProxyRouter({"*": None}, trust_env=False),  # innermost: routes each attempt (here: direct)
    )
    with llm_server() as server:
        print(f"wireline {wireline.__version__} demo, against an imitation of the LLM APIs at {server.url}")
        _say("the stack")
        print("   " + str(stack).replace("\n", "\n   "))
        with stack:
            scene = Scene(stack, server, telemetry, failures)
            for run in SCENES:
                try:
                    run(scene)
                except Exception as exc:  # noqa: BLE001 - the demo reports and goes on
                    scene.check(ok=False, what=f"{run.__name__} raised {type(exc).__name__}: {exc}")
    _say("result")
    print(f"   {len(SCENES)} scenes, {len(failures)} failed checks")
    return 1 if failures else 0
