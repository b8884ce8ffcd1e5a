"""Tracing: spans per attempt on the stable HTTP conventions, ended at the end of the body; metrics;
trace context; connection events; suppression and contrib coexistence; contained faults.

Real parts throughout: the OpenTelemetry SDK with in-memory exporters, the uvicorn test server,
httpx and httpx2 clients sync and async (the ``driver`` fixture), contrib's instrumentor.
"""

from __future__ import annotations

import gc
import logging
from typing import Any

import pytest
from opentelemetry import context as otel_context, propagate
from opentelemetry.context import _SUPPRESS_HTTP_INSTRUMENTATION_KEY, _SUPPRESS_INSTRUMENTATION_KEY
from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.trace import SpanKind, StatusCode

import wireline
from tests.conftest import Driver
from tests.middleware.conftest import Otel
from wireline import ConfigError
from wireline.middleware import Middleware, Tracing, _ends
from wireline.transports import MockTransport

pytestmark = pytest.mark.anyio


class TwoTries(Middleware):
    """A minimal retrying layer: sends a request twice when the first answer is 5xx."""

    @property
    def owns_retries(self) -> bool:
        return True

    def handle(self, request: Any) -> Any:
        request.extensions["wireline.attempt"] = 1
        first = yield request
        if first.status_code < 500:
            return first
        yield wireline.middleware.Close(first)
        request.extensions["wireline.attempt"] = 2
        request.extensions["wireline.resend_count"] = 1
        return (yield request)


def attrs(span: Any) -> dict[str, Any]:
    return dict(span.attributes or {})


# -- the span ---------------------------------------------------------------------------------


async def test_a_client_span_per_request_with_the_stable_http_attributes(
    driver: Driver, make_stack, server, otel: Otel
) -> None:
    client = driver.client(make_stack(Tracing(**otel.tracing_kwargs())))
    response = await client.get(f"{server.url}/echo?key=AIzaSECRETSECRET&x=1")
    assert response.status_code == 200
    await client.aclose()

    span = otel.span()
    assert span.name == "GET"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.name == "wireline"
    a = attrs(span)
    assert a["http.request.method"] == "GET"
    assert a["server.address"] == "127.0.0.1"
    assert a["server.port"] == server.port
    assert a["url.full"] == f"{server.url}/echo?key=REDACTED&x=1"
    assert a["http.response.status_code"] == 200
    assert a["network.protocol.version"] == "1.1"
    assert a["http.response.header.x-request-id"] == ("req-1",)
    assert a["http.response.body.size"] == len(response.content)
    assert a["wireline.time_to_first_byte"] > 0
    assert "wireline.time_to_first_chunk" not in a  # a one-chunk body: its first chunk is the byte count's
    assert "http.request.resend_count" not in a
    assert "error.type" not in a
    [point] = otel.points("http.client.request.duration")
    assert point.count == 1
    assert dict(point.attributes) == {
        "http.request.method": "GET",
        "server.address": "127.0.0.1",
        "server.port": server.port,
        "http.response.status_code": 200,
        "network.protocol.version": "1.1",
    }
    assert list(point.explicit_bounds) == [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]
    # the metric's duration is the span's
    assert point.sum == pytest.approx((span.end_time - span.start_time) / 1e9, abs=1e-6)


@pytest.mark.parametrize(
    ("url", "method", "name", "port", "original"),
    [
        ("https://api.example.com/v1/x", "GET", "GET", 443, None),
        ("http://api.example.com/v1/x", "POST", "POST", 80, None),
        ("http://api.example.com:8080/v1/x", "QUERY", "QUERY", 8080, None),
        ("http://api.example.com/v1/x", "PURGE", "HTTP", 80, "PURGE"),
    ],
)
async def test_default_ports_and_methods_the_conventions_do_not_know(  # noqa: PLR0917
    driver: Driver, otel: Otel, url: str, method: str, name: str, port: int, original: str | None
) -> None:
    stack = wireline.Stack(
        Tracing(**otel.tracing_kwargs()), transport=MockTransport(lambda r: wireline.respond(r, text="ok"))
    )
    client = driver.client(stack)
    await client.request(method, url)
    span = otel.span()
    assert span.name == name
    assert attrs(span)["server.port"] == port
    assert attrs(span)["http.request.method"] == (method if original is None else "_OTHER")
    assert attrs(span).get("http.request.method_original") == original


