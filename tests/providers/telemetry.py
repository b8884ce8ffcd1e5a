"""The stack's own telemetry layers around the SDKs, and what they recorded, read back for assertions.

:func:`observing_layers` is the stack the telemetry tests put under every SDK: ``Logging`` per call,
``Retry``, ``Logging`` per attempt and ``Tracing`` on the real OpenTelemetry SDK (in memory), with
the secret headers captured on purpose, so that their redaction is what keeps keys out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wireline.middleware import Logging, Middleware, Retry, Tracing

if TYPE_CHECKING:
    from tests.middleware.conftest import Otel
    from tests.providers.sdks import Reply, Row
    from wireline.middleware.retry import RetryEvent
    from wireline.testing import LLMServer, Received

#: The headers that carry API keys; both layers are asked to record them.
SECRET_HEADERS = ("authorization", "x-api-key", "api-key", "x-goog-api-key")
#: The instrumentation scope of wireline's spans.
WIRELINE = "wireline"


def observing_layers(otel: Otel, retries: list[RetryEvent]) -> list[Middleware]:
    """``Logging()``, ``Retry()``, ``Logging(per="attempt")``, ``Tracing()``: outermost first.

    Retry's decisions go to ``retries`` and, as ``wireline.retry`` events, to structlog.
    """
    return [
        Logging(capture_headers=True),
        Retry(attempts=3, on_retry=retries.append),
        Logging(per="attempt", capture_headers=True),
        Tracing(capture_headers=SECRET_HEADERS, **otel.tracing_kwargs()),
    ]


# -- spans ---------------------------------------------------------------------------------------


def spans_of(otel: Otel, scope: str) -> list[Any]:
    """The finished spans whose instrumentation scope starts with ``scope``, in the order they ended."""
    return [span for span in otel.spans() if span.instrumentation_scope.name.startswith(scope)]


def attempt_spans(otel: Otel) -> list[Any]:
    """wireline's spans (one per attempt), in the order the attempts started."""
    return sorted(spans_of(otel, WIRELINE), key=lambda span: span.start_time)


def ids(span: Any) -> tuple[str, str]:
    """(trace id, span id) of a span, in hex as in ``traceparent``."""
    context = span.get_span_context()
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"


def parent_ids(span: Any) -> tuple[str, str] | None:
    """(trace id, span id) of a span's parent, or ``None`` for a root span."""
    if span.parent is None:
        return None
    return f"{span.parent.trace_id:032x}", f"{span.parent.span_id:016x}"


def traceparent(received: Received) -> tuple[str, str]:
    """(trace id, parent span id) of the one ``traceparent`` a request carried."""
    [value] = received.header_values("traceparent")
    _version, trace_id, span_id, _flags = value.split("-")
    return trace_id, span_id


def genai(span: Any) -> dict[str, Any]:
    """The span's ``gen_ai.*`` attributes."""
    return {key: value for key, value in (span.attributes or {}).items() if key.startswith("gen_ai.")}


def resend_counts(spans: list[Any]) -> list[int | None]:
    return [span.attributes.get("http.request.resend_count") for span in spans]


def assert_genai_is_what_the_sdk_read(span: Any, row: Row, reply: Reply, *, stream: bool) -> None:
    """The span's GenAI data is the adapter's provider tag, the request, and what the SDK read from the answer."""
    expected = {
        "gen_ai.provider.name": row.provider,
        "gen_ai.operation.name": row.operation,
        "gen_ai.request.model": row.model,
        "gen_ai.response.id": reply.id,
        "gen_ai.response.finish_reasons": (reply.finish_reason,),
        "gen_ai.usage.input_tokens": reply.input_tokens,
        "gen_ai.usage.output_tokens": reply.output_tokens,
    }
    if reply.model is not None:  # Cohere's answers do not name the model
        expected["gen_ai.response.model"] = reply.model
    assert None not in (reply.id, reply.finish_reason, reply.input_tokens, reply.output_tokens), reply
    attributes = genai(span)
    assert expected.items() <= attributes.items(), (expected, attributes)
    assert ("gen_ai.response.model" in attributes) is (reply.model is not None)
    assert ("gen_ai.request.stream" in attributes) is stream
    assert ("gen_ai.response.time_to_first_chunk" in attributes) is stream
    assert span.name == f"{row.operation} {row.model}"


def assert_genai_metrics(otel: Otel, row: Row, reply: Reply, *, stream: bool) -> None:
    """One operation, its token counts as the SDK read them, and its time to first chunk for a stream."""
    usage = {point.attributes["gen_ai.token.type"]: point for point in otel.points("gen_ai.client.token.usage")}
    assert {kind: (point.count, point.sum) for kind, point in usage.items()} == {
        "input": (1, reply.input_tokens),
        "output": (1, reply.output_tokens),
    }
    assert {point.attributes["gen_ai.provider.name"] for point in usage.values()} == {row.provider}
    [operation] = otel.points("gen_ai.client.operation.duration")
    assert operation.count == 1
    assert "error.type" not in operation.attributes
    assert [point.count for point in otel.points("gen_ai.client.operation.time_to_first_chunk")] == (
        [1] if stream else []
    )


def assert_no_genai_of_ours(otel: Otel) -> None:
    """No GenAI attribute on wireline's spans, no GenAI metric (the SDK records them itself)."""
    assert [genai(span) for span in spans_of(otel, WIRELINE)] == [{}] * len(spans_of(otel, WIRELINE))
    for name in (
        "gen_ai.client.token.usage",
        "gen_ai.client.operation.duration",
        "gen_ai.client.operation.time_to_first_chunk",
    ):
        assert otel.points(name) == [], name


def request_durations(otel: Otel) -> int:
    """How many attempts ``http.client.request.duration`` counted."""
    return sum(point.count for point in otel.points("http.client.request.duration"))


# -- log events ----------------------------------------------------------------------------------


def events(logs: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """The structlog events called ``name`` (``http.call``, ``http.attempt``, ``wireline.retry``), in order."""
    return [event for event in logs if event["event"] == name]


# -- secrets ---------------------------------------------------------------------------------------


def recorded_text(otel: Otel, logs: list[dict[str, Any]]) -> str:
    """Everything recorded, as text: log events; every span's name, attributes, events and status; metric attributes."""
    parts = [repr(event) for event in logs]
    for span in otel.spans():
        parts += [span.name, repr(dict(span.attributes or {})), repr(span.status.description)]
        parts += [f"{event.name} {dict(event.attributes or {})!r}" for event in span.events]
    data = otel.reader.get_metrics_data()
    for resource in data.resource_metrics if data is not None else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                parts += [repr(dict(point.attributes or {})) for point in metric.data.data_points]
    return "\n".join(parts)


def assert_no_secret(row: Row, server: LLMServer, otel: Otel, logs: list[dict[str, Any]]) -> None:
    """The row's API key went out in its auth header, was recorded as a header, and shows nowhere.

    Checked over every log event, span (the SDKs' own too), span event and metric attribute.
    """
    assert all(received.header(row.auth_header) == row.auth_value for received in server.received)
    header = row.auth_header
    captured = [event["request_headers"] for event in logs if "request_headers" in event]
    assert captured, "Logging captured no headers"
    assert all(header in {name.lower() for name in headers} for headers in captured)
    spans = spans_of(otel, WIRELINE)
    assert spans, "Tracing recorded no span"
    assert all(f"http.request.header.{header}" in span.attributes for span in spans)
    assert row.api_key not in recorded_text(otel, logs)
