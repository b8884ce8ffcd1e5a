"""No secret reaches a log event, a span, a metric, a repr or an error message -- through any built-in.

Known secret strings go in every secret header and query parameter of DESIGN.md (and in proxy
credentials) on requests through each built-in middleware alone and all of them together, sync and
async, httpx and httpx2, every base transport. Every captured log event (structlog and the standard
library's), span name, attribute and event, metric data point attribute, repr, ``str``,
``explain`` line and exception message is searched for them.

To cover a new built-in, add one line to ``BUILTINS`` (keep the list in an order that is a valid
stack: Logging first, a retrying layer before Tracing, routing last).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

import wireline
from tests.conftest import Driver
from tests.middleware.conftest import Otel
from wireline.middleware import Headers, Logging, Middleware, ProxyRouter, Retry, Tracing

pytestmark = pytest.mark.anyio

MARK = "S3CR3T"


def secret(name: str) -> str:
    return f"{MARK}-{name}-7f3a9c2e51"


SECRET_HEADERS = {
    "Authorization": f"Bearer {secret('authorization')}",
    "x-api-key": secret("x-api-key"),
    "api-key": secret("api-key"),
    "x-goog-api-key": secret("x-goog-api-key"),
    "Proxy-Authorization": f"Basic {secret('proxy-authorization')}",
    "Cookie": f"session={secret('cookie')}; theme=dark",
}
SECRET_QUERY = {
    "key": secret("key"),
    "api_key": secret("api_key"),
    "sig": secret("sig"),
    "signature": secret("signature"),
    "Signature": secret("Signature"),
    "X-Amz-Signature": secret("amz-signature"),
    "X-Amz-Credential": secret("amz-credential"),
    "X-Amz-Security-Token": secret("amz-token"),
    "X-Goog-Signature": secret("goog-signature"),
    "AWSAccessKeyId": secret("aws-key-id"),
    "access_token": secret("access-token"),
}
PROXY = f"http://wireline:{secret('proxy-password')}@127.0.0.1:9"  # nothing listens on port 9

#: Every built-in middleware on this branch, set to show as much as it can, in a valid stack order.
BUILTINS: list[tuple[str, Callable[[Otel], Middleware]]] = [
    ("logging", lambda _: Logging(capture_headers=True, capture_body=True, max_body_bytes=100_000)),
    (
        "headers",
        lambda _: Headers(
            set={"x-api-key": SECRET_HEADERS["x-api-key"]}, default={"api-key": SECRET_HEADERS["api-key"]}
        ),
    ),
    ("retry", lambda _: Retry(attempts=2, backoff=0.0)),
    (
        "tracing",
        lambda otel: Tracing(
            capture_content=True, capture_headers=[name.lower() for name in SECRET_HEADERS], **otel.tracing_kwargs()
        ),
    ),
    ("logging-attempt", lambda _: Logging(per="attempt", capture_headers=True, capture_body=True)),
    ("proxy-router", lambda _: ProxyRouter({"https://*.corp.example": PROXY, "*": None}, trust_env=False)),
]
SETS = {name: [name] for name, _ in BUILTINS} | {"all": [name for name, _ in BUILTINS]}


def query() -> str:
    return "&".join(f"{name}={value}" for name, value in SECRET_QUERY.items())


class Seen:
    """Everything telemetry and errors showed, as text."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def add(self, where: str, value: object) -> None:
        self.texts.append(f"{where}: {value!s} {value!r}")

    def leaks(self) -> list[str]:
        return [text for text in self.texts if MARK in text]