@pytest.mark.parametrize(("status", "error"), [(200, None), (302, None), (404, "404"), (503, "503")])
async def test_status_codes_4xx_and_5xx_are_errors(  # noqa: PLR0917
    driver: Driver, make_stack, server, otel: Otel, status: int, error: str | None
) -> None:
    client = driver.client(make_stack(Tracing(**otel.tracing_kwargs())))
    await client.get(f"{server.url}/status/{status}")
    await client.aclose()
    span = otel.span()
    assert attrs(span).get("error.type") == error
    assert span.status.status_code is (StatusCode.ERROR if error else StatusCode.UNSET)
    [point] = otel.points("http.client.request.duration")
    assert point.attributes.get("error.type") == error


async def test_a_failure_before_any_response(driver: Driver, make_stack, otel: Otel) -> None:
    client = driver.client(make_stack(Tracing(**otel.tracing_kwargs())))
    with pytest.raises(Exception) as caught:
        await client.get("http://127.0.0.1:1/v1?api_key=sk-proj-SECRETSECRETSECRET")
    await client.aclose()
    span = otel.span()
    expected = f"{driver.flavor}.ConnectError"
    assert type(caught.value).__name__ == "ConnectError"
    assert attrs(span)["error.type"] == expected
    assert span.status.status_code is StatusCode.ERROR
    [event] = [e for e in span.events if e.name == "exception"]
    assert event.attributes is not None
    assert event.attributes["exception.type"] == expected
    assert "SECRET" not in str(dict(event.attributes))
    [point] = otel.points("http.client.request.duration")
    assert point.attributes["error.type"] == expected
    assert point.count == 1


# -- streams ---------------------------------------------------------------------------------


async def test_the_span_ends_when_the_stream_ends(driver: Driver, make_stack, server, otel: Otel) -> None:
    client = driver.client(make_stack(Tracing(**otel.tracing_kwargs())))
    async with client.stream("GET", f"{server.url}/sse?n=10&gate=1") as stream:
        first = await stream.next()
        assert first.startswith(b"id: 0")
        assert otel.spans() == []  # headers and a first chunk are in: the span is still open
        assert otel.points("http.client.request.duration") == []
        [active] = otel.points("http.client.active_requests")
        assert active.value == 1
        server.state.gate.set()
        rest = await stream.rest()
    await client.aclose()
    span = otel.span()
    a = attrs(span)
    assert a["http.response.body.size"] == len(first) + sum(map(len, rest))
    assert "wireline.response.end" not in a  # read to the end
    assert a["wireline.time_to_first_chunk"] >= a["wireline.time_to_first_byte"]
    [point] = otel.points("http.client.request.duration")
    assert point.count == 1
    [active] = otel.points("http.client.active_requests")
    assert active.value == 0


async def test_a_stream_closed_early_ends_its_span_as_closed(driver: Driver, make_stack, server, otel: Otel) -> None:
    client = driver.client(make_stack(Tracing(**otel.tracing_kwargs())))
    async with client.stream("GET", f"{server.url}/sse?n=200&gate=1") as stream:
        await stream.next()
        await stream.close()
    server.state.gate.set()
    await client.aclose()
    assert attrs(otel.span())["wireline.response.end"] == "closed"
    assert otel.span().status.status_code is StatusCode.UNSET


# -- resends ---------------------------------------------------------------------------------


