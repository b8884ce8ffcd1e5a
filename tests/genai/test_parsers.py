"""Each provider's wire format, JSON and streamed, read into GenAI attributes -- whatever the chunking.

The samples (tests/genai/samples/) follow each provider's published API reference. A parser must
give the same result when the body arrives whole, byte by byte, cut anywhere, compressed, or with
CRLF line ends; streams must be read without parsing every event when content is not captured.
"""

from __future__ import annotations

import gzip
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from tests.genai.samples import sample
from wireline.genai import ResponseParser, match_endpoint, read_request
from wireline.genai.formats._base import Reader

OPENAI = ("api.openai.com", "/v1/chat/completions")
SSE = "text/event-stream"
JSON = "application/json"


@dataclass
class Case:
    file: str
    host: str
    path: str
    content_type: str
    expected: dict[str, Any]
    stream: bool = False
    content: list[dict[str, Any]] | None = field(default=None)


CASES = [
    Case(
        "openai_chat.json",
        *OPENAI,
        JSON,
        {
            "gen_ai.response.id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
            "gen_ai.response.model": "gpt-4.1-2025-04-14",
            "gen_ai.response.finish_reasons": ["stop"],
            "gen_ai.usage.input_tokens": 19,
            "gen_ai.usage.output_tokens": 10,
            "gen_ai.usage.cache_read.input_tokens": 0,
            "gen_ai.usage.reasoning.output_tokens": 0,
        },
        content=[
            {
                "role": "assistant",
                "parts": [{"type": "text", "content": "Hello! How can I assist you today?"}],
                "finish_reason": "stop",
            }
        ],
    ),
    Case(
        "openai_chat_tools.json",
        *OPENAI,
        JSON,
        {
            "gen_ai.response.id": "chatcmpl-abc123",
            "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
            "gen_ai.response.finish_reasons": ["tool_calls"],
            "gen_ai.usage.input_tokens": 82,
            "gen_ai.usage.output_tokens": 17,
            "gen_ai.usage.cache_read.input_tokens": 64,
            "gen_ai.usage.reasoning.output_tokens": 0,
        },
        content=[
            {
                "role": "assistant",
                "parts": [
                    {
                        "type": "tool_call",
                        "id": "call_abc123",
                        "name": "get_current_weather",
                        "arguments": {"location": "Boston, MA"},
                    }
                ],
                "finish_reason": "tool_calls",
            }
        ],
    ),
    Case(
        "openai_chat.sse",
        *OPENAI,
        SSE,
        {
            "gen_ai.response.id": "chatcmpl-123",
            "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
            "gen_ai.response.finish_reasons": ["stop"],
            "gen_ai.usage.input_tokens": 11,
            "gen_ai.usage.output_tokens": 9,
            "gen_ai.usage.cache_read.input_tokens": 0,
            "gen_ai.usage.reasoning.output_tokens": 0,
        },
        stream=True,
        content=[
            {
                "role": "assistant",
                "parts": [{"type": "text", "content": "Hello! How can I help you today?"}],
                "finish_reason": "stop",
            }
        ],
    ),
    Case(
        "openai_chat_tools.sse",
        *OPENAI,
        SSE,
        {
            "gen_ai.response.id": "chatcmpl-tool1",
            "gen_ai.response.model": "gpt-4o-2024-08-06",
            "gen_ai.response.finish_reasons": ["tool_calls"],
        },
        stream=True,
        content=[
            {
                "role": "assistant",
                "parts": [
                    {
                        "type": "tool_call",
                        "id": "call_DdmO9pD3xa9XTPNJ32zg2hcA",
                        "name": "get_weather",
                        "arguments": {"location": "Paris, France"},
                    }
                ],
                "finish_reason": "tool_calls",
            }
        ],
    ),
    Case(
        "groq_chat.sse",
        "api.groq.com",
        "/openai/v1/chat/completions",
        SSE,
        {
            "gen_ai.response.id": "chatcmpl-4a1b2c3d",
            "gen_ai.response.model": "llama-3.3-70b-versatile",
            "gen_ai.response.finish_reasons": ["stop"],
            "gen_ai.usage.input_tokens": 40,
            "gen_ai.usage.output_tokens": 4,
        },
        stream=True,
    ),
    Case(
        "mistral_chat.sse",
        "api.mistral.ai",
        "/v1/chat/completions",
        SSE,
        {
            "gen_ai.response.id": "cf79f7daaee244b1a0ae5c7b1444424a",
            "gen_ai.response.model": "mistral-large-latest",
            "gen_ai.response.finish_reasons": ["stop"],
            "gen_ai.usage.input_tokens": 10,
            "gen_ai.usage.output_tokens": 3,
        },
        stream=True,
        content=[{"role": "assistant", "parts": [{"type": "text", "content": "Bonjour !"}], "finish_reason": "stop"}],
    ),
    Case(
        "azure_chat.json",
        "contoso.openai.azure.com",
        "/openai/deployments/gpt-4o/chat/completions",
        JSON,
        {
            "gen_ai.response.id": "chatcmpl-A0Bd8DCm1mMoyqrgZ1NuwG7fK3rD7",
            "gen_ai.response.model": "gpt-4o-2024-05-13",
            "gen_ai.response.finish_reasons": ["length"],
            "gen_ai.usage.input_tokens": 25,
            "gen_ai.usage.output_tokens": 10,
        },
    ),
    Case(
        "openai_embeddings.json",
        "api.openai.com",
        "/v1/embeddings",
        JSON,
        {"gen_ai.response.model": "text-embedding-3-small", "gen_ai.usage.input_tokens": 8},
    ),
    Case(
        "openai_responses.json",
        "api.openai.com",
        "/v1/responses",
        JSON,
        {
            "gen_ai.response.id": "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b",
            "gen_ai.response.model": "gpt-4.1-2025-04-14",
            "gen_ai.response.finish_reasons": ["completed"],
            "gen_ai.usage.input_tokens": 36,
            "gen_ai.usage.output_tokens": 87,
            "gen_ai.usage.cache_read.input_tokens": 0,
            "gen_ai.usage.reasoning.output_tokens": 0,
        },
        content=[
            {
                "role": "assistant",
                "parts": [
                    {
                        "type": "text",
                        "content": "In a peaceful grove beneath a silver moon, "
                        "a unicorn named Lumina discovered a hidden pool.",
                    }
                ],
                "finish_reason": "completed",
            }
        ],
    ),
    Case(
        "openai_responses.sse",
        "api.openai.com",
        "/v1/responses",
        SSE,
        {
            "gen_ai.response.id": "resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654",
            "gen_ai.response.model": "gpt-4.1-2025-04-14",
            "gen_ai.response.finish_reasons": ["completed"],
            "gen_ai.usage.input_tokens": 37,
            "gen_ai.usage.output_tokens": 11,
            "gen_ai.usage.cache_read.input_tokens": 0,
            "gen_ai.usage.reasoning.output_tokens": 0,
        },
        stream=True,
        content=[
            {"role": "assistant", "parts": [{"type": "text", "content": "Hi there!"}], "finish_reason": "completed"}
        ],
    ),
    Case(
        "anthropic_messages.json",
        "api.anthropic.com",
        "/v1/messages",
        JSON,
        {
            "gen_ai.response.id": "msg_013Zva2CMHLNnXjNJJKqJ2EF",
            "gen_ai.response.model": "claude-sonnet-4-5-20250929",
            "gen_ai.response.finish_reasons": ["end_turn"],
            # the conventions' rule: input = input + cache read + cache creation
            "gen_ai.usage.input_tokens": 2095 + 10 + 2051,
            "gen_ai.usage.output_tokens": 503,
            "gen_ai.usage.cache_read.input_tokens": 10,
            "gen_ai.usage.cache_creation.input_tokens": 2051,
        },
        content=[
            {
                "role": "assistant",
                "parts": [{"type": "text", "content": "Hi! My name is Claude."}],
                "finish_reason": "end_turn",
            }
        ],
    ),
    Case(
        "anthropic_messages.sse",
        "api.anthropic.com",
        "/v1/messages",
        SSE,
        {
            "gen_ai.response.id": "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY",
            "gen_ai.response.model": "claude-sonnet-4-5-20250929",
            "gen_ai.response.finish_reasons": ["tool_use"],
            "gen_ai.usage.input_tokens": 25 + 100,
            "gen_ai.usage.output_tokens": 15,
            "gen_ai.usage.cache_read.input_tokens": 100,
            "gen_ai.usage.cache_creation.input_tokens": 0,
        },
        stream=True,
        content=[
            {
                "role": "assistant",
                "parts": [
                    {"type": "text", "content": "Hello!"},
                    {
                        "type": "tool_call",
                        "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
                        "name": "get_weather",
                        "arguments": {"location": "San Francisco, CA"},
                    },
                ],
                "finish_reason": "tool_use",
            }
        ],
    ),
    Case(
        "gemini_generate.json",
        "generativelanguage.googleapis.com",
        "/v1beta/models/gemini-2.5-flash:generateContent",
        JSON,
        {
            "gen_ai.response.id": "Ix1JaLnHG5-Wz7IP1dW_-AM",
            "gen_ai.response.model": "gemini-2.5-flash",
            "gen_ai.response.finish_reasons": ["STOP"],
            "gen_ai.usage.input_tokens": 8,
            "gen_ai.usage.output_tokens": 9 + 525,  # thoughts are billed as output
            "gen_ai.usage.reasoning.output_tokens": 525,
        },
        content=[
            {
                "role": "assistant",
                "parts": [{"type": "text", "content": "AI learns patterns from data to make predictions."}],
                "finish_reason": "STOP",
            }
        ],
    ),
    Case(
        "gemini_stream.sse",
        "generativelanguage.googleapis.com",
        "/v1beta/models/gemini-2.0-flash:streamGenerateContent",
        SSE,
        {
            "gen_ai.response.id": "mAitaLmkHPPlz7IPvtfUqQ4",
            "gen_ai.response.model": "gemini-2.0-flash",
            "gen_ai.response.finish_reasons": ["STOP"],
            "gen_ai.usage.input_tokens": 7,
            "gen_ai.usage.output_tokens": 20,
            "gen_ai.usage.cache_read.input_tokens": 4,
        },
        stream=True,
        content=[
            {
                "role": "assistant",
                "parts": [
                    {
                        "type": "text",
                        "content": "Once upon a time, in a land far away, a little robot dreamed of the stars.",
                    }
                ],
                "finish_reason": "STOP",
            }
        ],
    ),
    Case(
        "gemini_stream.json",
        "generativelanguage.googleapis.com",
        "/v1beta/models/gemini-1.5-pro:streamGenerateContent",
        JSON,
        {
            "gen_ai.response.id": "streamed-array-1",
            "gen_ai.response.model": "gemini-1.5-pro-002",
            "gen_ai.response.finish_reasons": ["MAX_TOKENS"],
            "gen_ai.usage.input_tokens": 5,
            "gen_ai.usage.output_tokens": 12,
        },
        stream=True,
        content=[
            {
                "role": "assistant",
                "parts": [{"type": "text", "content": 'The quick brown "fox" [jumps] {over} the lazy dog.\\"'}],
                "finish_reason": "MAX_TOKENS",
            }
        ],
    ),
    Case(
        "cohere_chat.json",
        "api.cohere.com",
        "/v2/chat",
        JSON,
        {
            "gen_ai.response.id": "c14c80c3-18eb-4519-9460-6c92edd8cfb4",
            "gen_ai.response.finish_reasons": ["COMPLETE"],
            # billed units, not the raw token counts: the conventions ask for billable tokens
            "gen_ai.usage.input_tokens": 5,
            "gen_ai.usage.output_tokens": 418,
        },
    ),
    Case(
        "cohere_chat.sse",
        "api.cohere.com",
        "/v2/chat",
        SSE,
        {
            "gen_ai.response.id": "29f14a5a-11de-4cae-9800-25e4747408ea",
            "gen_ai.response.finish_reasons": ["COMPLETE"],
            "gen_ai.usage.input_tokens": 3,
            "gen_ai.usage.output_tokens": 2,
        },
        stream=True,
        content=[
            {"role": "assistant", "parts": [{"type": "text", "content": "Hello world"}], "finish_reason": "COMPLETE"}
        ],
    ),
]
IDS = [case.file for case in CASES]


