"""What is particular to the aiohttp base transport: what it refuses, how it is chosen and shown.

Its behaviour like the default's (timeouts, errors, events, TLS, proxies, streaming) is tested
with every other base transport's, over the whole suite (``make_stack``).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import wireline
from tests.servers import RunningServer, ServerState, make_app, run_server
from tests.transports import misbehaving
from wireline._flavors import get_flavor
from wireline.transports import AiohttpTransport, Limits
from wireline.transports._aiohttp import transport_class
from wireline.transports._aiohttp.connector import ReadTimedHandler

pytestmark = pytest.mark.anyio


class TestRefusals:
    def test_sync_clients_are_refused_with_the_reason(self) -> None:
        """aiohttp has no sync client: building one says so, and what to use instead."""
        stack = wireline.Stack(transport=AiohttpTransport())
        with pytest.raises(wireline.ConfigError) as caught:
            stack.client("httpx2")
        message = str(caught.value)
        assert message.startswith("transport: expected a base transport that serves sync httpx2 clients")
        assert "aiohttp has no sync client" in message
        assert "'http' or 'httpcore2' base transport" in message
        with pytest.raises(wireline.ConfigError):
            stack.transport()

    @pytest.mark.parametrize(
        ("settings", "message"),
        [
            ({"http2": True}, "http2: expected false: aiohttp speaks HTTP/1.1 only"),
            ({"http1": False, "http2": True}, "http2: expected false: aiohttp speaks HTTP/1.1 only"),
            ({"proxy": "socks5://proxy.corp:1080"}, "proxy: expected an http:// or https:// proxy"),
            ({"uds": "wireline.sock", "proxy": "http://p:3128"}, "proxy: expected nothing"),
            ({"uds": "wireline.sock", "local_address": "127.0.0.1"}, "local_address: expected nothing"),
        ],
    )
    def test_what_aiohttp_cannot_do_is_refused_when_made(self, settings: dict[str, Any], message: str) -> None:
        with pytest.raises(wireline.ConfigError) as caught:
            AiohttpTransport(**settings)
        assert str(caught.value).startswith(message)

    def test_a_socks_route_is_refused_when_the_stack_is_made(self) -> None:
        """ProxyRouter's routes are checked against the base transport when the stack is built."""
        from wireline.middleware import ProxyRouter

        with pytest.raises(wireline.ConfigError, match=r"can take ProxyRouter's route .*aiohttp cannot use SOCKS"):
            wireline.Stack(ProxyRouter({"*": "socks5://proxy.corp:1080"}), transport=AiohttpTransport())
        wireline.Stack(ProxyRouter({"*": "http://proxy.corp:3128"}), transport=AiohttpTransport())

    def test_the_refusal_names_the_key_in_config(self) -> None:
        with pytest.raises(wireline.ConfigError, match=r"^transport\.http2: expected false: aiohttp speaks HTTP/1\.1"):
            wireline.Stack.from_config({"transport": {"use": "aiohttp", "http2": True}})

    async def test_tls_over_a_unix_socket_is_refused_not_sent_in_clear(self, tmp_path: Path) -> None:
        """aiohttp does no TLS over a Unix socket: an https URL there fails instead of going unencrypted."""
        path = str(tmp_path / "s.sock")
        with run_server(make_app(ServerState()), uds=path):
            async with wireline.Stack(transport=AiohttpTransport(uds=path)) as stack:
                client = stack.async_client("httpx2")
                assert (await client.get("http://unix.invalid/echo")).status_code == 200
                with pytest.raises(__import__("httpx2").UnsupportedProtocol, match="TLS over a Unix socket"):
                    await client.get("https://unix.invalid/echo")

    def test_a_missing_aiohttp_names_the_extra(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import wireline.transports

        monkeypatch.setitem(sys.modules, "aiohttp", None)
        for name in [name for name in sys.modules if name.startswith("wireline.transports._aiohttp")]:
            monkeypatch.delitem(sys.modules, name)
        monkeypatch.delattr(wireline.transports, "_aiohttp", raising=False)

        async def call() -> None:
            async with wireline.Stack(transport=AiohttpTransport()) as stack:
                await stack.async_client().get("http://127.0.0.1:9/")

        with pytest.raises(wireline.MissingDependencyError, match=r"pip install 'wireline\[aiohttp\]'"):
            asyncio.run(call())


class TestChoosing:
    def test_by_name_in_config_with_the_shared_settings(self) -> None:
        stack = wireline.Stack.from_config(
            {"transport": {"use": "aiohttp", "limits": {"max_connections": 64}, "retries": 2}}
        )
        assert isinstance(stack.base, AiohttpTransport)
        assert stack.base.limits == Limits(max_connections=64)
        assert stack.base.retries == 2

    def test_print_and_explain_show_it(self) -> None:
        stack = wireline.Stack(transport=AiohttpTransport(proxy="http://alice:s3cret@proxy.corp:3128"))
        assert str(stack).splitlines()[-1] == (
            "  base: AiohttpTransport(proxy='http://REDACTED:REDACTED@proxy.corp:3128')"
        )
        explained = "\n".join(stack.explain("https://api.openai.com/v1/chat/completions"))
        assert "aiohttp connection pool, HTTP/1.1; up to 1000 connections" in explained
        assert "through the proxy http://REDACTED:REDACTED@proxy.corp:3128" in explained
        assert "s3cret" not in explained + repr(stack)

    def test_wireline_explain_shows_it(self, tmp_path: Path) -> None:
        """The command line explains a stack over aiohttp from a config file."""
        config = tmp_path / "wireline.toml"
        config.write_text('[transport]\nuse = "aiohttp"\nretries = 1\n')
        result = subprocess.run(
            [sys.executable, "-m", "wireline", "explain", "https://api.example.test/v1/chat", "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert "base transport: AiohttpTransport(retries=1)" in result.stdout
        assert "aiohttp connection pool, HTTP/1.1" in result.stdout

    def test_replace_keeps_every_setting(self) -> None:
        """A Route's settings are applied with replace(): the rest of the spec stays as it was."""
        spec = AiohttpTransport(limits=Limits(max_connections=8), retries=1)
        routed = spec.replace(proxy="http://proxy.corp:3128")
        assert isinstance(routed, AiohttpTransport)
        assert (routed.limits, routed.retries, routed.proxy) == (spec.limits, 1, "http://proxy.corp:3128")


class TestPools:
    def test_each_event_loop_gets_a_session_closed_with_it(self, server: RunningServer) -> None:
        """One session per loop; asyncio.run's end closes it (an unclosed one would fail this suite)."""
        stack = wireline.Stack(transport=AiohttpTransport())
        client = stack.async_client("httpx2")

        async def call() -> int:
            return int((await client.get(f"{server.url}/echo")).json()["client_port"])

        first, second = asyncio.run(call()), asyncio.run(call())
        assert first != second  # a connection of the second loop's own
        stack.close()

    async def test_an_early_answer_is_read_and_no_write_timeout_fires_after_it(self, server: RunningServer) -> None:
        """A server may answer before reading the body (413); the write timer does not outlive the answer.

        (aiohttp before 3.14 also reports an unretrieved "Connection lost" to the event loop here.)
        """
        async with wireline.Stack(transport=AiohttpTransport()) as stack:
            client = stack.async_client("httpx2", timeout=__import__("httpx2").Timeout(10, write=0.2))
            with misbehaving.raw_server(misbehaving.answer_before_reading_body, receive_buffer=4096) as raw:
                response = await client.post(raw.url, content=b"x" * 8_000_000)
                assert (response.status_code, response.content) == (413, b"too big!")
                await asyncio.sleep(0.4)  # past the write timeout, with the body still unsent
            assert (await client.get(f"{server.url}/echo")).status_code == 200


def _trickle(conn: Any, server: Any) -> None:
    """Five chunks 0.1 s apart: each well inside a 0.25 s read timeout, all of them far beyond it."""
    misbehaving.read_head(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
    for _ in range(5):
        time.sleep(0.1)
        conn.sendall(b"1\r\nx\r\n")
    conn.sendall(b"0\r\n\r\n")
    misbehaving.wait_for_client_to_leave(conn, server)


class TestReadTimer:
    """The read timeout's one timer per response (ReadTimedHandler): data moves its deadline."""

    async def test_data_arriving_in_time_keeps_moving_the_deadline(self) -> None:
        async with wireline.Stack(transport=AiohttpTransport()) as stack:
            client = stack.async_client("httpx2", timeout=__import__("httpx2").Timeout(10, read=0.25))
            with misbehaving.raw_server(_trickle) as raw:
                response = await client.get(raw.url)
            assert response.content == b"xxxxx"

    async def test_connections_use_it(self) -> None:
        """Should aiohttp's internals change, this fails and says the (slower) fallback is in use."""
        flavor = get_flavor("httpx2")
        pool = transport_class(flavor)(AiohttpTransport(), flavor)
        session = pool._open()
        connector: Any = session.connector
        assert connector._factory.func is ReadTimedHandler
        await pool.aclose()


class TestWrittenOnTheWire:
    """Requests with no proxy and no body or a small one skip aiohttp's request and response objects."""

    @staticmethod
    async def _heads_seen(spec: Any, flavor: Any, url: str) -> list[bytes]:
        """What the server received for a GET with a query, a small POST and a header sent as bytes."""
        async with wireline.Stack(transport=spec) as stack:
            client = stack.async_client(flavor)
            return [
                (await client.get(f"{url}/v1/models?limit=2&q=a%20b")).content,
                (await client.post(f"{url}/v1/chat", json={"m": "x"}, headers={"x-raw": b"caf\xe9"})).content,
                (await client.request("DELETE", f"{url}/v1/files/1", content=b"")).content,
            ]

    @pytest.mark.parametrize("flavor", ["httpx", "httpx2"])
    async def test_the_bytes_sent_are_httpcores(self, flavor: str) -> None:
        """Byte for byte what httpcore writes: the headers as the client set them, in order, not re-encoded."""
        from wireline.transports import HTTPTransport

        with misbehaving.raw_server(misbehaving.echo_each_request) as raw:
            over_aiohttp = await self._heads_seen(AiohttpTransport(), flavor, raw.url)
            over_httpcore = await self._heads_seen(HTTPTransport(), flavor, raw.url)
        assert over_aiohttp == over_httpcore
        assert b"\r\nx-raw: caf\xe9\r\n" in over_aiohttp[1]

    async def test_a_pool_that_keeps_no_connection_asks_the_server_to_close(self) -> None:
        """With keepalive_expiry=0 a request without a Connection header says ``Connection: close``,
        as aiohttp says it; one with its own (httpx clients send ``keep-alive``) keeps it, not doubled."""
        async with wireline.Stack(transport=AiohttpTransport(limits=Limits(keepalive_expiry=0))) as stack:
            client = stack.async_client("httpx2")
            with misbehaving.raw_server(misbehaving.echo_each_request) as raw:
                request = client.build_request("GET", raw.url)
                del request.headers["Connection"]
                bare = (await client.send(request)).content
                own = (await client.get(raw.url)).content
        assert bare.endswith(b"\r\nConnection: close\r\n\r\n")
        assert own.lower().count(b"\r\nconnection:") == 1
        assert b"\r\nConnection: keep-alive\r\n" in own

    async def test_a_line_break_is_refused_naming_the_header_with_a_secret_redacted(self) -> None:
        http2 = __import__("httpx2")
        async with wireline.Stack(transport=AiohttpTransport()) as stack:
            client = stack.async_client("httpx2")
            with pytest.raises(http2.LocalProtocolError) as caught:
                await client.get("http://127.0.0.1:9/", headers={"Authorization": "Bearer sk-live\r\nX-Evil: 1"})
        message = str(caught.value)
        assert message.startswith("header 'Authorization': expected a name and value without a carriage return")
        assert "sk-live" not in message

    async def test_only_proxied_and_streamed_requests_use_aiohttps_request(self, server: RunningServer) -> None:
        """Plain requests take the wire path; a streamed body goes through aiohttp's request (it frames it)."""
        flavor = get_flavor("httpx2")
        pool: Any = transport_class(flavor)(AiohttpTransport(), flavor)
        direct_calls = 0
        send_direct = pool._send_direct

        async def counted(*args: Any) -> Any:
            nonlocal direct_calls
            direct_calls += 1
            return await send_direct(*args)

        pool._send = counted
        client = __import__("httpx2").AsyncClient(transport=pool)
        for _ in range(3):
            assert (await client.get(f"{server.url}/echo")).status_code == 200
            assert (await client.post(f"{server.url}/echo", content=b"small")).json()["body"] == "small"
        assert direct_calls == 0
        assert len(pool._connect_keys) == 1  # one connection key for the one origin

        async def pieces() -> Any:
            yield b"streamed"

        assert (await client.post(f"{server.url}/echo", content=pieces())).json()["body"] == "streamed"
        assert direct_calls == 1
        await client.aclose()