async def test_each_attempt_has_its_span_and_resend_count(driver: Driver, make_stack, server, otel: Otel) -> None:
    client = driver.client(make_stack(TwoTries(), Tracing(**otel.tracing_kwargs())))
    await client.get(f"{server.url}/status/503")
    await client.aclose()
    first, second = otel.spans()
    assert "http.request.resend_count" not in attrs(first)
    assert attrs(second)["http.request.resend_count"] == 1
    assert first.parent is None  # with no parent, each attempt is its own trace (the conventions' rule)
    assert first.context.trace_id != second.context.trace_id
    [point] = otel.points("http.client.request.duration")
    assert point.count == 2


async def test_redirect_hops_and_sdk_retries_count_as_resends(driver: Driver, make_stack, server, otel: Otel) -> None:
    stack = make_stack(Tracing(**otel.tracing_kwargs()))
    client = driver.client(stack, follow_redirects=True)
    await client.get(f"{server.url}/status/302?h-location=/echo")
    await client.aclose()
    # an SDK's client (provider adapters tag its requests) numbering its own retries
    sdk = driver.client(stack, extensions={"wireline.provider": "openai"})
    await sdk.get(f"{server.url}/echo", headers={"x-stainless-retry-count": "2"})
    await sdk.aclose()
    hop1, hop2, sdk_retry = otel.spans()
    assert "http.request.resend_count" not in attrs(hop1)
    assert attrs(hop2)["http.request.resend_count"] == 1
    assert attrs(sdk_retry)["http.request.resend_count"] == 2


async def test_retrys_resends_of_an_sdk_request_are_counted_once(
    driver: Driver, make_stack, server, otel: Otel
) -> None:
    """Retry rewrites x-stainless-retry-count on its resends; the resend is not counted twice."""
    from wireline.middleware import Retry

    stack = make_stack(Retry(attempts=3, backoff=0.0, log=False), Tracing(**otel.tracing_kwargs()))
    client = driver.client(stack, extensions={"wireline.provider": "openai"})
    await client.get(f"{server.url}/status/503", headers={"x-stainless-retry-count": "0"})
    await client.aclose()
    assert [attrs(s).get("http.request.resend_count") for s in otel.spans()] == [None, 1, 2]
    assert [seen.headers.get("x-stainless-retry-count") for seen in server.state.seen] == ["0", "1", "2"]


def test_tracing_must_sit_inside_the_retrying_layer() -> None:
    with pytest.raises(ConfigError, match=r"middleware\[0\].*Tracing listed after TwoTries"):
        wireline.Stack(Tracing(), TwoTries())
    with pytest.raises(ConfigError, match="at most one Tracing"):
        wireline.Stack(Tracing(), Tracing())
    assert isinstance(wireline.Stack(TwoTries(), Tracing()).layers[1], Tracing)


# -- context propagation and suppression -----------------------------------------------------


async def test_the_attempt_span_is_propagated_and_parented(driver: Driver, make_stack, server, otel: Otel) -> None:
    client = driver.client(make_stack(Tracing(**otel.tracing_kwargs())))
    outer_tracer = otel.tracer_provider.get_tracer("app")
    with outer_tracer.start_as_current_span("handle user request") as outer:
        response = await client.get(f"{server.url}/echo")
    await client.aclose()
    attempt = next(s for s in otel.spans() if s.name == "GET")
    assert attempt.parent is not None
    assert attempt.parent.span_id == outer.get_span_context().span_id
    traceparent = response.json()["headers"]["traceparent"]
    _, trace_id, span_id, _ = traceparent.split("-")
    assert int(trace_id, 16) == attempt.context.trace_id
    assert int(span_id, 16) == attempt.context.span_id  # the server's parent is the attempt, not the outer span