def parse(case: Case, chunks: list[bytes], *, capture: bool = False, encoding: str | None = None) -> dict[str, Any]:
    endpoint = match_endpoint(case.host, case.path)
    assert endpoint is not None
    parser = ResponseParser(
        endpoint,
        content_type=case.content_type,
        content_encoding=encoding,
        stream_requested=case.stream,
        capture=capture,
    )
    for chunk in chunks:
        parser.on_chunk(chunk)
    result = parser.result()
    assert result is not None
    attributes = result.attributes()
    if "gen_ai.output.messages" in attributes:
        attributes["gen_ai.output.messages"] = json.loads(attributes["gen_ai.output.messages"])
    return attributes


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_whole_body(case: Case) -> None:
    assert parse(case, [sample(case.file)]) == case.expected


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_byte_by_byte(case: Case) -> None:
    body = sample(case.file)
    assert parse(case, [body[i : i + 1] for i in range(len(body))]) == case.expected


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gzip_compressed_and_crlf(case: Case) -> None:
    body = sample(case.file).replace(b"\n", b"\r\n")
    compressed = gzip.compress(body)
    chunks = [compressed[i : i + 50] for i in range(0, len(compressed), 50)]
    assert parse(case, chunks, encoding="gzip") == case.expected


@pytest.mark.parametrize("case", [c for c in CASES if c.content is not None], ids=[c.file for c in CASES if c.content])
def test_output_content_only_when_captured(case: Case) -> None:
    captured = parse(case, [sample(case.file)], capture=True)
    assert captured.pop("gen_ai.output.messages") == case.content
    assert captured == case.expected


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(CASES), st.lists(st.integers(min_value=0, max_value=5000), max_size=10))
def test_any_cut(case: Case, points: list[int]) -> None:
    body = sample(case.file)
    edges = sorted({0, len(body), *(p % len(body) for p in points)})
    chunks = [body[a:b] for a, b in itertools.pairwise(edges)]
    assert parse(case, chunks) == case.expected


