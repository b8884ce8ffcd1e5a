"""A local server that imitates an LLM API, for tests, examples and ``wireline demo``.

Standard library only, so it works wherever wireline is installed. It answers OpenAI-style chat
completions on ``POST /v1/chat/completions`` — a JSON body, or server-sent events when the request
asks for ``"stream": true`` — and records what it received. It listens on 127.0.0.1 only::

    with llm_server() as server:
        client = stack.client(base_url=server.url)
        client.post("/v1/chat/completions", json={"model": "m", "messages": []})
        assert server.received[-1].path == "/v1/chat/completions"
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["LLMServer", "Received", "llm_server"]


@dataclass(frozen=True)
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    client_port: int


@dataclass
class LLMServer:
    """The running server: its base URL and what it received."""

    url: str
    received: list[Received] = field(default_factory=list)
    #: Answer the next N requests with 503 and ``retry-after: 0``.
    fail_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _completion(model: str, text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-demo-1",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 9, "completion_tokens": len(text.split()), "total_tokens": 9 + len(text.split())},
    }


def _chunks(model: str, text: str) -> Iterator[dict[str, Any]]:
    words = text.split()
    for index, word in enumerate(words):
        delta = {"content": (" " if index else "") + word}
        yield {
            "id": "chatcmpl-demo-2",
            "object": "chat.completion.chunk",
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
        }
    yield {
        "id": "chatcmpl-demo-2",
        "object": "chat.completion.chunk",
        "model": model,
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 9, "completion_tokens": len(words), "total_tokens": 9 + len(words)},
    }


ANSWER = "wireline sent this through every layer of the stack and one shared pool"


def _handler(state: LLMServer) -> type[BaseHTTPRequestHandler]:  # noqa: C901 - the methods of the class it makes count here
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
            """Quiet: the demo prints what matters itself."""

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            with state.lock:
                state.received.append(
                    Received("POST", self.path, dict(self.headers.items()), body, self.client_address[1])
                )
                failing = state.fail_next > 0
                if failing:
                    state.fail_next -= 1
            if failing:
                self._json(
                    503, {"error": {"message": "overloaded, try again", "type": "server_error"}}, retry_after="0"
                )
                return
            if self.path.split("?")[0] != "/v1/chat/completions":
                self._json(404, {"error": {"message": f"no route {self.path}"}})
                return
            request = json.loads(body or b"{}")
            model = request.get("model", "demo-model")
            if request.get("stream"):
                self._stream(model)
            else:
                self._json(200, _completion(model, ANSWER))

        def _json(self, status: int, payload: dict[str, Any], retry_after: str | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header("x-request-id", f"req-demo-{len(state.received)}")
            if retry_after is not None:
                self.send_header("retry-after", retry_after)
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, model: str) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("transfer-encoding", "chunked")
            self.send_header("x-request-id", f"req-demo-{len(state.received)}")
            self.end_headers()
            for chunk in _chunks(model, ANSWER):
                self._chunk(f"data: {json.dumps(chunk)}\n\n".encode())
                time.sleep(0.005)
            self._chunk(b"data: [DONE]\n\n")
            self.wfile.write(b"0\r\n\r\n")

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

    return Handler


@contextmanager
def llm_server() -> Iterator[LLMServer]:
    """Run the server on a free port of 127.0.0.1 for the duration of the block."""
    state = LLMServer(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, name="wireline-llm-server", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