@pytest.mark.parametrize(
    "key", [_SUPPRESS_INSTRUMENTATION_KEY, _SUPPRESS_HTTP_INSTRUMENTATION_KEY, "suppress_instrumentation"]
)
async def test_suppressed_instrumentation_means_no_span_no_metric_no_header(
    driver: Driver, make_stack, server, otel: Otel, key: str
) -> None:
    client = driver.client(make_stack(Tracing(**otel.tracing_kwargs())))
    token = otel_context.attach(otel_context.set_value(key, True))
    try:
        response = await client.get(f"{server.url}/echo")
    finally:
        otel_context.detach(token)
    await client.aclose()
    assert "traceparent" not in response.json()["headers"]
    assert otel.spans() == []
    assert otel.points("http.client.request.duration") == []


def _contrib(flavor: str) -> Any:
    from opentelemetry.instrumentation.httpx import HTTPX2ClientInstrumentor, HTTPXClientInstrumentor

    return HTTPXClientInstrumentor() if flavor == "httpx" else HTTPX2ClientInstrumentor()


async def test_beside_the_contrib_instrumentor_there_is_one_span(
    driver: Driver, make_stack, server, otel: Otel
) -> None:
    instrumentor = _contrib(driver.flavor)
    instrumentor.instrument(tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider)
    try:
        plain_stack = make_stack()
        plain = driver.client(plain_stack)
        await plain.get(f"{server.url}/echo")  # without Tracing, contrib traces the pool's transport...
        await plain.aclose()
        # (contrib patches the flavour's own transport classes: it sees a pool built of those, and
        # nothing of other base transports' pools, aiohttp's say)
        http = __import__(driver.flavor)
        pools = [*plain_stack._pools._sync.values()]
        for loop_pools in plain_stack._pools._by_loop.values():
            pools.extend(loop_pools.pools.values())
        if any(isinstance(pool, (http.HTTPTransport, http.AsyncHTTPTransport)) for pool in pools):
            [contrib_span] = otel.spans()
            assert contrib_span.instrumentation_scope.name == "opentelemetry.instrumentation.httpx"
        else:
            assert otel.spans() == []
        otel.exporter.clear()

        traced = driver.client(make_stack(Tracing(**otel.tracing_kwargs())))
        await traced.get(f"{server.url}/echo")  # ...with it, only wireline does
        await traced.aclose()
        [span] = otel.spans()
        assert span.instrumentation_scope.name == "wireline"
    finally:
        instrumentor.uninstrument()


async def test_instrument_client_leaves_a_traced_stacks_client_alone(
    driver: Driver, make_stack, server, otel: Otel
) -> None:
    client = driver.client(make_stack(Tracing(**otel.tracing_kwargs())))
    _contrib(driver.flavor).instrument_client(client.inner, tracer_provider=otel.tracer_provider)
    await client.get(f"{server.url}/echo")
    await client.aclose()
    [span] = otel.spans()
    assert span.instrumentation_scope.name == "wireline"


# -- connection events -----------------------------------------------------------------------


async def test_connection_reuse_peer_and_tls_without_connection_events(
    driver: Driver, make_stack, server, otel: Otel
) -> None:
    client = driver.client(make_stack(Tracing(**otel.tracing_kwargs())))
    await client.get(f"{server.url}/echo")
    await client.get(f"{server.url}/echo")
    await client.aclose()
    first, second = otel.spans()
    assert attrs(first)["wireline.connection.reused"] is False
    assert attrs(first)["network.peer.address"] == "127.0.0.1"
    assert attrs(first)["network.peer.port"] == server.port
    assert attrs(second)["wireline.connection.reused"] is True
    assert "network.peer.address" not in attrs(second)  # said once, by the attempt that opened it
    assert first.events == second.events == ()