def _count_parsed(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    taken: list[str | None] = []
    readers, pending = [], list(Reader.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if "take" in vars(cls):
            readers.append(cls)
    for cls in readers:
        original = cls.take

        def take(self: Any, obj: Any, event: str | None, _original: Any = original) -> None:
            taken.append(event)
            _original(self, obj, event)

        monkeypatch.setattr(cls, "take", take)
    return taken


def _long_stream(file: str, tokens: int) -> bytes:
    """The sample with ``tokens`` more content events after its first, as a long answer has."""
    events = sample(file).split(b"\n\n")
    content = next(e for e in events if b'"content":"Hello"' in e or b"text_delta" in e or b"content-delta" in e)
    return b"\n\n".join([events[0], *[content] * tokens, *events[1:]])


@pytest.mark.parametrize(
    ("file", "parsed"),
    [
        ("openai_chat.sse", 1 + 16),  # the first chunk now, the last 16 at the end
        ("anthropic_messages.sse", 2),  # message_start, message_delta
        ("cohere_chat.sse", 2),  # message-start, message-end
    ],
)
def test_long_streams_parse_only_the_events_they_need(monkeypatch: pytest.MonkeyPatch, file: str, parsed: int) -> None:
    taken = _count_parsed(monkeypatch)
    case = next(c for c in CASES if c.file == file)
    assert parse(case, [_long_stream(file, 500)]) == case.expected
    assert len(taken) == parsed


@pytest.mark.parametrize(("file", "parsed"), [("openai_responses.sse", 2), ("gemini_stream.sse", 2)])
def test_streams_parse_only_the_events_they_need(monkeypatch: pytest.MonkeyPatch, file: str, parsed: int) -> None:
    taken = _count_parsed(monkeypatch)
    case = next(c for c in CASES if c.file == file)
    assert parse(case, [sample(case.file)]) == case.expected
    assert len(taken) == parsed


def test_a_body_that_is_not_json_gives_nothing_and_no_error() -> None:
    case = CASES[0]
    result = parse(case, [b"<html>502 Bad Gateway</html>"])
    assert result == {}


def test_an_undecodable_body_gives_no_result() -> None:
    endpoint = match_endpoint(*OPENAI)
    assert endpoint is not None
    parser = ResponseParser(endpoint, content_type=JSON, content_encoding="gzip", stream_requested=False, capture=False)
    parser.on_chunk(b"this is not gzip")
    assert parser.result() is None
    parser = ResponseParser(
        endpoint, content_type=JSON, content_encoding="compress", stream_requested=False, capture=False
    )
    parser.on_chunk(b"x")
    assert parser.result() is None


# -- request bodies -----------------------------------------------------------------------------


REQUESTS = [
    (
        OPENAI,
        {
            "model": "gpt-4o",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "Hi"},
                        {"type": "image_url", "image_url": {"url": "data:..."}},
                    ],
                },
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}}
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "42"},
            ],
            "stream": True,
            "max_completion_tokens": 100,
            "temperature": 0.2,
            "top_p": 0.9,
            "frequency_penalty": 0.1,
            "presence_penalty": 0.3,
            "stop": "END",
            "seed": 7,
            "n": 2,
        },
        {
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.request.stream": True,
            "gen_ai.request.max_tokens": 100,
            "gen_ai.request.temperature": 0.2,
            "gen_ai.request.top_p": 0.9,
            "gen_ai.request.frequency_penalty": 0.1,
            "gen_ai.request.presence_penalty": 0.3,
            "gen_ai.request.stop_sequences": ["END"],
            "gen_ai.request.seed": 7,
            "gen_ai.request.choice.count": 2,
        },
        None,
        [
            {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
            {"role": "user", "parts": [{"type": "text", "content": "Hi"}, {"type": "image_url"}]},
            {"role": "assistant", "parts": [{"type": "tool_call", "id": "c1", "name": "f", "arguments": {"x": 1}}]},
            {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": "42"}]},
        ],
    ),
    (
        ("api.anthropic.com", "/v1/messages"),
        {
            "model": "claude-sonnet-4-5",
            "max_tokens": 1024,
            "system": [{"type": "text", "text": "You are terse."}],
            "messages": [
                {"role": "user", "content": "Weather?"},
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "t1", "name": "weather", "input": {"city": "Oslo"}}],
                },
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "cold"}]},
            ],
            "top_k": 5,
            "stop_sequences": ["\n\nHuman:"],
        },
        {
            "gen_ai.request.model": "claude-sonnet-4-5",
            "gen_ai.request.max_tokens": 1024,
            "gen_ai.request.top_k": 5,
            "gen_ai.request.stop_sequences": ["\n\nHuman:"],
        },
        [{"type": "text", "content": "You are terse."}],
        [
            {"role": "user", "parts": [{"type": "text", "content": "Weather?"}]},
            {
                "role": "assistant",
                "parts": [{"type": "tool_call", "id": "t1", "name": "weather", "arguments": {"city": "Oslo"}}],
            },
            {"role": "user", "parts": [{"type": "tool_call_response", "id": "t1", "response": "cold"}]},
        ],
    ),
    (
        ("generativelanguage.googleapis.com", "/v1beta/models/gemini-2.0-flash:streamGenerateContent"),
        {
            "systemInstruction": {"parts": [{"text": "Speak like a pirate."}]},
            "contents": [{"role": "user", "parts": [{"text": "Hello"}]}, {"role": "model", "parts": [{"text": "Arr"}]}],
            "generationConfig": {
                "maxOutputTokens": 256,
                "temperature": 1.0,
                "topP": 0.95,
                "topK": 40,
                "candidateCount": 1,
            },
        },
        {
            "gen_ai.request.model": "gemini-2.0-flash",
            "gen_ai.request.stream": True,
            "gen_ai.request.max_tokens": 256,
            "gen_ai.request.temperature": 1.0,
            "gen_ai.request.top_p": 0.95,
            "gen_ai.request.top_k": 40,
        },
        [{"type": "text", "content": "Speak like a pirate."}],
        [
            {"role": "user", "parts": [{"type": "text", "content": "Hello"}]},
            {"role": "assistant", "parts": [{"type": "text", "content": "Arr"}]},
        ],
    ),
    (
        ("api.openai.com", "/v1/responses"),
        {"model": "gpt-4.1", "instructions": "Be kind.", "input": "Tell me a story.", "max_output_tokens": 50},
        {"gen_ai.request.model": "gpt-4.1", "gen_ai.request.max_tokens": 50},
        [{"type": "text", "content": "Be kind."}],
        [{"role": "user", "parts": [{"type": "text", "content": "Tell me a story."}]}],
    ),
    (
        ("api.cohere.com", "/v2/chat"),
        {
            "model": "command-a-03-2025",
            "messages": [{"role": "user", "content": "Hi"}],
            "p": 0.75,
            "k": 10,
            "stream": True,
        },
        {
            "gen_ai.request.model": "command-a-03-2025",
            "gen_ai.request.stream": True,
            "gen_ai.request.top_p": 0.75,
            "gen_ai.request.top_k": 10,
        },
        None,
        [{"role": "user", "parts": [{"type": "text", "content": "Hi"}]}],
    ),
    (
        ("contoso.openai.azure.com", "/openai/deployments/prod-4o/chat/completions"),
        {"messages": [{"role": "user", "content": "Hi"}]},
        {"gen_ai.request.model": "prod-4o"},  # the deployment stands in for a model the body does not name
        None,
        [{"role": "user", "parts": [{"type": "text", "content": "Hi"}]}],
    ),
]


