"""One redaction mechanism for everything wireline writes: logs, spans, metric attributes, reprs, errors.

Secrets are API keys in headers (``Authorization``, ``x-api-key``, ``api-key``, ``x-goog-api-key``,
``Proxy-Authorization``, cookies), API keys and signatures in query strings (``key=``, ``sig=``,
``X-Amz-Signature=``...) and credentials in URLs (``http://user:pass@proxy:3128``). Every part of
wireline that shows a URL, a header or a setting goes through :data:`default` (or a
:class:`Redactor` the user passed), so adding a name here covers all of them at once::

    from wireline import redaction
    redaction.default.add(headers=["x-internal-token"], query_params=["session"])
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import SplitResult, urlsplit

__all__ = [
    "REDACTED",
    "SECRET_HEADERS",
    "SECRET_QUERY_PARAMS",
    "SECRET_SETTING_WORDS",
    "Redactor",
    "default",
    "redact_headers",
    "redact_url",
    "redact_value",
]

REDACTED = "REDACTED"

#: Header names (lower case) whose values are never shown.
SECRET_HEADERS: frozenset[str] = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "x-goog-api-key",
        "cookie",
        "set-cookie",
        "x-amz-security-token",
        "ocp-apim-subscription-key",
    }
)

#: Query parameter names (compared case-insensitively) whose values are never shown. The union of
#: the OpenTelemetry lists (old and new) and the API keys providers accept in the query.
SECRET_QUERY_PARAMS: frozenset[str] = frozenset(
    {
        "key",
        "api_key",
        "api-key",
        "apikey",
        "access_token",
        "token",
        "sig",
        "signature",
        "awsaccesskeyid",
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
        "x-goog-signature",
        "x-goog-credential",
        "code",
        "client_secret",
    }
)

#: A setting (a constructor argument shown in a repr) whose name contains one of these words
#: is shown as ``REDACTED`` whatever its value.
SECRET_SETTING_WORDS: tuple[str, ...] = ("api_key", "apikey", "password", "secret", "token", "credential")


class Redactor:
    """Decides what is secret and replaces it with ``REDACTED``.

    Args:
        headers: Extra header names to treat as secret (any case).
        query_params: Extra query parameter names to treat as secret (any case).
    """

    def __init__(self, *, headers: Iterable[str] = (), query_params: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self.secret_headers: frozenset[str] = SECRET_HEADERS | {h.lower() for h in headers}
        self.secret_query_params: frozenset[str] = SECRET_QUERY_PARAMS | {q.lower() for q in query_params}

    def add(self, *, headers: Iterable[str] = (), query_params: Iterable[str] = ()) -> None:
        """Treat more header and query parameter names as secret, from now on, everywhere."""
        with self._lock:
            self.secret_headers = self.secret_headers | {h.lower() for h in headers}
            self.secret_query_params = self.secret_query_params | {q.lower() for q in query_params}

    def __repr__(self) -> str:
        return f"Redactor(headers={sorted(self.secret_headers)}, query_params={sorted(self.secret_query_params)})"

    def is_secret_header(self, name: str | bytes) -> bool:
        """Whether a header of this name is shown as ``REDACTED``."""
        if isinstance(name, bytes):
            name = name.decode("latin-1")
        return name.lower() in self.secret_headers

    def url(self, url: object) -> str:
        """The URL with credentials and secret query values replaced by ``REDACTED``.

        Accepts a string or any URL object whose ``str()`` is the URL (httpx, httpx2, yarl).
        """
        text = str(url)
        # Fast path: most URLs have neither credentials nor a query.
        if "@" not in text and "?" not in text:
            return text
        try:
            parts = urlsplit(text)
        except ValueError:
            return REDACTED
        netloc = parts.netloc
        if "@" in netloc:
            netloc = f"{REDACTED}:{REDACTED}@{netloc.rpartition('@')[2]}"
        query = self._query(parts.query) if parts.query else parts.query
        if netloc == parts.netloc and query == parts.query:
            return text
        return SplitResult(parts.scheme, netloc, parts.path, query, parts.fragment).geturl()

    def _query(self, query: str) -> str:
        secret = self.secret_query_params
        pieces = query.split("&")
        changed = False
        for index, piece in enumerate(pieces):
            name, sep, _ = piece.partition("=")
            if sep and name.lower() in secret:
                pieces[index] = f"{name}={REDACTED}"
                changed = True
        return "&".join(pieces) if changed else query

    def headers(self, headers: Iterable[tuple[Any, Any]] | Mapping[Any, Any]) -> list[tuple[str, str]]:
        """The headers as ``(name, value)`` strings, with secret values replaced."""
        items = headers.items() if isinstance(headers, Mapping) else headers
        out: list[tuple[str, str]] = []
        for name, value in items:
            name_s = name.decode("latin-1") if isinstance(name, bytes) else str(name)
            value_s = value.decode("latin-1") if isinstance(value, bytes) else str(value)
            out.append((name_s, REDACTED if self.is_secret_header(name_s) else value_s))
        return out

    def value(self, value: Any, *, name: str | None = None) -> Any:
        """A setting's value fit to show in a repr or an error message.

        Secrets are recognised by the setting's ``name`` (``api_key``, ``password``...), by a
        mapping key that is a secret header name, and by credentials or secret query values in a
        URL-looking string. Containers are walked.
        """
        if name is not None and _is_secret_setting(name) and value not in (None, "", False):
            return REDACTED
        if isinstance(value, str):
            return self.url(value) if ("://" in value or "?" in value) else value
        if isinstance(value, Mapping):
            return {
                key: (
                    REDACTED if isinstance(key, str) and self.is_secret_header(key) else self.value(item, name=str(key))
                )
                for key, item in value.items()
            }
        if isinstance(value, (list, tuple)):
            return type(value)(self.value(item) for item in value)
        return value


def _is_secret_setting(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SECRET_SETTING_WORDS)


#: The redactor every part of wireline uses unless it was given another.
default = Redactor()


def redact_url(url: object) -> str:
    """:meth:`Redactor.url` of the :data:`default` redactor."""
    return default.url(url)


def redact_headers(headers: Iterable[tuple[Any, Any]] | Mapping[Any, Any]) -> list[tuple[str, str]]:
    """:meth:`Redactor.headers` of the :data:`default` redactor."""
    return default.headers(headers)


def redact_value(value: Any, *, name: str | None = None) -> Any:
    """:meth:`Redactor.value` of the :data:`default` redactor."""
    return default.value(value, name=name)