async def test_connection_events_from_the_trace_extension(driver: Driver, make_stack, server, otel: Otel) -> None:
    seen: list[str] = []
    if driver.is_async:

        async def theirs(name: str, info: dict[str, Any]) -> None:
            seen.append(name)

    else:

        def theirs(name: str, info: dict[str, Any]) -> None:  # type: ignore[misc]
            seen.append(name)

    client = driver.client(make_stack(Tracing(connection_events=True, **otel.tracing_kwargs())))
    await client.get(f"{server.url}/echo", extensions={"trace": theirs})
    await client.get(f"{server.url}/echo")
    await client.aclose()
    first, second = otel.spans()
    [connect] = [e for e in first.events if e.name == "connect"]
    assert connect.attributes["network.peer.address"] == "127.0.0.1"
    assert connect.attributes["wireline.duration"] >= 0
    assert attrs(first)["wireline.connection.reused"] is False
    assert attrs(second)["wireline.connection.reused"] is True
    assert [e for e in second.events if e.name == "connect"] == []
    assert "connection.connect_tcp.started" in seen  # the callback that was there still hears everything
    assert any(name.endswith("receive_response_headers.complete") for name in seen)


@pytest.mark.parametrize("connection_events", [False, True])
async def test_tls(driver: Driver, make_stack, otel: Otel, tmp_path, connection_events: bool) -> None:
    import trustme

    from tests.servers import ServerState, make_app, run_server

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert_file, key_file, ca_file = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    ca.cert_pem.write_to_path(str(ca_file))
    layer = Tracing(connection_events=connection_events, **otel.tracing_kwargs())
    with run_server(make_app(ServerState()), ssl_context_files=(str(cert_file), str(key_file))) as (host, port):
        stack = make_stack(layer, verify=str(ca_file))
        client = driver.client(stack)
        await client.get(f"https://{host}:{port}/echo")
        await client.aclose()
        await stack.aclose()  # before the server stops: it would wait out the kept-alive connection
    span = otel.span()
    assert attrs(span)["tls.protocol.version"] in ("1.2", "1.3")
    assert attrs(span)["tls.cipher"]
    assert attrs(span).get("tls.next_protocol", "http/1.1") == "http/1.1"  # when the server took part in ALPN
    handshakes = [e for e in span.events if e.name == "tls handshake"]
    if connection_events:
        [tls] = handshakes
        assert tls.attributes["tls.protocol.version"] == attrs(span)["tls.protocol.version"]
        assert tls.attributes["wireline.duration"] > 0
    else:
        assert handshakes == []


# -- abandoned responses ----------------------------------------------------------------------


async def test_a_response_dropped_unread_ends_its_span_as_abandoned(
    driver: Driver, make_stack, server, otel: Otel
) -> None:
    client = driver.client(make_stack(Tracing(**otel.tracing_kwargs())))
    request = client.inner.build_request("GET", f"{server.url}/sse?n=5")
    if driver.is_async:
        response = await client.inner.send(request, stream=True)
    else:
        response = client.inner.send(request, stream=True)
    assert otel.spans() == []
    del response, request
    gc.collect()  # the body's wrapper is collected unfinished: queued, not ended inside the collector
    await client.get(f"{server.url}/echo")  # the next request through the layer ends it
    await client.aclose()
    abandoned, echo = sorted(otel.spans(), key=lambda s: s.start_time)
    assert attrs(abandoned)["wireline.response.end"] == "abandoned"
    assert abandoned.end_time <= echo.start_time  # ended at the last activity seen: its headers
    assert attrs(echo).get("wireline.response.end") is None


async def test_a_response_held_but_idle_ends_after_abandon_after(
    driver: Driver, make_stack, server, otel: Otel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_ends, "SWEEP_INTERVAL", 0.0)
    client = driver.client(make_stack(Tracing(abandon_after=0.01, **otel.tracing_kwargs())))
    request = client.inner.build_request("GET", f"{server.url}/sse?n=5")
    held = (
        (await client.inner.send(request, stream=True)) if driver.is_async else client.inner.send(request, stream=True)
    )
    import time

    time.sleep(0.05)
    _ends.sweep()  # also run by every request and every metric collection
    assert attrs(otel.span())["wireline.response.end"] == "abandoned"
    await (held.aclose() if driver.is_async else _async_noop(held.close()))
    await client.aclose()
    assert len(otel.spans()) == 1  # closing it later does not end it twice