@pytest.mark.parametrize(("where", "body", "expected", "system", "messages"), REQUESTS, ids=[r[0][1] for r in REQUESTS])
def test_request_attributes_and_content(where, body, expected, system, messages) -> None:
    endpoint = match_endpoint(*where)
    assert endpoint is not None
    raw = json.dumps(body).encode()
    attributes, content = read_request(endpoint, raw, capture=False)
    assert attributes == expected
    assert content == {}
    attributes, content = read_request(endpoint, raw, capture=True)
    assert attributes == expected
    assert json.loads(content.get("gen_ai.system_instructions", "null")) == system
    assert json.loads(content["gen_ai.input.messages"]) == messages


def test_a_huge_request_body_is_searched_at_its_edges_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from wireline.genai import reading

    monkeypatch.setattr(reading, "MAX_PARSED_REQUEST_BYTES", 1000)
    endpoint = match_endpoint(*OPENAI)
    assert endpoint is not None
    body = json.dumps({"messages": [{"role": "user", "content": "x" * 50_000}], "model": "gpt-4o", "stream": True})
    attributes, _ = read_request(endpoint, body.encode(), capture=True)
    assert attributes == {"gen_ai.request.model": "gpt-4o", "gen_ai.request.stream": True}


def test_a_streamed_or_unparsable_request_body_gives_path_attributes_only() -> None:
    endpoint = match_endpoint("generativelanguage.googleapis.com", "/v1beta/models/gemini-pro:generateContent")
    assert endpoint is not None
    assert read_request(endpoint, None, capture=True) == ({"gen_ai.request.model": "gemini-pro"}, {})
    assert read_request(endpoint, b"not json", capture=True) == ({"gen_ai.request.model": "gemini-pro"}, {})
