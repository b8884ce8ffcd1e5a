"""Fixtures shared by the whole suite.

Most behaviour tests take the ``driver`` fixture: it is parametrised over the two flavours (httpx,
httpx2) and the two modes (sync, async), and drives a client of the current combination with one
async API, so a test is written once and runs four times. In sync mode the client's blocking calls
run on the test's event loop thread, which is fine: the servers run in threads of their own.

``make_stack`` builds stacks over the base transport under test: ``base_transport`` is
parametrised over every entry of ``BASE_TRANSPORTS`` that serves the driver's combination (see
``pytest_generate_tests``), so a test that takes ``driver`` and ``make_stack`` runs against every
base transport wireline ships.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import wireline
from tests.servers import RunningServer, ServerState, make_app, run_server
from wireline.transports import HTTPTransport, TransportSpec

# Fixtures of real parts: the fault-injecting server, proxies, TLS servers.
pytest_plugins = ["tests.faults", "tests.proxies"]

FLAVORS = ["httpx", "httpx2"]
MODES = ["sync", "async"]

_ENV_TO_SCRUB = [
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "SSLKEYLOGFILE",
    "OTEL_SEMCONV_STABILITY_OPT_IN",
    "OTEL_PROPAGATORS",
]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Proxy, TLS and OpenTelemetry variables of the machine must not leak into tests."""
    for name in _ENV_TO_SCRUB:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# -- servers ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _session_server() -> Iterator[RunningServer]:
    state = ServerState()
    with run_server(make_app(state)) as (host, port):
        yield RunningServer(url=f"http://{host}:{port}", state=state, port=port)


@pytest.fixture
def server(_session_server: RunningServer) -> RunningServer:
    """The shared uvicorn server, with what it has seen cleared for this test."""
    _session_server.state.reset()
    return _session_server


# -- stacks over the base transport under test ----------------------------------------------

#: name -> factory of base-transport specs the suite runs against; more join as they land.
BASE_TRANSPORTS: dict[str, Callable[..., TransportSpec]] = {"http": HTTPTransport}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise ``driver`` (flavour x mode) and ``base_transport`` together.

    A base transport that cannot serve a combination (an async-only backend in sync mode, say)
    is left out of that combination's parameters, not skipped: every generated test runs.
    """
    names = metafunc.fixturenames
    wants_driver, wants_base = "driver" in names, "base_transport" in names
    if not (wants_driver or wants_base):
        return
    bases: list[str | None] = [*sorted(BASE_TRANSPORTS)] if wants_base else [None]
    drivers: list[Driver | None] = [Driver(f, m) for f in FLAVORS for m in MODES] if wants_driver else [None]
    combos = []
    for base in bases:
        spec = BASE_TRANSPORTS[base]() if base is not None else None
        for drv in drivers:
            flavor = drv.flavor if drv is not None else "httpx"
            asynchronous = drv is not None and drv.is_async
            if spec is None or spec.unsupported(flavor, asynchronous=asynchronous) is None:
                combos.append((drv, base))
    ids = ["-".join(str(part) for part in combo if part is not None) for combo in combos]
    if wants_driver and wants_base:
        metafunc.parametrize(("driver", "base_transport"), combos, ids=ids)
    elif wants_driver:
        metafunc.parametrize("driver", [drv for drv, _ in combos], ids=ids)
    else:
        metafunc.parametrize("base_transport", [base for _, base in combos], ids=ids)


@pytest.fixture
def make_stack(base_transport: str) -> Iterator[Callable[..., wireline.Stack]]:
    """Build stacks over the base transport under test; they are closed after the test."""
    made: list[wireline.Stack] = []

    def make(*layers: Any, **transport_settings: Any) -> wireline.Stack:
        stack = wireline.Stack(*layers, transport=BASE_TRANSPORTS[base_transport](**transport_settings))
        made.append(stack)
        return stack

    yield make
    for stack in made:
        stack.close()


# -- one test body, four combinations -----------------------------------------------------


@dataclass
class Driver:
    """Drives a client of one flavour and mode through one async API."""

    flavor: str
    mode: str

    @property
    def is_async(self) -> bool:
        return self.mode == "async"

    def __str__(self) -> str:
        return f"{self.flavor}-{self.mode}"

    def client(self, stack: wireline.Stack, **kwargs: Any) -> DrivenClient:
        if self.is_async:
            return DrivenClient(self, stack.async_client(self.flavor, **kwargs))  # type: ignore[call-overload]
        return DrivenClient(self, stack.client(self.flavor, **kwargs))  # type: ignore[call-overload]

    def wrap(self, client: Any) -> DrivenClient:
        return DrivenClient(self, client)


@dataclass
class DrivenClient:
    driver: Driver
    inner: Any

    async def request(self, method: str, url: str, **kwargs: Any) -> Any:
        if self.driver.is_async:
            return await self.inner.request(method, url, **kwargs)
        return self.inner.request(method, url, **kwargs)

    async def get(self, url: str, **kwargs: Any) -> Any:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> Any:
        return await self.request("POST", url, **kwargs)

    @asynccontextmanager
    async def stream(self, method: str, url: str, **kwargs: Any) -> AsyncIterator[StreamReader]:
        if self.driver.is_async:
            async with self.inner.stream(method, url, **kwargs) as response:
                yield StreamReader(self.driver, response, response.aiter_raw())
        else:
            with self.inner.stream(method, url, **kwargs) as response:
                yield StreamReader(self.driver, response, response.iter_raw())

    async def aclose(self) -> None:
        if self.driver.is_async:
            await self.inner.aclose()
        else:
            self.inner.close()


@dataclass
class StreamReader:
    driver: Driver
    response: Any
    chunks: Any

    async def next(self) -> bytes:
        if self.driver.is_async:
            return bytes(await self.chunks.__anext__())
        return bytes(next(self.chunks))

    async def rest(self) -> list[bytes]:
        if self.driver.is_async:
            return [bytes(chunk) async for chunk in self.chunks]
        return [bytes(chunk) for chunk in self.chunks]

    async def close(self) -> None:
        if self.driver.is_async:
            await self.response.aclose()
        else:
            self.response.close()


@pytest.fixture(params=FLAVORS)
def flavor(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def pytest_report_header() -> str:
    return (
        f"wireline {wireline.__version__}; base transports under test: {', '.join(BASE_TRANSPORTS)}; cwd {Path.cwd()}"
    )
