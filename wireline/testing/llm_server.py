"""A local server that speaks the wire formats of the LLM APIs, for tests, examples and ``wireline demo``.

Standard library only, so it works wherever wireline is installed. It listens on 127.0.0.1 only,
keeps HTTP/1.1 connections alive, records every request it receives, and answers, as JSON or as
server-sent events (when the request asks for a stream):

====================================================  =====================================================
``POST …/chat/completions``                           OpenAI chat completions (also Mistral, Groq's
                                                      ``/openai/v1/…``, OpenAI-compatible servers)
``POST /openai/deployments/{name}/chat/completions``  Azure OpenAI; ``?api-version=`` is required (else 404)
``POST …/responses``                                  OpenAI Responses (typed SSE events when streamed)
``POST /v1/messages``                                 Anthropic Messages (its SSE event types when streamed)
``POST /{version}/models/{model}:generateContent``    Gemini; ``:streamGenerateContent?alt=sse`` streams
``POST /v2/chat``                                     Cohere v2 chat (its typed stream events)
====================================================  =====================================================

Failures on demand: ``server.fail(429, times=2, retry_after_ms="1")`` answers the next two
requests with that status, an error body in the format of the API asked, and the retry headers
given; ``server.fail_next = N`` is the short form for N ``503`` answers with ``retry-after: 0``;
``server.stall(5.0)`` waits before answering the next request, for timeouts::

    with llm_server() as server:
        client = stack.client(base_url=server.url)
        client.post("/v1/chat/completions", json={"model": "m", "messages": []})
        assert server.received[-1].path == "/v1/chat/completions"
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["ANSWER", "Failure", "LLMServer", "Received", "llm_server"]

#: The text every API answers with (streamed word by word).
ANSWER = "wireline sent this through every layer of the stack and one shared pool"

_INPUT_TOKENS = 9
_TOO_MANY_REQUESTS = 429


@dataclass(frozen=True)
class Received:
    """One request as the server saw it (``path`` includes the query string)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    client_port: int
    #: Every header line, in order, repeats included (``headers`` keeps one value per name).
    header_lines: tuple[tuple[str, str], ...] = ()

    @property
    def route(self) -> str:
        """The path without the query string."""
        return urlsplit(self.path).path

    @property
    def query(self) -> dict[str, str]:
        """The query parameters (the last value of each)."""
        return {key: values[-1] for key, values in parse_qs(urlsplit(self.path).query).items()}

    def header(self, name: str) -> str | None:
        """A header's value, whatever the case of its name."""
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), None)

    def header_values(self, name: str) -> list[str]:
        """Every value sent for a header (a header sent twice has two)."""
        wanted = name.lower()
        return [value for key, value in self.header_lines if key.lower() == wanted]

    def json(self) -> Any:
        """The body, parsed as JSON."""
        return json.loads(self.body or b"null")


@dataclass(frozen=True)
class Failure:
    """An error answer the server gives instead of the normal one (see :meth:`LLMServer.fail`)."""

    status: int = 503
    retry_after: str | None = "0"
    retry_after_ms: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass
