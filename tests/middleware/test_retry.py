"""Retry against a server that fails on purpose: every flavour, mode and base transport.

Each fault test asserts the outcome (an answer after a retry, or a clear error), how many attempts
the server saw, and that no request is left in the stack's pools.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import structlog
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import wireline
from tests.conftest import DrivenClient, Driver
from tests.faults import Fault, FaultServer, chunk_payload, in_flight
from wireline import _clock
from wireline.errors import CircuitOpenError, DeadlineExceededError, ResponseInterruptedError, RetryError
from wireline.extensions import ATTEMPT, BODY_FACTORY, RESEND_COUNT, RETRY
from wireline.middleware import Middleware
from wireline.middleware.retry import IDEMPOTENT_METHODS, Retry, RetryBudget, RetryEvent
from wireline.testing import no_sleep

pytestmark = pytest.mark.anyio


class Attempts(Middleware):
    """Inside Retry: what each attempt carries in its extensions."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, int, dict[str, float | None]]] = []

    def on_request(self, request: Any) -> None:
        extensions = request.extensions
        self.seen.append((extensions[ATTEMPT], extensions[RESEND_COUNT], dict(extensions.get("timeout") or {})))


def body(chunks: int = 3, size: int = 16) -> bytes:
    return b"".join(chunk_payload(index, size) for index in range(chunks))


async def read_streamed(client: DrivenClient, method: str, url: str, **kwargs: Any) -> tuple[Any, bytes]:
    async with client.stream(method, url, **kwargs) as reader:
        chunks = await reader.rest()
    return reader.response, b"".join(chunks)


@pytest.fixture
def events() -> list[RetryEvent]:
    return []


@pytest.fixture
def sleepless() -> Iterator[list[float]]:
    with no_sleep() as waits:
        yield waits


@pytest.fixture
async def setup(
    driver: Driver, make_stack: Any, fault_server: FaultServer, events: list[RetryEvent], sleepless: list[float]
) -> AsyncIterator[Any]:
    """``setup(**retry_settings)`` -> (client, attempts recorder, stack); closed and checked for leaks after."""
    made: list[tuple[DrivenClient, wireline.Stack]] = []

    def make(**settings: Any) -> tuple[DrivenClient, Attempts, wireline.Stack]:
        attempts = Attempts()
        settings.setdefault("on_retry", events.append)
        stack = make_stack(Retry(**settings), attempts)
        client = driver.client(stack)
        made.append((client, stack))
        return client, attempts, stack

    yield make
    for client, stack in made:
        assert in_flight(stack) == 0, "a request was left in the pool"
        await client.aclose()


# -- faults before the response -------------------------------------------------------------------


async def test_a_reset_before_the_response_is_retried(setup: Any, fault_server: FaultServer) -> None:
    client, attempts, _ = setup()
    fault_server.plan(Fault.reset_before(), Fault.ok())
    response = await client.get(f"{fault_server.url}/chat")
    assert response.status_code == 200
    assert response.content == body()
    assert fault_server.attempts == 2
    assert [(a, r) for a, r, _ in attempts.seen] == [(1, 0), (2, 1)]


async def test_a_server_that_closes_without_answering_is_retried(
    setup: Any, fault_server: FaultServer, events: list[RetryEvent]
) -> None:
    client, _, _ = setup()
    fault_server.plan(Fault.close_before(), Fault.ok())
    assert (await client.post(f"{fault_server.url}/chat", json={"q": 1})).status_code == 200
    assert fault_server.attempts == 2
    assert [seen.body for seen in fault_server.seen] == [b'{"q":1}', b'{"q":1}']  # bytes bodies are replayed
    assert events[0].decision == "retry"
    assert events[0].error == "RemoteProtocolError"


async def test_429_waits_as_retry_after_asks(
    setup: Any, fault_server: FaultServer, sleepless: list[float], events: list[RetryEvent]
) -> None:
    client, _, _ = setup()
    fault_server.plan(Fault.status(429, {"retry-after": "2"}), Fault.status(503, {"retry-after-ms": "1500"}))
    response = await client.get(f"{fault_server.url}/chat")
    assert response.status_code == 200
    assert fault_server.attempts == 3
    assert sleepless == [2.0, 1.5]
    assert [(event.status, event.server_wait, event.wait) for event in events] == [(429, 2.0, 2.0), (503, 1.5, 1.5)]


