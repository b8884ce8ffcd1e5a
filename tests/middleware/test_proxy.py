"""ProxyRouter through real proxies on 127.0.0.1: proxy.py (plain and CONNECT, with and without
auth), pproxy (SOCKS5), mitmproxy (TLS interception with its own CA); per-route TLS; NO_PROXY."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

import wireline
from tests.conftest import Driver
from tests.faults import in_flight
from tests.proxies import PROXY_PASSWORD, MitmProxy, Proxy, TLSFiles
from tests.servers import RunningServer
from wireline.cli import main as cli
from wireline.errors import ProxyUnreachableError
from wireline.extensions import ROUTE
from wireline.middleware import Middleware
from wireline.middleware.proxy import ProxyRouter
from wireline.transports import MockTransport, Route

pytestmark = pytest.mark.anyio

DEAD = "http://someone:dead-proxy-pass@127.0.0.1:9"  # nothing listens on port 9


class Routes(Middleware):
    """Inside the router: the route each attempt took."""

    def __init__(self) -> None:
        self.names: list[str | None] = []

    def on_request(self, request: Any) -> None:
        route = request.extensions.get(ROUTE)
        self.names.append(None if route is None else route.name)


@pytest.mark.parametrize("auth", [False, True], ids=["no-auth", "auth"])
async def test_plain_http_and_a_connect_tunnel_through_a_forward_proxy(
    *,
    driver: Driver,
    make_stack: Any,
    server: RunningServer,
    https_server: RunningServer,
    tls_files: TLSFiles,
    forward_proxy: Proxy,
    auth_proxy: Proxy,
    auth: bool,
) -> None:
    proxy = auth_proxy if auth else forward_proxy
    routes = Routes()
    stack = make_stack(ProxyRouter({"*://127.0.0.1": proxy.url, "*": None}), routes, verify=tls_files.ca_file)
    client = driver.client(stack)
    answer = (await client.get(f"{server.url}/echo")).json()
    assert "proxy.py" in answer["headers"]["via"]  # the proxy forwarded it
    assert (await client.get(f"{https_server.url}/echo")).status_code == 200  # through a CONNECT tunnel
    label = f"http://127.0.0.1:{proxy.port}"
    assert routes.names == [f"*://127.0.0.1 via {label}"] * 2
    assert in_flight(stack) == 0
    await client.aclose()


async def test_https_through_a_connect_tunnel_that_wants_auth(
    *,
    driver: Driver,
    make_stack: Any,
    https_server: RunningServer,
    auth_proxy: Proxy,
    tls_files: TLSFiles,
    caplog: pytest.LogCaptureFixture,
) -> None:
    http = __import__(driver.flavor)
    caplog.set_level(logging.DEBUG)
    router = ProxyRouter({"https://*": auth_proxy.url})
    stack = make_stack(router, verify=tls_files.ca_file)
    client = driver.client(stack)
    assert (await client.get(f"{https_server.url}/echo")).status_code == 200
    await client.aclose()
    # Without the credentials the proxy refuses the tunnel.
    anonymous = make_stack(ProxyRouter({"https://*": f"http://127.0.0.1:{auth_proxy.port}"}), verify=tls_files.ca_file)
    client = driver.client(anonymous)
    with pytest.raises(http.ProxyError, match="407"):
        await client.get(f"{https_server.url}/echo")
    await client.aclose()
    shown = "\n".join([repr(router), repr(stack), *stack.explain(https_server.url), caplog.text])
    assert PROXY_PASSWORD not in shown
    assert "REDACTED" in repr(router)


@pytest.mark.parametrize("auth", [False, True], ids=["no-auth", "auth"])
async def test_socks5(
    *,
    driver: Driver,
    make_stack: Any,
    server: RunningServer,
    https_server: RunningServer,
    tls_files: TLSFiles,
    socks_proxy: Proxy,
    socks_auth_proxy: Proxy,
    auth: bool,
) -> None:
    proxy = socks_auth_proxy if auth else socks_proxy
    routes = Routes()
    stack = make_stack(ProxyRouter({"*": proxy.url}), routes, verify=tls_files.ca_file)
    client = driver.client(stack)
    assert (await client.get(f"{server.url}/echo")).status_code == 200
    assert (await client.get(f"{https_server.url}/echo")).status_code == 200
    assert routes.names == [f"* via socks5://127.0.0.1:{proxy.port}"] * 2
    await client.aclose()


async def test_no_proxy_and_the_proxy_variables(
    driver: Driver, make_stack: Any, server: RunningServer, forward_proxy: Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", forward_proxy.url)
    monkeypatch.setenv("NO_PROXY", "localhost,.internal.example")
    routes = Routes()
    stack = make_stack(ProxyRouter(), routes)
    client = driver.client(stack)
    proxied = (await client.get(f"{server.url}/echo")).json()
    direct = (await client.get(f"http://localhost:{server.port}/echo")).json()
    assert "via" in proxied["headers"]
    assert "via" not in direct["headers"]
    assert routes.names == [f"HTTP_PROXY via {forward_proxy.url}", "NO_PROXY"]
    # trust_env=False: the variables are not read.
    plain = make_stack(ProxyRouter(trust_env=False))
    client2 = driver.client(plain)
    assert "via" not in (await client2.get(f"{server.url}/echo")).json()["headers"]
    await client.aclose()
    await client2.aclose()


async def test_an_unreachable_proxy_fails_over_to_the_next(
    driver: Driver, make_stack: Any, server: RunningServer, forward_proxy: Proxy, caplog: pytest.LogCaptureFixture
) -> None:
    routes = Routes()
    stack = make_stack(ProxyRouter({"*": {"proxy": [DEAD, forward_proxy.url], "name": "corp"}}), routes)
    client = driver.client(stack)
    with caplog.at_level(logging.WARNING, logger="wireline"):
        assert "via" in (await client.get(f"{server.url}/echo")).json()["headers"]
    assert routes.names == ["corp via http://127.0.0.1:9", f"corp via {forward_proxy.url}"]
    assert "cannot be reached" in caplog.text
    assert "dead-proxy-pass" not in caplog.text
    # The unreachable proxy is tried last for a while: the next request goes to the healthy one first.
    assert (await client.get(f"{server.url}/echo")).status_code == 200
    assert routes.names[2:] == [f"corp via {forward_proxy.url}"]
    assert in_flight(stack) == 0
    await client.aclose()


async def test_when_no_proxy_can_be_reached_the_error_says_which(
    driver: Driver, make_stack: Any, server: RunningServer
) -> None:
    http = __import__(driver.flavor)
    stack = make_stack(ProxyRouter({"*": [DEAD, "socks5://127.0.0.1:7"]}))
    client = driver.client(stack)
    with pytest.raises(ProxyUnreachableError) as caught:
        await client.get(f"{server.url}/echo")
    error = caught.value
    assert isinstance(error, http.ConnectError)
    assert error.route == "*"
    assert error.proxies == ("http://REDACTED:REDACTED@127.0.0.1:9", "socks5://127.0.0.1:7")
    assert "dead-proxy-pass" not in str(error)
    await client.aclose()


# -- TLS per route, and a proxy that intercepts TLS -----------------------------------------------------


async def test_a_tls_intercepting_proxy_needs_its_ca_trusted(
    driver: Driver, make_stack: Any, https_server: RunningServer, mitm_proxy: MitmProxy
) -> None:
    http = __import__(driver.flavor)
    url = f"https://localhost:{https_server.port}/echo"
    trusted = make_stack(ProxyRouter({"*": {"proxy": mitm_proxy.url, "verify": mitm_proxy.ca_file}}))
    client = driver.client(trusted)
    assert (await client.get(url)).status_code == 200
    await client.aclose()
    untrusted = make_stack(ProxyRouter({"*": mitm_proxy.url}))
    client = driver.client(untrusted)
    with pytest.raises(http.ConnectError) as caught:
        await client.get(url)
    message = str(caught.value)
    assert f"TLS with localhost:{https_server.port} through the proxy {mitm_proxy.url} failed" in message
    assert "CERTIFICATE_VERIFY_FAILED" in message
    assert "Trusted: certifi's CA bundle" in message
    assert "trust that CA for this route" in message
    await client.aclose()


async def test_tls_settings_per_route(
    *,
    driver: Driver,
    make_stack: Any,
    https_server: RunningServer,
    mtls_server: RunningServer,
    tls_files: TLSFiles,
) -> None:
    http = __import__(driver.flavor)
    router = ProxyRouter(
        {
            f"https://127.0.0.1:{https_server.port}": {"verify": tls_files.ca_file},
            f"https://127.0.0.1:{mtls_server.port}": {"verify": tls_files.ca_file, "cert": tls_files.client_cert},
            "*": None,
        }
    )
    stack = make_stack(router)
    client = driver.client(stack)
    assert (await client.get(f"{https_server.url}/echo")).status_code == 200
    assert (await client.get(f"{mtls_server.url}/echo")).status_code == 200
    with pytest.raises(http.ConnectError, match="Trusted: certifi's CA bundle"):
        await client.get(f"https://localhost:{https_server.port}/echo")  # the catch-all route: default trust
    counts = stack._pools.describe()
    assert counts["async" if driver.is_async else "sync"] == 3  # one pool per route
    await client.aclose()


# -- settings, checks, explain -------------------------------------------------------------------------


def test_a_route_set_by_the_caller_is_kept() -> None:
    chosen = Route.of("mine")
    seen: list[Any] = []

    def handler(request: Any) -> Any:
        return wireline.respond(request, text="ok")

    class Look(Middleware):
        def on_request(self, request: Any) -> None:
            seen.append(request.extensions[ROUTE])

    with wireline.Stack(ProxyRouter({"*": None}), Look(), transport=MockTransport(handler)) as stack:
        stack.client().get("http://x/", extensions={ROUTE: chosen})
        stack.client().get("http://x/")
    assert seen[0] is chosen
    assert seen[1].name == "*"


def test_the_stack_refuses_two_proxy_owners_and_bases_without_proxies() -> None:
    from wireline.transports import HTTPTransport

    with pytest.raises(wireline.ConfigError, match=r"no proxy= on the base transport next to ProxyRouter"):
        wireline.Stack(ProxyRouter({"*": None}), transport=HTTPTransport(proxy="http://proxy:3128"))
    with pytest.raises(wireline.ConfigError, match=r"a base transport that takes proxy= for ProxyRouter's route"):
        wireline.Stack(ProxyRouter({"*": "http://proxy:3128"}), transport=MockTransport(lambda _: None))


@pytest.mark.parametrize(
    ("routes", "message"),
    [
        ({"*": 3}, r"routes\['\*'\]: expected a proxy URL, a list of proxy URLs, None \(direct\)"),
        ({"*": "ftp://proxy"}, r"routes\['\*'\]\.proxy: expected a proxy URL with a host and a scheme"),
        ({"*": {"proxy": None, "verify": "/no/such/ca.pem"}}, r"routes\['\*'\]\.verify: expected a CA bundle"),
        ({"*": {"via": "x"}}, r"routes\['\*'\]\.via: expected one of the keys proxy, verify, cert, name"),
        ({"https://x/path": None}, r"routes\['https://x/path'\]: expected a URL pattern"),
        ({"*": []}, r"routes\['\*'\]: expected a proxy URL"),
    ],
)
def test_bad_routes_are_refused_when_made(routes: dict[str, Any], message: str) -> None:
    with pytest.raises(wireline.ConfigError, match=message):
        ProxyRouter(routes)


def test_wireline_explain_shows_route_proxy_and_tls(
    tmp_path: Path, tls_files: TLSFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "wireline.toml"
    proxies = f'["http://alice:{PROXY_PASSWORD}@proxy.corp:3128", "http://backup.corp:3128"]'
    azure = f'{{ proxy = {proxies}, verify = "{tls_files.ca_file}", name = "azure" }}'
    config.write_text(
        f"""
[transport]
use = "http"

[[middleware]]
use = "retry"
attempts = 4

[[middleware]]
use = "proxy"
trust_env = false
routes = {{ "https://*.openai.azure.com" = {azure}, "*" = "socks5://proxy.corp:1080" }}
"""
    )
    assert cli(["explain", "https://eu.openai.azure.com/openai/deployments/x", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "route: 'azure' (the pattern 'https://*.openai.azure.com')" in out
    assert "proxy: http://REDACTED:REDACTED@proxy.corp:3128; fails over to http://backup.corp:3128" in out
    assert f"TLS for this route: trusts the CA bundle {tls_files.ca_file}" in out
    assert "up to 4 attempts" in out
    assert PROXY_PASSWORD not in out
    assert cli(["explain", "http://example.com/", "--config", str(config)]) == 0
    assert "proxy: socks5://proxy.corp:1080" in capsys.readouterr().out
