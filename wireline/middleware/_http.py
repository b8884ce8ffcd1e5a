"""Small reads of HTTP messages shared by Logging and Tracing, each done once and cheaply."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

__all__ = [
    "DEFAULT_PORTS",
    "attempt_of",
    "capture_headers",
    "error_type",
    "header_items",
    "protocol_version",
    "provider_request_id",
]

DEFAULT_PORTS: Final = {"https": 443, "http": 80, "wss": 443, "ws": 80}

# Response headers that carry the provider's id for a request, best first.
_REQUEST_ID_HEADERS: Final = {
    name.encode(): rank
    for rank, name in enumerate(
        (
            "request-id",  # Anthropic
            "x-request-id",  # OpenAI, Groq, Azure, most gateways
            "apim-request-id",  # Azure API Management
            "x-ms-request-id",
            "x-amzn-requestid",  # AWS (Bedrock)
            "x-amz-request-id",
            "mistral-correlation-id",  # Mistral
            "x-kong-request-id",
            "x-trace-id",
            "x-goog-request-id",
        )
    )
}

_VERSIONS: Final = {"HTTP/1.1": "1.1", "HTTP/2": "2", "HTTP/2.0": "2", "HTTP/3": "3", "HTTP/1.0": "1.0"}


def header_items(headers: Any) -> Iterable[tuple[bytes, bytes]]:
    """``(lower-case name, value)`` pairs of an httpx/httpx2 ``Headers``, as bytes, without copying.

    httpx and httpx2 keep ``(raw name, lower-case name, value)`` triples; reading them saves the
    decoding that ``multi_items()`` does for every header. Other header types fall back to that.
    """
    triples = getattr(headers, "_list", None)
    if isinstance(triples, list):
        return ((lower, value) for _, lower, value in triples)
    return ((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.multi_items())


def provider_request_id(headers: Any) -> tuple[str, str] | None:
    """``(header name, id)`` of the provider's request id in response ``headers``, if any."""
    ranks = _REQUEST_ID_HEADERS
    best_rank = len(ranks)
    best: tuple[bytes, bytes] | None = None
    triples = getattr(headers, "_list", None)
    pairs = ((lower, value) for _, lower, value in triples) if isinstance(triples, list) else header_items(headers)
    for name, value in pairs:
        rank = ranks.get(name)
        if rank is not None and rank < best_rank:
            best_rank, best = rank, (name, value)
    if best is None:
        return None
    return best[0].decode("latin-1"), best[1].decode("latin-1")


def protocol_version(response: Any) -> str | None:
    """``network.protocol.version`` (``"1.1"``, ``"2"``) of a response, when the transport said."""
    raw = response.extensions.get("http_version")
    if raw is None:
        return None
    text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else str(raw)
    return _VERSIONS.get(text) or text.removeprefix("HTTP/")


_error_types: dict[type[BaseException], str] = {}


def error_type(exc: BaseException) -> str:
    """``error.type`` for an exception: its fully qualified class name (``httpx.ConnectError``)."""
    cls = type(exc)
    name = _error_types.get(cls)
    if name is None:
        module = cls.__module__
        name = cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"
        _error_types[cls] = name
    return name


def attempt_of(extensions: Any, key: str) -> int:
    """How many times a layer has sent this call before (0 on the first), counting in ``extensions[key]``.

    The counter is a one-item list, so the redirect hops of one call (whose extensions httpx copies
    shallowly) and the attempts a retry layer sends share it; a new call starts from zero.
    """
    counter = extensions.get(key)
    if counter is None:
        extensions[key] = [1]
        return 0
    sent: int = counter[0]
    counter[0] = sent + 1
    return sent


def capture_headers(attributes: dict[str, Any], prefix: str, headers: Any, names: tuple[str, ...]) -> None:
    """Add ``<prefix><name>: [values]`` for each of ``names`` (lower case) present; secrets redacted."""
    from wireline.redaction import REDACTED, default

    for name in names:
        values = headers.get_list(name)
        if values:
            if default.is_secret_header(name):
                attributes[prefix + name] = [REDACTED] * len(values)
            else:
                attributes[prefix + name] = [default.text(value) for value in values]
