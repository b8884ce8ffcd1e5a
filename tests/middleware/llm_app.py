"""A local server that answers the providers' LLM endpoints with the GenAI samples (tests/genai/samples).

Streams are sent event by event, with a pause between, so that they really stream. ``?gzip=1``
compresses a JSON answer; ``?status=N`` answers with that error status instead.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import re
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from tests.genai.samples import sample

# path pattern -> (JSON sample, streamed sample, streamed media type)
ROUTES: list[tuple[re.Pattern[str], str, str, str]] = [
    (re.compile(r"/openai/v1/chat/completions$"), "openai_chat.json", "groq_chat.sse", "text/event-stream"),
    (re.compile(r"/chat/completions$"), "openai_chat.json", "openai_chat.sse", "text/event-stream"),
    (re.compile(r"/responses$"), "openai_responses.json", "openai_responses.sse", "text/event-stream"),
    (re.compile(r"/v1/messages$"), "anthropic_messages.json", "anthropic_messages.sse", "text/event-stream"),
    (re.compile(r":generateContent$"), "gemini_generate.json", "", ""),
    (re.compile(r":streamGenerateContent$"), "", "gemini_stream.sse", "text/event-stream"),
    (re.compile(r"/v2/chat$"), "cohere_chat.json", "cohere_chat.sse", "text/event-stream"),
]


def _events(body: bytes) -> list[bytes]:
    return [event + b"\n\n" for event in body.split(b"\n\n") if event.strip()]


async def _paced(pieces: list[bytes]) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece
        await asyncio.sleep(0.002)


async def answer(request: Request) -> Response:
    path = request.url.path
    status = int(request.query_params.get("status", "200"))
    if status != 200:
        return Response(
            json.dumps({"error": {"type": "overloaded"}}), status_code=status, media_type="application/json"
        )
    raw = await request.body()
    wants_stream = b'"stream": true' in raw or b'"stream":true' in raw or "streamGenerateContent" in path
    for pattern, whole, streamed, streamed_media in ROUTES:
        if not pattern.search(path):
            continue
        headers = {"x-request-id": "req_sample_1", "request-id": "req_anthropic_1"}
        if wants_stream:
            if request.query_params.get("alt") != "sse" and "streamGenerateContent" in path:
                body = sample("gemini_stream.json")  # a streamed JSON array, sent in pieces
                pieces, media = [body[i : i + 40] for i in range(0, len(body), 40)], "application/json"
            else:
                pieces, media = _events(sample(streamed)), streamed_media
            return StreamingResponse(_paced(pieces), media_type=media, headers=headers)
        body = sample(whole)
        if request.query_params.get("gzip") == "1":
            body = gzip.compress(body)
            headers["content-encoding"] = "gzip"
        return Response(body, media_type="application/json", headers=headers)
    return Response(b'{"error": "no such route"}', status_code=404, media_type="application/json")


def make_llm_app() -> Starlette:
    return Starlette(routes=[Route("/{path:path}", answer, methods=["POST"])])