@pytest.mark.parametrize("which", sorted(SETS))
async def test_no_secret_in_logs_spans_metrics_reprs_or_errors(  # noqa: PLR0917
    driver: Driver,
    make_stack,
    server,
    llm_url: str,
    otel: Otel,
    logs: list[Any],
    caplog: pytest.LogCaptureFixture,
    which: str,
) -> None:
    factories = dict(BUILTINS)
    layers = [factories[name](otel) for name in SETS[which]]
    seen = Seen()
    caplog.set_level(logging.DEBUG)

    stack = make_stack(*layers)
    client = driver.client(stack)
    headers = dict(SECRET_HEADERS)
    secret_body = {
        "api_key": secret("body-api-key"),
        "model": "gpt-4.1",
        "messages": [{"role": "user", "content": "hi"}],
    }
    # an echo (which sends every secret back in its body), an LLM call, a stream, a failure
    response = await client.get(f"{server.url}/echo?{query()}", headers=headers)
    assert response.status_code == 200
    await client.post(f"{llm_url}/v1/chat/completions?{query()}", headers=headers, json=secret_body)
    async with client.stream("GET", f"{server.url}/sse?n=3&{query()}", headers=headers) as stream:
        await stream.rest()
    with pytest.raises(Exception) as refused:
        await client.get(f"http://127.0.0.1:1/v1?{query()}", headers=headers)
    seen.add("error", refused.value)
    await client.aclose()

    # through a proxy with credentials in its URL (unreachable: the error must not show them), chosen
    # by the router when there is one, else set on the base transport
    routed = "proxy-router" in SETS[which]
    proxied_stack = make_stack(*[factories[name](otel) for name in SETS[which]], **({} if routed else {"proxy": PROXY}))
    proxied = driver.client(proxied_stack)
    with pytest.raises(Exception) as unreachable:
        await proxied.get(f"https://api.corp.example/v1?{query()}", headers=headers)
    seen.add("proxy error", unreachable.value)
    seen.add("proxy stack", repr(proxied.inner._transport))
    await proxied.aclose()

    # configuration errors that hold a secret
    with pytest.raises(wireline.ConfigError) as bad:
        wireline.Stack.from_config({"transport": {"use": "http", "proxy": f"ftp://u:{secret('bad-proxy')}@h"}})
    seen.add("config error", bad.value)

    for layer in layers:
        seen.add("repr", repr(layer))
    seen.add("stack repr", repr(stack))
    seen.add("stack str", str(stack))
    seen.add("explain", "\n".join(stack.explain(f"https://api.openai.com/v1/chat/completions?{query()}")))
    seen.add("proxied explain", "\n".join(proxied_stack.explain(f"https://api.corp.example/?{query()}")))
    for event in logs:
        seen.add("structlog", event)
    for record in caplog.records:
        if record.name.startswith("wireline"):  # httpx's own INFO line shows the URL as it is: not ours to change
            seen.add("logging", record.getMessage())
    for span in otel.spans():
        seen.add("span", (span.name, dict(span.attributes or {}), span.status.description))
        for event in span.events:
            seen.add("span event", (event.name, dict(event.attributes or {})))
    data = otel.reader.get_metrics_data()
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    seen.add(f"metric {metric.name}", dict(point.attributes or {}))

    leaks = seen.leaks()
    assert leaks == [], "\n".join(leaks)
    # and the test saw something: telemetry was captured where the layers make it
    if "logging" in SETS[which]:
        assert logs
        assert any("authorization" in str(event) for event in logs)  # headers were captured, redacted
    if "tracing" in SETS[which]:
        assert len(otel.spans()) >= 4
        assert any("gen_ai.input.messages" in (span.attributes or {}) for span in otel.spans())


def test_route_names_are_redacted_once_and_again_after_new_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """Logging and Tracing cache a route's redacted name; rules added later still apply to it."""
    from wireline.middleware import _http
    from wireline.redaction import Redactor

    redactor = Redactor()
    monkeypatch.setattr(_http, "redactor", redactor)
    monkeypatch.setattr(_http, "_route_names", {})

    class Route:
        name = f"via http://user:{secret('route')}@proxy.example:3128 team-7f3a"

    first = _http.route_name(Route())
    assert MARK not in first
    assert _http.route_name(Route()) is first  # cached: no second redaction
    assert "team-7f3a" in first
    redactor.add(patterns=[r"team-[0-9a-f]+"])
    again = _http.route_name(Route())
    assert "team-7f3a" not in again
    assert MARK not in again
