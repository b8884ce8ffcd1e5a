"""Real proxies on 127.0.0.1 for the routing tests, as session fixtures (a pytest plugin).

- ``forward_proxy`` / ``auth_proxy``: proxy.py (the ``proxy.py`` package), plain forwarding and
  CONNECT, without and with basic auth.
- ``socks_proxy`` / ``socks_auth_proxy``: pproxy, SOCKS5, without and with a username and password.
  (pproxy 2.7.9 fails to start when uvloop is installed, so it is started with uvloop hidden.)
- ``mitm_proxy``: mitmproxy, a TLS-intercepting proxy with a CA of its own. mitmproxy pins older
  h11/h2 than httpcore needs, so it lives in a virtualenv of its own, created on first use next to
  the test environment (``<sys.prefix>/mitmproxy-venv``) with ``pip install mitmproxy``.
- ``tls_files``: a trustme CA, a server certificate for 127.0.0.1/localhost, a client certificate.
- ``https_server`` / ``mtls_server``: the test app over TLS, and over TLS that requires a client certificate.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from tests.servers import RunningServer, ServerState, make_app, run_server

MITMPROXY_VERSION = "11.0.2"
PROXY_USER, PROXY_PASSWORD = "wire", "s3cret-proxy-pass"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_listening(port: int, process: subprocess.Popen[bytes], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            raise RuntimeError(f"{what} exited at start ({process.returncode}): {output[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{what} did not listen on port {port} within {timeout} s")


@contextlib.contextmanager
def _running(command: list[str], port: int, what: str, env: dict[str, str] | None = None) -> Iterator[int]:
    """Run ``command`` until the block ends; yields once it listens on ``port``."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    try:
        _wait_until_listening(port, process, what)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


@dataclass(frozen=True)
class Proxy:
    url: str  # with credentials when it needs them
    port: int


def _proxy_py(*extra: str) -> contextlib.AbstractContextManager[int]:
    port = _free_port()
    command = [sys.executable, "-m", "proxy", "--hostname", "127.0.0.1", "--port", str(port), "--threaded"]
    command += ["--num-acceptors", "1", "--log-level", "WARNING", *extra]
    return _running(command, port, "proxy.py")


@pytest.fixture(scope="session")
def forward_proxy() -> Iterator[Proxy]:
    """proxy.py without auth: forwards plain HTTP, tunnels HTTPS with CONNECT."""
    with _proxy_py() as port:
        yield Proxy(f"http://127.0.0.1:{port}", port)


@pytest.fixture(scope="session")
def auth_proxy() -> Iterator[Proxy]:
    """proxy.py that requires basic auth; the URL carries the credentials."""
    with _proxy_py("--basic-auth", f"{PROXY_USER}:{PROXY_PASSWORD}") as port:
        yield Proxy(f"http://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:{port}", port)


def _pproxy(listen: str, port: int) -> contextlib.AbstractContextManager[int]:
    # pproxy installs uvloop when it can import it, and 2.7.9 then fails to start: hide it.
    launcher = "import sys; sys.modules['uvloop'] = None; from pproxy.server import main; sys.exit(main())"
    return _running([sys.executable, "-c", launcher, "-l", listen], port, "pproxy")


@pytest.fixture(scope="session")
def socks_proxy() -> Iterator[Proxy]:
    """pproxy as a SOCKS5 proxy, no auth."""
    port = _free_port()
    with _pproxy(f"socks5://127.0.0.1:{port}", port):
        yield Proxy(f"socks5://127.0.0.1:{port}", port)


@pytest.fixture(scope="session")
def socks_auth_proxy() -> Iterator[Proxy]:
    """pproxy as a SOCKS5 proxy that requires a username and password."""
    port = _free_port()
    with _pproxy(f"socks5://127.0.0.1:{port}#{PROXY_USER}:{PROXY_PASSWORD}", port):
        yield Proxy(f"socks5://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:{port}", port)