async def _async_noop(_: Any) -> None:
    return None


def test_open_records_end_at_interpreter_exit(otel: Otel, server) -> None:
    stack = wireline.Stack(Tracing(**otel.tracing_kwargs()))
    client = stack.client()
    response = client.send(client.build_request("GET", f"{server.url}/sse?n=3"), stream=True)
    _ends.abandon_all()  # what the exit hook runs, before the SDK's own shutdown
    assert attrs(otel.span())["wireline.response.end"] == "abandoned"
    response.close()
    stack.close()


# -- metrics ---------------------------------------------------------------------------------


async def test_open_connections_of_the_stacks_pools(driver: Driver, make_stack, server, otel: Otel) -> None:
    client = driver.client(make_stack(Tracing(**otel.tracing_kwargs())))
    async with client.stream("GET", f"{server.url}/sse?n=4&gate=1") as stream:
        await stream.next()
        points = {p.attributes["http.connection.state"]: p.value for p in otel.points("http.client.open_connections")}
        assert points == {"active": 1}
        server.state.gate.set()
        await stream.rest()
    points = {p.attributes["http.connection.state"]: p.value for p in otel.points("http.client.open_connections")}
    assert points == {"active": 0, "idle": 1}
    [point] = [p for p in otel.points("http.client.open_connections") if p.value]
    assert point.attributes["server.port"] == server.port
    assert point.attributes["network.protocol.version"] == "1.1"
    await client.aclose()


async def test_the_default_providers_are_the_global_ones(driver: Driver, make_stack, server, global_otel: Otel) -> None:
    client = driver.client(make_stack(Tracing()))
    await client.get(f"{server.url}/echo")
    await client.aclose()
    assert global_otel.span().name == "GET"
    assert global_otel.points("http.client.request.duration")


# -- telemetry never breaks a request ------------------------------------------------------------


class Raising(SpanProcessor):
    def __init__(self, where: str) -> None:
        self.where = where

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        if self.where == "start":
            raise RuntimeError("span processor broke on start")

    def on_end(self, span: Any) -> None:
        if self.where == "end":
            raise RuntimeError("span processor broke on end")


@pytest.mark.parametrize("where", ["start", "end"])
async def test_a_raising_span_processor_is_contained_and_reported_once(  # noqa: PLR0917
    driver: Driver, make_stack, server, otel: Otel, caplog: pytest.LogCaptureFixture, where: str
) -> None:
    otel.tracer_provider.add_span_processor(Raising(where))
    client = driver.client(make_stack(Tracing(**otel.tracing_kwargs())))
    with caplog.at_level(logging.ERROR, logger="wireline"):
        for _ in range(3):
            response = await client.get(f"{server.url}/echo")
            assert response.status_code == 200
    await client.aclose()
    reports = [r for r in caplog.records if r.name == "wireline" and "span processor broke" in r.getMessage()]
    assert len(reports) == 1


async def test_a_raising_exporter_and_propagator_do_not_break_requests(
    driver: Driver, make_stack, server, otel: Otel, caplog: pytest.LogCaptureFixture
) -> None:
    from opentelemetry.propagators.textmap import TextMapPropagator
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter

    class BrokenExporter(SpanExporter):
        def export(self, spans: Any) -> Any:
            raise OSError("collector unreachable")

    class BrokenPropagator(TextMapPropagator):
        def extract(self, carrier: Any, context: Any = None, getter: Any = None) -> Any:
            return context

        def inject(self, carrier: Any, context: Any = None, setter: Any = None) -> None:
            raise ValueError("propagator broke")

        @property
        def fields(self) -> set[str]:
            return set()

    otel.tracer_provider.add_span_processor(SimpleSpanProcessor(BrokenExporter()))
    previous = propagate.get_global_textmap()
    propagate.set_global_textmap(BrokenPropagator())
    try:
        client = driver.client(make_stack(Tracing(**otel.tracing_kwargs())))
        with caplog.at_level(logging.ERROR):
            for _ in range(2):
                assert (await client.get(f"{server.url}/echo")).status_code == 200
        await client.aclose()
    finally:
        propagate.set_global_textmap(previous)
    assert len(otel.spans()) == 2  # the in-memory exporter beside the broken one still got both
    assert len([r for r in caplog.records if "propagator broke" in r.getMessage()]) == 1


