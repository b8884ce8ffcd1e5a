"""Fixtures for the base-transport tests: trustme certificates, HTTPS servers, a real proxy."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from tests.servers import ServerState, free_socket, make_app, run_server

# -- TLS: a private CA, a server certificate, a client certificate --------------------------


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="session")
def server_files(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    cert = ca.issue_cert("127.0.0.1", "localhost")
    folder = tmp_path_factory.mktemp("server")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_path))
    for pem in cert.cert_chain_pems[1:]:
        pem.write_to_path(str(cert_path), append=True)
    cert.private_key_pem.write_to_path(str(key_path))
    return str(cert_path), str(key_path)


@pytest.fixture(scope="session")
def https_url(server_files: tuple[str, str]) -> Iterator[str]:
    with run_server(make_app(ServerState()), ssl_context_files=server_files) as (host, port):
        yield f"https://{host}:{port}"


@pytest.fixture(scope="session")
def mtls_url(server_files: tuple[str, str], ca_file: str) -> Iterator[str]:
    with run_server(make_app(ServerState()), ssl_context_files=server_files, ca_for_clients=ca_file) as (host, port):
        yield f"https://{host}:{port}"


@pytest.fixture(scope="session")
def client_cert(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    cert = ca.issue_cert("client@example.test")
    path = tmp_path_factory.mktemp("client") / "client.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(path))
    return str(path)


# -- a real forward proxy (proxy.py), in a process of its own --------------------------------


@dataclass(frozen=True)
class RunningProxy:
    """A proxy.py instance on 127.0.0.1 that wants ``user``/``password`` (Basic) from its clients."""

    port: int
    user: str = "wl-user"
    password: str = "wl-s3cret"  # a test proxy's password, asserted absent from output

    @property
    def url(self) -> str:
        return f"http://{self.user}:{self.password}@127.0.0.1:{self.port}"

    @property
    def url_without_credentials(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture(scope="session")
def proxy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProxy]:
    """proxy.py (HTTP forwarding and CONNECT tunnels, Basic auth) for the session.

    It runs as a subprocess: its threads and sockets are its own business, not this suite's.
    """
    port_file = tmp_path_factory.mktemp("proxy") / "port"
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    proxy = RunningProxy(port)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "proxy",
            "--hostname",
            "127.0.0.1",
            "--port",
            str(port),
            "--port-file",
            str(port_file),
            "--basic-auth",
            f"{proxy.user}:{proxy.password}",
            "--num-acceptors",
            "1",
            "--log-level",
            "ERROR",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(port_file, process)
        yield proxy
    finally:
        process.terminate()
        process.wait(10)


def _wait_for(port_file: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while not (port_file.exists() and port_file.read_text().strip()):
        if process.poll() is not None or time.monotonic() > deadline:
            msg = "proxy.py did not start"
            raise RuntimeError(msg)
        time.sleep(0.05)