async def test_a_503_storm_returns_the_last_answer_after_the_attempts(
    setup: Any, fault_server: FaultServer, sleepless: list[float], events: list[RetryEvent]
) -> None:
    client, _, _ = setup(attempts=4, backoff=1, max_backoff=3)
    fault_server.plan(*[Fault.status(503)] * 6)
    response = await client.get(f"{fault_server.url}/chat")
    assert response.status_code == 503  # the SDK above turns this into its own error, with the body
    assert response.json() == {"status": 503}
    assert fault_server.attempts == 4
    assert len(sleepless) == 3
    for retry, wait in enumerate(sleepless, 1):
        assert 0 <= wait <= min(3, 2 ** (retry - 1))
    assert [event.decision for event in events] == ["retry", "retry", "retry", "give_up"]
    assert events[-1].stop == "attempts"


async def test_slow_headers_hit_the_per_attempt_timeout_then_retry(setup: Any, fault_server: FaultServer) -> None:
    client, attempts, _ = setup(timeout=0.3)
    fault_server.plan(Fault.slow_headers(30), Fault.ok())
    response = await client.get(f"{fault_server.url}/chat", timeout=60)
    assert response.status_code == 200
    assert fault_server.attempts == 2
    assert attempts.seen[0][2] == {"connect": 0.3, "read": 0.3, "write": 0.3, "pool": 0.3}


async def test_connection_refused_gives_up_with_the_cause_and_its_type(driver: Driver, make_stack: Any) -> None:
    http = __import__(driver.flavor)
    stack = make_stack(Retry(attempts=3))
    client = driver.client(stack)
    with no_sleep() as waits, pytest.raises(RetryError) as caught:
        await client.get("http://127.0.0.1:9/chat")
    error = caught.value
    assert isinstance(error, http.ConnectError)  # SDKs still see a connect error
    assert error.reason == "attempts"
    assert error.attempts == 3
    assert "gave up after 3 attempts" in str(error)
    assert len(waits) == 2
    assert in_flight(stack) == 0
    await client.aclose()


# -- deadlines -------------------------------------------------------------------------------------


async def test_a_wait_past_the_deadline_fails_at_once_with_the_last_response(
    setup: Any, fault_server: FaultServer, sleepless: list[float], driver: Driver
) -> None:
    http = __import__(driver.flavor)
    client, _, _ = setup(deadline=5)
    fault_server.plan(Fault.status(503, {"retry-after": "10"}))
    with pytest.raises(DeadlineExceededError) as caught:
        await client.get(f"{fault_server.url}/chat")
    error = caught.value
    assert isinstance(error, http.TimeoutException)
    assert sleepless == []  # no wait was started
    assert fault_server.attempts == 1
    assert error.response.status_code == 503
    assert error.response.json() == {"status": 503}
    assert "waiting 10 s would pass the deadline of 5 s" in str(error)


async def test_the_deadline_counts_the_waits(setup: Any, fault_server: FaultServer, sleepless: list[float]) -> None:
    """Under no_sleep the clock moves by the skipped waits: the third wait would pass the deadline."""
    client, attempts, _ = setup(deadline=1, attempts=10)
    fault_server.plan(*[Fault.status(503, {"retry-after": "0.4"})] * 5)
    with pytest.raises(DeadlineExceededError, match="would pass the deadline of 1 s"):
        await client.get(f"{fault_server.url}/chat", timeout=30)
    assert sleepless == [0.4, 0.4]
    assert fault_server.attempts == 3
    # Each attempt's timeouts are bounded by what is left of the deadline.
    reads = [timeouts["read"] for _, _, timeouts in attempts.seen]
    assert reads[0] <= 1
    assert reads[1] <= 0.6 + 1e-6
    assert reads[2] <= 0.2 + 1e-6


async def test_a_flowing_stream_outlives_the_deadline(setup: Any, fault_server: FaultServer) -> None:
    """The deadline bounds getting the answer; a body that keeps coming is governed by the idle timeout."""
    client, _, _ = setup(deadline=0.5, idle_timeout=5)
    fault_server.plan(Fault.ok(chunks=5, every=0.25))  # about 1 s of body
    with no_sleep():
        response, data = await read_streamed(client, "GET", f"{fault_server.url}/stream")
    assert response.status_code == 200
    assert data == body(5)
    assert fault_server.attempts == 1


# -- faults while the body is read ------------------------------------------------------------------