# -- TLS: a CA, certificates, servers ---------------------------------------------------------


@dataclass(frozen=True)
class TLSFiles:
    ca: trustme.CA
    ca_file: str  # the CA certificate, PEM: what a client passes as verify=
    server_cert: str
    server_key: str
    client_cert: str  # key and certificate in one PEM, for cert=


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    ca = trustme.CA()
    folder = tmp_path_factory.mktemp("tls")
    ca_file = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server = ca.issue_cert("127.0.0.1", "localhost")
    cert_file, key_file = folder / "server.pem", folder / "server.key"
    server.private_key_pem.write_to_path(str(key_file))
    cert_file.write_bytes(b"".join(blob.bytes() for blob in server.cert_chain_pems))
    client = ca.issue_cert("client@wireline.test")
    client_file = folder / "client.pem"
    client.private_key_and_cert_chain_pem.write_to_path(str(client_file))
    return TLSFiles(ca, str(ca_file), str(cert_file), str(key_file), str(client_file))


@pytest.fixture(scope="session")
def https_server(tls_files: TLSFiles) -> Iterator[RunningServer]:
    """The test app over TLS, with a certificate from the trustme CA (for 127.0.0.1 and localhost)."""
    state = ServerState()
    with run_server(make_app(state), ssl_context_files=(tls_files.server_cert, tls_files.server_key)) as (host, port):
        yield RunningServer(url=f"https://{host}:{port}", state=state, port=port)


@pytest.fixture(scope="session")
def mtls_server(tls_files: TLSFiles) -> Iterator[RunningServer]:
    """The test app over TLS that requires a client certificate signed by the trustme CA."""
    state = ServerState()
    files = (tls_files.server_cert, tls_files.server_key)
    with run_server(make_app(state), ssl_context_files=files, ca_for_clients=tls_files.ca_file) as (host, port):
        yield RunningServer(url=f"https://{host}:{port}", state=state, port=port)


# -- mitmproxy, in a virtualenv of its own ----------------------------------------------------


def _mitmproxy_venv() -> Path:
    """A virtualenv with mitmproxy, made once per test environment (it conflicts with our h11/h2)."""
    home = Path(sys.prefix) if sys.prefix != sys.base_prefix else Path.home() / ".cache" / "wireline-tests"
    venv = home / f"mitmproxy-{MITMPROXY_VERSION}"
    mitmdump = venv / "bin" / "mitmdump"
    if not mitmdump.exists():
        for command in (
            [sys.executable, "-m", "venv", str(venv)],
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", f"mitmproxy=={MITMPROXY_VERSION}"],
        ):
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode:
                msg = f"could not set up mitmproxy for the tests ({' '.join(command)}): {done.stderr[-2000:]}"
                raise RuntimeError(msg)
    return mitmdump


@dataclass(frozen=True)
class MitmProxy:
    url: str
    ca_file: str  # mitmproxy's own CA: what a client must trust to talk through it


@pytest.fixture(scope="session")
def mitm_proxy(tls_files: TLSFiles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MitmProxy]:
    """mitmproxy intercepting TLS with its own CA; it trusts the trustme CA upstream."""
    mitmdump = _mitmproxy_venv()
    confdir = tmp_path_factory.mktemp("mitmproxy")
    port = _free_port()
    command = [
        str(mitmdump),
        "-q",
        "--listen-host",
        "127.0.0.1",
        "--listen-port",
        str(port),
        "--set",
        f"confdir={confdir}",
        "--set",
        f"ssl_verify_upstream_trusted_ca={tls_files.ca_file}",
    ]
    env = {key: value for key, value in os.environ.items() if not key.lower().endswith("_proxy")}
    with _running(command, port, "mitmdump", env=env):
        yield MitmProxy(f"http://127.0.0.1:{port}", str(confdir / "mitmproxy-ca-cert.pem"))
