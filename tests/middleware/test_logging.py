"""Logging: one structlog event per call or per attempt, written when the body ends, secrets redacted."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

import wireline
from tests.conftest import Driver
from tests.middleware.conftest import Otel
from tests.middleware.test_tracing import TwoTries
from wireline import ConfigError
from wireline.extensions import PROVIDER
from wireline.middleware import Logging, Tracing
from wireline.transports import MockTransport

pytestmark = pytest.mark.anyio


async def test_one_event_per_call_with_its_fields(driver: Driver, make_stack, server, logs: list[Any]) -> None:
    client = driver.client(make_stack(Logging()))
    response = await client.get(f"{server.url}/echo?key=AIzaSECRETSECRET")
    await client.aclose()
    [event] = logs
    assert event["event"] == "http.call"
    assert event["log_level"] == "info"
    assert event["method"] == "GET"
    assert event["url"] == f"{server.url}/echo?key=REDACTED"
    assert event["status"] == 200
    assert event["bytes"] == len(response.content)
    assert event["request_id"] == "req-1"
    assert 0 < event["ttfb_ms"] <= event["first_chunk_ms"] <= event["duration_ms"]
    assert "provider" not in event  # 127.0.0.1 is no provider we know
    assert "attempt" not in event
    assert "end" not in event  # read to the end


@pytest.mark.parametrize(
    ("url", "extensions", "provider"),
    [
        ("https://api.openai.com/v1/chat/completions", None, "openai"),
        ("https://api.anthropic.com/v1/messages", None, "anthropic"),
        ("https://contoso.openai.azure.com/openai/deployments/x/chat/completions", None, "azure_openai"),
        ("https://llm.internal/v1/chat/completions", {PROVIDER: "openai_compatible"}, "openai_compatible"),
    ],
)
async def test_the_provider_from_the_adapter_or_the_host(
    driver: Driver, logs: list[Any], url: str, extensions: dict[str, Any] | None, provider: str
) -> None:
    def answer(request: Any) -> Any:
        return wireline.respond(request, json={}, headers={"request-id": "req_011CKx"})

    client = driver.client(wireline.Stack(Logging(), transport=MockTransport(answer)), extensions=extensions)
    await client.post(url, json={})
    [event] = logs
    assert event["provider"] == provider
    assert event["request_id"] == "req_011CKx"


async def test_a_stream_is_logged_when_it_ends(driver: Driver, make_stack, server, logs: list[Any]) -> None:
    client = driver.client(make_stack(Logging()))
    async with client.stream("GET", f"{server.url}/sse?n=10&gate=1") as stream:
        first = await stream.next()
        assert logs == []  # headers and a chunk are in, the stream is not over
        server.state.gate.set()
        rest = await stream.rest()
    async with client.stream("GET", f"{server.url}/sse?n=50") as stream:
        await stream.next()
        await stream.close()
    await client.aclose()
    whole, closed = logs
    assert whole["bytes"] == len(first) + sum(map(len, rest))
    assert "end" not in whole
    assert closed["end"] == "closed"
    assert closed["first_chunk_ms"] >= closed["ttfb_ms"]


async def test_failures_are_logged_at_once_with_the_exception_type(driver: Driver, make_stack, logs: list[Any]) -> None:
    client = driver.client(make_stack(Logging()))
    with pytest.raises(Exception, match=r"refused|connection attempts failed") as caught:
        await client.get("http://127.0.0.1:1/v1")
    await client.aclose()
    [event] = logs
    assert event["log_level"] == "warning"
    assert event["error"] == f"{driver.flavor}.ConnectError"
    assert event["error_message"] == str(caught.value)
    assert "status" not in event


async def test_error_statuses_use_the_error_level(driver: Driver, make_stack, server, logs: list[Any]) -> None:
    client = driver.client(make_stack(Logging(level="debug", error_level="error")))
    await client.get(f"{server.url}/status/503")
    await client.get(f"{server.url}/status/204")
    await client.aclose()
    assert [(e["status"], e["log_level"]) for e in logs] == [(503, "error"), (204, "debug")]


async def test_per_call_and_per_attempt(driver: Driver, make_stack, server, logs: list[Any]) -> None:
    client = driver.client(make_stack(Logging(), TwoTries(), Logging(per="attempt")))
    await client.get(f"{server.url}/status/503")
    await client.aclose()
    first, second, call = logs
    assert (first["event"], first["attempt"], first.get("resend_count")) == ("http.attempt", 1, None)
    assert (second["event"], second["attempt"], second["resend_count"]) == ("http.attempt", 2, 1)
    assert (call["event"], call["attempts"], call["status"]) == ("http.call", 2, 503)
    assert call["duration_ms"] >= first["duration_ms"] + second["duration_ms"]


async def test_per_attempt_without_a_retry_layer_counts_resends_itself(
    driver: Driver, make_stack, server, logs: list[Any]
) -> None:
    client = driver.client(make_stack(Logging(per="attempt")), follow_redirects=True)
    await client.get(f"{server.url}/status/302?h-location=/echo")
    await client.aclose()
    hop1, hop2 = logs
    assert (hop1["attempt"], hop1["status"]) == (1, 302)
    assert (hop2["attempt"], hop2["resend_count"], hop2["status"]) == (2, 1, 200)


def test_per_must_match_the_place_in_the_stack() -> None:
    with pytest.raises(
        ConfigError, match=r"middleware\[1\]\.per: expected 'attempt' for a Logging listed after TwoTries"
    ):
        wireline.Stack(TwoTries(), Logging())
    with pytest.raises(
        ConfigError, match=r"middleware\[0\]\.per: expected 'call' for a Logging listed before TwoTries"
    ):
        wireline.Stack(Logging(per="attempt"), TwoTries())
    wireline.Stack(Logging(), TwoTries(), Logging(per="attempt"))


async def test_header_and_body_capture_is_opt_in_capped_and_redacted(
    driver: Driver, make_stack, server, logs: list[Any]
) -> None:
    client = driver.client(make_stack(Logging(capture_headers=True, capture_body=True, max_body_bytes=40)))
    await client.post(
        f"{server.url}/echo",
        json={"api_key": "sk-proj-SECRETSECRETSECRETSECRET", "model": "m"},
        headers={"Authorization": "Bearer SECRETSECRETSECRET", "x-team": "search"},
    )
    await client.aclose()
    [event] = logs
    assert event["request_headers"]["authorization"] == "REDACTED"
    assert event["request_headers"]["x-team"] == "search"
    assert event["response_headers"]["x-request-id"] == "req-1"
    assert event["request_body"] == '{"api_key":"REDACTED","model":"m"}'
    assert event["response_body"].endswith("... (truncated)")
    assert len(event["response_body"]) == 40 + len("... (truncated)")
    assert "SECRET" not in str(event)


def test_a_cap_never_cuts_a_secret_out_of_recognition() -> None:
    from wireline.middleware.logging import _text

    body = b'{"model": "m", "key": "sk-proj-' + b"S" * 40 + b'"}'
    for cap in range(1, len(body)):
        assert "SSS" not in _text(body, cap, more=False)


async def test_named_headers_only(driver: Driver, make_stack, server, logs: list[Any]) -> None:
    client = driver.client(make_stack(Logging(capture_headers=["x-request-id", "Authorization"])))
    await client.get(f"{server.url}/echo", headers={"Authorization": "Bearer SECRETSECRETSECRET"})
    await client.aclose()
    [event] = logs
    assert event["request_headers"] == {"authorization": "REDACTED"}
    assert event["response_headers"] == {"x-request-id": "req-1"}
    assert "request_body" not in event


async def test_a_compressed_body_is_captured_decompressed(
    driver: Driver, make_stack, llm_url: str, logs: list[Any]
) -> None:
    client = driver.client(make_stack(Logging(capture_body=True, max_body_bytes=30)))
    await client.post(f"{llm_url}/v1/chat/completions?gzip=1", json={"model": "m", "messages": []})
    await client.aclose()
    [event] = logs
    assert event["response_body"].startswith('{\n  "id": "chatcmpl-')


async def test_trace_and_span_ids_when_tracing_is_in_the_stack(
    driver: Driver, make_stack, server, otel: Otel, logs: list[Any]
) -> None:
    client = driver.client(make_stack(Logging(), Tracing(**otel.tracing_kwargs())))
    await client.get(f"{server.url}/echo")
    await client.aclose()
    [event] = logs
    span = otel.span()
    assert event["trace_id"] == format(span.context.trace_id, "032x")
    assert event["span_id"] == format(span.context.span_id, "016x")


async def test_a_response_dropped_unread_is_logged_as_abandoned(
    driver: Driver, make_stack, server, logs: list[Any]
) -> None:
    client = driver.client(make_stack(Logging()))
    request = client.inner.build_request("GET", f"{server.url}/sse?n=5")
    response = (
        (await client.inner.send(request, stream=True)) if driver.is_async else client.inner.send(request, stream=True)
    )
    assert logs == []
    del response, request
    gc.collect()
    await client.get(f"{server.url}/echo")
    await client.aclose()
    abandoned, echo = logs
    assert abandoned["end"] == "abandoned"
    assert abandoned["url"].endswith("/sse?n=5")
    assert "end" not in echo


@pytest.fixture
def structlog_config() -> Iterator[None]:
    yield
    structlog.reset_defaults()


async def test_a_raising_processor_is_contained_and_reported_once(
    driver: Driver, make_stack, server, caplog: pytest.LogCaptureFixture, structlog_config: None
) -> None:
    def broken(logger: Any, method: str, event: Any) -> Any:
        raise RuntimeError("processor broke")

    structlog.configure(processors=[broken])
    client = driver.client(make_stack(Logging()))
    with caplog.at_level(logging.ERROR, logger="wireline"):
        for _ in range(3):
            assert (await client.get(f"{server.url}/echo")).status_code == 200
    await client.aclose()
    assert len([r for r in caplog.records if "processor broke" in r.getMessage()]) == 1


async def test_events_reach_the_standard_library_when_structlog_routes_there(
    driver: Driver, make_stack, server, caplog: pytest.LogCaptureFixture, structlog_config: None
) -> None:
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, structlog.processors.KeyValueRenderer(key_order=["event"])],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
    )
    client = driver.client(make_stack(Logging()))
    with caplog.at_level(logging.INFO, logger="wireline"):
        await client.get(f"{server.url}/echo")
    await client.aclose()
    [record] = [r for r in caplog.records if r.name == "wireline"]
    assert record.levelno == logging.INFO
    assert record.getMessage().startswith("event='http.call'")
    assert "status=200" in record.getMessage()


def test_settings_repr_and_config() -> None:
    stack = wireline.Stack.from_config({"middleware": [{"use": "logging", "per": "attempt", "level": "debug"}]})
    assert repr(stack.layers[0]) == "Logging(per='attempt', level='debug')"
    assert "logs 'http.attempt'" in "\n".join(stack.explain("https://api.openai.com/v1/models"))
    with pytest.raises(ConfigError, match=r"middleware\[0\]\.level: expected one of 'debug', 'info'"):
        wireline.Stack.from_config({"middleware": [{"use": "logging", "level": "loud"}]})
    with pytest.raises(ConfigError, match=r"per: expected 'call'"):
        Logging(per="everything")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"max_body_bytes"):
        Logging(max_body_bytes=0)


async def test_a_cancelled_request_is_logged_as_cancelled(flavor: str, make_stack, server, logs: list[Any]) -> None:
    import anyio

    client = make_stack(Logging()).async_client(flavor)
    with anyio.move_on_after(0.2):
        await client.get(f"{server.url}/slow?s=5")
    await client.aclose()
    [event] = logs
    assert (event["end"], event["log_level"]) == ("cancelled", "info")
    assert "error" not in event