async def test_a_reset_before_any_body_byte_is_retried(setup: Any, fault_server: FaultServer) -> None:
    client, _, _ = setup()
    fault_server.plan(Fault.reset_mid(chunks=0), Fault.ok())
    response, data = await read_streamed(client, "GET", f"{fault_server.url}/stream")
    assert response.status_code == 200
    assert data == body()
    assert fault_server.attempts == 2


async def test_a_reset_after_body_bytes_is_a_typed_error(
    setup: Any, fault_server: FaultServer, driver: Driver, events: list[RetryEvent]
) -> None:
    http = __import__(driver.flavor)
    client, _, _ = setup()
    fault_server.plan(Fault.reset_mid(chunks=1), Fault.ok())
    with pytest.raises(ResponseInterruptedError) as caught:
        await read_streamed(client, "GET", f"{fault_server.url}/stream")
    error = caught.value
    assert isinstance(error, http.ReadError)  # the flavour's own class of the failure
    assert error.bytes_delivered == 16
    assert "16 bytes of the body had reached the caller" in str(error)
    assert fault_server.attempts == 1
    assert events[-1].stop == "interrupted"


async def test_a_stalled_stream_before_any_byte_is_retried(setup: Any, fault_server: FaultServer) -> None:
    client, _, _ = setup(idle_timeout=0.3)
    fault_server.plan(Fault.stall(chunks=0), Fault.ok())
    response, data = await read_streamed(client, "GET", f"{fault_server.url}/stream")
    assert (response.status_code, data) == (200, body())
    assert fault_server.attempts == 2


async def test_a_stream_stalled_midway_says_how_much_arrived(
    setup: Any, fault_server: FaultServer, driver: Driver
) -> None:
    http = __import__(driver.flavor)
    client, _, _ = setup(idle_timeout=0.3)
    fault_server.plan(Fault.stall(chunks=2))
    with pytest.raises(ResponseInterruptedError) as caught:
        await read_streamed(client, "GET", f"{fault_server.url}/stream")
    assert isinstance(caught.value, http.ReadTimeout)
    assert caught.value.bytes_delivered == 32
    assert fault_server.attempts == 1


async def test_the_idle_timeout_holds_without_retries(setup: Any, fault_server: FaultServer, driver: Driver) -> None:
    """With one attempt nothing is resent, but the body still gets the idle timeout (not the client's 30 s)."""
    http = __import__(driver.flavor)
    client, attempts, _ = setup(attempts=1, idle_timeout=0.3)
    fault_server.plan(Fault.ok())
    response = await client.get(f"{fault_server.url}/stream", timeout=30)
    assert attempts.seen[0][2]["read"] == 30  # waiting for the headers: the client's own timeout
    assert response.request.extensions["timeout"]["read"] == 0.3  # reading the body: the idle timeout
    fault_server.plan(Fault.stall(chunks=1))
    with pytest.raises(http.ReadTimeout):
        await read_streamed(client, "GET", f"{fault_server.url}/stream", timeout=30)


async def test_a_body_failure_whose_resend_answers_differently_is_an_error(
    setup: Any, fault_server: FaultServer
) -> None:
    client, _, _ = setup()
    fault_server.plan(Fault.reset_mid(chunks=0), Fault.status(404))
    with pytest.raises(RetryError) as caught:
        await read_streamed(client, "GET", f"{fault_server.url}/stream")
    assert caught.value.reason == "resend_differs"
    assert caught.value.response.status_code == 404
    assert fault_server.attempts == 2


# -- what decides a retry --------------------------------------------------------------------------


async def test_x_should_retry_overrides_the_status(setup: Any, fault_server: FaultServer) -> None:
    client, _, _ = setup()
    fault_server.plan(Fault.status(503, {"x-should-retry": "false"}))
    assert (await client.get(f"{fault_server.url}/a")).status_code == 503
    assert fault_server.attempts == 1
    fault_server.plan(Fault.status(400, {"x-should-retry": "true"}))
    assert (await client.get(f"{fault_server.url}/a")).status_code == 200
    assert fault_server.attempts == 2


async def test_a_server_asking_for_too_long_a_wait_gets_its_answer_back(
    setup: Any, fault_server: FaultServer, sleepless: list[float], events: list[RetryEvent]
) -> None:
    client, _, _ = setup(max_wait=60)
    fault_server.plan(Fault.status(429, {"retry-after": "3600"}))
    assert (await client.get(f"{fault_server.url}/a")).status_code == 429
    assert sleepless == []
    assert events[-1].stop == "max_wait"


