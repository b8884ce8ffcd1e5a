"""The pooled transports' settings are the ones in force: TLS trust, client certificates, HTTP/2, UDS, limits.

Every test that takes ``make_stack`` runs over each base transport wireline ships (they share
these settings, see ``PooledTransport``); the rest are about ``HTTPTransport``'s own pool.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import wireline
from tests.conftest import BASE_TRANSPORTS, Driver
from tests.proxies import TLSFiles
from tests.servers import RunningServer, ServerState, free_socket, make_app, run_server
from wireline.transports import HTTPTransport, InsecureTransportWarning, Limits, tls

pytestmark = pytest.mark.anyio


class TestTrust:
    async def test_a_ca_bundle_path_is_trusted(
        self, driver: Driver, make_stack: Any, https_server: RunningServer, tls_files: TLSFiles
    ) -> None:
        """verify=<CA bundle> makes the server's certificate trusted, in every flavour and mode."""
        client = driver.client(make_stack(verify=tls_files.ca_file))
        response = await client.get(f"{https_server.url}/echo")
        assert response.status_code == 200
        await client.aclose()

    async def test_the_default_trust_refuses_an_unknown_ca(
        self, driver: Driver, make_stack: Any, https_server: RunningServer
    ) -> None:
        """Without the CA, the handshake fails with the flavour's own ConnectError."""
        http = __import__(driver.flavor)
        client = driver.client(make_stack())
        with pytest.raises(http.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await client.get(f"{https_server.url}/echo")
        await client.aclose()

    async def test_an_ssl_context_is_used_as_is(
        self, driver: Driver, make_stack: Any, https_server: RunningServer, tls_files: TLSFiles
    ) -> None:
        """verify=<ssl.SSLContext> is the context in force."""
        context = ssl.create_default_context(cafile=tls_files.ca_file)
        stack = make_stack(verify=context)
        assert stack.base.ssl_context() is context
        client = driver.client(stack)
        assert (await client.get(f"{https_server.url}/echo")).status_code == 200
        await client.aclose()

    async def test_ssl_cert_file_is_honoured_with_trust_env(
        self,
        driver: Driver,
        make_stack: Any,
        https_server: RunningServer,
        tls_files: TLSFiles,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """SSL_CERT_FILE is the default trust when trust_env is on, and ignored when off."""
        monkeypatch.setenv("SSL_CERT_FILE", tls_files.ca_file)
        http = __import__(driver.flavor)
        client = driver.client(make_stack())
        assert (await client.get(f"{https_server.url}/echo")).status_code == 200
        untrusting = driver.client(make_stack(trust_env=False))
        with pytest.raises(http.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await untrusting.get(f"{https_server.url}/echo")
        await client.aclose()
        await untrusting.aclose()

    async def test_verify_false_works_and_is_warned_about_once(
        self, driver: Driver, make_stack: Any, https_server: RunningServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """verify=False is allowed, with one warning for the process that says what to do instead."""
        monkeypatch.setattr(tls, "_warned", set())
        client = driver.client(make_stack(verify=False))
        with pytest.warns(InsecureTransportWarning, match="Pass your CA bundle"):
            response = await client.get(f"{https_server.url}/echo")
        assert response.status_code == 200
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            again = driver.client(make_stack(verify=False))
            assert (await again.get(f"{https_server.url}/echo")).status_code == 200
        await client.aclose()
        await again.aclose()

    async def test_a_client_certificate_is_presented(
        self, driver: Driver, make_stack: Any, mtls_server: RunningServer, tls_files: TLSFiles
    ) -> None:
        """cert= presents a client certificate (mTLS); without it the server refuses."""
        http = __import__(driver.flavor)
        client = driver.client(make_stack(verify=tls_files.ca_file, cert=tls_files.client_cert))
        assert (await client.get(f"{mtls_server.url}/echo")).status_code == 200
        await client.aclose()
        refused = driver.client(make_stack(verify=tls_files.ca_file))
        with pytest.raises(http.TransportError):
            await refused.get(f"{mtls_server.url}/echo")
        await refused.aclose()

    async def test_one_context_serves_every_pool(
        self, make_stack: Any, https_server: RunningServer, tls_files: TLSFiles
    ) -> None:
        """The spec builds its SSL context once; every flavour's pool shares it."""
        stack = make_stack(verify=tls_files.ca_file)
        for flavor in ("httpx", "httpx2"):
            client = stack.async_client(flavor)
            assert (await client.get(f"{https_server.url}/echo")).status_code == 200
        first = stack.base.ssl_context()
        assert stack.base.ssl_context() is first


@pytest.fixture(scope="module")
def h2_url(tls_files: TLSFiles) -> Iterator[str]:
    """An HTTPS server that speaks HTTP/2 (hypercorn)."""
    hypercorn_asyncio = pytest.importorskip("hypercorn.asyncio")
    from hypercorn.config import Config

    config = Config()
    config.certfile, config.keyfile = tls_files.server_cert, tls_files.server_key
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    config.bind = [f"127.0.0.1:{port}"]
    config.loglevel = "WARNING"
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(
        target=loop.run_until_complete,
        args=(hypercorn_asyncio.serve(make_app(ServerState()), config, shutdown_trigger=stop.wait),),
        daemon=True,
    )
    thread.start()
    import socket
    import time

    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
    yield f"https://127.0.0.1:{port}"
    loop.call_soon_threadsafe(stop.set)
    thread.join(10)
    loop.close()


@pytest.mark.transport_settings(http2=True)
async def test_http2_is_negotiated_when_asked(
    driver: Driver, make_stack: Any, h2_url: str, tls_files: TLSFiles
) -> None:
    """http2=True speaks HTTP/2 to a server that offers it; the default speaks HTTP/1.1."""
    client = driver.client(make_stack(http2=True, verify=tls_files.ca_file))
    assert (await client.get(f"{h2_url}/echo")).http_version == "HTTP/2"
    await client.aclose()
    client = driver.client(make_stack(verify=tls_files.ca_file))
    assert (await client.get(f"{h2_url}/echo")).http_version == "HTTP/1.1"
    await client.aclose()


async def test_a_unix_socket(driver: Driver, make_stack: Any, tmp_path: Path) -> None:
    """uds= connects through a Unix domain socket."""
    path = str(tmp_path / "wireline.sock")
    with run_server(make_app(ServerState()), uds=path):
        client = driver.client(make_stack(uds=path))
        response = await client.get("http://unix.invalid/echo")
        assert response.json()["path"] == "/echo"
        await client.aclose()


async def test_limits_are_in_force(make_stack: Any, server: Any) -> None:
    """max_connections=1 makes concurrent calls queue for the one connection."""
    stack = make_stack(limits=Limits(max_connections=1))
    client = stack.async_client("httpx2")
    responses = await asyncio.gather(*(client.get(f"{server.url}/slow?s=0.05") for _ in range(4)))
    ports = {seen.client_port for seen in server.state.seen}
    assert [r.status_code for r in responses] == [200] * 4
    assert len(ports) == 1


def test_local_address_and_connection_retries_reach_the_pool(server: Any) -> None:
    """local_address and retries are passed to the flavour's pool as given."""
    spec = HTTPTransport(local_address="127.0.0.1", retries=3)
    with wireline.Stack(transport=spec) as stack:
        assert stack.client().get(f"{server.url}/echo").status_code == 200
        pool: Any = next(iter(stack._pools._sync.values()))._pool
        assert pool._retries == 3
        assert pool._local_address == "127.0.0.1"


def test_a_missing_h2_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """http2=True without h2 installed says which extra to install."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "h2" else real(name, *a))
    with (
        wireline.Stack(transport=HTTPTransport(http2=True)) as stack,
        pytest.raises(wireline.MissingDependencyError, match=r"pip install 'wireline\[http2\]'"),
    ):
        stack.client().get("http://127.0.0.1:9/")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"http1": False, "http2": False}, "http1: expected http1 or http2 (or both) to be true"),
        ({"cert": "/no/cert.pem"}, "cert: expected existing certificate and key files"),
        ({"verify": 3}, "verify: expected True, False, a CA bundle path, 'system' or an ssl.SSLContext"),
        ({"uds": 5}, "uds: expected a string"),
    ],
)
def test_bad_settings_are_refused_when_made(base_transport: str, settings: dict[str, Any], message: str) -> None:
    """Settings are checked when the spec is made (by every pooled transport), not at the first request."""
    with pytest.raises(wireline.ConfigError) as caught:
        BASE_TRANSPORTS[base_transport](**settings)
    assert str(caught.value).startswith(message)


async def test_a_route_gets_a_pool_of_its_own(driver: Driver, make_stack: Any, server: Any) -> None:
    """A Route in the request's extensions is applied to the stack's base spec, with its own pool."""
    from wireline.middleware import Middleware
    from wireline.transports import Route

    direct_again = Route.of("again")  # no settings changed: the same base, but a separate pool

    class Routed(Middleware):
        def on_request(self, request: Any) -> None:
            if request.url.path == "/status/201":
                request.extensions["wireline.route"] = direct_again

    stack = make_stack(Routed())
    client = driver.client(stack)
    first = (await client.get(f"{server.url}/echo")).json()["client_port"]
    assert (await client.get(f"{server.url}/status/201")).status_code == 201
    assert (await client.get(f"{server.url}/echo")).json()["client_port"] == first
    routed_port = server.state.seen[1].client_port
    assert routed_port != first
    counts = stack._pools.describe()
    assert counts["async" if driver.is_async else "sync"] == 2
    assert stack._pools._spec_for(direct_again) is stack._pools._spec_for(Route.of("again"))
    await client.aclose()