class LLMServer:
    """The running server: its base URL, what it received, and the failures it is told to give."""

    url: str
    received: list[Received] = field(default_factory=list)
    #: Answer the next N requests with 503 and ``retry-after: 0``.
    fail_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: Seconds between the events of a stream (so that they arrive as separate chunks).
    chunk_delay: float = 0.005
    failures: deque[Failure] = field(default_factory=deque)
    delays: deque[float] = field(default_factory=deque)
    stopping: threading.Event = field(default_factory=threading.Event)

    def fail(
        self,
        status: int = 503,
        *,
        times: int = 1,
        retry_after: str | None = "0",
        retry_after_ms: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` requests with ``status`` and these retry headers (``None``: not sent)."""
        failure = Failure(status, retry_after, retry_after_ms, dict(headers or {}))
        with self.lock:
            self.failures.extend([failure] * times)

    def stall(self, seconds: float, *, times: int = 1) -> None:
        """Wait ``seconds`` before answering each of the next ``times`` requests (to make clients time out)."""
        with self.lock:
            self.delays.extend([seconds] * times)

    def clear(self) -> None:
        """Forget what was received, and any failures or stalls still planned."""
        with self.lock:
            self.received.clear()
            self.failures.clear()
            self.delays.clear()
            self.fail_next = 0

    def _next_delay(self) -> float:
        with self.lock:
            return self.delays.popleft() if self.delays else 0.0

    def _next_failure(self) -> Failure | None:
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return Failure()
            return self.failures.popleft() if self.failures else None


# -- the APIs --------------------------------------------------------------------------------------
# Each API turns a request body into a JSON answer, a list of SSE events, or an error body.

Event = tuple[str | None, Any]  # (the SSE `event:` name or None, the `data:` payload; a str is sent as is)


def _usage_openai(words: int) -> dict[str, int]:
    return {"prompt_tokens": _INPUT_TOKENS, "completion_tokens": words, "total_tokens": _INPUT_TOKENS + words}


def _pieces(text: str) -> list[str]:
    return [(" " if index else "") + word for index, word in enumerate(text.split())]


class _API:
    name = "api"

    def answer(self, model: str, body: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def events(self, model: str, body: dict[str, Any]) -> Iterator[Event]:
        raise NotImplementedError

    def error(self, status: int, message: str) -> dict[str, Any]:
        kind = "rate_limit_error" if status == _TOO_MANY_REQUESTS else "server_error"
        return {"error": {"message": message, "type": kind}}


class _OpenAIChat(_API):
    name = "openai.chat"

    def answer(self, model: str, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": "chatcmpl-demo-1",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop"}],
            "usage": _usage_openai(len(ANSWER.split())),
            "service_tier": "default",
            "system_fingerprint": "fp_demo",
        }

    def events(self, model: str, body: dict[str, Any]) -> Iterator[Event]:
        created = int(time.time())
        base = {"id": "chatcmpl-demo-2", "object": "chat.completion.chunk", "created": created, "model": model}
        pieces = _pieces(ANSWER)
        for piece in pieces:
            yield None, {**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
        last = {"index": 0, "delta": {}, "finish_reason": "stop"}
        yield None, {**base, "choices": [last], "usage": _usage_openai(len(pieces))}
        yield None, "[DONE]"


class _OpenAIResponses(_API):
    name = "openai.responses"

    def _response(self, model: str, status: str, text: str | None) -> dict[str, Any]:
        output = []
        if text is not None:
            content = [{"type": "output_text", "text": text, "annotations": []}]
            output.append(
                {"type": "message", "id": "msg_demo_1", "status": status, "role": "assistant", "content": content}
            )
        words = len(ANSWER.split())
        return {
            "id": "resp_demo_1",
            "object": "response",
            "created_at": int(time.time()),
            "status": status,
            "model": model,
            "output": output,
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "usage": {
                "input_tokens": _INPUT_TOKENS,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": words,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": _INPUT_TOKENS + words,
            },
        }

    def answer(self, model: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._response(model, "completed", ANSWER)

    def events(self, model: str, body: dict[str, Any]) -> Iterator[Event]:
        where = {"item_id": "msg_demo_1", "output_index": 0, "content_index": 0}
        item = {"type": "message", "id": "msg_demo_1", "status": "in_progress", "role": "assistant", "content": []}
        part = {"type": "output_text", "text": "", "annotations": []}
        sequence = iter(range(1_000))
        steps: list[tuple[str, dict[str, Any]]] = [
            ("response.created", {"response": self._response(model, "in_progress", None)}),
            ("response.output_item.added", {"output_index": 0, "item": item}),
            ("response.content_part.added", {**where, "part": part}),
        ]
        steps.extend(("response.output_text.delta", {**where, "delta": piece}) for piece in _pieces(ANSWER))
        done_item = {**item, "status": "completed", "content": [{**part, "text": ANSWER}]}
        steps += [
            ("response.output_text.done", {**where, "text": ANSWER}),
            ("response.content_part.done", {**where, "part": {**part, "text": ANSWER}}),
            ("response.output_item.done", {"output_index": 0, "item": done_item}),
            ("response.completed", {"response": self._response(model, "completed", ANSWER)}),
        ]
        for kind, data in steps:
            yield kind, {"type": kind, "sequence_number": next(sequence), **data}


class _AnthropicMessages(_API):
    name = "anthropic.messages"

    def _message(self, model: str, content: list[Any], stop: str | None, output_tokens: int) -> dict[str, Any]:
        return {
            "id": "msg_demo_1",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"input_tokens": _INPUT_TOKENS, "output_tokens": output_tokens},
        }

    def answer(self, model: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._message(model, [{"type": "text", "text": ANSWER}], "end_turn", len(ANSWER.split()))

    def events(self, model: str, body: dict[str, Any]) -> Iterator[Event]:
        yield "message_start", {"type": "message_start", "message": self._message(model, [], None, 1)}
        block = {"type": "text", "text": ""}
        yield "content_block_start", {"type": "content_block_start", "index": 0, "content_block": block}
        yield "ping", {"type": "ping"}
        pieces = _pieces(ANSWER)
        for piece in pieces:
            delta = {"type": "text_delta", "text": piece}
            yield "content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}
        yield "content_block_stop", {"type": "content_block_stop", "index": 0}
        stop = {"stop_reason": "end_turn", "stop_sequence": None}
        yield "message_delta", {"type": "message_delta", "delta": stop, "usage": {"output_tokens": len(pieces)}}
        yield "message_stop", {"type": "message_stop"}

    def error(self, status: int, message: str) -> dict[str, Any]:
        kind = {429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message}}


class _GeminiContent(_API):
    name = "gemini.content"

    def _chunk(self, model: str, text: str, *, last: bool, words: int) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}
        chunk: dict[str, Any] = {"candidates": [candidate], "modelVersion": model, "responseId": "demo-response-1"}
        if last:
            candidate["finishReason"] = "STOP"
            chunk["usageMetadata"] = {
                "promptTokenCount": _INPUT_TOKENS,
                "candidatesTokenCount": words,
                "totalTokenCount": _INPUT_TOKENS + words,
            }
        return chunk

    def answer(self, model: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._chunk(model, ANSWER, last=True, words=len(ANSWER.split()))

    def events(self, model: str, body: dict[str, Any]) -> Iterator[Event]:
        pieces = _pieces(ANSWER)
        for index, piece in enumerate(pieces):
            yield None, self._chunk(model, piece, last=index == len(pieces) - 1, words=len(pieces))

    def error(self, status: int, message: str) -> dict[str, Any]:
        kind = {429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE"}.get(status, "INTERNAL")
        return {"error": {"code": status, "message": message, "status": kind}}


class _CohereChat(_API):
    name = "cohere.chat"

    def _usage(self, words: int) -> dict[str, Any]:
        tokens = {"input_tokens": _INPUT_TOKENS, "output_tokens": words}
        return {"billed_units": tokens, "tokens": tokens}

    def answer(self, model: str, body: dict[str, Any]) -> dict[str, Any]:
        message = {"role": "assistant", "content": [{"type": "text", "text": ANSWER}]}
        return {
            "id": "cohere-demo-1",
            "finish_reason": "COMPLETE",
            "message": message,
            "usage": self._usage(len(ANSWER.split())),
        }

    def events(self, model: str, body: dict[str, Any]) -> Iterator[Event]:
        start = {"message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}}
        yield "message-start", {"id": "cohere-demo-2", "type": "message-start", "delta": start}
        content_start = {"message": {"content": {"type": "text", "text": ""}}}
        yield "content-start", {"type": "content-start", "index": 0, "delta": content_start}
        pieces = _pieces(ANSWER)
        for piece in pieces:
            delta = {"message": {"content": {"text": piece}}}
            yield "content-delta", {"type": "content-delta", "index": 0, "delta": delta}
        yield "content-end", {"type": "content-end", "index": 0}
        end = {"finish_reason": "COMPLETE", "usage": self._usage(len(pieces))}
        yield "message-end", {"type": "message-end", "delta": end}

    def error(self, status: int, message: str) -> dict[str, Any]:
        return {"message": message}


_OPENAI_CHAT, _RESPONSES, _ANTHROPIC = _OpenAIChat(), _OpenAIResponses(), _AnthropicMessages()
_GEMINI, _COHERE = _GeminiContent(), _CohereChat()
_AZURE_DEPLOYMENT = re.compile(r"^/openai/deployments/(?P<deployment>[^/]+)/")
_GEMINI_PATH = re.compile(r"/models/(?P<model>[^/:]+):(?P<method>generateContent|streamGenerateContent)$")


@dataclass(frozen=True)
class _Call:
    """What a request asks for: which API, which model, streamed or not."""

    api: _API
    model: str
    stream: bool


def _route(path: str, query: dict[str, list[str]], body: dict[str, Any]) -> _Call | str:
    """The call a request makes, or why there is none (a 404 message)."""
    model = str(body.get("model") or "demo-model")
    stream = bool(body.get("stream"))
    azure = _AZURE_DEPLOYMENT.match(path)
    if azure is not None:
        if "api-version" not in query:
            return "Resource not found: Azure OpenAI deployment paths need ?api-version="
        model = azure["deployment"]
    gemini = _GEMINI_PATH.search(path)
    if gemini is not None:
        return _Call(_GEMINI, gemini["model"], gemini["method"] == "streamGenerateContent")
    for suffix, api in (
        ("/chat/completions", _OPENAI_CHAT),
        ("/responses", _RESPONSES),
        ("/v1/messages", _ANTHROPIC),
        ("/v2/chat", _COHERE),
    ):
        if path.endswith(suffix):
            return _Call(api, model, stream)
    return f"no route {path}"


def _handler(state: LLMServer) -> type[BaseHTTPRequestHandler]:  # noqa: C901 - the methods of the class it makes count here
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body are separate writes: without this, Nagle's algorithm and delayed ACKs
        # can hold the body back for tens of milliseconds.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
            """Quiet: the demo and the tests print what matters themselves."""

        def do_GET(self) -> None:
            self._record(b"")
            self._json(404, {"error": {"message": f"no route GET {self.path}"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            self._record(body)
            parts = urlsplit(self.path)
            try:
                request = json.loads(body or b"{}")
            except ValueError:
                request = {}
            call = _route(parts.path, parse_qs(parts.query), request if isinstance(request, dict) else {})
            if isinstance(call, str):
                self._json(404, {"error": {"message": call, "code": "404"}})
                return
            delay = state._next_delay()  # noqa: SLF001 - the server's own state
            if delay and state.stopping.wait(delay):
                return  # shutting down: the client has long given up
            failure = state._next_failure()  # noqa: SLF001 - the server's own state
            if failure is not None:
                self._fail(call.api, failure)
            elif call.stream:
                self._stream(call.api.events(call.model, request))
            else:
                self._json(200, call.api.answer(call.model, request))

        def _record(self, body: bytes) -> None:
            lines = tuple(self.headers.items())
            received = Received(self.command, self.path, dict(lines), body, self.client_address[1], lines)
            with state.lock:
                state.received.append(received)

        def _fail(self, api: _API, failure: Failure) -> None:
            headers = dict(failure.headers)
            if failure.retry_after is not None:
                headers["retry-after"] = failure.retry_after
            if failure.retry_after_ms is not None:
                headers["retry-after-ms"] = failure.retry_after_ms
            self._json(failure.status, api.error(failure.status, "overloaded, try again"), headers)

        def _json(self, status: int, payload: dict[str, Any], headers: Mapping[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header("x-request-id", f"req-demo-{len(state.received)}")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, events: Iterator[Event]) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("transfer-encoding", "chunked")
            self.send_header("x-request-id", f"req-demo-{len(state.received)}")
            self.end_headers()
            for index, (name, data) in enumerate(events):
                if index and state.chunk_delay:
                    time.sleep(state.chunk_delay)
                payload = data if isinstance(data, str) else json.dumps(data)
                prefix = f"event: {name}\n" if name else ""
                self._chunk(f"{prefix}data: {payload}\n\n".encode())
            self.wfile.write(b"0\r\n\r\n")

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up on a kept-alive connection is normal; anything else is reported."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


@contextmanager
def llm_server() -> Iterator[LLMServer]:
    """Run the server on a free port of 127.0.0.1 for the duration of the block."""
    state = LLMServer(url="")
    server = _Server(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_port}"
    # A short poll interval: shutdown() waits for the serving loop to notice (0.5 s by default).
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="wireline-llm-server", daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        state.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join()
