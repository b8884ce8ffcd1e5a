"""TLS failures say which host, what was trusted and how to fix it, keeping the flavour's error type."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import wireline
from tests.conftest import Driver
from tests.proxies import TLSFiles
from tests.servers import RunningServer, ServerState, make_app, run_server
from wireline.middleware.retry import Retry
from wireline.testing import no_sleep
from wireline.transports import HTTPTransport

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def mismatched_url(tls_files: TLSFiles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An HTTPS server whose certificate (from the trusted CA) names another host."""
    cert = tls_files.ca.issue_cert("other.test")
    folder = tmp_path_factory.mktemp("other")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert.private_key_pem.write_to_path(str(key_file))
    cert_file.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    with run_server(make_app(ServerState()), ssl_context_files=(str(cert_file), str(key_file))) as (host, port):
        yield f"https://{host}:{port}"


@pytest.fixture(scope="module")
def strict_mtls_port(tls_files: TLSFiles) -> Iterator[int]:
    """A TLS server (Python's ssl, which sends the alert) that requires a client certificate.

    uvicorn drops such a client without the TLS alert, so this one is written out here.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls_files.server_cert, tls_files.server_key)
    context.load_verify_locations(tls_files.ca_file)
    context.verify_mode = ssl.CERT_REQUIRED
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(5)
            with contextlib.suppress(OSError), context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1024)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    listener.close()


async def test_an_unknown_ca_names_host_trust_and_fix(
    driver: Driver, make_stack: Any, https_server: RunningServer
) -> None:
    http = __import__(driver.flavor)
    client = driver.client(make_stack())
    with pytest.raises(http.ConnectError) as caught:  # still the flavour's own type, for the SDKs
        await client.get(f"{https_server.url}/echo")
    message = str(caught.value)
    assert message.startswith(f"TLS with 127.0.0.1:{https_server.port} failed: [SSL: CERTIFICATE_VERIFY_FAILED]")
    assert "Trusted: certifi's CA bundle (the default, " in message
    assert "pass that CA bundle as verify='/path/to/corporate-ca.pem'" in message
    assert "verify='system'" in message
    await client.aclose()


async def test_a_certificate_for_another_host(
    driver: Driver, make_stack: Any, mismatched_url: str, tls_files: TLSFiles
) -> None:
    http = __import__(driver.flavor)
    client = driver.client(make_stack(verify=tls_files.ca_file))
    with pytest.raises(http.ConnectError) as caught:
        await client.get(f"{mismatched_url}/echo")
    message = str(caught.value)
    assert f"Trusted: the CA bundle {tls_files.ca_file}." in message
    assert "the server's certificate is not valid for 127.0.0.1" in message
    await client.aclose()


@pytest.mark.parametrize("flavor_name", ["httpx", "httpx2"])
def test_a_server_that_wants_a_client_certificate(flavor_name: str, strict_mtls_port: int, tls_files: TLSFiles) -> None:
    """Sync clients get the server's alert; asyncio's TLS reports the same refusal as a reset."""
    http = __import__(flavor_name)
    with (
        wireline.Stack(transport=HTTPTransport(verify=tls_files.ca_file)) as stack,
        pytest.raises(http.TransportError) as caught,
    ):
        stack.client(flavor_name).get(f"https://127.0.0.1:{strict_mtls_port}/")  # type: ignore[call-overload]
    assert "CERTIFICATE_REQUIRED" in str(caught.value)
    assert "the server asks for a client certificate (mTLS): pass it as cert=" in str(caught.value)


async def test_the_system_store_through_truststore(
    driver: Driver, make_stack: Any, https_server: RunningServer, tls_files: TLSFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    """verify='system' trusts what the OS trusts (truststore reads SSL_CERT_FILE on Linux, as OpenSSL does)."""
    http = __import__(driver.flavor)
    client = driver.client(make_stack(verify="system"))
    with pytest.raises(http.ConnectError) as caught:
        await client.get(f"{https_server.url}/echo")
    assert "Trusted: the operating system's trust store (truststore)" in str(caught.value)
    assert "verify='system'" not in str(caught.value)  # it is in use already
    await client.aclose()
    monkeypatch.setenv("SSL_CERT_FILE", tls_files.ca_file)
    client = driver.client(make_stack(verify="system"))
    assert (await client.get(f"{https_server.url}/echo")).status_code == 200
    await client.aclose()


async def test_a_tls_refusal_is_not_retried(driver: Driver, make_stack: Any, https_server: RunningServer) -> None:
    http = __import__(driver.flavor)
    client = driver.client(make_stack(Retry(attempts=5)))
    with no_sleep() as waits, pytest.raises(http.ConnectError, match="CERTIFICATE_VERIFY_FAILED") as caught:
        await client.get(f"{https_server.url}/echo")
    assert waits == []  # it fails the same way every time: no second attempt
    assert not isinstance(caught.value, wireline.errors.RetryError)
    await client.aclose()


def test_explain_shows_the_tls_settings(tls_files: TLSFiles) -> None:
    stack = wireline.Stack(transport=HTTPTransport(verify=tls_files.ca_file, cert=tls_files.client_cert))
    lines = stack.explain("https://api.example.com/v1")
    assert f"  TLS: trusts the CA bundle {tls_files.ca_file}; presents a client certificate" in lines