async def test_a_strict_method_policy(setup: Any, fault_server: FaultServer, driver: Driver) -> None:
    """With methods=IDEMPOTENT_METHODS a POST is not resent once it may have reached the server."""
    http = __import__(driver.flavor)
    client, _, _ = setup(methods=IDEMPOTENT_METHODS)
    fault_server.plan(Fault.status(503))
    assert (await client.post(f"{fault_server.url}/a", content=b"x")).status_code == 503
    assert fault_server.attempts == 1
    fault_server.plan(Fault.reset_before())
    with pytest.raises(RetryError) as caught:
        await client.post(f"{fault_server.url}/a", content=b"x")
    assert caught.value.reason == "method"
    assert isinstance(caught.value, http.ReadError | http.RemoteProtocolError)
    fault_server.plan(Fault.reset_before(), Fault.ok())
    assert (await client.request("PUT", f"{fault_server.url}/a", content=b"x")).status_code == 200  # idempotent


# -- request bodies -----------------------------------------------------------------------------------


def streamed_body(driver: Driver, parts: list[bytes]) -> Any:
    """A body the client streams (a generator): async in async clients, as httpx requires."""
    if driver.is_async:

        async def agen() -> AsyncIterator[bytes]:
            for part in parts:
                yield part

        return agen()

    def gen() -> Iterator[bytes]:
        yield from parts

    return gen()


async def test_a_small_streamed_body_is_replayed(setup: Any, fault_server: FaultServer, driver: Driver) -> None:
    client, _, _ = setup()
    parts = [b"first,", b"second,", b"third"]
    fault_server.plan(Fault.reset_before(), Fault.ok())
    response = await client.post(f"{fault_server.url}/upload", content=streamed_body(driver, parts))
    assert response.status_code == 200
    assert [seen.body for seen in fault_server.seen] == [b"".join(parts)] * 2


async def test_a_streamed_body_over_the_buffer_is_not_resent(
    setup: Any, fault_server: FaultServer, driver: Driver, events: list[RetryEvent]
) -> None:
    client, _, _ = setup(body_buffer=10)
    parts = [b"x" * 8] * 4
    fault_server.plan(Fault.reset_before(), Fault.ok())
    with pytest.raises(RetryError) as caught:
        await client.post(f"{fault_server.url}/upload", content=streamed_body(driver, parts))
    assert caught.value.reason == "body"
    assert "wireline.body_factory" in str(caught.value)
    assert "body_buffer=10" in str(caught.value)
    assert fault_server.attempts == 1
    assert events[-1].stop == "body"


async def test_a_body_factory_makes_any_stream_resendable(
    setup: Any, fault_server: FaultServer, driver: Driver
) -> None:
    client, _, _ = setup(body_buffer=0)
    parts = [b"y" * 8] * 4
    fault_server.plan(Fault.reset_before(), Fault.ok())
    response = await client.post(
        f"{fault_server.url}/upload",
        content=streamed_body(driver, parts),
        extensions={BODY_FACTORY: lambda: streamed_body(driver, parts)},
    )
    assert response.status_code == 200
    assert [seen.body for seen in fault_server.seen] == [b"".join(parts)] * 2


async def test_a_stream_refused_before_it_was_read_is_still_resent(
    driver: Driver, make_stack: Any, fault_server: FaultServer
) -> None:
    """A connect error happens before any body byte is taken: the untouched stream goes next time."""
    stack = make_stack(Retry(body_buffer=0, attempts=2))
    client = driver.client(stack)
    parts = [b"z" * 8] * 2
    with no_sleep(), pytest.raises(RetryError) as caught:
        await client.post("http://127.0.0.1:9/upload", content=streamed_body(driver, parts))
    assert caught.value.reason == "attempts"  # both attempts were made
    await client.aclose()


# -- idempotency, SDK headers, overrides ---------------------------------------------------------------


async def test_one_idempotency_key_per_call(setup: Any, fault_server: FaultServer) -> None:
    client, _, _ = setup(idempotency_header="Idempotency-Key")
    fault_server.plan(Fault.status(503), Fault.reset_before(), Fault.ok())
    await client.post(f"{fault_server.url}/a", json={})
    keys = [seen.headers.get("idempotency-key") for seen in fault_server.seen]
    assert len(keys) == 3
    assert keys[0] is not None
    assert keys[0].startswith("wireline-")
    assert len(set(keys)) == 1
    fault_server.plan(Fault.status(503), Fault.ok())
    await client.post(f"{fault_server.url}/a", json={}, headers={"Idempotency-Key": "mine"})
    assert [seen.headers["idempotency-key"] for seen in fault_server.seen] == ["mine", "mine"]
    fault_server.plan()
    await client.get(f"{fault_server.url}/a")
    assert "idempotency-key" not in fault_server.seen[0].headers


