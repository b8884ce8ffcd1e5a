"""Small reads of HTTP messages shared by Logging and Tracing, each done once and cheaply."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final, NamedTuple

from wireline.redaction import default as redactor

__all__ = [
    "DEFAULT_PORTS",
    "UrlFacts",
    "attempt_of",
    "capture_headers",
    "error_type",
    "header_items",
    "protocol_version",
    "provider_request_id",
    "route_name",
    "url_facts",
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


class UrlFacts(NamedTuple):
    """What telemetry reads from a request URL, worked out once per distinct URL."""

    #: The URL as text, credentials and secret query values redacted (``url.full``).
    text: str
    #: ``server.address``: the host (IDNA decoded).
    host: str
    #: ``server.port``: the port, or the scheme's default (443, 80).
    port: int
    #: The path.
    path: str


# Parsed URL -> its facts, for URLs with nothing to redact (no credentials, query or fragment), so
# that no secret is kept here. ``str()`` of an httpx URL alone costs more than a dict lookup of its
# parsed form (a tuple of strings, hashed once per request).
_url_facts: dict[Any, UrlFacts] = {}
_URLS_KEPT: Final = 1024


def url_facts(url: Any) -> UrlFacts:
    """The :class:`UrlFacts` of an httpx/httpx2 ``URL`` (cached per distinct URL that needs no redaction)."""
    parsed = getattr(url, "_uri_reference", None)
    if parsed is not None:
        facts = _url_facts.get(parsed)
        if facts is not None:
            return facts
    facts = UrlFacts(redactor.url(url), url.host, url.port or DEFAULT_PORTS.get(url.scheme, 0), url.path)
    if parsed is not None and not parsed.userinfo and parsed.query is None and parsed.fragment is None:
        if len(_url_facts) >= _URLS_KEPT:  # an application calls few URLs; one with ids in its paths starts over
            _url_facts.clear()
        _url_facts[parsed] = facts
    return facts


# Route name -> (the redaction rules it was redacted under, its redacted text). A stack has a few
# routes, and every request through a router names one: Logging and Tracing both show it, and
# redacting it afresh costs four regular-expression passes each time. Entries made under rules
# since changed (``Redactor.add``) are redone: ``add`` replaces ``secret_headers`` last, so a new
# set there means every rule ``text()`` reads is new too.
_route_names: dict[str, tuple[Any, str]] = {}
_ROUTES_KEPT: Final = 256


def route_name(route: Any) -> str:
    """The name of the route a routing layer chose (``wireline.route``), redacted."""
    name = str(getattr(route, "name", route))
    rules = redactor.secret_headers  # its identity says which rules redacted a cached name
    entry = _route_names.get(name)
    if entry is not None and entry[0] is rules:
        return entry[1]
    text = redactor.text(name)
    if len(_route_names) >= _ROUTES_KEPT:  # names made up per request (unusual): start over
        _route_names.clear()
    _route_names[name] = (rules, text)
    return text


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
    if not isinstance(triples, list):  # httpx and httpx2 keep triples: loop over them, no generator
        triples = [(None, name, value) for name, value in header_items(headers)]
    for _, name, value in triples:
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