async def test_a_raising_metric_instrument_is_contained(  # noqa: PLR0917
    driver: Driver, make_stack, server, otel: Otel, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    layer = Tracing(**otel.tracing_kwargs())

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("metric reader broke")

    monkeypatch.setattr(layer._instruments.request_duration, "record", broken)
    client = driver.client(make_stack(layer))
    with caplog.at_level(logging.ERROR, logger="wireline"):
        assert (await client.get(f"{server.url}/echo")).status_code == 200
        assert (await client.get(f"{server.url}/echo")).status_code == 200
    await client.aclose()
    assert len(otel.spans()) == 2
    assert len([r for r in caplog.records if "metric reader broke" in r.getMessage()]) == 1


# -- configuration ---------------------------------------------------------------------------


def test_the_stack_knows_tracing_propagates_context() -> None:
    assert wireline.Stack(Tracing()).propagates_trace_context
    assert not wireline.Stack().propagates_trace_context


def test_from_config_repr_and_explain() -> None:
    stack = wireline.Stack.from_config(
        {"middleware": [{"use": "logging"}, {"use": "tracing", "genai": False, "capture_headers": ["x-team"]}]}
    )
    assert repr(stack.layers[1]) == "Tracing(genai=False, capture_headers=('x-team',))"
    lines = "\n".join(stack.explain("https://api.openai.com/v1/chat/completions"))
    assert "one OpenTelemetry CLIENT span per attempt" in lines
    assert "gen_ai" not in lines
    explained = "\n".join(wireline.Stack(Tracing()).explain("https://api.anthropic.com/v1/messages"))
    assert "gen_ai.provider.name=anthropic gen_ai.operation.name=chat (anthropic_messages)" in explained
    with pytest.raises(ConfigError, match=r"middleware\[0\]\.abandon_after: expected a number of seconds > 0"):
        wireline.Stack.from_config({"middleware": [{"use": "tracing", "abandon_after": -1}]})
    with pytest.raises(ConfigError, match=r"capture_content"):
        Tracing(capture_content="yes")  # type: ignore[arg-type]


async def test_a_cancelled_request_is_not_an_error(flavor: str, make_stack, server, otel: Otel) -> None:
    import anyio

    client = make_stack(Tracing(**otel.tracing_kwargs())).async_client(flavor)
    with anyio.move_on_after(0.2):
        await client.get(f"{server.url}/slow?s=5")
    await client.aclose()
    span = otel.span()
    assert attrs(span)["wireline.response.end"] == "cancelled"
    assert span.status.status_code is StatusCode.UNSET
    assert "error.type" not in attrs(span)
    assert otel.points("http.client.request.duration") == []  # not a request that took 0.2 s


async def test_with_the_retry_layer_each_attempt_and_the_call(driver: Driver, make_stack, server, otel: Otel) -> None:
    import structlog

    from wireline.middleware import Logging, Retry

    stack = make_stack(Logging(), Retry(attempts=3, backoff=0.0, log=False), Tracing(**otel.tracing_kwargs()))
    client = driver.client(stack)
    with structlog.testing.capture_logs() as logs:
        response = await client.get(f"{server.url}/status/503")
    await client.aclose()
    assert response.status_code == 503
    spans = otel.spans()
    assert [attrs(s).get("http.request.resend_count") for s in spans] == [None, 1, 2]
    assert all(attrs(s)["error.type"] == "503" for s in spans)
    [call] = logs
    assert (call["event"], call["attempts"], call["status"]) == ("http.call", 3, 503)
    assert len(server.state.seen) == 3
