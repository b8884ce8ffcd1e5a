"""One redaction mechanism for everything wireline writes: logs, spans, metric attributes, reprs, errors.

Secrets are API keys in headers (``Authorization``, ``x-api-key``, ``api-key``, ``x-goog-api-key``,
``Proxy-Authorization``, cookies), API keys and signatures in query strings (``key=``, ``sig=``,
``X-Amz-Signature=``...) and credentials in URLs (``http://user:pass@proxy:3128``). Every part of
wireline that shows a URL, a header, a setting, a captured body or an error message goes through
:data:`default`, so adding a name here covers all of them at once::

    from wireline import redaction
    redaction.default.add(headers=["x-internal-token"], query_params=["session"])
    redaction.default.add(patterns=[r"corp-[0-9a-f]{32}"])      # secrets with a recognisable shape

What each method covers:

- :meth:`Redactor.url` -- credentials in the authority and secret query (and fragment) values;
- :meth:`Redactor.headers` -- values of secret headers;
- :meth:`Redactor.text` -- free text (error messages, captured bodies and header values): URLs in
  it, ``Bearer``/``Basic`` credentials, ``name=value`` and ``"name": "value"`` pairs whose name is a
  secret header, query parameter or setting word, and well-known API key shapes (``sk-...``,
  ``sk-ant-...``, ``AIza...``, ``gsk_...``, ``AKIA...``) plus the user's patterns;
- :meth:`Redactor.value` -- a setting shown in a repr or an error (by its name, then as text).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import SplitResult, urlsplit

__all__ = [
    "REDACTED",
    "SECRET_HEADERS",
    "SECRET_QUERY_PARAMS",
    "SECRET_SETTING_WORDS",
    "SECRET_VALUE_PATTERNS",
    "Redactor",
    "default",
    "redact_headers",
    "redact_text",
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

#: Shapes of API keys that are secret wherever they appear in free text (regular expressions).
SECRET_VALUE_PATTERNS: tuple[str, ...] = (
    r"\bsk-(?:ant-|proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{16,}",  # OpenAI, Anthropic
    r"\bAIza[0-9A-Za-z_\-]{30,}",  # Google API keys (Gemini)
    r"\bgsk_[A-Za-z0-9]{20,}",  # Groq
    r"\bxai-[A-Za-z0-9]{20,}",  # xAI
    r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",  # AWS access key ids
)

# A URL inside free text: a scheme, "://", then everything up to a space or a quote.
_URL_IN_TEXT = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>`]+")
# Credentials after an authentication scheme: "Bearer abc...", "Basic dXNlcjpw", "AWS4-HMAC-SHA256 Credential=...".
# Case-sensitive, and at least 8 characters of credential, so prose ("the token expired") is left alone.
_AUTH_SCHEME_IN_TEXT = re.compile(
    r"\b(Bearer|bearer|Basic|Digest|Negotiate|Token|AWS4-HMAC-SHA256)([ \t]+)[^\s'\",]{8,}"
)


class Redactor:
    """Decides what is secret and replaces it with ``REDACTED``.

    Args:
        headers: Extra header names to treat as secret (any case).
        query_params: Extra query parameter names to treat as secret (any case).
        patterns: Extra regular expressions; text matching one is a secret wherever it appears.
    """

    def __init__(
        self, *, headers: Iterable[str] = (), query_params: Iterable[str] = (), patterns: Iterable[str] = ()
    ) -> None:
        self._lock = threading.Lock()
        self.secret_headers: frozenset[str] = SECRET_HEADERS | {h.lower() for h in headers}
        self.secret_query_params: frozenset[str] = SECRET_QUERY_PARAMS | {q.lower() for q in query_params}
        self.patterns: tuple[str, ...] = SECRET_VALUE_PATTERNS + tuple(_checked_patterns(patterns))
        self._compiled = _compile_text_rules(self.secret_headers, self.secret_query_params, self.patterns)

    def add(
        self, *, headers: Iterable[str] = (), query_params: Iterable[str] = (), patterns: Iterable[str] = ()
    ) -> None:
        """Treat more header names, query parameter names and value shapes as secret, from now on, everywhere."""
        new_patterns = tuple(_checked_patterns(patterns))
        with self._lock:
            secret_headers = self.secret_headers | {h.lower() for h in headers}
            secret_query_params = self.secret_query_params | {q.lower() for q in query_params}
            all_patterns = self.patterns + tuple(p for p in new_patterns if p not in self.patterns)
            compiled = _compile_text_rules(secret_headers, secret_query_params, all_patterns)
            # Each attribute is replaced whole, so a reader on another thread sees old or new, never half.
            self._compiled = compiled
            self.patterns = all_patterns
            self.secret_query_params = secret_query_params
            self.secret_headers = secret_headers

    def __repr__(self) -> str:
        return (
            f"Redactor(headers={sorted(self.secret_headers)}, query_params={sorted(self.secret_query_params)}, "
            f"patterns={len(self.patterns)})"
        )

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
        # Fast path: most URLs have no credentials, no query and no fragment.
        if "@" not in text and "?" not in text and "#" not in text:
            return text
        try:
            parts = urlsplit(text)
        except ValueError:
            return REDACTED
        netloc = parts.netloc
        if "@" in netloc:
            netloc = f"{REDACTED}:{REDACTED}@{netloc.rpartition('@')[2]}"
        query = self._query(parts.query) if parts.query else parts.query
        # OAuth implicit flows put tokens in the fragment (#access_token=...).
        fragment = self._query(parts.fragment) if "=" in parts.fragment else parts.fragment
        if netloc == parts.netloc and query == parts.query and fragment == parts.fragment:
            return text
        return SplitResult(parts.scheme, netloc, parts.path, query, fragment).geturl()

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
        """The headers as ``(name, value)`` strings: secret headers' values replaced, the others as text.

        A header that is not secret by name still goes through :meth:`text`, so a bearer token in a
        custom header (``x-upstream-auth: Bearer ...``) is caught by its shape.
        """
        items = headers.multi_items() if hasattr(headers, "multi_items") else headers
        if isinstance(items, Mapping):
            items = items.items()
        out: list[tuple[str, str]] = []
        for name, value in items:
            name_s = name.decode("latin-1") if isinstance(name, bytes) else str(name)
            value_s = value.decode("latin-1") if isinstance(value, bytes) else str(value)
            out.append((name_s, REDACTED if self.is_secret_header(name_s) else self.text(value_s)))
        return out

    def text(self, text: str) -> str:
        """Free text (an error message, a captured body) with every secret it shows replaced.

        See the module docs for what is recognised. Text that holds nothing secret comes back
        unchanged (the same object).
        """
        if not text:
            return text
        out = _URL_IN_TEXT.sub(self._url_match, text) if "://" in text else text
        out = _AUTH_SCHEME_IN_TEXT.sub(_auth_replacement, out)
        out = self._compiled.apply(out)
        return text if out == text else out

    def _url_match(self, match: re.Match[str]) -> str:
        return self.url(match.group(0))

    def value(self, value: Any, *, name: str | None = None) -> Any:
        """A setting's value fit to show in a repr or an error message.

        Secrets are recognised by the setting's ``name`` (``api_key``, ``password``...), by a
        mapping key that is a secret header name, and by credentials or secret query values in a
        URL-looking string. Containers are walked.
        """
        if name is not None and _is_secret_setting(name) and value not in (None, "", False):
            return REDACTED
        if isinstance(value, str):
            return self.url(value) if ("?" in value and "://" not in value and " " not in value) else self.text(value)
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


class _TextRules:
    """The regular expressions :meth:`Redactor.text` applies, compiled once per set of names."""

    __slots__ = ("header_lines", "query_pairs", "quoted_pairs", "shapes")

    def __init__(
        self,
        header_lines: re.Pattern[str],
        quoted_pairs: re.Pattern[str],
        query_pairs: re.Pattern[str],
        shapes: re.Pattern[str] | None,
    ) -> None:
        self.header_lines = header_lines
        self.quoted_pairs = quoted_pairs
        self.query_pairs = query_pairs
        self.shapes = shapes

    def apply(self, text: str) -> str:
        text = self.header_lines.sub(_keep_name, text)
        text = self.quoted_pairs.sub(_keep_name, text)
        text = self.query_pairs.sub(_keep_name, text)
        if self.shapes is not None:
            text = self.shapes.sub(REDACTED, text)
        return text


def _alternatives(names: Iterable[str]) -> str:
    return "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))


def _compile_text_rules(headers: frozenset[str], query_params: frozenset[str], patterns: tuple[str, ...]) -> _TextRules:
    # Names start on a boundary, so "monkey=1" is not "key=1"; group 1 keeps everything but the value.
    # Three shapes, each kept narrow so prose ("status code: 500") is left alone:
    #   a header line      "authorization: Bearer abc"  -> the rest of the line
    #   a quoted pair      "api_key": "abc", 'token'='abc' (JSON, reprs) -> up to the closing quote
    #   a query-style pair key=abc, password=abc          -> up to a separator
    header_lines = re.compile(rf"((?<![\w-])(?:{_alternatives(headers)})[ \t]*:[ \t]*)[^\r\n]+", re.IGNORECASE)
    all_names = _alternatives(headers | query_params | set(SECRET_SETTING_WORDS))
    quoted_pairs = re.compile(
        rf"""(["'](?:[\w-]*_)?(?:{all_names})["'][ \t]*[:=][ \t]*["'])[^"'\r\n]*""", re.IGNORECASE
    )
    query_pairs = re.compile(
        rf"((?<![\w-])(?:{_alternatives(query_params | set(SECRET_SETTING_WORDS))})=)[^\s&#;,'\"]+", re.IGNORECASE
    )
    shapes = re.compile("|".join(f"(?:{pattern})" for pattern in patterns)) if patterns else None
    return _TextRules(header_lines, quoted_pairs, query_pairs, shapes)


def _auth_replacement(match: re.Match[str]) -> str:
    return f"{match.group(1)}{match.group(2)}{REDACTED}"


def _keep_name(match: re.Match[str]) -> str:
    return f"{match.group(1)}{REDACTED}"


def _checked_patterns(patterns: Iterable[str]) -> Iterable[str]:
    from wireline.errors import ConfigError

    if isinstance(patterns, str):
        raise ConfigError("patterns", patterns, "a list of regular expressions, not one string")
    for pattern in patterns:
        try:
            re.compile(pattern)
        except (re.error, TypeError) as exc:
            raise ConfigError("patterns", pattern, f"a regular expression ({exc})") from None
        yield pattern


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


def redact_text(text: str) -> str:
    """:meth:`Redactor.text` of the :data:`default` redactor."""
    return default.text(text)
