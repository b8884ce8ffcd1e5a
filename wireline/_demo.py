"""``wireline demo``: wireline's main job, end to end, against an embedded local server.

It starts a server on 127.0.0.1 that imitates an LLM API, builds a stack from the built-in
middleware, sends sync, async and streamed requests through it with httpx and httpx2 clients,
and prints what each layer did. It needs no network and no API key, and exits 0 when every
scene did what it should (1 otherwise).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import wireline
from wireline.middleware import Headers, Middleware, StreamEnd, observe
from wireline.testing.llm_server import LLMServer, llm_server

__all__ = ["main"]

CHAT = "/v1/chat/completions"
OK = 200


class Watch(Middleware):
    """A middleware written for the demo: notes each exchange and how its body ended.

    It is also the shortest example of the authoring API: ``on_response`` plus a stream observer.
    """

    def __init__(self) -> None:
        self.seen: list[str] = []

    def on_response(self, request: Any, response: Any) -> None:
        observe(response, _NoteEnd(self.seen, f"{request.method} {request.url.path} -> {response.status_code}"))


@dataclass(frozen=True)
class _NoteEnd:
    seen: list[str]
    exchange: str

    def on_end(self, end: StreamEnd) -> None:
        took = f"{end.duration * 1000:.1f} ms"
        self.seen.append(f"{self.exchange}; body {end.reason}: {end.bytes} bytes in {end.chunks} chunks, {took}")


def _say(title: str) -> None:
    print(f"\n== {title}")


def _check(*, ok: bool, what: str, failures: list[str]) -> None:
    print(f"   {'ok ' if ok else 'FAIL'} {what}")
    if not ok:
        failures.append(what)


def _scene_sync(stack: wireline.Stack, server: LLMServer, watch: Watch, failures: list[str]) -> None:
    _say("sync request, httpx client")
    with stack.client(base_url=server.url) as client:
        response = client.post(CHAT, json={"model": "demo-model", "messages": [{"role": "user", "content": "hi"}]})
    answer = response.json()["choices"][0]["message"]["content"]
    print(f"   answer: {answer!r}")
    print(f"   Watch saw: {watch.seen[-1]}")
    _check(ok=response.status_code == OK, what="the call succeeded", failures=failures)
    _check(
        ok=server.received[-1].headers.get("x-demo") == "wireline",
        what="Headers set x-demo on the way out",
        failures=failures,
    )


def _scene_async(stack: wireline.Stack, server: LLMServer, watch: Watch, failures: list[str]) -> None:
    flavor = "httpx2" if importlib.util.find_spec("httpx2") else "httpx"
    _say(f"async requests, {flavor} client, three at once")

    async def main() -> list[int]:
        async with stack.async_client(flavor, base_url=server.url) as client:  # type: ignore[call-overload]
            calls = [client.post(CHAT, json={"model": "demo-model", "messages": []}) for _ in range(3)]
            responses = await asyncio.gather(*calls)
        return [r.status_code for r in responses]

    statuses = asyncio.run(main())
    for line in watch.seen[-3:]:
        print(f"   Watch saw: {line}")
    _check(ok=statuses == [OK, OK, OK], what="three concurrent calls succeeded", failures=failures)


def _scene_stream(stack: wireline.Stack, server: LLMServer, watch: Watch, failures: list[str]) -> None:
    _say("streamed request (server-sent events), read as it arrives")
    words: list[str] = []
    with (
        stack.client(base_url=server.url) as client,
        client.stream("POST", CHAT, json={"model": "demo-model", "stream": True, "messages": []}) as response,
    ):
        for line in response.iter_lines():
            if line.startswith("data: {"):
                delta = json.loads(line[6:])["choices"][0]["delta"]
                words.append(delta.get("content", ""))
    print(f"   streamed text: {''.join(words)!r}")
    print(f"   Watch saw: {watch.seen[-1]}")
    _check(ok="exhausted" in watch.seen[-1], what="the observer heard the end of the stream", failures=failures)


def _scene_pool(stack: wireline.Stack, server: LLMServer, _watch: Watch, failures: list[str]) -> None:
    _say("two clients, one pool")
    first = stack.client(base_url=server.url)
    second = stack.client(base_url=server.url)
    first.post(CHAT, json={"messages": []})
    port_first = server.received[-1].client_port
    second.post(CHAT, json={"messages": []})
    port_second = server.received[-1].client_port
    first.close()  # what an SDK does when it is closed
    still = second.post(CHAT, json={"messages": []}).status_code
    second.close()
    print(f"   client ports seen by the server: {port_first}, {port_second}")
    _check(ok=port_first == port_second, what="both clients used the same pooled connection", failures=failures)
    _check(ok=still == OK, what="closing one client left the pool working for the other", failures=failures)


SCENES: list[Callable[[wireline.Stack, LLMServer, Watch, list[str]], None]] = [
    _scene_sync,
    _scene_async,
    _scene_stream,
    _scene_pool,
]


def main() -> int:
    """Run every scene; 0 if all did what they should."""
    failures: list[str] = []
    watch = Watch()
    with llm_server() as server:
        stack = wireline.Stack(Headers(default={"x-demo": "wireline"}), watch)
        print(f"wireline {wireline.__version__} demo, against an imitation LLM API at {server.url}")
        _say("the stack")
        print("   " + str(stack).replace("\n", "\n   "))
        with stack:
            for scene in SCENES:
                try:
                    scene(stack, server, watch, failures)
                except Exception as exc:  # noqa: BLE001 - the demo reports and goes on
                    _check(ok=False, what=f"{scene.__name__} raised {type(exc).__name__}: {exc}", failures=failures)
    _say("result")
    print(f"   {len(SCENES)} scenes, {len(failures)} failed")
    return 1 if failures else 0