async def test_the_sdk_retry_count_header_follows_the_attempts(setup: Any, fault_server: FaultServer) -> None:
    client, _, _ = setup()
    fault_server.plan(Fault.status(503), Fault.status(503), Fault.ok())
    await client.get(f"{fault_server.url}/a", headers={"x-stainless-retry-count": "0"})
    assert [seen.headers["x-stainless-retry-count"] for seen in fault_server.seen] == ["0", "1", "2"]


async def test_per_request_overrides(setup: Any, fault_server: FaultServer) -> None:
    client, attempts, _ = setup()
    fault_server.plan(Fault.status(503), Fault.ok())
    assert (await client.get(f"{fault_server.url}/a", extensions={RETRY: False})).status_code == 503
    assert fault_server.attempts == 1
    assert attempts.seen[-1][:2] == (1, 0)
    fault_server.plan(*[Fault.status(503)] * 4)
    assert (await client.get(f"{fault_server.url}/a", extensions={RETRY: {"attempts": 5}})).status_code == 200
    assert fault_server.attempts == 5
    with pytest.raises(wireline.ConfigError, match=r"request.extensions\['wireline.retry'\].tries: expected"):
        await client.get(f"{fault_server.url}/a", extensions={RETRY: {"tries": 5}})
    with pytest.raises(wireline.ConfigError, match=r"'wireline.retry'\]: expected False \(no retries\) or a mapping"):
        await client.get(f"{fault_server.url}/a", extensions={RETRY: "off"})


# -- budget and breaker ------------------------------------------------------------------------------


async def test_the_budget_stops_a_storm(setup: Any, fault_server: FaultServer, events: list[RetryEvent]) -> None:
    client, _, _ = setup(budget=RetryBudget(ratio=0, min_per_second=0, burst=1))
    fault_server.plan(*[Fault.status(503)] * 10)
    assert (await client.get(f"{fault_server.url}/a")).status_code == 503
    assert fault_server.attempts == 2  # one retry: the budget's one token
    assert events[-1].stop == "budget"


async def test_the_breaker_fails_fast_then_probes(
    setup: Any, fault_server: FaultServer, driver: Driver, events: list[RetryEvent]
) -> None:
    http = __import__(driver.flavor)
    client, _, _ = setup(attempts=1, breaker={"failures": 2, "reset_after": 10})
    fault_server.plan(Fault.status(503), Fault.status(503))
    for _ in range(2):
        assert (await client.get(f"{fault_server.url}/a")).status_code == 503
    with pytest.raises(CircuitOpenError) as caught:
        await client.get(f"{fault_server.url}/a")
    assert isinstance(caught.value, http.ConnectError)
    assert "circuit breaker for http://127.0.0.1" in str(caught.value)
    assert fault_server.attempts == 2  # nothing was sent
    assert events[-1].stop == "circuit_open"
    _clock.sleep(10)  # under no_sleep: ten seconds pass
    assert (await client.get(f"{fault_server.url}/a")).status_code == 200  # the probe
    assert (await client.get(f"{fault_server.url}/a")).status_code == 200
    assert fault_server.attempts == 4


# -- what is told --------------------------------------------------------------------------------------


async def test_each_decision_is_logged_and_added_to_the_current_span(
    driver: Driver, make_stack: Any, fault_server: FaultServer
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    client = driver.client(make_stack(Retry(on_retry=None)))
    fault_server.plan(Fault.status(503), Fault.status(503))
    with no_sleep() as waits, structlog.testing.capture_logs() as logs, tracer.start_as_current_span("call"):
        await client.get(f"{fault_server.url}/a?key=secret-api-key")
    retry_logs = [entry for entry in logs if entry["event"] == "wireline.retry"]
    assert [entry["decision"] for entry in retry_logs] == ["retry", "retry"]
    assert [entry["wait"] for entry in retry_logs] == waits
    assert all("secret-api-key" not in str(entry) for entry in logs)
    (span,) = exporter.get_finished_spans()
    assert [event.name for event in span.events] == ["wireline.retry", "wireline.retry"]
    assert span.events[0].attributes is not None
    assert span.events[0].attributes["wireline.retry.reason"] == "status 503"
    await client.aclose()
