"""Putting the attempt's trace context into the outgoing request's headers.

The configured global propagator decides what is written (W3C ``traceparent``/``tracestate`` and
``baggage`` by default; B3, Jaeger... when the application says so). For the default one this does
the same work without its generic machinery, which is most of what injecting costs.

A header a request signature already covers is never replaced: AWS SigV4 signs the headers listed
in ``SignedHeaders``, and replacing a signed ``traceparent`` would invalidate the request.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import baggage, propagate
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.context import Context
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.propagators.textmap import Setter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

__all__ = ["inject"]


class _HeadersSetter(Setter[Any]):
    def set(self, carrier: Any, key: str, value: str) -> None:
        if key in carrier and _signed(carrier, key):
            return
        carrier[key] = value


def _signed(headers: Any, key: str) -> bool:
    authorization = headers.get("authorization", "")
    if not authorization.startswith("AWS4-"):
        return False
    return key in authorization.partition("SignedHeaders=")[2].partition(",")[0].split(";")


_SETTER = _HeadersSetter()
# The global propagator last seen, and whether it is the default one (trace context, then baggage).
_last: tuple[Any, bool] = (None, False)


def _default(textmap: Any) -> bool:
    global _last  # noqa: PLW0603 - a one-entry cache; the global propagator rarely changes
    seen, verdict = _last
    if textmap is not seen:
        parts = getattr(textmap, "_propagators", None) if isinstance(textmap, CompositePropagator) else None
        verdict = parts is not None and [type(p) for p in parts] == [
            TraceContextTextMapPropagator,
            W3CBaggagePropagator,
        ]
        _last = (textmap, verdict)
    return verdict


# The context key baggage lives under: read from a context the API made, so it is the API's own.
_BAGGAGE_KEY: str = next(iter(baggage.set_baggage("k", "v", Context())))


def inject(headers: Any, span: Any, context: Any) -> None:
    """Write ``span``'s context (``context`` holds it) into ``headers`` with the global propagator."""
    textmap = propagate.get_global_textmap()
    if not _default(textmap) or context.get(_BAGGAGE_KEY):
        textmap.inject(headers, context=context, setter=_SETTER)
        return
    span_context = span.get_span_context()
    if not span_context.is_valid:
        return
    _put(
        headers,
        "traceparent",
        f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}-{span_context.trace_flags:02x}",
    )
    trace_state = span_context.trace_state
    if trace_state:
        _put(headers, "tracestate", trace_state.to_header())


def _put(headers: Any, name: str, value: str) -> None:
    """``headers[name] = value``, unless a request signature covers the header already there.

    httpx and httpx2 keep headers as ``(raw name, lower-case name, value)`` triples: when the
    header is not there yet (the usual case), one scan of them and an append do what their
    ``__contains__`` and ``__setitem__`` would do with two scans and the encoding of every name.
    """
    triples = getattr(headers, "_list", None)
    if type(triples) is list:
        key = name.encode("ascii")
        for _, lower, _ in triples:  # a plain loop: a generator for any() costs more than the scan
            if lower == key:
                break
        else:
            triples.append((key, key, value.encode("ascii")))
            return
    if name not in headers or not _signed(headers, name):
        headers[name] = value
