"""Real local servers for the tests: a starlette app under uvicorn, in a thread, on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    client_port: int


@dataclass
class ServerState:
    """What the app shares with the tests."""

    seen: list[Seen] = field(default_factory=list)
    #: Gated SSE streams: how many events the server has sent, and the gate that lets it finish.
    sse_sent: int = 0
    gate: threading.Event = field(default_factory=threading.Event)

    def reset(self) -> None:
        self.seen.clear()
        self.sse_sent = 0
        self.gate = threading.Event()


def make_app(state: ServerState) -> Starlette:
    async def record(request: Request) -> Seen:
        body = await request.body()
        client = request.client
        seen = Seen(
            request.method,
            request.url.path,
            request.url.query,
            dict(request.headers.items()),
            body,
            client.port if client else 0,
        )
        state.seen.append(seen)
        return seen

    async def echo(request: Request) -> JSONResponse:
        seen = await record(request)
        return JSONResponse(
            {
                "method": seen.method,
                "path": seen.path,
                "query": seen.query,
                "headers": seen.headers,
                "body": seen.body.decode("latin-1"),
                "client_port": seen.client_port,
            },
            headers={"x-request-id": f"req-{len(state.seen)}"},
        )

    async def status(request: Request) -> Response:
        await record(request)
        code = int(request.path_params["code"])
        headers = {k[len("h-") :]: v for k, v in request.query_params.items() if k.startswith("h-")}
        return JSONResponse({"status": code}, status_code=code, headers=headers)

    async def sse(request: Request) -> StreamingResponse:
        await record(request)
        count = int(request.query_params.get("n", "10"))
        gated = request.query_params.get("gate") == "1"

        async def events() -> AsyncIterator[bytes]:
            for index in range(count):
                if gated and index == count // 2:
                    # Hold the second half back until the test has seen the first piece.
                    while not state.gate.is_set():
                        await asyncio.sleep(0.005)
                state.sse_sent = index + 1
                yield f"id: {index}\ndata: {json.dumps({'n': index})}\n\n".encode()
                if index % 50 == 0:
                    await asyncio.sleep(0)

        return StreamingResponse(events(), media_type="text/event-stream")

    async def slow(request: Request) -> Response:
        await record(request)
        await asyncio.sleep(float(request.query_params.get("s", "0.2")))
        return JSONResponse({"slow": True})

    routes = [
        Route("/echo", echo, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
        Route("/status/{code:int}", status, methods=["GET", "POST"]),
        Route("/sse", sse, methods=["GET", "POST"]),
        Route("/slow", slow, methods=["GET", "POST"]),
    ]
    return Starlette(routes=routes)


@dataclass
class RunningServer:
    url: str
    state: ServerState
    host: str = "127.0.0.1"
    port: int = 0
    uds: str | None = None


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def run_server(
    app: Any,
    *,
    ssl_context_files: tuple[str, str] | None = None,
    ca_for_clients: str | None = None,
    uds: str | None = None,
) -> Iterator[tuple[str, int]]:
    """Run ``app`` under uvicorn in a thread; yields (host, port) (port 0 with ``uds``)."""
    kwargs: dict[str, Any] = {}
    if ssl_context_files is not None:
        kwargs["ssl_certfile"], kwargs["ssl_keyfile"] = ssl_context_files
        if ca_for_clients is not None:
            kwargs["ssl_ca_certs"] = ca_for_clients
            kwargs["ssl_cert_reqs"] = ssl.CERT_REQUIRED
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_keep_alive=30, uds=uds, **kwargs)
    server = uvicorn.Server(config)
    sockets: list[socket.socket] = []
    port = 0
    if uds is None:
        sock = free_socket()
        port = sock.getsockname()[1]
        sockets.append(sock)
    thread = threading.Thread(target=server.run, kwargs={"sockets": sockets or None}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield "127.0.0.1", port
    finally:
        server.should_exit = True
        thread.join(10)
