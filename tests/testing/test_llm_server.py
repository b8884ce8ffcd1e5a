"""``wireline.testing.llm_server``: each provider's wire format, failures and stalls on demand, what it records."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from wireline.testing import ANSWER, LLMServer, llm_server


@pytest.fixture
def server() -> Iterator[LLMServer]:
    with llm_server() as running:
        running.chunk_delay = 0.0
        yield running


@pytest.fixture
def client(server: LLMServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url) as http:
        yield http


def _events(body: str) -> list[tuple[str | None, Any]]:
    """(event name, data) of each server-sent event."""
    events = []
    for block in body.strip().split("\n\n"):
        name, data = None, None
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[len("event: ") :]
            elif line.startswith("data: "):
                raw = line[len("data: ") :]
                data = raw if raw == "[DONE]" else json.loads(raw)
        events.append((name, data))
    return events


CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
JSON_ANSWERS: list[tuple[str, dict[str, Any], Callable[[Any], str]]] = [
    ("/v1/chat/completions", CHAT, lambda r: r["choices"][0]["message"]["content"]),
    ("/openai/v1/chat/completions", CHAT, lambda r: r["choices"][0]["message"]["content"]),
    (
        "/openai/deployments/d/chat/completions?api-version=2024-10-21",
        CHAT,
        lambda r: r["choices"][0]["message"]["content"],
    ),
    ("/v1/responses", {"model": "m", "input": "hi"}, lambda r: r["output"][0]["content"][0]["text"]),
    ("/v1/messages", {**CHAT, "max_tokens": 9}, lambda r: r["content"][0]["text"]),
    ("/v1beta/models/g:generateContent", {"contents": []}, lambda r: r["candidates"][0]["content"]["parts"][0]["text"]),
    ("/v2/chat", CHAT, lambda r: r["message"]["content"][0]["text"]),
]


@pytest.mark.parametrize(("path", "body", "text"), JSON_ANSWERS, ids=[p for p, _, _ in JSON_ANSWERS])
def test_each_api_answers_in_its_own_json(path: str, body: dict[str, Any], text: Any, client: httpx.Client) -> None:
    reply = client.post(path, json=body)
    assert reply.status_code == 200
    assert text(reply.json()) == ANSWER


def test_openai_chat_streams_chunks_and_done(client: httpx.Client) -> None:
    events = _events(client.post("/v1/chat/completions", json={**CHAT, "stream": True}).text)
    assert events[-1] == (None, "[DONE]")
    chunks = [data for _, data in events[:-1]]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == ANSWER
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["usage"]["completion_tokens"] == len(ANSWER.split())


TYPED_STREAMS: dict[str, tuple[str, str, str, str, Callable[[Any], str]]] = {
    "anthropic": ("/v1/messages", "message_start", "message_stop", "content_block_delta", lambda d: d["delta"]["text"]),
    "cohere": (
        "/v2/chat",
        "message-start",
        "message-end",
        "content-delta",
        lambda d: d["delta"]["message"]["content"]["text"],
    ),
    "openai-responses": (
        "/v1/responses",
        "response.created",
        "response.completed",
        "response.output_text.delta",
        lambda d: d["delta"],
    ),
}


@pytest.mark.parametrize("api", sorted(TYPED_STREAMS))
def test_typed_streams_carry_their_event_names(api: str, client: httpx.Client) -> None:
    path, first, last, delta, text = TYPED_STREAMS[api]
    events = _events(client.post(path, json={**CHAT, "stream": True}).text)
    names = [name for name, _ in events]
    assert (names[0], names[-1]) == (first, last)
    assert all(data["type"] == name for name, data in events)
    assert "".join(text(data) for name, data in events if name == delta) == ANSWER


def test_anthropic_streams_every_event_type(client: httpx.Client) -> None:
    names = [name for name, _ in _events(client.post("/v1/messages", json={**CHAT, "stream": True}).text)]
    assert set(names) == {
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    }


def test_gemini_streams_when_the_method_says_so(client: httpx.Client) -> None:
    reply = client.post("/v1beta/models/g:streamGenerateContent?alt=sse", json={"contents": []})
    assert reply.headers["content-type"] == "text/event-stream"
    chunks = [data for _, data in _events(reply.text)]
    assert "".join(c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks) == ANSWER
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"


@pytest.mark.parametrize(
    "path",
    ["/openai/deployments/d/chat/completions", "/v1/embeddings", "/elsewhere"],
    ids=["azure-without-api-version", "unknown", "other"],
)
def test_unknown_routes_are_404(path: str, client: httpx.Client, server: LLMServer) -> None:
    assert client.post(path, json=CHAT).status_code == 404
    assert client.get("/v1/models").status_code == 404
    assert [(r.method, r.route) for r in server.received] == [("POST", path), ("GET", "/v1/models")]


@pytest.mark.parametrize(
    ("path", "status", "body"),
    [
        ("/v1/chat/completions", 429, {"error": {"message": "overloaded, try again", "type": "rate_limit_error"}}),
        (
            "/v1/messages",
            529,
            {"type": "error", "error": {"type": "overloaded_error", "message": "overloaded, try again"}},
        ),
        (
            "/v1/models/g:generateContent",
            503,
            {"error": {"code": 503, "message": "overloaded, try again", "status": "UNAVAILABLE"}},
        ),
        ("/v2/chat", 429, {"message": "overloaded, try again"}),
    ],
)
def test_failures_on_demand_speak_the_apis_error_format(
    path: str, status: int, body: dict[str, Any], client: httpx.Client, server: LLMServer
) -> None:
    server.fail(status, times=2, retry_after="1", retry_after_ms="5", headers={"x-should-retry": "true"})
    for _ in range(2):
        reply = client.post(path, json=CHAT)
        assert (reply.status_code, reply.json()) == (status, body)
        assert (reply.headers["retry-after"], reply.headers["retry-after-ms"]) == ("1", "5")
        assert reply.headers["x-should-retry"] == "true"
    assert client.post(path, json=CHAT).status_code == 200


def test_fail_next_is_503_with_retry_after_zero(client: httpx.Client, server: LLMServer) -> None:
    server.fail_next = 1
    server.fail(429, retry_after=None)
    first, second, third = (client.post("/v1/chat/completions", json=CHAT) for _ in range(3))
    assert (first.status_code, first.headers["retry-after"]) == (503, "0")
    assert (second.status_code, "retry-after" in second.headers) == (429, False)
    assert third.status_code == 200
    server.fail(503, times=3)
    server.clear()
    assert server.received == []
    assert client.post("/v1/chat/completions", json=CHAT).status_code == 200


def test_a_stall_makes_a_client_time_out(client: httpx.Client, server: LLMServer) -> None:
    server.stall(30)
    with pytest.raises(httpx.ReadTimeout):
        client.post("/v1/chat/completions", json=CHAT, timeout=0.2)
    assert client.post("/v1/chat/completions", json=CHAT).status_code == 200


def test_it_records_requests_and_keeps_connections_alive(client: httpx.Client, server: LLMServer) -> None:
    headers = [("Authorization", "Bearer k"), ("x-twice", "a"), ("x-twice", "b")]
    client.post("/openai/deployments/d/chat/completions?api-version=v1", json=CHAT, headers=headers)
    client.post("/v1/chat/completions", content=b"not json")
    first, second = server.received
    assert (first.method, first.route, first.query) == (
        "POST",
        "/openai/deployments/d/chat/completions",
        {"api-version": "v1"},
    )
    assert first.header("AUTHORIZATION") == "Bearer k"
    assert first.header_values("x-twice") == ["a", "b"]
    assert first.json() == CHAT
    assert second.body == b"not json"
    assert first.client_port == second.client_port
