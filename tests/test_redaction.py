"""Redaction: one mechanism for URLs, headers, free text and settings, extendable by the user."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given, strategies as st

from wireline import ConfigError, redaction
from wireline.redaction import REDACTED, SECRET_HEADERS, SECRET_QUERY_PARAMS, Redactor


@pytest.fixture
def redactor() -> Iterator[Redactor]:
    """The default redactor, restored after the test (tests extend it)."""
    default = redaction.default
    saved = (default.secret_headers, default.secret_query_params, default.patterns, default._compiled)
    yield default
    default.secret_headers, default.secret_query_params, default.patterns, default._compiled = saved


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.openai.com/v1/chat/completions", "https://api.openai.com/v1/chat/completions"),
        (
            "https://x.googleapis.com/v1/m:gen?key=AIzaSECRET&alt=sse",
            "https://x.googleapis.com/v1/m:gen?key=REDACTED&alt=sse",
        ),
        ("http://user:pass@proxy.corp:3128", "http://REDACTED:REDACTED@proxy.corp:3128"),
        (
            "https://b.s3.amazonaws.com/o?X-Amz-Signature=abc&X-Amz-Credential=def",
            "https://b.s3.amazonaws.com/o?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED",
        ),
        (
            "https://h/p?sig=1&Signature=2&AWSAccessKeyId=3&X-Goog-Signature=4",
            "https://h/p?sig=REDACTED&Signature=REDACTED&AWSAccessKeyId=REDACTED&X-Goog-Signature=REDACTED",
        ),
        ("https://h/cb#access_token=tok&state=1", "https://h/cb#access_token=REDACTED&state=1"),
        ("https://h/p?api-key=1&monkey=2", "https://h/p?api-key=REDACTED&monkey=2"),
    ],
)
def test_urls(url: str, expected: str) -> None:
    assert redaction.redact_url(url) == expected
    assert redaction.redact_url(httpx.URL(url)) == str(httpx.URL(expected))


def test_a_clean_url_comes_back_as_is() -> None:
    url = "https://api.anthropic.com/v1/messages"
    assert redaction.redact_url(url) is url or redaction.redact_url(url) == url


def test_headers_redact_secret_names_and_secret_shapes() -> None:
    headers = httpx.Headers(
        {
            "Authorization": "Bearer sk-abcdefghijklmnopqrstu",
            "x-api-key": "sk-ant-abcdefghijklmnopqrstu",
            "Cookie": "session=abc",
            "x-upstream": "Bearer abcdefghijklmnop",
            "content-type": "application/json",
        }
    )
    assert dict(redaction.redact_headers(headers)) == {
        "authorization": REDACTED,
        "x-api-key": REDACTED,
        "cookie": REDACTED,
        "x-upstream": f"Bearer {REDACTED}",
        "content-type": "application/json",
    }
    assert redaction.redact_headers([(b"Proxy-Authorization", b"Basic dXNlcjpwYXNz")]) == [
        ("Proxy-Authorization", REDACTED)
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status code: 500", "status code: 500"),
        ("the token expired", "the token expired"),
        ("Invalid key: foo", "Invalid key: foo"),
        ("GET https://h/x?key=abc failed", "GET https://h/x?key=REDACTED failed"),
        ("authorization: Bearer abcdefghij\nhost: h", "authorization: REDACTED\nhost: h"),
        ('{"api_key": "s3cr3t", "model": "m"}', '{"api_key": "REDACTED", "model": "m"}'),
        ("{'x-api-key': 'abc'}", "{'x-api-key': 'REDACTED'}"),
        ("password=hunter2&user=bob", "password=REDACTED&user=bob"),
        ("call with sk-proj-abcdefghijklmnopqrstuvwx", f"call with {REDACTED}"),
        ("gemini AIzaSyA1234567890abcdefghijklmnopqrstuv", f"gemini {REDACTED}"),
        ("groq gsk_abcdefghijklmnopqrstuvwx", f"groq {REDACTED}"),
        ("aws AKIAIOSFODNN7EXAMPLE", f"aws {REDACTED}"),
        ("proxy http://u:p@proxy:3128 refused", "proxy http://REDACTED:REDACTED@proxy:3128 refused"),
        (
            (
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
                "SignedHeaders=host, Signature=5d672d"
            ),
            "AWS4-HMAC-SHA256 REDACTED, SignedHeaders=host, Signature=REDACTED",
        ),
    ],
)
def test_free_text(text: str, expected: str) -> None:
    assert redaction.redact_text(text) == expected


def test_settings_in_reprs_and_errors() -> None:
    assert redaction.redact_value("sk-123", name="api_key") == REDACTED
    assert redaction.redact_value({"Authorization": "x", "accept": "y"}) == {"Authorization": REDACTED, "accept": "y"}
    assert redaction.redact_value(["http://u:p@h:1"]) == ["http://REDACTED:REDACTED@h:1"]
    assert redaction.redact_value("h/p?key=1") == "h/p?key=REDACTED"
    error = ConfigError("proxy", "http://user:hunter2@proxy:3128", "a reachable proxy")
    assert "hunter2" not in str(error)


def test_the_user_extends_it_everywhere_at_once(redactor: Redactor) -> None:
    redactor.add(headers=["X-Internal-Token"], query_params=["session"], patterns=[r"corp-[0-9a-f]{8}"])
    assert redaction.redact_headers({"x-internal-token": "t"}) == [("x-internal-token", REDACTED)]
    assert redaction.redact_url("https://h/p?session=abc") == "https://h/p?session=REDACTED"
    assert redaction.redact_text("id corp-deadbeef seen") == f"id {REDACTED} seen"
    assert redaction.redact_text("x-internal-token: abc") == f"x-internal-token: {REDACTED}"
    assert "patterns=" in repr(redactor)


def test_bad_patterns_are_refused_with_the_value() -> None:
    with pytest.raises(ConfigError, match=r"patterns: expected a regular expression"):
        Redactor(patterns=["("])
    with pytest.raises(ConfigError, match="not one string"):
        Redactor(patterns="abc")


# A marker no header or parameter name contains, so that finding the secret means it leaked.
SECRET_CHARS = st.text(alphabet=st.characters(codec="ascii", categories=("L", "N")), min_size=8, max_size=40).map(
    lambda text: f"Zq9{text}"
)


@given(st.sampled_from(sorted(SECRET_QUERY_PARAMS)), SECRET_CHARS, st.booleans())
def test_no_secret_query_value_survives_in_a_url(name: str, secret: str, upper: bool) -> None:
    name = name.upper() if upper else name
    url = f"https://api.example.com/v1/x?a=1&{quote(name)}={secret}&b=2"
    out = redaction.redact_url(url)
    assert secret not in out
    assert f"{quote(name)}={REDACTED}" in out
    assert secret not in redaction.redact_text(f"error while fetching {url}: boom")


@given(st.sampled_from(sorted(SECRET_HEADERS)), SECRET_CHARS)
def test_no_secret_header_value_survives(name: str, secret: str) -> None:
    assert secret not in str(redaction.redact_headers({name: secret}))
    assert secret not in redaction.redact_text(f"{name}: {secret}")
    assert secret not in redaction.redact_text(f'{{"{name}": "{secret}"}}')
